"""Plots of flash response indices, direction selectivity and angular tuning.

``spec/analysis.md`` §3 (``plot_fris``) and §4 (``dsi_violins``,
``dsi_violins_on_and_off``, ``plot_angular_tuning``, ``plot_T4_tuning``,
``plot_T5_tuning``, which live in
:mod:`flyvis.analysis.visualization.angular_tuning_plots`); re-exported by :mod:`flyvis.analysis.flash_responses` and
:mod:`flyvis.analysis.moving_bar_responses`. Every function returns the
matplotlib objects it drew into and never calls ``plt.show()``.

Source: Lappalainen et al., Nature 2024 (Fig. 2 and Extended Data).
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np

from flyvis.analysis import reference_tables
from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.angular_tuning_plots import (
    OFF,
    ON,
    plot_angular_tuning,
    plot_T4_tuning,
    plot_T5_tuning,
)
from flyvis.analysis.visualization.color_utils import get_cmap
from flyvis.analysis.visualization.distribution_plots import violin_groups

__all__ = [
    "ON",
    "OFF",
    "ON_FR",
    "OFF_FR",
    "plot_fris",
    "dsi_violins",
    "dsi_violins_on_and_off",
    "plot_angular_tuning",
    "plot_T4_tuning",
    "plot_T5_tuning",
]

ON_FR, OFF_FR = "#c1b933", "#b140cc"  # flash responses (ON yellow, OFF violet)


def _by_type(values: Any, cell_types: Sequence[str]) -> np.ndarray:
    """Values as ``(n_types, n_groups, n_models)``.

    Accepts ``(n_types, n_groups, n_models)``, ``(n_models, n_types)``,
    ``(n_types, n_models)`` or ``(n_models, ..., n_types)`` (e.g. FRIs
    ``(network_id, sample, neuron)``).
    """
    x = np.asarray(getattr(values, "values", values), dtype=float)
    n = len(cell_types)
    if x.ndim == 1:
        x = x[None]
    if x.ndim == 2:
        if x.shape[1] == n and x.shape[0] != n:
            x = x.T
        if x.shape[0] != n:
            raise ValueError(f"values of shape {x.shape} do not match {n} cell types.")
        return x[:, None, :]
    if x.ndim == 3:
        if x.shape[0] == n:
            return x
        if x.shape[-1] == n:
            return np.transpose(x, (2, 1, 0))
    raise ValueError(f"values of shape {x.shape} do not match {n} cell types.")


def _order(
    cell_types: Sequence[str],
    sorted_type_list: Optional[Sequence[str]],
    first: Sequence[str],
    put_first: bool,
) -> List[int]:
    types = [str(t) for t in cell_types]
    if sorted_type_list is not None:
        unknown = [t for t in sorted_type_list if t not in types]
        if unknown:
            raise ValueError(f"sorted_type_list has unknown cell types {unknown}.")
        return [types.index(t) for t in sorted_type_list]
    if not put_first:
        return list(range(len(types)))
    head = [i for i, t in enumerate(types) if t in first]
    return head + [i for i in range(len(types)) if i not in head]


def _color_labels(ax, colors_by_label: dict, bold: Sequence[str] = ()) -> None:
    for label in ax.get_xticklabels():
        text = label.get_text()
        if text in colors_by_label:
            label.set_color(colors_by_label[text])
        if text in bold:
            label.set_fontweight("bold")


def _violins_with_scatter(
    data: np.ndarray,
    labels: List[str],
    ax,
    fig,
    colors,
    fontsize: float,
    ylim,
    showmeans: bool,
    showmedians: bool,
    scatter_all: bool,
    scatter_best: bool,
    best_index: Optional[int],
    best_color,
    scatter_kwargs: dict,
    **kwargs,
):
    fig, ax, violin_data = violin_groups(
        data,
        xticklabels=labels,
        ax=ax,
        fig=fig,
        colors=colors,
        fontsize=fontsize,
        ylim=ylim,
        showmeans=showmeans,
        showmedians=showmedians,
        scatter=False,
        legend=False,
        **kwargs,
    )
    if data.shape[1] == 1:
        plt_utils.scatter_on_violins_with_best(
            data[:, 0].T,
            ax,
            scatter_best=scatter_best,
            scatter_all=scatter_all,
            xticks=violin_data.locations[:, 0],
            best_index=best_index,
            best_color=best_color,
            **scatter_kwargs,
        )
    return fig, ax


def plot_fris(
    fris: Any,
    cell_types: Sequence[str],
    scatter_best: bool = False,
    scatter_all: bool = True,
    bold_output_type_labels: bool = True,
    output_cell_types: Optional[Sequence[str]] = None,
    known_first: bool = True,
    sorted_type_list: Optional[Sequence[str]] = None,
    figsize=(10, 1),
    cmap=plt.cm.Greys_r,
    ylim=(-1, 1),
    color_known_types: bool = True,
    fontsize: float = 6,
    colors=None,
    color="b",
    showmeans: bool = False,
    showmedians: bool = True,
    scatter_edge_width: float = 0.5,
    scatter_best_edge_width: float = 0.75,
    scatter_edge_color="none",
    scatter_face_color="k",
    scatter_alpha: float = 0.35,
    scatter_best_alpha: float = 1.0,
    scatter_all_marker: str = "o",
    scatter_best_index: Optional[int] = None,
    scatter_best_marker: str = "o",
    scatter_best_color=None,
    mean_median_linewidth: float = 1.5,
    mean_median_bar_length: float = 1.0,
    violin_alpha: float = 0.3,
    fig=None,
    ax=None,
    **kwargs,
) -> Tuple[Any, Any]:
    """Flash response indices as violins per cell type, the best model highlighted.

    Known ON types get ``#c1b933`` labels, OFF types ``#b140cc``; a zero line
    and y ticks -1 ... 1 (step 0.5) are drawn.

    Args:
        fris: FRIs ``(n_types, n_groups, n_models)`` or ``(n_models, ...,
            n_types)`` (e.g. :func:`~flyvis.analysis.flash_responses.flash_response_index`
            output ``(network_id, sample, neuron)``, or ``(n_models, n_types)``).
        cell_types: The ``n_types`` cell types.
        scatter_best: Highlight the model ``scatter_best_index`` (implied when
            ``scatter_best_index`` is given).
        scatter_all: Scatter every model.
        bold_output_type_labels: Bold labels of ``output_cell_types``.
        output_cell_types: Types with bold labels.
        known_first: Put the types of known polarity first.
        sorted_type_list: Explicit type order (overrides ``known_first``).
        figsize: Size of a new figure (inches).
        cmap: Colormap of the violins (grey by default).
        ylim: y limits.
        color_known_types: Colour the labels of known ON/OFF types.
        fontsize: Font size.
        colors: Violin colours per group (overrides ``cmap``).
        color: Unused (compatibility).
        showmeans: Mark means.
        showmedians: Mark medians.
        scatter_edge_width: Marker edge width.
        scatter_best_edge_width: Marker edge width of the best model.
        scatter_edge_color: Marker edge colour.
        scatter_face_color: Marker face colour.
        scatter_alpha: Alpha of all models' markers.
        scatter_best_alpha: Alpha of the best model's marker.
        scatter_all_marker: Marker of all models.
        scatter_best_index: Index of the best model.
        scatter_best_marker: Marker of the best model.
        scatter_best_color: Colour of the best model.
        mean_median_linewidth: Unused (compatibility).
        mean_median_bar_length: Unused (compatibility).
        violin_alpha: Violin body alpha.
        fig: Existing figure.
        ax: Existing axis.
        **kwargs: Passed to ``plots.violin_groups``.

    Returns:
        ``(fig, ax)``.

    Raises:
        ValueError: If ``fris`` does not match ``cell_types``.
    """
    del color, mean_median_linewidth, mean_median_bar_length
    data = _by_type(fris, cell_types)
    known = reference_tables.known_polarity_types
    order = _order(cell_types, sorted_type_list, known, known_first)
    labels = [str(cell_types[i]) for i in order]
    data = data[order]
    if colors is None:
        colors = [get_cmap(cmap)(0.5)] * data.shape[1]
    best = scatter_best or scatter_best_index is not None
    fig, ax = _violins_with_scatter(
        data,
        labels,
        ax,
        fig,
        colors,
        fontsize,
        ylim,
        showmeans,
        showmedians,
        scatter_all,
        best,
        scatter_best_index,
        scatter_best_color,
        dict(
            facecolor=scatter_face_color,
            edgecolor=scatter_edge_color,
            all_scatter_alpha=scatter_alpha,
            best_scatter_alpha=scatter_best_alpha,
            all_marker=scatter_all_marker,
            best_marker=scatter_best_marker,
            linewidth=scatter_edge_width,
            best_linewidth=scatter_best_edge_width,
        ),
        figsize=figsize,
        violin_alpha=violin_alpha,
        **kwargs,
    )
    ax.axhline(0, color="k", linewidth=0.25, zorder=0)
    ax.set_yticks(np.arange(-1, 1.01, 0.5))
    ax.tick_params(axis="y", labelsize=fontsize)
    ax.set_ylabel("FRI", fontsize=fontsize)
    label_colors = {}
    if color_known_types:
        label_colors = {
            t: ON_FR if p > 0 else OFF_FR
            for t, p in reference_tables.polarity.items()
            if p != 0
        }
    bold = list(output_cell_types or []) if bold_output_type_labels else []
    _color_labels(ax, label_colors, bold)
    return fig, ax


def _dsi_array(dsis: Any, cell_types: Sequence[str]) -> np.ndarray:
    """DSIs as ``(n_models, n_types, 2)`` with intensity order (OFF, ON)."""
    if hasattr(dsis, "dims"):
        da = dsis
        for dim in ("width", "speed"):
            if dim in da.dims:
                da = da.mean(dim)
        if "cell_type" in da.coords:
            types = [str(t) for t in da["cell_type"].values]
            missing = [t for t in cell_types if t not in types]
            if missing:
                raise ValueError(f"dsis lack the cell types {missing}.")
            da = da.isel(neuron=[types.index(str(t)) for t in cell_types])
        da = da.sortby("intensity") if "intensity" in da.coords else da
        return np.asarray(da.transpose("network_id", "neuron", "intensity").values)
    x = np.asarray(dsis, dtype=float)
    if x.ndim != 3 or x.shape[1] != len(cell_types) or x.shape[2] != 2:
        raise ValueError(
            "dsis must be a DataArray (network_id, neuron, intensity) or an array "
            f"(n_models, {len(cell_types)}, 2), got shape {x.shape}."
        )
    return x


def dsi_violins(
    dsis: Any,
    cell_types: Sequence[str],
    scatter_best: bool = False,
    scatter_all: bool = True,
    cmap=None,
    colors=None,
    color="b",
    figsize=(10, 1),
    fontsize: float = 6,
    showmeans: bool = False,
    showmedians: bool = True,
    sorted_type_list: Optional[Sequence[str]] = None,
    scatter_best_index: Optional[int] = None,
    scatter_best_color=None,
    ylim=(0, 1),
    fig=None,
    ax=None,
    **kwargs,
) -> Tuple[Any, Any]:
    """Direction selectivity indices of one contrast as violins per cell type.

    Args:
        dsis: ``(n_types, n_groups, n_models)`` or ``(n_models, n_types)``.
        cell_types: The ``n_types`` cell types.
        scatter_best: Highlight the best model (implied by ``scatter_best_index``).
        scatter_all: Scatter every model.
        cmap: Colormap for the violin colour (if ``colors`` is None).
        colors: Violin colours per group.
        color: Violin colour if neither ``colors`` nor ``cmap`` is given.
        figsize: Size of a new figure.
        fontsize: Font size.
        showmeans: Mark means.
        showmedians: Mark medians.
        sorted_type_list: Explicit type order.
        scatter_best_index: Index of the best model.
        scatter_best_color: Its colour.
        ylim: y limits.
        fig: Existing figure.
        ax: Existing axis.
        **kwargs: Passed to ``plots.violin_groups``.

    Returns:
        ``(fig, ax)``.
    """
    data = _by_type(dsis, cell_types)
    order = _order(cell_types, sorted_type_list, (), False)
    data = data[order]
    if colors is None:
        colors = [get_cmap(cmap)(0.5) if cmap is not None else color] * data.shape[1]
    return _violins_with_scatter(
        data,
        [str(cell_types[i]) for i in order],
        ax,
        fig,
        colors,
        fontsize,
        ylim,
        showmeans,
        showmedians,
        scatter_all,
        scatter_best or scatter_best_index is not None,
        scatter_best_index,
        scatter_best_color,
        dict(facecolor="k", edgecolor="none"),
        figsize=figsize,
        **kwargs,
    )


def dsi_violins_on_and_off(
    dsis: Any,
    cell_types: Sequence[str],
    scatter_best: bool = False,
    scatter_all: bool = True,
    bold_output_type_labels: bool = False,
    output_cell_types: Optional[Sequence[str]] = None,
    known_on_off_first: bool = True,
    sorted_type_list: Optional[Sequence[str]] = None,
    figsize=(10, 1),
    ylim=(0, 1),
    color_known_types: bool = True,
    fontsize: float = 6,
    fig=None,
    axes=None,
    **kwargs,
) -> Tuple[Any, Any]:
    """ON and OFF direction selectivity indices as two stacked violin rows.

    ON edges (intensity 1, red) on top, OFF edges (intensity 0, cyan) below
    with an inverted y axis; T4 labels in the ON colour, T5 in the OFF colour.

    Args:
        dsis: :func:`~flyvis.analysis.moving_bar_responses.direction_selectivity_index`
            output ``(network_id, neuron, intensity)`` (reordered to
            ``cell_types`` via its ``cell_type`` coordinate), or an array
            ``(n_models, n_types, 2)`` with intensities (0, 1).
        cell_types: Cell types to show.
        scatter_best: Highlight the best model (implied by ``scatter_best_index``).
        scatter_all: Scatter every model.
        bold_output_type_labels: Bold labels of ``output_cell_types``.
        output_cell_types: Types with bold labels.
        known_on_off_first: Put T4a-d and T5a-d first.
        sorted_type_list: Explicit type order.
        figsize: Size of a new figure.
        ylim: y limits of both rows.
        color_known_types: Colour T4/T5 labels.
        fontsize: Font size.
        fig: Existing figure.
        axes: Two existing axes (ON, OFF).
        **kwargs: Passed to :func:`dsi_violins` (e.g. ``scatter_best_index``).

    Returns:
        ``(fig, axes)`` with ``axes = [ax_on, ax_off]``.

    Raises:
        ValueError: For DSIs that do not match ``cell_types``.
    """
    cell_types = [str(t) for t in cell_types]
    x = _dsi_array(dsis, cell_types)
    order = _order(
        cell_types, sorted_type_list, reference_tables.motion_tuning, known_on_off_first
    )
    types = [cell_types[i] for i in order]
    x = x[:, order]
    if axes is None:
        fig, axes, _ = plt_utils.get_axis_grid(
            gridwidth=1, gridheight=2, figsize=figsize, hspace=0.1, fontsize=fontsize
        )
    axes = list(np.ravel(axes))
    if len(axes) != 2:
        raise ValueError(f"axes must hold two axes (ON, OFF), got {len(axes)}.")
    for ax, contrast, color in ((axes[0], 1, ON), (axes[1], 0, OFF)):
        dsi_violins(
            x[:, :, contrast].T[:, None, :],  # (types, 1, models): unambiguous
            types,
            scatter_best=scatter_best,
            scatter_all=scatter_all,
            colors=[color],
            fontsize=fontsize,
            ylim=ylim,
            fig=fig,
            ax=ax,
            **kwargs,
        )
        ax.set_ylabel("DSI", fontsize=fontsize)
        ax.tick_params(axis="y", labelsize=fontsize)
    axes[0].tick_params(axis="x", labelbottom=False)
    axes[1].xaxis.tick_top()
    axes[1].tick_params(axis="x", labeltop=False)
    axes[1].invert_yaxis()
    axes[1].set_xticklabels(types, rotation=90, fontsize=fontsize)
    axes[1].tick_params(axis="x", labelbottom=True, labeltop=False)
    label_colors = {}
    if color_known_types:
        label_colors = {t: ON if t.startswith("T4") else OFF for t in types}
        label_colors = {
            t: c for t, c in label_colors.items() if t in reference_tables.motion_tuning
        }
    bold = list(output_cell_types or []) if bold_output_type_labels else []
    for ax in axes:
        _color_labels(ax, label_colors, bold)
    return fig, axes
