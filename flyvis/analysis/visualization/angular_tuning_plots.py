"""Polar plots of the angular tuning of moving-edge responses (T4/T5 panels).

``spec/analysis.md`` §4 (``plot_angular_tuning``, ``plot_T4_tuning``,
``plot_T5_tuning``); re-exported by
:mod:`flyvis.analysis.visualization.tuning_plots` and
:mod:`flyvis.analysis.moving_bar_responses`. Never calls ``plt.show()``.

Source: Lappalainen et al., Nature 2024 (Fig. 2 and Extended Data).
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import matplotlib.pyplot as plt
import numpy as np

from flyvis.analysis import direction_selectivity as mb
from flyvis.analysis import reference_tables
from flyvis.analysis.visualization.trace_plots import polar

__all__ = ["ON", "OFF", "plot_angular_tuning", "plot_T4_tuning", "plot_T5_tuning"]

ON, OFF = "#af0019", "#00b2b2"  # moving edges (ON red, OFF cyan)


def _per_curve(value: Any, n: int, name: str) -> list:
    if value is None:
        return [None] * n
    if isinstance(value, str) or np.ndim(value) == 0:
        return [value] * n
    arr = list(value) if not isinstance(value, np.ndarray) else list(value)
    if np.ndim(value) == 1 and len(arr) in (3, 4) and n not in (3, 4):
        return [tuple(value)] * n  # a single RGB(A) colour
    if len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries for {n} tuning curves.")
    return arr


def plot_angular_tuning(
    dataset: Any,
    cell_type: str,
    intensity: float,
    figsize=(1, 1),
    fontsize: float = 5,
    linewidth: float = 1,
    anglepad: float = -7,
    xlabelpad: float = -1,
    groundtruth: bool = True,
    groundtruth_linewidth: float = 1.0,
    fig=None,
    ax=None,
    peak_responses_da: Any = None,
    weighted_average: Optional[np.ndarray] = None,
    average_models: bool = False,
    model_reduction: Any = "mean",
    normalize_by: Optional[float] = None,
    colors: Any = None,
    zorder: Any = 0,
    **kwargs,
) -> Tuple[Any, Any]:
    """Polar tuning curve(s) of a cell type's peak responses to moving edges.

    The tuning (:func:`~flyvis.analysis.moving_bar_responses.angular_tuning`,
    mean over speed and width) is divided by its maximum over all curves
    (or by ``normalize_by``). The known preferred direction (angle of the
    maximum of the Maisak et al. 2013 curve; the 12-point curves themselves are
    not available) is drawn as a black radial line if ``groundtruth``.

    Args:
        dataset: Moving edge responses (ignored if ``peak_responses_da`` is given).
        cell_type: Cell type, e.g. ``"T4c"``.
        intensity: 1 (ON edges) or 0 (OFF edges).
        figsize: Size of a new figure (inches).
        fontsize: Font size.
        linewidth: Line width of the tunings.
        anglepad: Padding of the angle labels.
        xlabelpad: Padding of the x label.
        groundtruth: Draw the known preferred direction (T4/T5 only).
        groundtruth_linewidth: Its line width.
        fig: Existing figure.
        ax: Existing polar axis.
        peak_responses_da: Precomputed peak responses.
        weighted_average: Model weights (with ``average_models``).
        average_models: One curve averaged over models.
        model_reduction: Reduction over models (name or callable).
        normalize_by: Divide by this instead of the maximum.
        colors: One colour, or one per model (e.g. task-error colours);
            default ``#af0019`` (ON) or ``#00b2b2`` (OFF).
        zorder: z-order, or one per model.
        **kwargs: Passed to ``plots.polar``.

    Returns:
        ``(fig, ax)``.

    Raises:
        ValueError: For an unknown cell type/intensity or mismatching
            ``colors``/``zorder``.
    """
    peak = (
        peak_responses_da if peak_responses_da is not None else mb.peak_responses(dataset)
    )
    tuning = mb.angular_tuning(
        peak, cell_type, intensity, weighted_average, average_models, model_reduction
    )
    angles = np.asarray(tuning["angle"].values, dtype=float)
    r = np.asarray(tuning.transpose(..., "angle").values, dtype=float).reshape(
        -1, len(angles)
    )
    scale = normalize_by if normalize_by is not None else np.nanmax(r)
    if not np.isfinite(scale) or scale == 0:
        scale = 1.0
    r = r / scale
    default = ON if float(intensity) == 1 else OFF
    curve_colors = _per_curve(colors if colors is not None else default, len(r), "colors")
    zorders = _per_curve(zorder, len(r), "zorder")
    for i, curve in enumerate(r):
        fig, ax = polar(
            angles,
            curve,
            ax=ax,
            fig=fig,
            color=curve_colors[i],
            figsize=figsize,
            fontsize=fontsize,
            linewidth=linewidth,
            anglepad=anglepad,
            xlabelpad=xlabelpad,
            zorder=zorders[i],
            **kwargs,
        )
    peak_angle = reference_tables.tuning_curve_peaks.get(str(cell_type))
    if groundtruth and peak_angle is not None:
        theta = np.radians(peak_angle)
        ax.plot(
            [theta, theta],
            [0, 1],
            color="k",
            linewidth=groundtruth_linewidth,
            zorder=max(float(np.max(np.asarray(zorders, float))), 0) + 1,
        )
    ax.set_ylim(0, max(1.0, float(np.nanmax(r)) if np.isfinite(r).any() else 1.0))
    return fig, ax


def _four_panels(dataset: Any, family: str, intensity: int, **kwargs):
    fig, axes = plt.subplots(
        1, 4, subplot_kw={"projection": "polar"}, figsize=kwargs.pop("figsize", [4, 1])
    )
    for ax, suffix in zip(axes, "abcd"):
        plot_angular_tuning(
            dataset, f"{family}{suffix}", intensity, fig=fig, ax=ax, **kwargs
        )
        ax.set_title(f"{family}{suffix}", fontsize=kwargs.get("fontsize", 5))
    return fig, axes


def plot_T4_tuning(dataset: Any, **kwargs) -> Tuple[Any, Any]:
    """Polar tunings of T4a-d to ON edges, one panel each.

    Args:
        dataset: Moving edge responses.
        **kwargs: Passed to :func:`plot_angular_tuning`.

    Returns:
        ``(fig, axes)`` (4 polar axes).
    """
    return _four_panels(dataset, "T4", 1, **kwargs)


def plot_T5_tuning(dataset: Any, **kwargs) -> Tuple[Any, Any]:
    """Polar tunings of T5a-d to OFF edges, one panel each.

    Args:
        dataset: Moving edge responses.
        **kwargs: Passed to :func:`plot_angular_tuning`.

    Returns:
        ``(fig, axes)`` (4 polar axes).
    """
    return _four_panels(dataset, "T5", 0, **kwargs)
