"""Matplotlib helpers: markers, pooling, significance annotations, violins.

Re-exported by :mod:`flyvis.analysis.visualization.plt_utils`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from flyvis.analysis.visualization.plt_utils_colorbars import _add_axes_at
from flyvis.analysis.visualization.plt_utils_layout import to_numpy

__all__ = [
    "MARKERS",
    "check_markers",
    "get_marker",
    "add_cluster_marker",
    "avg_pool",
    "display_significance_value",
    "display_pvalues",
    "scatter_on_violins_with_best",
]


# -- markers ------------------------------------------------------------------------

#: Markers for clusters (flyvis order).
MARKERS = ["o", "^", "s", "*", "+", "h", "p", "8"]


def check_markers(N: int) -> list[str]:
    """Markers for ``N`` clusters.

    Args:
        N: Number of clusters.

    Returns:
        :data:`MARKERS` if ``N <= 8``, else ``["$0$", "$1$", ...]`` (``N`` of them).
    """
    if N <= len(MARKERS):
        return list(MARKERS)
    return [f"${i}$" for i in range(N)]


def get_marker(n: int) -> str:
    """Marker of cluster ``n`` (cycling through :data:`MARKERS`).

    Args:
        n: Cluster index.

    Returns:
        A matplotlib marker string.
    """
    return MARKERS[n % len(MARKERS)]


def add_cluster_marker(
    fig: Figure,
    ax: Axes,
    marker: str = "o",
    marker_size: float = 15,
    color="#4F73AE",
    x_offset: float = 0,
    y_offset: float = 0,
) -> Axes:
    """Draws a cluster marker in a small axis at the top-left of ``ax``.

    Args:
        fig: The figure.
        ax: Reference axis.
        marker: Marker string.
        marker_size: Marker size (``scatter`` ``s``).
        color: Marker colour.
        x_offset: Horizontal shift (axes fraction).
        y_offset: Vertical shift (axes fraction).

    Returns:
        The marker axis.
    """
    max_ = _add_axes_at(fig, [ax], [x_offset, 1 + y_offset, 0.1, 0.1], label="marker")
    max_.scatter([0], [0], s=marker_size, marker=marker, color=color)
    max_.set_axis_off()
    return max_


# -- traces and statistics ---------------------------------------------------------


def avg_pool(trace, N: int) -> np.ndarray:
    """Non-overlapping mean pooling over the last axis.

    Args:
        trace: Array ``(..., n_points)``.
        N: Window length; trailing points that do not fill a window are dropped.

    Returns:
        Array ``(..., n_points // N)``.
    """
    trace = to_numpy(trace).astype(float)
    N = max(int(N), 1)
    n = trace.shape[-1] // N
    return trace[..., : n * N].reshape(*trace.shape[:-1], n, N).mean(-1)


_P_THRESHOLDS = {0.01: "***", 0.05: "**", 0.1: "*"}


def _significance(p: float, thresholds=None) -> str:
    for threshold, symbol in sorted((thresholds or _P_THRESHOLDS).items()):
        if p < threshold:
            return symbol
    return ""


def display_significance_value(
    ax: Axes,
    pvalue: float,
    y: float,
    x0: float,
    x1: float,
    ticklabel: str | None = None,
    bar_width: float = 0.7,
    pvalue_marker_fontsize: float = 10,
    color="k",
    thresholds=None,
    linewidth: float = 0.5,
) -> None:
    """Draws a bracket from ``x0`` to ``x1`` at ``y`` with a significance symbol.

    Args:
        ax: The axis.
        pvalue: The p-value.
        y: Height of the bracket.
        x0: Left end.
        x1: Right end.
        ticklabel: Unused (compatibility).
        bar_width: Unused width of the bars (compatibility).
        pvalue_marker_fontsize: Symbol font size.
        color: Colour of bracket and symbol.
        thresholds: ``{threshold: symbol}`` (default ``{0.01: "***", 0.05: "**", 0.1: "*"}``).
        linewidth: Bracket line width.
    """
    del bar_width
    symbol = _significance(pvalue, thresholds)
    if not symbol:
        return
    ax.plot([x0, x0, x1, x1], [y, y * 1.02, y * 1.02, y], color=color, lw=linewidth)
    ax.text(
        (x0 + x1) / 2,
        y * 1.02,
        symbol,
        ha="center",
        va="bottom",
        fontsize=pvalue_marker_fontsize,
        color=color,
    )


def display_pvalues(
    ax: Axes,
    pvalues: dict,
    ticklabels: Sequence[str],
    data,
    location: str = "above",
    bar_width: float = 0.7,
    show_bar: bool = False,
    bar_height_ylim_ratio: float = 0.01,
    fontsize: float = 6,
    annotations_to_show=None,
    loc_above=None,
) -> None:
    """Writes significance symbols above (or below) tick positions.

    Args:
        ax: The axis.
        pvalues: ``{ticklabel: p}``.
        ticklabels: The x tick labels in order.
        data: Values per tick ``(n_ticks, ...)`` used to place the symbols.
        location: ``"above"`` or ``"below"``.
        bar_width: Unused (compatibility).
        show_bar: Unused (compatibility).
        bar_height_ylim_ratio: Unused (compatibility).
        fontsize: Symbol font size.
        annotations_to_show: Subset of symbols to display.
        loc_above: Fixed y position of the symbols.
    """
    data = [np.ravel(to_numpy(d)) for d in data]
    for i, label in enumerate(ticklabels):
        if label not in pvalues:
            continue
        symbol = _significance(pvalues[label])
        if not symbol or (annotations_to_show and symbol not in annotations_to_show):
            continue
        values = data[i][np.isfinite(data[i])] if i < len(data) else np.array([0.0])
        if loc_above is not None:
            y = loc_above
        elif location == "above":
            y = values.max() if values.size else 0
        else:
            y = values.min() if values.size else 0
        ax.text(
            i,
            y,
            symbol,
            ha="center",
            va="bottom" if location == "above" else "top",
            fontsize=fontsize,
        )


def scatter_on_violins_with_best(
    data,
    ax: Axes,
    scatter_best: bool,
    scatter_all: bool,
    xticks=None,
    facecolor="none",
    edgecolor="k",
    best_scatter_alpha: float = 1.0,
    all_scatter_alpha: float = 0.35,
    best_index: int | None = None,
    best_color=None,
    all_marker: str = "o",
    best_marker: str = "o",
    linewidth: float = 0.5,
    best_linewidth: float = 0.75,
    uniform=(-0.35, 0.35),
    seed: int = 42,
) -> None:
    """Jittered scatter of the samples on violins, the best sample highlighted.

    Args:
        data: Values ``(n_samples, n_positions)``.
        ax: The axis.
        scatter_best: Draw the best sample (``best_index``) opaque.
        scatter_all: Draw all samples.
        xticks: x positions (default ``0 .. n_positions - 1``).
        facecolor: Marker face colour.
        edgecolor: Marker edge colour.
        best_scatter_alpha: Alpha of the best sample.
        all_scatter_alpha: Alpha of the other samples.
        best_index: Row of the best sample.
        best_color: Colour of the best sample (default ``edgecolor``).
        all_marker: Marker of all samples.
        best_marker: Marker of the best sample.
        linewidth: Marker edge width.
        best_linewidth: Marker edge width of the best sample.
        uniform: Jitter interval.
        seed: Random seed of the jitter.
    """
    data = to_numpy(data)
    xticks = np.arange(data.shape[1]) if xticks is None else np.asarray(xticks)
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(*uniform, size=data.shape)
    if scatter_all:
        for j, x in enumerate(xticks):
            ax.scatter(
                x + jitter[:, j],
                data[:, j],
                s=2,
                marker=all_marker,
                facecolor=facecolor,
                edgecolor=edgecolor,
                alpha=all_scatter_alpha,
                linewidth=linewidth,
                zorder=10,
            )
    if scatter_best and best_index is not None:
        ax.scatter(
            xticks + jitter[best_index],
            data[best_index],
            s=4,
            marker=best_marker,
            facecolor=best_color or edgecolor,
            edgecolor=best_color or edgecolor,
            alpha=best_scatter_alpha,
            linewidth=best_linewidth,
            zorder=11,
        )
