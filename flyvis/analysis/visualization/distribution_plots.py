"""Violins and heatmaps.

Part of :mod:`flyvis.analysis.visualization.plots` (``spec/visualization.md`` §3).
"""

from __future__ import annotations

from collections import namedtuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.color_utils import get_cmap
from flyvis.analysis.visualization.plt_utils import to_numpy

ViolinData = namedtuple("ViolinData", ["data", "locations", "colors"])


def get_violin_x_locations(n_groups: int, n_variables: int, violin_width: float):
    """Returns x positions of grouped violins (variables at integers, groups side by side).

    Args:
        n_groups: Violins per variable.
        n_variables: Number of variables.
        violin_width: Total width of the violins of one variable.

    Returns:
        Tuple ``(locations (n_variables, n_groups), width_of_one_violin)``.
    """
    width = violin_width / n_groups
    offsets = (np.arange(n_groups) - (n_groups - 1) / 2) * width
    return np.arange(n_variables)[:, None] + offsets[None, :], width


def violin_groups(
    values,
    xticklabels=None,
    pvalues=None,
    display_pvalues_kwargs=None,
    legend=False,
    legend_kwargs=None,
    as_bars: bool = False,
    colors=None,
    cmap=plt.cm.tab10,
    cstart: int = 0,
    cdist: int = 1,
    figsize=(10, 1),
    title: str = "",
    ylabel: str | None = None,
    ylim=None,
    rotation: float = 90,
    width: float = 0.7,
    fontsize: float = 6,
    ax: Axes | None = None,
    fig: Figure | None = None,
    showmeans: bool = False,
    showmedians: bool = True,
    grid: bool = False,
    scatter: bool = True,
    scatter_radius: float = 3,
    scatter_edge_color=None,
    scatter_edge_width: float = 0.5,
    violin_alpha: float = 0.5,
    violin_marker_lw: float = 0.5,
    violin_marker_color="k",
    color_by: str = "groups",
    zorder_mean_median: float = 5,
    zorder_min_max: float = 5,
    mean_median_linewidth: float = 0.5,
    mean_median_color="k",
    mean_median_bar_length=None,
    **kwargs,
):
    """Violins of several variables, groups side by side (compact version).

    Args:
        values: Array ``(n_variables, n_groups, n_samples)`` (NaNs ignored).
        xticklabels: One label per variable.
        pvalues: ``{label: p}`` annotations (see ``plt_utils.display_pvalues``).
        display_pvalues_kwargs: Passed to ``display_pvalues``.
        legend: Group names for a legend (or False).
        legend_kwargs: Passed to ``ax.legend``.
        as_bars: Draw bars (mean) instead of violins.
        colors: Colours per group (or per variable with ``color_by="experiments"``).
        cmap: Colormap for default colours.
        cstart: First colormap index.
        cdist: Colormap index step.
        figsize: Size of a new figure.
        title: Title.
        ylabel: y label.
        ylim: y limits.
        rotation: x tick label rotation.
        width: Total width of the violins of one variable.
        fontsize: Font size.
        ax: Existing axis.
        fig: Existing figure.
        showmeans: Mark means.
        showmedians: Mark medians.
        grid: y grid.
        scatter: Jittered scatter of the samples.
        scatter_radius: Scatter marker size.
        scatter_edge_color: Scatter edge colour.
        scatter_edge_width: Scatter edge width.
        violin_alpha: Violin body alpha.
        violin_marker_lw: Line width of extrema/mean/median markers.
        violin_marker_color: Colour of those markers.
        color_by: ``"groups"`` or ``"experiments"`` (variables).
        zorder_mean_median: Unused (compatibility).
        zorder_min_max: Unused (compatibility).
        mean_median_linewidth: Unused (compatibility).
        mean_median_color: Unused (compatibility).
        mean_median_bar_length: Unused (compatibility).
        **kwargs: Unused.

    Returns:
        Tuple ``(fig, ax, ViolinData(data, locations, colors))``.
    """
    values = to_numpy(values).astype(float)
    if values.ndim == 2:
        values = values[:, None, :]
    n_variables, n_groups, _ = values.shape
    fig, ax = plt_utils.init_plot(figsize, title, fontsize, ax=ax, fig=fig)
    locations, violin_width = get_violin_x_locations(n_groups, n_variables, width)
    n_colors = n_groups if color_by == "groups" else n_variables
    if colors is None:
        cmap = get_cmap(cmap)
        colors = [
            cmap(cstart + i * cdist) if cmap.N < 256 else cmap(i / max(n_colors - 1, 1))
            for i in range(n_colors)
        ]
    rng = np.random.default_rng(42)
    for i in range(n_variables):
        for j in range(n_groups):
            data = values[i, j][np.isfinite(values[i, j])]
            c = colors[j] if color_by == "groups" else colors[i]
            x = locations[i, j]
            if data.size == 0:
                continue
            if as_bars:
                ax.bar(x, data.mean(), width=violin_width, color=c, alpha=violin_alpha)
            else:
                parts = ax.violinplot(
                    data,
                    positions=[x],
                    widths=violin_width,
                    showmeans=showmeans,
                    showmedians=showmedians,
                    showextrema=True,
                )
                for body in parts["bodies"]:
                    body.set_facecolor(c)
                    body.set_edgecolor(c)
                    body.set_alpha(violin_alpha)
                for key in ("cbars", "cmins", "cmaxes", "cmeans", "cmedians"):
                    if key in parts:
                        parts[key].set_color(violin_marker_color)
                        parts[key].set_linewidth(violin_marker_lw)
            if scatter:
                jitter = rng.uniform(-0.35, 0.35, size=data.size) * violin_width
                ax.scatter(
                    x + jitter,
                    data,
                    s=scatter_radius,
                    facecolor=c,
                    edgecolor=scatter_edge_color or "none",
                    linewidth=scatter_edge_width,
                    zorder=3,
                )
    ax.set_xticks(np.arange(n_variables))
    if xticklabels is not None:
        ax.set_xticklabels(xticklabels, rotation=rotation, fontsize=fontsize)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=fontsize)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if grid:
        ax.yaxis.grid(True, linewidth=0.25)
    if pvalues is not None and xticklabels is not None:
        plt_utils.display_pvalues(
            ax,
            pvalues,
            list(xticklabels),
            values.reshape(n_variables, -1),
            **(display_pvalues_kwargs or {}),
        )
    if legend:
        from matplotlib.patches import Patch

        names = (
            legend
            if isinstance(legend, (list, tuple))
            else [str(j) for j in range(n_groups)]
        )
        handles = [
            Patch(color=colors[j], label=names[j])
            for j in range(min(len(names), len(colors)))
        ]
        ax.legend(handles=handles, fontsize=fontsize, **(legend_kwargs or {}))
    return fig, ax, ViolinData(values, locations, colors)


def violins(
    variable_names,
    variable_values,
    ylabel: str | None = None,
    title: str | None = None,
    max_per_ax: int = 20,
    colors=None,
    cmap=plt.cm.viridis_r,
    fontsize: float = 5,
    violin_width: float = 0.7,
    legend=None,
    scatter_extent=(-0.35, 0.35),
    figwidth: float = 10,
    fig: Figure | None = None,
    axes=None,
    ylabel_offset: float = 0.2,
    **kwargs,
):
    """Violins of many variables split over stacked axes (``max_per_ax`` each).

    Args:
        variable_names: Names ``(n_variables,)``.
        variable_values: ``(n_samples, n_variables)``, ``(n_variables, n_samples)``
            or ``(n_variables, n_groups, n_samples)``.
        ylabel: y label (on the middle axis).
        title: Title of the first axis.
        max_per_ax: Variables per axis.
        colors: Colours per group.
        cmap: Colormap for default colours.
        fontsize: Font size.
        violin_width: Width of the violins of one variable.
        legend: Group names for a legend.
        scatter_extent: Unused (compatibility).
        figwidth: Figure width in inches.
        fig: Existing figure.
        axes: Existing axes (one per chunk).
        ylabel_offset: Unused (compatibility).
        **kwargs: Passed to :func:`violin_groups`.

    Returns:
        Tuple ``(fig, axes)``.
    """
    del scatter_extent, ylabel_offset
    names = list(variable_names)
    values = to_numpy(variable_values).astype(float)
    if values.ndim == 2:
        if values.shape[0] != len(names) and values.shape[1] == len(names):
            values = values.T
        values = values[:, None, :]
    n_axes = int(np.ceil(len(names) / max_per_ax)) or 1
    if axes is None:
        fig, axes, _ = plt_utils.get_axis_grid(
            gridwidth=1,
            gridheight=n_axes,
            figsize=[figwidth, 1.2 * n_axes],
            hspace=1.0,
            fontsize=fontsize,
        )
    for k, ax in enumerate(axes):
        chunk = slice(k * max_per_ax, (k + 1) * max_per_ax)
        violin_groups(
            values[chunk],
            xticklabels=names[chunk],
            ax=ax,
            fig=fig,
            colors=colors,
            cmap=cmap,
            fontsize=fontsize,
            width=violin_width,
            legend=legend if k == 0 else False,
            title=title if (k == 0 and title) else "",
            ylabel=ylabel if k == len(axes) // 2 else None,
            **kwargs,
        )
    return fig, axes


def heatmap(
    matrix,
    xlabels,
    ylabels=None,
    size_scale="auto",
    cmap=plt.cm.seismic,
    origin: str = "upper",
    ax: Axes | None = None,
    fig: Figure | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    symlog: float | None = None,
    cbar_label: str = "",
    log=None,
    cbar_height: float = 0.5,
    cbar_width: float = 0.01,
    title: str = "",
    figsize=(5, 4),
    fontsize: float = 4,
    midpoint: float | None = None,
    cbar: bool = True,
    grid_linewidth: float = 0.5,
    **kwargs,
):
    """Matrix as squares at the non-zero entries, area proportional to ``|value|``.

    Args:
        matrix: Array or DataFrame ``(n_rows, n_columns)``.
        xlabels: Column labels.
        ylabels: Row labels (default ``xlabels``).
        size_scale: Marker area of the largest ``|value|`` in points^2;
            ``"auto"`` fills a cell.
        cmap: Colormap.
        origin: ``"upper"`` (first row on top) or ``"lower"``.
        ax: Existing axis.
        fig: Existing figure.
        vmin: Lower colour limit.
        vmax: Upper colour limit.
        symlog: Symmetric-log linear threshold.
        cbar_label: Colourbar label.
        log: Logarithmic colours.
        cbar_height: Colourbar length.
        cbar_width: Colourbar thickness.
        title: Title.
        figsize: Size of a new figure.
        fontsize: Font size.
        midpoint: Centre of a diverging norm.
        cbar: Add a colourbar.
        grid_linewidth: Width of the minor grid between cells.
        **kwargs: Passed to ``ax.scatter``.

    Returns:
        Tuple ``(fig, ax, cbar, matrix)``.
    """
    matrix = to_numpy(getattr(matrix, "values", matrix)).astype(float)
    ylabels = xlabels if ylabels is None else ylabels
    n_rows, n_cols = matrix.shape
    fig, ax = plt_utils.init_plot(figsize, title, fontsize, ax=ax, fig=fig)
    rows, cols = np.nonzero(np.nan_to_num(matrix))
    vals = matrix[rows, cols]
    finite = np.abs(vals[np.isfinite(vals)])
    maxabs = finite.max() if finite.size else 1.0
    if size_scale == "auto":
        w, h = fig.get_size_inches()
        size_scale = (0.8 * 72 * min(w / n_cols, h / n_rows)) ** 2
    lo = np.nanmin(vals) if vals.size else 0.0
    hi = np.nanmax(vals) if vals.size else 1.0
    sm, norm = plt_utils.get_scalarmapper(
        cmap=cmap,
        vmin=lo if vmin is None else vmin,
        vmax=hi if vmax is None else vmax,
        midpoint=midpoint,
        log=log,
        symlog=symlog,
    )
    ax.scatter(
        cols,
        rows,
        s=size_scale * np.abs(vals) / maxabs,
        c=sm.to_rgba(vals),
        marker="s",
        **kwargs,
    )
    ax.set_xticks(np.arange(n_cols))
    ax.set_xticklabels(list(xlabels), rotation=90, fontsize=fontsize)
    ax.set_yticks(np.arange(n_rows))
    ax.set_yticklabels(list(ylabels), fontsize=fontsize)
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(False, which="major")
    ax.grid(True, which="minor", linewidth=grid_linewidth)
    ax.tick_params(which="minor", length=0)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5) if origin == "upper" else ax.set_ylim(
        -0.5, n_rows - 0.5
    )
    ax.set_aspect("equal")
    colorbar = None
    if cbar:
        colorbar = plt_utils.add_colorbar_to_fig(
            fig,
            [ax],
            width=cbar_width,
            height=cbar_height,
            cmap=sm.cmap,
            norm=sm.norm,
            label=cbar_label,
            fontsize=fontsize,
        )
    return fig, ax, colorbar, matrix
