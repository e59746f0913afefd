"""Traces, loss curves, histograms and polar plots.

Part of :mod:`flyvis.analysis.visualization.plots` (``spec/visualization.md`` §3).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.color_utils import get_cmap
from flyvis.analysis.visualization.plt_utils import to_numpy


def _trace_colors(color, n: int):
    if color is None:
        cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
        return [cycle[i % len(cycle)] for i in range(n)]
    if isinstance(color, str) or (
        isinstance(color, (tuple, np.ndarray))
        and np.ndim(color) == 1
        and len(color) in (3, 4)
        and not isinstance(color[0], str)
    ):
        return [color] * n
    color = list(color)
    return [color[i % len(color)] for i in range(n)]


def traces(
    trace,
    x=None,
    contour=None,
    legend: Sequence[str] = (),
    smooth: float | None = None,
    stim_line=None,
    contour_cmap=plt.cm.bone,
    color=None,
    label: str = "",
    labelxy=(0, 1),
    linewidth: float = 1,
    ax: Axes | None = None,
    fig: Figure | None = None,
    title: str = "",
    highlight_mean: bool = False,
    figsize=(7, 4),
    fontsize: float = 10,
    ylim=None,
    ylabel: str = "",
    xlabel: str = "",
    legend_frame_alpha: float = 0,
    contour_mode: str = "full",
    contour_y_rel: float = 0.06,
    fancy: bool = False,
    scale_pos=None,
    scale_label: str = "100ms",
    null_line: bool = False,
    zorder_traces=None,
    zorder_mean=None,
    **kwargs,
):
    """Line plot of one or several traces.

    Args:
        trace: Array ``(n_traces, n_points)`` or ``(n_points,)``.
        x: x values ``(n_points,)`` (default ``0 .. n_points - 1``).
        contour: Stimulus ``(n_points,)`` drawn as a filled band behind the traces.
        legend: Labels, one per trace.
        smooth: Smoothing window as a fraction of the points (mean pooling).
        stim_line: x position(s) of dashed vertical lines.
        contour_cmap: Colormap of the contour band.
        color: Colour or list of colours.
        label: Text placed at ``labelxy`` (axes coordinates).
        labelxy: Label position.
        linewidth: Line width.
        ax: Existing axis.
        fig: Existing figure.
        title: Axis title.
        highlight_mean: Draw the mean trace in black (lw 0.5).
        figsize: Size of a new figure.
        fontsize: Font size.
        ylim: y limits.
        ylabel: y label (``" (smoothed)"`` appended when smoothing).
        xlabel: x label.
        legend_frame_alpha: Legend frame alpha.
        contour_mode: ``"full"`` (whole height), ``"top"`` or ``"bottom"`` band.
        contour_y_rel: Height of a top/bottom band as a fraction of the y range.
        fancy: Hide the x axis and draw a time scale bar instead.
        scale_pos: Position ``(x, y)`` of the scale bar in axes coordinates.
        scale_label: Label of the scale bar.
        null_line: Draw a line at y = 0.
        zorder_traces: z-order of the traces.
        zorder_mean: z-order of the mean.
        **kwargs: Passed to ``ax.plot``.

    Returns:
        Tuple ``(fig, ax, trace, label_text)`` (``trace`` possibly smoothed).
    """
    trace = np.atleast_2d(to_numpy(trace).astype(float))
    n_traces, n_points = trace.shape
    x = np.arange(n_points) if x is None else to_numpy(x).astype(float)
    fig, ax = plt_utils.init_plot(figsize, title, fontsize, ax=ax, fig=fig)
    if smooth:
        window = max(int(smooth * n_points), 1)
        trace = plt_utils.avg_pool(trace, window)
        x = plt_utils.avg_pool(x, window)
        if contour is not None:
            contour = plt_utils.avg_pool(to_numpy(contour), window)
        ylabel = f"{ylabel} (smoothed)"
    colors = _trace_colors(color, n_traces)
    legend = list(legend)
    for i in range(n_traces):
        ax.plot(
            x,
            trace[i],
            color=colors[i],
            linewidth=linewidth,
            label=legend[i] if i < len(legend) else None,
            zorder=zorder_traces,
            **kwargs,
        )
    if highlight_mean:
        ax.plot(
            x, np.nanmean(trace, axis=0), color="k", linewidth=0.5, zorder=zorder_mean
        )
    if null_line:
        ax.axhline(0, color="0.5", linewidth=0.5, linestyle="--", zorder=0)
    if stim_line is not None:
        for xs in np.atleast_1d(stim_line):
            ax.axvline(xs, color="0.3", linewidth=0.5, linestyle="--")
    if ylim is not None:
        ax.set_ylim(*ylim)
    if x.size:
        pad = 0.01 * (x.max() - x.min()) if x.size > 1 else 0.5
        ax.set_xlim(x.min() - pad, x.max() + pad)
    if contour is not None:
        contour = to_numpy(contour).astype(float).ravel()
        y0, y1 = ax.get_ylim()
        if contour_mode == "top":
            band = (y1 - contour_y_rel * (y1 - y0), y1)
        elif contour_mode == "bottom":
            band = (y0, y0 + contour_y_rel * (y1 - y0))
        else:
            band = (y0, y1)
        edges = np.concatenate(
            [x - 0.5 * np.gradient(x), [x[-1] + 0.5 * np.gradient(x)[-1]]]
        )
        ax.pcolormesh(
            edges,
            band,
            contour[None, : len(x)],
            cmap=contour_cmap,
            alpha=0.3,
            zorder=0,
            shading="flat",
        )
        ax.set_ylim(y0, y1)
    if legend:
        ax.legend(fontsize=fontsize, framealpha=legend_frame_alpha)
    ax.set_xlabel(xlabel, fontsize=fontsize)
    ax.set_ylabel(ylabel, fontsize=fontsize)
    if fancy:
        plt_utils.rm_spines(ax, ("top", "right", "bottom"), rm_yticks=False)
        sx, sy = scale_pos or (0.05, 0.05)
        ax.plot([sx, sx + 0.1], [sy, sy], transform=ax.transAxes, color="k", linewidth=1)
        ax.text(
            sx + 0.05,
            sy + 0.02,
            scale_label,
            transform=ax.transAxes,
            ha="center",
            va="bottom",
            fontsize=fontsize,
        )
    label_text = ax.text(
        *labelxy, label, transform=ax.transAxes, fontsize=fontsize, ha="left", va="top"
    )
    return fig, ax, trace, label_text


def grouped_traces(
    trace_groups,
    x=None,
    legend=(),
    color=None,
    linewidth: float = 1,
    ax=None,
    fig=None,
    title: str = "",
    figsize=(7, 4),
    fontsize: float = 10,
    ylabel: str = "",
    xlabel: str = "",
    **kwargs,
):
    """Several groups of traces, one colour per group.

    Args:
        trace_groups: List of arrays ``(n_traces_i, n_points)``.
        x: x values.
        legend: One label per group.
        color: One colour per group (default colour cycle).
        linewidth: Line width.
        ax: Existing axis.
        fig: Existing figure.
        title: Axis title.
        figsize: Size of a new figure.
        fontsize: Font size.
        ylabel: y label.
        xlabel: x label.
        **kwargs: Passed to :func:`traces`.

    Returns:
        Tuple ``(fig, ax)``.
    """
    colors = _trace_colors(color, len(trace_groups))
    legend = list(legend)
    for i, group in enumerate(trace_groups):
        fig, ax, _, _ = traces(
            group,
            x=x,
            color=colors[i],
            linewidth=linewidth,
            ax=ax,
            fig=fig,
            title=title,
            figsize=figsize,
            fontsize=fontsize,
            ylabel=ylabel,
            xlabel=xlabel,
            **kwargs,
        )
        if i < len(legend):
            ax.plot([], [], color=colors[i], label=legend[i])
    if legend:
        ax.legend(fontsize=fontsize, frameon=False)
    return fig, ax


def loss_curves(
    losses,
    smooth: float = 0.05,
    subsample: int = 1,
    mean: bool = False,
    grid: bool = True,
    colors=None,
    cbar: bool = False,
    cmap=None,
    norm=None,
    fig: Figure | None = None,
    ax: Axes | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
):
    """Loss curves of several models (NaN-padded, first curve on top).

    Args:
        losses: List of 1-D arrays (or an array ``(n_models, n_iterations)``).
        smooth: Smoothing window as a fraction of the iterations.
        subsample: Plot every n-th point.
        mean: Draw the mean curve in black.
        grid: y grid with at most 10 bins.
        colors: One colour per curve (default: ``cmap`` over the curves).
        cbar: Add a colourbar labelled ``"min task error"``.
        cmap: Colormap (default ``viridis_r``).
        norm: Norm of the colourbar.
        fig: Existing figure.
        ax: Existing axis.
        xlabel: x label.
        ylabel: y label.

    Returns:
        Tuple ``(fig, ax)``.
    """
    curves = [to_numpy(loss).astype(float).ravel() for loss in losses]
    length = max((len(c) for c in curves), default=0)
    padded = np.full((len(curves), length), np.nan)
    for i, c in enumerate(curves):
        padded[i, : len(c)] = c
    if smooth and length:
        window = max(int(smooth * length), 1)
        padded = plt_utils.avg_pool(padded, window)
    padded = padded[:, ::subsample]
    fig, ax = plt_utils.init_plot([1.2, 1], fontsize=5, fig=fig, ax=ax)
    cmap = get_cmap(cmap, default="viridis_r")
    if colors is None:
        colors = [cmap(i / max(len(curves) - 1, 1)) for i in range(len(curves))]
    for i in reversed(range(len(padded))):
        ax.plot(padded[i], color=colors[i], linewidth=0.5, zorder=len(padded) - i)
    if mean and len(padded):
        ax.plot(
            np.nanmean(padded, axis=0), color="k", linewidth=0.5, zorder=len(padded) + 1
        )
    if grid:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=10))
        ax.yaxis.grid(True, linewidth=0.25)
    if cbar:
        plt_utils.add_colorbar_to_fig(
            fig, [ax], cmap=cmap, norm=norm, fontsize=5, label="min task error"
        )
    ax.set_xlabel(xlabel or "", fontsize=5)
    ax.set_ylabel(ylabel or "", fontsize=5)
    return fig, ax


def histogram(
    array,
    bins=None,
    fill: bool = False,
    histtype: str = "step",
    figsize=(1, 1),
    fontsize: float = 5,
    fig: Figure | None = None,
    ax: Axes | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
):
    """Histogram of the values of an array.

    Args:
        array: Values (flattened).
        bins: Bins (default: the number of values).
        fill: Fill the bars.
        histtype: ``ax.hist`` histtype.
        figsize: Size of a new figure.
        fontsize: Font size.
        fig: Existing figure.
        ax: Existing axis.
        xlabel: x label.
        ylabel: y label.

    Returns:
        Tuple ``(fig, ax)``.
    """
    array = to_numpy(array).astype(float).ravel()
    fig, ax = plt_utils.init_plot(figsize, fontsize=fontsize, fig=fig, ax=ax)
    ax.hist(
        array[np.isfinite(array)],
        bins=bins if bins is not None else max(len(array), 1),
        fill=fill,
        histtype=histtype,
    )
    ax.set_xlabel(xlabel or "", fontsize=fontsize)
    ax.set_ylabel(ylabel or "", fontsize=fontsize)
    return fig, ax


# -- polar ---------------------------------------------------------------------------


def polar(
    theta,
    r,
    ax: Axes | None = None,
    fig: Figure | None = None,
    color="b",
    linestyle: str = "-",
    marker: str = "",
    markersize: float | None = None,
    label=None,
    title: str = "",
    figsize=(5, 5),
    fontsize: float = 10,
    xlabel: str = "",
    fontweight: str = "normal",
    anglepad: float = -2,
    xlabelpad: float = -3,
    linewidth: float = 2,
    ymin: float | None = None,
    ymax: float | None = None,
    stroke_kwargs: dict | None = None,
    yticks_off: bool = True,
    zorder: float = 100,
    **kwargs,
):
    """Polar plot of tuning curves (angles in degrees).

    The curve is closed by appending the first point unless
    ``theta[-1] % 360 == theta[0]``.

    Args:
        theta: Angles in degrees ``(n_angles,)`` (warns if they look like radians).
        r: Radii ``(n_angles,)`` or ``(n_angles, n_curves)``.
        ax: Existing (polar) axis.
        fig: Existing figure.
        color: Colour, or one colour per curve.
        linestyle: Line style.
        marker: Marker.
        markersize: Marker size.
        label: Label or one label per curve.
        title: Title.
        figsize: Size of a new figure.
        fontsize: Font size.
        xlabel: x label.
        fontweight: Font weight of the angle labels.
        anglepad: Padding of the angle labels.
        xlabelpad: Padding of the x label.
        linewidth: Line width.
        ymin: Lower radial limit.
        ymax: Upper radial limit.
        stroke_kwargs: Path-effect stroke (``linewidth``, ``foreground``).
        yticks_off: Hide radial ticks.
        zorder: z-order of the lines.
        **kwargs: Passed to ``ax.plot``.

    Returns:
        Tuple ``(fig, ax)``.
    """
    theta = to_numpy(theta).astype(float).ravel()
    r = to_numpy(r).astype(float)
    if np.sum(theta) < 100:
        warnings.warn(
            "polar expects angles in degrees; theta looks like radians", stacklevel=2
        )
    r = r.reshape(len(theta), -1)
    if theta[-1] % 360 != theta[0]:
        theta = np.append(theta, theta[0])
        r = np.concatenate([r, r[:1]], axis=0)
    fig, ax = plt_utils.init_plot(
        figsize, title, fontsize, ax=ax, fig=fig, projection="polar"
    )
    colors = _trace_colors(color, r.shape[1])
    labels = label if isinstance(label, (list, tuple)) else [label] * r.shape[1]
    path_effects = None
    if stroke_kwargs:
        import matplotlib.patheffects as pe

        path_effects = [pe.Stroke(**stroke_kwargs), pe.Normal()]
    for i in range(r.shape[1]):
        ax.plot(
            np.radians(theta),
            r[:, i],
            color=colors[i],
            linestyle=linestyle,
            marker=marker,
            markersize=markersize,
            label=labels[i],
            linewidth=linewidth,
            zorder=zorder,
            path_effects=path_effects,
            **kwargs,
        )
    ticks = np.arange(0, 360, 45)
    ax.set_xticks(np.radians(ticks))
    ax.set_xticklabels(
        [f"{t}°" if t in (0, 45, 90) else "" for t in ticks],
        fontsize=fontsize,
        fontweight=fontweight,
    )
    ax.tick_params(axis="x", pad=anglepad)
    if yticks_off:
        ax.set_yticks([])
    ax.set_ylim(bottom=ymin, top=ymax)
    for spine in ax.spines.values():
        spine.set_color("grey")
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=fontsize, labelpad=xlabelpad)
    return fig, ax


# -- violins and heatmaps ------------------------------------------------------------
