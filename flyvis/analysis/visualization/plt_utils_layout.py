"""Matplotlib helpers: paper style, figure and axes set-up, labels, axis grids.

Re-exported by :mod:`flyvis.analysis.visualization.plt_utils`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec

__all__ = [
    "FLYVIS_STYLE",
    "style",
    "to_numpy",
    "init_plot",
    "rm_spines",
    "trim_axis",
    "set_spine_tick_params",
    "color_labels",
    "color_label",
    "boldify_labels",
    "width_n_height",
    "closest_divisors",
    "get_axis_grid",
    "extend_arg",
]

#: The flyvis paper style (``spec/visualization.md`` §1) as rcParams. Apply it
#: with :func:`style` or ``matplotlib.rc_context(FLYVIS_STYLE)``; flyvis never
#: applies it globally.
FLYVIS_STYLE: dict = {
    "font.size": 5,
    "figure.titlesize": 5,
    "legend.fontsize": 5,
    "axes.titlesize": 5,
    "axes.labelsize": 5,
    "xtick.labelsize": 5,
    "ytick.labelsize": 5,
    "figure.dpi": 300,
    "savefig.dpi": 300,
    "text.usetex": False,
    "mathtext.default": "it",
    "image.interpolation": "nearest",
    "image.resample": False,
    "image.composite_image": True,
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.5,
    "xtick.major.width": 0.5,
    "xtick.minor.width": 0.5,
    "ytick.major.width": 0.5,
    "ytick.minor.width": 0.5,
    "lines.linewidth": 1.0,
    "lines.markersize": 1.0,
    "savefig.format": "pdf",
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.1,
    "svg.image_inline": True,
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "legend.frameon": False,
}


@contextlib.contextmanager
def style(**overrides) -> Iterator[dict]:
    """Context manager applying :data:`FLYVIS_STYLE` temporarily.

    Keyword names use underscores for dots (``figure_dpi=100`` overrides
    ``"figure.dpi"``). The previous rcParams are restored on exit; figures
    created inside keep the style.

    Args:
        **overrides: rcParams overriding the paper style.

    Yields:
        The applied rc dict.
    """
    rc = dict(FLYVIS_STYLE)
    rc.update({key.replace("_", "."): value for key, value in overrides.items()})
    with matplotlib.rc_context(rc):
        yield rc


def to_numpy(x) -> np.ndarray:
    """Converts tensors (any device) and array-likes to numpy arrays.

    Args:
        x: ``torch.Tensor``, numpy array, list or scalar.

    Returns:
        A numpy array.
    """
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


# -- figure and axis set-up ---------------------------------------------------------


def init_plot(
    figsize=(1, 1),
    title: str = "",
    fontsize: float = 5,
    ax: Axes | None = None,
    fig: Figure | None = None,
    projection: str | None = None,
    set_axis_off: bool = False,
    transparent: bool = False,
    face_alpha: float = 0,
    position: Sequence[float] | None = None,
    title_pos: str = "center",
    title_y: float | None = None,
    **kwargs,
) -> tuple[Figure, Axes]:
    """Creates (or completes) a figure and an axis.

    A new figure uses ``layout="constrained"``; a new axis gets a transparent
    background (``face_alpha``).

    Args:
        figsize: Figure size in inches (only for a new figure).
        title: Axis title.
        fontsize: Title and tick label size.
        ax: Existing axis to draw into.
        fig: Existing figure (taken from ``ax`` if only ``ax`` is given).
        projection: Projection of a new axis, e.g. ``"polar"``.
        set_axis_off: Hide the axis decorations.
        transparent: Make the figure background transparent.
        face_alpha: Alpha of a new axis background.
        position: ``[left, bottom, width, height]`` in figure coordinates
            (the axis is then placed by hand, outside the layout engine).
        title_pos: ``"center"``, ``"left"`` or ``"right"``.
        title_y: Vertical title position in axes coordinates.
        **kwargs: Passed to ``plt.figure`` for a new figure.

    Returns:
        Tuple ``(fig, ax)``.
    """
    if fig is None and ax is not None:
        fig = ax.figure
    if fig is None:
        kwargs.setdefault("layout", "constrained")
        fig = plt.figure(figsize=figsize, **kwargs)
    if ax is None:
        ax = fig.add_subplot(projection=projection)
        ax.patch.set_alpha(face_alpha)
    if position is not None:
        ax.set_position(position)
    if title:
        ax.set_title(title, fontsize=fontsize, loc=title_pos, y=title_y)
    ax.tick_params(labelsize=fontsize)
    if set_axis_off:
        ax.set_axis_off()
    if transparent:
        fig.patch.set_alpha(0)
        ax.patch.set_alpha(0)
    return fig, ax


_ALL_SPINES = ("top", "right", "bottom", "left")


def rm_spines(
    ax: Axes,
    spines: Iterable[str] = _ALL_SPINES,
    visible: bool = False,
    rm_xticks: bool = True,
    rm_yticks: bool = True,
) -> Axes:
    """Hides spines and (optionally) ticks of an axis.

    Args:
        ax: The axis.
        spines: Spines to change.
        visible: Visibility to set.
        rm_xticks: Remove x ticks and labels.
        rm_yticks: Remove y ticks and labels.

    Returns:
        The axis.
    """
    for spine in spines:
        if spine in ax.spines:
            ax.spines[spine].set_visible(visible)
    if rm_xticks:
        ax.set_xticks([])
        ax.xaxis.set_ticks_position("none")
    if rm_yticks:
        ax.set_yticks([])
        ax.yaxis.set_ticks_position("none")
    return ax


def trim_axis(ax: Axes, xaxis: bool = True, yaxis: bool = True) -> Axes:
    """Limits the left/bottom spines to the range of the ticks.

    Args:
        ax: The axis.
        xaxis: Trim the bottom spine.
        yaxis: Trim the left spine.

    Returns:
        The axis.
    """
    if xaxis:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        if ticks:
            ax.spines["bottom"].set_bounds(min(ticks), max(ticks))
    if yaxis:
        ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
        if ticks:
            ax.spines["left"].set_bounds(min(ticks), max(ticks))
    return ax


def set_spine_tick_params(
    ax: Axes,
    spinewidth: float = 0.25,
    tickwidth: float = 0.25,
    ticklength: float = 3,
    ticklabelpad: float = 2,
    spines: Iterable[str] = _ALL_SPINES,
) -> Axes:
    """Sets spine line width and tick geometry.

    Args:
        ax: The axis.
        spinewidth: Spine line width.
        tickwidth: Tick width.
        ticklength: Tick length.
        ticklabelpad: Distance between ticks and labels.
        spines: Spines to change.

    Returns:
        The axis.
    """
    for spine in spines:
        ax.spines[spine].set_linewidth(spinewidth)
    ax.tick_params(width=tickwidth, length=ticklength, pad=ticklabelpad)
    return ax


def color_labels(labels: Iterable[str], color, ax: Axes) -> None:
    """Colours the x and y tick labels whose text is in ``labels``.

    Args:
        labels: Label texts.
        color: Colour to apply.
        ax: The axis.
    """
    for label in labels:
        color_label(label, color, ax)


def color_label(label: str, color, ax: Axes) -> None:
    """Colours the tick labels with text ``label``.

    Args:
        label: Label text.
        color: Colour to apply.
        ax: The axis.
    """
    for tick in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        if tick.get_text() == label:
            tick.set_color(color)


def boldify_labels(labels: Iterable[str], ax: Axes) -> None:
    """Makes the tick labels with the given texts bold.

    Args:
        labels: Label texts.
        ax: The axis.
    """
    labels = set(labels)
    for tick in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        if tick.get_text() in labels:
            tick.set_fontweight("bold")


# -- grids ---------------------------------------------------------------------------


def width_n_height(
    N: int,
    aspect_ratio: float = 1,
    max_width: int | None = None,
    max_height: int | None = None,
) -> tuple[int, int]:
    """Grid size ``(width, height)`` holding ``N`` panels with ``width/height ~ aspect``.

    Args:
        N: Number of panels.
        aspect_ratio: Desired ratio of columns to rows.
        max_width: Maximal number of columns.
        max_height: Maximal number of rows.

    Returns:
        Tuple ``(width, height)`` with ``width * height >= N``.
    """
    N = max(int(N), 1)
    height = max(1, math.ceil(math.sqrt(N / aspect_ratio)))
    width = math.ceil(N / height)
    if max_width is not None and width > max_width:
        width = max_width
        height = math.ceil(N / width)
    if max_height is not None and height > max_height:
        height = max_height
        width = math.ceil(N / height)
    return width, height


def closest_divisors(n: int) -> tuple[int, int]:
    """The pair of divisors of ``n`` closest to each other.

    Args:
        n: Positive integer.

    Returns:
        Tuple ``(a, b)`` with ``a * b == n`` and ``a <= b``.
    """
    a = int(math.isqrt(n))
    while n % a:
        a -= 1
    return a, n // a


def get_axis_grid(
    alist=None,
    gridwidth: int | None = None,
    gridheight: int | None = None,
    max_width: int | None = None,
    max_height: int | None = None,
    fig: Figure | None = None,
    ax: Axes | None = None,
    axes=None,
    aspect_ratio: float = 1,
    figsize=None,
    scale: float = 3,
    projection=None,
    as_matrix: bool = False,
    fontsize: float = 5,
    wspace: float = 0.1,
    hspace: float = 0.3,
    alpha: float = 1,
    sharex=None,
    sharey=None,
    unmask_n: int | None = None,
):
    """Creates a grid of axes, one per item of ``alist``.

    Args:
        alist: Items (only their number matters).
        gridwidth: Number of columns.
        gridheight: Number of rows.
        max_width: Maximal number of columns when inferring the grid.
        max_height: Maximal number of rows when inferring the grid.
        fig: Existing figure.
        ax: Unused (compatibility).
        axes: Unused (compatibility).
        aspect_ratio: Columns/rows ratio when inferring the grid.
        figsize: Figure size (default ``scale * (width, height)``).
        scale: Inches per panel when ``figsize`` is not given.
        projection: Projection of the axes (or a list, one per axis).
        as_matrix: Return axes as a ``(height, width)`` object array (None
            where no axis was created).
        fontsize: Tick label size.
        wspace: Horizontal spacing (GridSpec).
        hspace: Vertical spacing (GridSpec).
        alpha: Axis background alpha.
        sharex: Share x with the first axis if True.
        sharey: Share y with the first axis if True.
        unmask_n: Number of axes to create (default: all grid cells needed).

    Returns:
        Tuple ``(fig, axes, (width, height))``.
    """
    if alist is not None:
        n = len(alist)
    elif gridwidth and gridheight:
        n = gridwidth * gridheight
    else:
        n = unmask_n or 1
    if gridwidth is None and gridheight is None:
        gridwidth, gridheight = width_n_height(n, aspect_ratio, max_width, max_height)
    elif gridwidth is None:
        gridwidth = math.ceil(n / gridheight)
    elif gridheight is None:
        gridheight = math.ceil(n / gridwidth)
    n = unmask_n if unmask_n is not None else min(n, gridwidth * gridheight)
    figsize = figsize or [scale * gridwidth, scale * gridheight]
    if fig is None:
        fig = plt.figure(figsize=figsize)
    gs = GridSpec(gridheight, gridwidth, figure=fig, wspace=wspace, hspace=hspace)
    projections = (
        projection if isinstance(projection, (list, tuple)) else [projection] * n
    )
    out: list[Axes] = []
    for i in range(n):
        share = {}
        if out and sharex:
            share["sharex"] = out[0]
        if out and sharey:
            share["sharey"] = out[0]
        axis = fig.add_subplot(
            gs[i // gridwidth, i % gridwidth], projection=projections[i], **share
        )
        axis.tick_params(labelsize=fontsize)
        axis.patch.set_alpha(alpha)
        out.append(axis)
    if as_matrix:
        matrix = np.full((gridheight, gridwidth), None, dtype=object)
        for i, axis in enumerate(out):
            matrix[i // gridwidth, i % gridwidth] = axis
        return fig, matrix, (gridwidth, gridheight)
    return fig, out, (gridwidth, gridheight)


def extend_arg(arg, argtype, r, default, dim: int = -1):
    """Broadcasts a per-item argument to the number of items of ``r``.

    Args:
        arg: A single value of ``argtype`` or a sequence.
        argtype: Type(s) considered a single value.
        r: Array whose ``dim`` axis gives the number of items.
        default: Value used when ``arg`` is None.
        dim: Axis of ``r`` counting the items.

    Returns:
        A list with one value per item.
    """
    n = np.shape(r)[dim] if np.ndim(r) else 1
    if arg is None:
        arg = default
    if isinstance(arg, argtype) or not isinstance(arg, (list, tuple, np.ndarray)):
        return [arg] * n
    arg = list(arg)
    if len(arg) != n:
        raise ValueError(f"expected {n} values, got {len(arg)}")
    return arg
