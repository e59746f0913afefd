"""Matplotlib helpers: norms, scalar mappers, colourbars, colour wheel, legends.

Re-exported by :mod:`flyvis.analysis.visualization.plt_utils`.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure

from flyvis.analysis.visualization.color_utils import get_cmap
from flyvis.analysis.visualization.plt_utils_layout import rm_spines, to_numpy

__all__ = [
    "get_norm",
    "get_scalarmapper",
    "get_lims",
    "add_colorbar_to_fig",
    "add_colorwheel_2d",
    "standalone_legend",
]


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
