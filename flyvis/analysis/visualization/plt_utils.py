"""Matplotlib helpers: figure set-up, norms, colourbars, colour wheel, grids.

Nothing in this module changes matplotlib's global ``rcParams``. The paper
style of flyvis (tiny 1x1 inch panels, 5-pt fonts, 300 dpi) is available as
the dict :data:`FLYVIS_STYLE` and as the context manager :func:`style`::

    with plt_utils.style():
        fig, ax = plt_utils.init_plot()

Source: ``spec/visualization.md`` §1-2.
"""

from __future__ import annotations

import builtins
import contextlib
import math
from collections.abc import Iterable, Iterator, Sequence

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec

from flyvis.analysis.visualization.color_utils import get_cmap, truncate_colormap

__all__ = [
    "FLYVIS_STYLE",
    "style",
    "init_plot",
    "rm_spines",
    "trim_axis",
    "set_spine_tick_params",
    "color_labels",
    "color_label",
    "boldify_labels",
    "get_norm",
    "get_scalarmapper",
    "get_lims",
    "add_colorbar_to_fig",
    "add_colorwheel_2d",
    "truncate_colormap",
    "width_n_height",
    "closest_divisors",
    "get_axis_grid",
    "MARKERS",
    "check_markers",
    "get_marker",
    "add_cluster_marker",
    "avg_pool",
    "display_significance_value",
    "display_pvalues",
    "standalone_legend",
    "extend_arg",
    "scatter_on_violins_with_best",
    "to_numpy",
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


# -- norms and colour scales --------------------------------------------------------


def get_norm(
    norm=None, vmin=None, vmax=None, midpoint=None, log=None, symlog=None
) -> mcolors.Normalize | None:
    """Returns a matplotlib norm for the given limits.

    With ``midpoint`` a ``TwoSlopeNorm`` is returned; a one-sided range is
    mirrored about the midpoint (``vmin = 2 m - vmax`` if ``vmin >= m``,
    ``vmax = 2 m - vmin`` if ``vmax <= m``; for ``m = 0`` this is ``-vmax`` /
    ``-vmin``). The limits are then widened by 1e-15. ``log`` gives a
    ``LogNorm``, ``symlog`` (the linear threshold) a ``SymLogNorm`` over
    ``+-max(|vmin|, |vmax|)``.

    Args:
        norm: Returned unchanged if given.
        vmin: Lower limit.
        vmax: Upper limit.
        midpoint: Centre of a diverging norm.
        log: Use a logarithmic norm.
        symlog: Linear threshold of a symmetric logarithmic norm.

    Returns:
        The norm, or None if a limit is missing.
    """
    if norm is not None:
        return norm
    if vmin is None or vmax is None:
        return None
    vmin, vmax = float(vmin), float(vmax)
    if midpoint is not None:
        if vmin >= midpoint:
            vmin = 2 * midpoint - vmax
        if vmax <= midpoint:
            vmax = 2 * midpoint - vmin
    vmin, vmax = vmin - 1e-15, vmax + 1e-15
    if midpoint is not None:
        if not vmin < midpoint < vmax:  # degenerate: all values equal the midpoint
            vmin, vmax = midpoint - 1.0, midpoint + 1.0
        return mcolors.TwoSlopeNorm(vcenter=midpoint, vmin=vmin, vmax=vmax)
    if log:
        return mcolors.LogNorm(vmin=vmin, vmax=vmax)
    if symlog:
        extreme = max(abs(vmin), abs(vmax))
        return mcolors.SymLogNorm(symlog, vmin=-extreme, vmax=extreme)
    return mcolors.Normalize(vmin=vmin, vmax=vmax)


def get_scalarmapper(
    scalarmapper: ScalarMappable | None = None,
    cmap=None,
    norm=None,
    vmin=None,
    vmax=None,
    midpoint=None,
    log=None,
    symlog=None,
) -> tuple[ScalarMappable, mcolors.Normalize | None]:
    """Returns a ``ScalarMappable`` mapping values to colours, and its norm.

    Args:
        scalarmapper: Returned unchanged if given.
        cmap: Colormap or name (``"cm_uniform_2d"`` is registered lazily).
        norm: Explicit norm (see :func:`get_norm`).
        vmin: Lower limit.
        vmax: Upper limit.
        midpoint: Centre of a diverging norm.
        log: Logarithmic norm.
        symlog: Symmetric logarithmic norm threshold.

    Returns:
        Tuple ``(scalarmapper, norm)``.
    """
    if scalarmapper is not None:
        return scalarmapper, scalarmapper.norm
    norm = get_norm(norm, vmin, vmax, midpoint, log, symlog)
    return ScalarMappable(norm=norm, cmap=get_cmap(cmap, default="viridis")), norm


def get_lims(z, offset: float, min=None, max=None) -> tuple[float, float]:
    """NaN/inf-robust data range padded by ``offset`` times the range.

    Args:
        z: Array or (nested) list of arrays.
        offset: Relative padding, e.g. 0.1.
        min: Optional lower bound applied to the result.
        max: Optional upper bound applied to the result.

    Returns:
        Tuple ``(lo, hi)``; ``(-1, 1)`` for all-zero (or empty) data.
    """
    if isinstance(z, (list, tuple)):
        z = np.concatenate([to_numpy(zi).ravel() for zi in z]) if len(z) else np.array([])
    z = to_numpy(z).astype(float).ravel()
    z = z[np.isfinite(z)]
    if z.size == 0 or not np.any(z):
        return -1.0, 1.0
    lo, hi = float(z.min()), float(z.max())
    pad = offset * (hi - lo)
    lo, hi = lo - pad, hi + pad
    if min is not None:
        lo = builtins.max(lo, min)
    if max is not None:
        hi = builtins.min(hi, max)
    return lo, hi


def _axes_bbox(fig: Figure, axes) -> tuple[float, float, float, float]:
    """Union of the axes' positions in figure coordinates (after layout)."""
    if fig.get_layout_engine() is not None:
        fig.draw_without_rendering()
    boxes = [ax.get_position() for ax in axes]
    x0 = min(b.x0 for b in boxes)
    y0 = min(b.y0 for b in boxes)
    x1 = max(b.x1 for b in boxes)
    y1 = max(b.y1 for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def _relative_bounds(pos, width, height, x_offset, y_offset):
    """Colourbar bounds in axes fractions and its orientation."""
    if pos == "right":
        return [1 + x_offset, 0.5 - height / 2 + y_offset, width, height], "vertical"
    if pos == "left":
        return [-width + x_offset, 0.5 - height / 2 + y_offset, width, height], "vertical"
    if pos == "top":
        return [0.5 - height / 2 + x_offset, 1 + y_offset, height, width], "horizontal"
    if pos == "bottom":
        return [
            0.5 - height / 2 + x_offset,
            -width + y_offset,
            height,
            width,
        ], "horizontal"
    raise ValueError(f"unknown colorbar position {pos!r}")


def _add_axes_at(fig: Figure, axes, bounds, **kwargs) -> Axes:
    """Axis at ``bounds`` (fractions of the axes' box): inset for one axis."""
    if len(axes) == 1:
        return axes[0].inset_axes(bounds, **kwargs)
    x0, y0, w, h = _axes_bbox(fig, axes)
    left, bottom, width, height = bounds
    return fig.add_axes([x0 + left * w, y0 + bottom * h, width * w, height * h], **kwargs)


def add_colorbar_to_fig(
    fig: Figure,
    axes=None,
    pos: str = "right",
    width: float = 0.04,
    height: float = 0.5,
    x_offset: float = 0,
    y_offset: float = 0,
    cmap=None,
    fontsize: float = 10,
    tick_length: float = 1.5,
    tick_width: float = 0.75,
    rm_outline: bool = True,
    ticks=None,
    norm=None,
    label: str = "",
    plain: bool = False,
    use_math_text: bool = False,
    scilimits=None,
    style: str = "",
    alpha: float = 1,
    n_ticks: int = 9,
    discrete: bool = False,
    n_discrete: int | None = None,
    discrete_labels=None,
    n_decimals: int = 2,
):
    """Adds a colourbar axis (artist label ``"cbar"``) next to the given axes.

    Sizes and offsets are fractions of the axes' bounding box. For a single
    axis the colourbar is an inset of that axis, so it follows the axis when a
    layout engine moves it.

    Args:
        fig: The figure.
        axes: Axis or list of axes (default: all axes of the figure).
        pos: ``"right"``, ``"left"``, ``"top"`` or ``"bottom"``.
        width: Thickness of the colourbar.
        height: Length of the colourbar.
        x_offset: Horizontal shift.
        y_offset: Vertical shift.
        cmap: Colormap (default ``binary``).
        fontsize: Tick and label font size.
        tick_length: Tick length in points.
        tick_width: Tick width in points.
        rm_outline: Hide the colourbar outline.
        ticks: Explicit tick positions.
        norm: Norm (default ``Normalize(0, 1)``).
        label: Colourbar label.
        plain: Plain (non-offset) tick formatting.
        use_math_text: Use math text for scientific notation.
        scilimits: ``(m, n)`` power limits of the scalar formatter.
        style: Unused (flyvis compatibility).
        alpha: Colourbar alpha.
        n_ticks: Number of ticks for a ``TwoSlopeNorm``.
        discrete: Draw ``n_discrete`` discrete levels.
        n_discrete: Number of discrete levels.
        discrete_labels: Tick labels of the discrete levels.
        n_decimals: Decimals of ``TwoSlopeNorm`` tick labels.

    Returns:
        The ``matplotlib.colorbar.Colorbar``.
    """
    if axes is None:
        axes = list(fig.axes)
    elif isinstance(axes, Axes):
        axes = [axes]
    else:
        axes = list(np.ravel(np.asarray(axes, dtype=object)))
    bounds, orientation = _relative_bounds(pos, width, height, x_offset, y_offset)
    cax = _add_axes_at(fig, axes, bounds, label="cbar")
    cmap = get_cmap(cmap, default="binary")
    if norm is None:
        norm = mcolors.Normalize(vmin=0, vmax=1)
    if discrete:
        n_discrete = n_discrete or (len(discrete_labels) if discrete_labels else 2)
        cmap = mcolors.ListedColormap(cmap(np.linspace(0, 1, n_discrete)))
        norm = mcolors.Normalize(vmin=0, vmax=n_discrete)
        ticks = np.arange(n_discrete) + 0.5
    sm = ScalarMappable(norm=norm, cmap=cmap)
    cbar = fig.colorbar(sm, cax=cax, orientation=orientation, alpha=alpha)
    if discrete:
        cbar.set_ticks(ticks, labels=discrete_labels)
    elif ticks is not None:
        cbar.set_ticks(ticks)
    elif isinstance(norm, mcolors.TwoSlopeNorm):
        lower = np.linspace(norm.vmin, norm.vcenter, n_ticks // 2 + 1)
        upper = np.linspace(norm.vcenter, norm.vmax, n_ticks // 2 + 1)
        tick_values = np.unique(np.concatenate([lower, upper]))
        cbar.set_ticks(tick_values, labels=[f"{t:.{n_decimals}f}" for t in tick_values])
    elif plain or scilimits is not None or use_math_text:
        formatter = matplotlib.ticker.ScalarFormatter(useMathText=use_math_text)
        if scilimits is not None:
            formatter.set_powerlimits(scilimits)
        if plain:
            formatter.set_scientific(False)
            formatter.set_useOffset(False)
        cbar.formatter = formatter
        cbar.update_ticks()
    cbar.ax.tick_params(labelsize=fontsize, length=tick_length, width=tick_width)
    if label:
        cbar.set_label(label, fontsize=fontsize)
    if rm_outline:
        cbar.outline.set_visible(False)
    return cbar


_WHEEL_ANCHORS = {
    "southeast": (1, 0),
    "southwest": (0, 0),
    "northeast": (1, 1),
    "northwest": (0, 1),
    "center": (0.5, 0.5),
}


def add_colorwheel_2d(
    fig: Figure,
    axes=None,
    pos: str = "southeast",
    radius: float = 0.25,
    x_offset: float = 0,
    y_offset: float = 0,
    sm: ScalarMappable | None = None,
    cmap="cm_uniform_2d",
    norm=None,
    fontsize: float = 6,
    N: int = 512,
    labelpad: float = 0,
    invert: bool = False,
    mode: str = "2d",
    ticks=(0, 60, 120),
):
    """Adds a colour-wheel legend of flow colours (hue = direction).

    The wheel is an image of a disk: the colour of a point at angle
    ``theta = atan2(y, x)`` is ``cmap(norm(theta))`` (norm over ``[-pi, pi]``
    by default, as in :func:`~flyvis.analysis.visualization.plots.hex_flow`),
    its opacity is the distance from the centre (``mode="2d"``, magnitude) or
    1 (``mode="1d"``). A transparent polar axis (artist label
    ``"annotation"``) carries degree tick labels.

    Args:
        fig: The figure.
        axes: Axis (or list of axes) the wheel is placed relative to.
        pos: Corner: ``"southeast"``, ``"southwest"``, ``"northeast"``,
            ``"northwest"``, or ``"center"`` (a stand-alone legend).
        radius: Diameter of the wheel as a fraction of the axes' box.
        x_offset: Horizontal shift (axes fraction).
        y_offset: Vertical shift (axes fraction).
        sm: ScalarMappable providing cmap and norm.
        cmap: Cyclic colormap (default ``"cm_uniform_2d"``).
        norm: Norm of the direction (default ``Normalize(-pi, pi)``).
        fontsize: Tick label size.
        N: Image resolution in pixels.
        labelpad: Padding of the degree labels.
        invert: Rotate the wheel by 180 degrees.
        mode: ``"2d"`` (alpha = magnitude) or ``"1d"`` (opaque ring colours).
        ticks: Angles in degrees that get a label.

    Returns:
        Tuple ``(cb, cs)``: the wheel axis (label ``"cb"``) and its
        ``AxesImage``.

    Raises:
        ValueError: For an unknown ``pos``.
    """
    if axes is None:
        axes = [fig.axes[0]]
    elif isinstance(axes, Axes):
        axes = [axes]
    else:
        axes = list(np.ravel(np.asarray(axes, dtype=object)))
    if sm is not None:
        cmap, norm = sm.cmap, sm.norm
    cmap = get_cmap(cmap)
    if norm is None:
        norm = mcolors.Normalize(vmin=-np.pi, vmax=np.pi)
    if pos not in _WHEEL_ANCHORS:
        raise ValueError(
            f"unknown colour wheel position {pos!r}; valid: {', '.join(_WHEEL_ANCHORS)}"
        )
    ax_x, ax_y = _WHEEL_ANCHORS[pos]
    bounds = [
        ax_x * (1 - radius) + x_offset,
        ax_y * (1 - radius) + y_offset,
        radius,
        radius,
    ]
    cb = _add_axes_at(fig, axes, bounds, label="cb")
    grid = np.linspace(-1, 1, N)
    x, y = np.meshgrid(grid, grid)
    r = np.hypot(x, y)
    theta = np.arctan2(y, x)
    if invert:
        theta = np.angle(np.exp(1j * (theta + np.pi)))
    rgba = np.asarray(cmap(norm(theta)))
    alpha = np.clip(r, 0, 1) if mode == "2d" else np.ones_like(r)
    alpha[r > 1] = 0
    rgba[..., 3] = alpha
    cs = cb.imshow(rgba, origin="lower", extent=(-1, 1, -1, 1), interpolation="nearest")
    cb.set_axis_off()
    cb.set_aspect("equal")
    annotation = _add_axes_at(fig, axes, bounds, projection="polar", label="annotation")
    annotation.patch.set_alpha(0)
    annotation.set_xticks(np.radians(np.arange(0, 360, 60)))
    annotation.set_xticklabels(
        [f"{t}°" if t in set(ticks) else "" for t in range(0, 360, 60)]
    )
    annotation.set_yticks([])
    annotation.grid(False)
    annotation.spines["polar"].set_visible(False)
    annotation.tick_params(labelsize=fontsize, pad=labelpad)
    return cb, cs


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


def standalone_legend(
    labels: Sequence[str],
    colors: Sequence,
    legend_elements=None,
    alpha: float = 1,
    fontsize: float = 6,
    fig: Figure | None = None,
    ax: Axes | None = None,
    lw: float = 4,
    labelspacing: float = 0.5,
    handlelength: float = 2.0,
    n_cols: int | None = None,
    columnspacing: float = 0.8,
    figsize=None,
    linestyles=None,
):
    """A figure containing only a legend of coloured lines.

    Args:
        labels: Legend labels.
        colors: Colours, one per label.
        legend_elements: Explicit legend handles.
        alpha: Line alpha.
        fontsize: Label size.
        fig: Existing figure.
        ax: Existing axis.
        lw: Line width.
        labelspacing: Vertical spacing.
        handlelength: Handle length.
        n_cols: Number of columns.
        columnspacing: Column spacing.
        figsize: Figure size.
        linestyles: Line styles, one per label.

    Returns:
        Tuple ``(fig, ax)``.
    """
    from matplotlib.lines import Line2D

    if legend_elements is None:
        linestyles = linestyles or ["solid"] * len(labels)
        legend_elements = [
            Line2D([0], [0], color=c, lw=lw, alpha=alpha, label=lab, linestyle=ls)
            for lab, c, ls in zip(labels, colors, linestyles)
        ]
    if fig is None or ax is None:
        fig, ax = plt.subplots(figsize=figsize or [0.1 * len(labels), 0.1 * len(labels)])
    ax.legend(
        handles=legend_elements,
        loc="center",
        edgecolor="white",
        framealpha=1,
        fontsize=fontsize,
        labelspacing=labelspacing,
        handlelength=handlelength,
        columnspacing=columnspacing,
        ncol=n_cols or 1,
    )
    rm_spines(ax)
    return fig, ax


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
