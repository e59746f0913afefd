"""Hexagonal images: ``hex_scatter``, ``quick_hex_scatter``, ``kernel``, ``hex_cs``.

Part of :mod:`flyvis.analysis.visualization.plots` (``spec/visualization.md`` §3).
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import RegularPolygon

from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.plt_utils import to_numpy
from flyvis.utils.hex_utils import (
    crop_to_extent,
    get_extent,
    get_hex_coords,
    get_hextent,
    get_num_hexals,
    hex_distance,
    hex_to_pixel,
    pad_to_regular_hex,
    sort_u_then_v,
)

_NAN_FACE = (1.0, 1.0, 1.0, 1.0)
_NAN_EDGE = (0.8, 0.8, 0.8, 1.0)


class SignError(Exception):
    """Raised when values that must share one sign have mixed signs."""


# -- hexagonal images ----------------------------------------------------------------


def _hex_pixels(u, v, mode: str, origin: str):
    x, y = hex_to_pixel(u, v, mode=mode)
    if origin == "upper":
        y = -y
    return x, y


def _add_hexagons(
    ax: Axes,
    x,
    y,
    facecolors,
    edgecolors,
    radius,
    orientation,
    linewidth,
    linestyles=None,
) -> list[RegularPolygon]:
    """Adds one hexagon per position, in order (``ax.patches`` keeps the order)."""
    patches = []
    for i, (xi, yi) in enumerate(zip(x, y)):
        patch = RegularPolygon(
            (float(xi), float(yi)),
            numVertices=6,
            radius=radius,
            orientation=orientation,
            facecolor=facecolors[i],
            edgecolor=edgecolors[i],
            linewidth=linewidth,
            linestyle="-" if linestyles is None else linestyles[i],
        )
        # Hexagons lie inside the axes (limits are set by the callers), so they
        # are left out of layout/tight-bbox computations, which would otherwise
        # visit every patch on each draw. add_artist keeps the order and skips
        # add_patch's per-patch data-limit update.
        patch.set_in_layout(False)
        ax.add_artist(patch)
        patches.append(patch)
    return patches


def set_hex_colors(ax: Axes, facecolors, edgecolors=None, start: int = 0) -> None:
    """Recolours the hexagons of a hex plot in place.

    Args:
        ax: Axis created by :func:`hex_scatter` / :func:`hex_flow`.
        facecolors: RGBA array ``(n_hexals, 4)`` for ``ax.patches[start:start + n]``.
        edgecolors: RGBA array for the edges (None: leave edges unchanged).
        start: Index of the first patch.
    """
    patches = list(ax.patches)[start : start + len(facecolors)]
    if edgecolors is None:
        for patch, face in zip(patches, facecolors):
            patch.set_facecolor(face)
    else:
        for patch, face, edge in zip(patches, facecolors, edgecolors):
            patch.set_facecolor(face)
            patch.set_edgecolor(edge)


def _finite_range(values) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(finite.min()), float(finite.max())


def _text_color(face, threshold: float) -> str:
    value = mcolors.rgb_to_hsv(np.asarray(face)[:3])[2]
    return "black" if value > threshold else "white"


def hex_scatter(
    u,
    v,
    values,
    max_extent: int | None = None,
    fig: Figure | None = None,
    ax: Axes | None = None,
    figsize=(1, 1),
    title: str = "",
    title_y: float | None = None,
    fontsize: float = 5,
    label: str = "",
    labelxy="auto",
    label_color="black",
    edgecolor=None,
    edgewidth: float = 0.5,
    alpha: float = 1,
    fill: bool = False,
    scalarmapper=None,
    norm=None,
    radius: float = 1,
    origin: str = "lower",
    vmin: float | None = None,
    vmax: float | None = None,
    midpoint: float | None = None,
    mode: str = "default",
    orientation: float = np.radians(30),
    cmap=plt.cm.seismic,
    cbar: bool = True,
    cbar_label: str = "",
    cbar_height: float | None = None,
    cbar_width: float | None = None,
    cbar_x_offset: float = 0.05,
    annotate: bool = False,
    annotate_coords: bool = False,
    annotate_indices: bool = False,
    frame: bool = False,
    frame_hex_width: int = 1,
    frame_color=None,
    nan_linestyle: str = "-",
    text_color_hsv_threshold: float = 0.8,
    **kwargs,
):
    """Plots values on a hexagonal lattice, one hexagon per hexal.

    Hexals are sorted by ``u`` then ``v`` and drawn as
    ``RegularPolygon(numVertices=6, radius, orientation)`` at
    ``hex_to_pixel(u, v, mode)``; ``ax.patches[i]`` is hexal ``i`` of the
    sorted (and padded/cropped) lattice. NaN hexals are white with a light
    grey edge (or ``edgecolor``) drawn with ``nan_linestyle``.

    Colour range: ``vmin``/``vmax`` default to the data range widened by 1e-10
    (all-zero data: ``(0, 1)``); with ``midpoint`` a one-sided range is
    mirrored (see :func:`~flyvis.analysis.visualization.plt_utils.get_norm`).

    Args:
        u: ``u`` coordinates ``(n_hexals,)``.
        v: ``v`` coordinates ``(n_hexals,)``.
        values: Values ``(n_hexals,)`` or a scalar (broadcast).
        max_extent: Crop to this extent (pad to it with ``fill``).
        fig: Existing figure.
        ax: Existing axis.
        figsize: Size of a new figure in inches.
        title: Axis title.
        title_y: Vertical title position.
        fontsize: Font size of title, colourbar and annotations.
        label: Text label (e.g. ``"Frame: 0"``).
        labelxy: ``"auto"`` (top left of the hexagon) or axes coordinates.
        label_color: Colour of the label.
        edgecolor: Hexagon edge colour (default: the face colour).
        edgewidth: Edge line width.
        alpha: Opacity multiplied into the face colours.
        fill: Pad to a regular hexagon (NaN elsewhere).
        scalarmapper: Existing ``ScalarMappable`` to use.
        norm: Explicit norm.
        radius: Hexagon circumradius.
        origin: ``"lower"`` (y up) or ``"upper"`` (mirrored vertically).
        vmin: Lower colour limit.
        vmax: Upper colour limit.
        midpoint: Centre of a diverging norm.
        mode: Pixel mapping mode of ``hex_to_pixel``.
        orientation: Hexagon rotation in radians (30 deg: flat top).
        cmap: Colormap (default ``seismic``).
        cbar: Add a colourbar.
        cbar_label: Colourbar label.
        cbar_height: Colourbar length (axes fraction, default 0.5).
        cbar_width: Colourbar thickness (axes fraction, default 0.03).
        cbar_x_offset: Horizontal colourbar offset (axes fraction).
        annotate: Write the values (``"{:.1F}"``) into the hexagons.
        annotate_coords: Write ``"u,v"`` into the hexagons.
        annotate_indices: Write the hexal index into the hexagons.
        frame: Draw a frame of ``frame_hex_width`` rings around the lattice.
        frame_hex_width: Number of frame rings.
        frame_color: Colour of the frame (default black).
        nan_linestyle: Edge line style of NaN hexals.
        text_color_hsv_threshold: Annotations are black on faces whose HSV
            value exceeds this, else white.
        **kwargs: Passed to :func:`~flyvis.analysis.visualization.plt_utils.init_plot`.

    Returns:
        Tuple ``(fig, ax, (label_text, scalarmapper))``.

    Raises:
        ValueError: If ``u``, ``v`` and ``values`` have different shapes.
    """
    fig, ax = plt_utils.init_plot(
        figsize, title, fontsize, ax=ax, fig=fig, title_y=title_y, **kwargs
    )
    u = to_numpy(u).ravel()
    v = to_numpy(v).ravel()
    values = to_numpy(values).astype(float)
    if values.ndim == 0:
        values = np.full(np.shape(u), float(values))
    if not (np.shape(u) == np.shape(v) == values.shape):
        raise ValueError("shape mismatch of hexal values and coordinates")
    u, v, values = sort_u_then_v(u, v, values)
    if fill:
        u, v, values = pad_to_regular_hex(
            u, v, values, max_extent if max_extent is not None else get_extent(u, v)
        )
    elif max_extent is not None:
        u, v, values = crop_to_extent(u, v, values, max_extent)
    values = values.astype(float)

    data_range = _finite_range(values)
    if data_range is None or (data_range[0] == 0 and data_range[1] == 0):
        lo, hi = 0.0, 1.0
    else:
        lo, hi = data_range[0] - 1e-10, data_range[1] + 1e-10
    vmin = lo if vmin is None else vmin
    vmax = hi if vmax is None else vmax
    if midpoint is not None and scalarmapper is None and norm is None:
        # mirror a one-signed range about the midpoint (e.g. 0 .. 18 -> -18 .. 18)
        if vmin >= midpoint - 1e-9:
            vmin = 2 * midpoint - vmax
        if vmax <= midpoint + 1e-9:
            vmax = 2 * midpoint - vmin
    scalarmapper, norm = plt_utils.get_scalarmapper(
        scalarmapper=scalarmapper,
        cmap=cmap,
        norm=norm,
        vmin=vmin,
        vmax=vmax,
        midpoint=midpoint,
    )
    nan = ~np.isfinite(values)
    facecolors = scalarmapper.to_rgba(np.where(nan, 0.0, values))
    facecolors = np.array(facecolors, dtype=float).reshape(-1, 4)
    facecolors[:, 3] *= alpha
    facecolors[nan] = _NAN_FACE
    if edgecolor is None:
        edgecolors = facecolors.copy()
        edgecolors[nan] = _NAN_EDGE
    else:
        edgecolors = np.tile(mcolors.to_rgba(edgecolor), (len(values), 1))
    linestyles = [nan_linestyle if n else "-" for n in nan]

    x, y = _hex_pixels(u, v, mode, origin)
    _add_hexagons(
        ax, x, y, facecolors, edgecolors, radius, orientation, edgewidth, linestyles
    )

    xs, ys = [x], [y]
    if frame and len(u):
        extent = get_extent(u, v)
        fu, fv = get_hex_coords(extent + frame_hex_width)
        ring = hex_distance(fu, fv) > extent
        fx, fy = _hex_pixels(fu[ring], fv[ring], mode, origin)
        color = mcolors.to_rgba(frame_color or "black")
        _add_hexagons(
            ax,
            fx,
            fy,
            [color] * len(fx),
            [color] * len(fx),
            radius,
            orientation,
            edgewidth,
        )
        xs.append(fx)
        ys.append(fy)

    if cbar:
        plt_utils.add_colorbar_to_fig(
            fig,
            [ax],
            width=cbar_width or 0.03,
            height=cbar_height or 0.5,
            x_offset=cbar_x_offset,
            cmap=scalarmapper.cmap,
            norm=scalarmapper.norm,
            label=cbar_label,
            fontsize=fontsize,
            tick_length=1,
            tick_width=0.25,
            n_ticks=5 if (cbar_height or 0.5) >= 0.5 else 3,
            n_decimals=1,
        )

    allx, ally = np.concatenate(xs), np.concatenate(ys)
    if allx.size:
        xmin, xmax = allx.min() - radius, allx.max() + radius
        ymin, ymax = ally.min() - radius, ally.max() + radius
        padx, pady = 0.01 * (xmax - xmin), 0.01 * (ymax - ymin)
        ax.set_xlim(xmin - padx, xmax + padx)
        ax.set_ylim(ymin - pady, ymax + pady)
    ax.set_aspect("equal")
    plt_utils.rm_spines(ax)

    if annotate or annotate_coords or annotate_indices:
        for i in range(len(values)):
            if annotate_indices:
                text = f"{i}"
            elif annotate_coords:
                text = f"{u[i]},{v[i]}"
            elif nan[i]:
                continue
            else:
                text = f"{values[i]:.1F}"
            ax.annotate(
                text,
                (x[i], y[i]),
                ha="center",
                va="center",
                fontsize=fontsize,
                color=_text_color(facecolors[i], text_color_hsv_threshold),
            )

    if labelxy == "auto" and allx.size:
        label_text = ax.text(
            x.min() - radius,
            y.max(),
            label,
            ha="left",
            va="top",
            fontsize=fontsize,
            color=label_color,
        )
    else:
        labelxy = (0, 1) if labelxy == "auto" else labelxy
        label_text = ax.text(
            *labelxy,
            label,
            transform=ax.transAxes,
            ha="left",
            va="center",
            fontsize=fontsize,
            color=label_color,
        )
    return fig, ax, (label_text, scalarmapper)


def _regular_coords(n_hexals: int):
    extent = int(get_hextent(n_hexals))
    if get_num_hexals(extent) != n_hexals:
        raise ValueError(
            f"{n_hexals} values do not fill a regular hexagonal lattice "
            "(expected 3e(e+1)+1); pass u and v explicitly."
        )
    return get_hex_coords(extent)


def quick_hex_scatter(values, cmap=plt.cm.binary_r, **kwargs):
    """Plots a flat hexal array of a regular lattice (coordinates inferred).

    Args:
        values: Tensor or array with ``3e(e+1)+1`` elements after squeezing,
            e.g. ``(721,)`` or ``(1, 1, 1, 721)``.
        cmap: Colormap (default ``binary_r``: black = 0, white = 1).
        **kwargs: Passed to :func:`hex_scatter`.

    Returns:
        Tuple ``(fig, ax, (label_text, scalarmapper))``.

    Raises:
        ValueError: If ``values`` is not one regular lattice.
    """
    values = to_numpy(values).squeeze()
    if values.ndim != 1:
        raise ValueError(f"expected a flat hexal array, got shape {values.shape}")
    u, v = _regular_coords(values.shape[0])
    return hex_scatter(u, v, values, cmap=cmap, **kwargs)


def kernel(
    u,
    v,
    values,
    fontsize: float = 5,
    cbar: bool = True,
    edgecolor="k",
    fig: Figure | None = None,
    ax: Axes | None = None,
    figsize=(1, 1),
    midpoint: float = 0,
    annotate: bool = True,
    alpha: float = 0.8,
    annotate_coords: bool = False,
    coord_fs: float = 8,
    cbar_height: float = 0.3,
    cbar_x_offset: float = 0.0,
    **kwargs,
):
    """Receptive-field / synaptic-kernel plot with annotated values.

    Uses ``seismic`` with ``midpoint`` 0 and pads to a regular hexagon
    (``fill=True``) unless told otherwise. Deviation from flyvis 1.2.0: the
    default ``cbar_x_offset`` is 0 (the colourbar sits right of the axis).

    Args:
        u: ``u`` offsets.
        v: ``v`` offsets.
        values: Kernel values (non-zero values must share one sign).
        fontsize: Font size.
        cbar: Add a colourbar.
        edgecolor: Hexagon edge colour.
        fig: Existing figure.
        ax: Existing axis.
        figsize: Size of a new figure.
        midpoint: Centre of the diverging norm.
        annotate: Write the values into the hexagons.
        alpha: Face opacity.
        annotate_coords: Write the coordinates instead.
        coord_fs: Unused (compatibility; annotations use ``fontsize``).
        cbar_height: Colourbar length.
        cbar_x_offset: Colourbar offset.
        **kwargs: Passed to :func:`hex_scatter`.

    Returns:
        Tuple ``(fig, ax, (label_text, scalarmapper))``.

    Raises:
        SignError: If the non-zero values have mixed signs.
    """
    del coord_fs
    array = to_numpy(values).astype(float)
    nonzero = array[np.isfinite(array) & (array != 0)]
    if nonzero.size and (nonzero.min() < 0 < nonzero.max()):
        raise SignError("kernel values have mixed signs")
    kwargs.setdefault("cmap", plt.cm.seismic)
    kwargs.setdefault("fill", True)
    return hex_scatter(
        u,
        v,
        array,
        fontsize=fontsize,
        cbar=cbar,
        edgecolor=edgecolor,
        fig=fig,
        ax=ax,
        figsize=figsize,
        midpoint=midpoint,
        annotate=annotate,
        alpha=alpha,
        annotate_coords=annotate_coords,
        cbar_height=cbar_height,
        cbar_x_offset=cbar_x_offset,
        **kwargs,
    )


def hex_cs(
    extent: int = 5,
    mode: str = "default",
    annotate_coords: bool = True,
    edgecolor="black",
    **kwargs,
):
    """Draws the hexagonal coordinate system (white hexagons, ``u,v`` annotated).

    Args:
        extent: Lattice extent.
        mode: Pixel mapping mode.
        annotate_coords: Write ``"u,v"`` into each hexagon.
        edgecolor: Edge colour.
        **kwargs: Passed to :func:`hex_scatter`.

    Returns:
        Tuple ``(fig, ax, (label_text, scalarmapper))``.
    """
    u, v = get_hex_coords(extent)
    kwargs.setdefault("cbar", False)
    kwargs.setdefault("fontsize", 3)
    return hex_scatter(
        u,
        v,
        np.ones(len(u)),
        mode=mode,
        annotate_coords=annotate_coords,
        edgecolor=edgecolor,
        cmap=mcolors.ListedColormap(["white"]),
        vmin=0,
        vmax=1,
        **kwargs,
    )


# -- flow ----------------------------------------------------------------------------
