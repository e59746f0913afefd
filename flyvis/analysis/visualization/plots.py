"""Plot functions: hexagonal images, flow fields, traces and distributions.

Every function accepts ``fig``/``ax`` to draw into existing axes, returns the
matplotlib objects it created and never calls ``plt.show()``. Inputs may be
numpy arrays or torch tensors (on any device).

Hexagonal images draw one ``RegularPolygon`` per hexal, added in canonical
(u-then-v) order so that ``ax.patches[i]`` is hexal ``i``; animations and
:func:`set_hex_colors` recolour them in place.

Source: ``spec/visualization.md`` §3.
"""

from __future__ import annotations

import warnings
from collections import namedtuple
from collections.abc import Sequence

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import RegularPolygon
from matplotlib.ticker import MaxNLocator

from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.color_utils import cm_uniform_2d, get_cmap
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

__all__ = [
    "SignError",
    "hex_scatter",
    "quick_hex_scatter",
    "kernel",
    "hex_cs",
    "set_hex_colors",
    "hex_flow",
    "quick_hex_flow",
    "flow_to_rgba",
    "flow_colors",
    "plot_flow",
    "flow_arrows",
    "traces",
    "grouped_traces",
    "loss_curves",
    "histogram",
    "polar",
    "violin_groups",
    "get_violin_x_locations",
    "ViolinData",
    "violins",
    "heatmap",
]

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


def flow_colors(flow, cmap=None, mode: str = "alpha", max_magnitude=None) -> np.ndarray:
    """RGBA colours of 2-D vectors: hue = direction, magnitude = alpha/saturation.

    The direction ``theta = atan2(y, x)`` is mapped over ``[-pi, pi]`` onto the
    cyclic ``cmap`` (default ``cm_uniform_2d``). The magnitude, divided by
    ``max_magnitude`` (default: the maximum of ``flow``) and clipped to
    ``[0, 1]``, becomes the alpha channel (``mode="alpha"``, as flyvis) or the
    HSV saturation (``mode="saturation"``: the colour is blended towards
    white, keeping its HSV hue, alpha 1). Zero flow is therefore transparent
    or white.

    Args:
        flow: Array ``(2, ...)`` of x and y components.
        cmap: Cyclic colormap or name (e.g. ``"hsv"``).
        mode: ``"alpha"`` or ``"saturation"``.
        max_magnitude: Magnitude mapped to full opacity/saturation.

    Returns:
        Array ``(..., 4)`` of RGBA values in ``[0, 1]``.
    """
    flow = to_numpy(flow).astype(float)
    if flow.shape[0] != 2:
        raise ValueError(f"flow must have 2 components in axis 0, got {flow.shape}")
    cmap = get_cmap(cmap if cmap is not None else cm_uniform_2d)
    theta = np.arctan2(flow[1], flow[0])
    magnitude = np.hypot(flow[0], flow[1])
    finite = np.isfinite(magnitude)
    if max_magnitude is None:
        max_magnitude = magnitude[finite].max() if finite.any() else 0.0
    if max_magnitude > 0:
        strength = np.clip(np.where(finite, magnitude, 0) / max_magnitude, 0, 1)
    else:
        strength = np.zeros_like(magnitude)
    rgba = np.asarray(cmap((np.where(finite, theta, 0) + np.pi) / (2 * np.pi)), float)
    if mode == "alpha":
        rgba[..., 3] = strength
    elif mode == "saturation":
        rgba[..., :3] = 1 - strength[..., None] * (1 - rgba[..., :3])
        rgba[..., 3] = 1.0
    else:
        raise ValueError(f"unknown mode {mode!r}; expected 'alpha' or 'saturation'")
    return rgba


def flow_to_rgba(flow, cmap=None, mode: str = "alpha", max_magnitude=None) -> np.ndarray:
    """Colours a cartesian flow field like :func:`hex_flow` (see :func:`flow_colors`).

    Args:
        flow: Array or tensor ``(2, h, w)``.
        cmap: Cyclic colormap (default ``cm_uniform_2d``).
        mode: ``"alpha"`` (magnitude as opacity) or ``"saturation"``.
        max_magnitude: Magnitude of full opacity/saturation (default: max).

    Returns:
        Array ``(h, w, 4)``.
    """
    return flow_colors(flow, cmap=cmap, mode=mode, max_magnitude=max_magnitude)


def plot_flow(
    flow, fig: Figure | None = None, ax: Axes | None = None, figsize=(1, 1), **kwargs
):
    """Shows a cartesian flow field with ``imshow`` (no ``plt.show()``).

    Args:
        flow: Array or tensor ``(2, h, w)``.
        fig: Existing figure.
        ax: Existing axis.
        figsize: Size of a new figure.
        **kwargs: Passed to :func:`flow_to_rgba`.

    Returns:
        Tuple ``(fig, ax)``.
    """
    fig, ax = plt_utils.init_plot(figsize, fig=fig, ax=ax)
    ax.imshow(flow_to_rgba(flow, **kwargs))
    plt_utils.rm_spines(ax)
    return fig, ax


def hex_flow(
    u,
    v,
    flow,
    fig: Figure | None = None,
    ax: Axes | None = None,
    figsize=(1, 1),
    title: str = "",
    cmap=cm_uniform_2d,
    max_extent: int | None = None,
    cwheelradius: float = 0.25,
    mode: str = "default",
    orientation: float = np.radians(30),
    origin: str = "lower",
    fontsize: float = 5,
    cwheel: bool = True,
    cwheelxy=(),
    cwheelpos: str = "southeast",
    cwheellabelpad: float = -5,
    annotate_r: bool = False,
    annotate_theta: bool = False,
    annotate_coords: bool = False,
    coord_fs: float = 3,
    label: str = "",
    labelxy=(0, 1),
    vmin: float = -np.pi,
    vmax: float = np.pi,
    edgecolor=None,
    **kwargs,
):
    """Plots a flow field on the hexagonal lattice.

    Hue encodes the direction ``theta = atan2(y, x)`` (``cmap`` over
    ``[vmin, vmax] = [-pi, pi]``), alpha the magnitude ``r / max(r)``.

    Args:
        u: ``u`` coordinates ``(n_hexals,)``.
        v: ``v`` coordinates ``(n_hexals,)``.
        flow: Flow ``(2, n_hexals)`` (x and y components).
        fig: Existing figure.
        ax: Existing axis.
        figsize: Size of a new figure.
        title: Axis title.
        cmap: Cyclic colormap (default ``cm_uniform_2d``).
        max_extent: Crop to this extent.
        cwheelradius: Size of the colour wheel (axes fraction).
        mode: Pixel mapping mode.
        orientation: Hexagon rotation.
        origin: ``"lower"`` or ``"upper"``.
        fontsize: Font size.
        cwheel: Add a colour wheel legend.
        cwheelxy: Offsets ``(x, y)`` of the colour wheel.
        cwheelpos: Corner of the colour wheel.
        cwheellabelpad: Padding of the wheel's degree labels.
        annotate_r: Write magnitudes into the hexagons.
        annotate_theta: Write directions (degrees) into the hexagons.
        annotate_coords: Write ``"u,v"`` into the hexagons.
        coord_fs: Font size of the annotations.
        label: Text label.
        labelxy: Label position in axes coordinates.
        vmin: Direction mapped to the start of the colormap.
        vmax: Direction mapped to the end of the colormap.
        edgecolor: Edge colour (default: the face colour).
        **kwargs: Passed to :func:`hex_scatter`.

    Returns:
        Tuple ``(fig, ax, (label_text, scalarmapper, cb, cs))``; ``cb``/``cs``
        are the colour wheel axis and image (None without ``cwheel``).
    """
    u = to_numpy(u).ravel()
    v = to_numpy(v).ravel()
    flow = to_numpy(flow).astype(float).reshape(2, -1)
    u, v, flow = sort_u_then_v(u, v, flow)
    if max_extent is not None:
        u, v, flow = crop_to_extent(u, v, flow, max_extent)
    theta = np.arctan2(flow[1], flow[0])
    r = np.hypot(flow[0], flow[1])
    kwargs.setdefault("edgewidth", 0.1)
    fig, ax, (label_text, scalarmapper) = hex_scatter(
        u,
        v,
        theta,
        fig=fig,
        ax=ax,
        figsize=figsize,
        title=title,
        cmap=get_cmap(cmap),
        vmin=vmin,
        vmax=vmax,
        midpoint=0,
        mode=mode,
        orientation=orientation,
        origin=origin,
        fontsize=fontsize,
        cbar=False,
        label=label,
        labelxy=labelxy,
        edgecolor=edgecolor,
        **kwargs,
    )
    rgba = _hex_flow_rgba(scalarmapper, theta, r)
    set_hex_colors(ax, rgba, rgba if edgecolor is None else None)
    cb = cs = None
    if cwheel:
        cb, cs = plt_utils.add_colorwheel_2d(
            fig,
            [ax],
            pos=cwheelpos,
            radius=cwheelradius,
            x_offset=cwheelxy[0] if len(cwheelxy) else 0,
            y_offset=cwheelxy[1] if len(cwheelxy) else 0,
            sm=scalarmapper,
            fontsize=fontsize,
            labelpad=cwheellabelpad,
        )
    if annotate_r or annotate_theta or annotate_coords:
        x, y = _hex_pixels(u, v, mode, origin)
        for i in range(len(u)):
            if annotate_coords:
                text = f"{u[i]},{v[i]}"
            elif annotate_r:
                text = f"{r[i]:.2f}"
            else:
                text = f"{np.degrees(theta[i]):.0f}"
            ax.annotate(text, (x[i], y[i]), ha="center", va="center", fontsize=coord_fs)
    return fig, ax, (label_text, scalarmapper, cb, cs)


def _hex_flow_rgba(scalarmapper, theta, r) -> np.ndarray:
    rgba = np.array(scalarmapper.to_rgba(np.nan_to_num(theta)), dtype=float).reshape(
        -1, 4
    )
    finite = np.isfinite(r)
    rmax = r[finite].max() if finite.any() else 0.0
    rgba[:, 3] = np.where(finite, r, 0) / rmax if rmax > 0 else 0.0
    return rgba


def quick_hex_flow(flow, **kwargs):
    """Plots a flow field ``(2, n_hexals)`` of a regular lattice (coordinates inferred).

    Args:
        flow: Tensor or array squeezing to ``(2, 3e(e+1)+1)``.
        **kwargs: Passed to :func:`hex_flow`.

    Returns:
        Tuple ``(fig, ax, (label_text, scalarmapper, cb, cs))``.
    """
    flow = to_numpy(flow).squeeze()
    if flow.ndim != 2 or flow.shape[0] != 2:
        raise ValueError(f"expected flow of shape (2, n_hexals), got {flow.shape}")
    u, v = _regular_coords(flow.shape[1])
    return hex_flow(u, v, flow, **kwargs)


def flow_arrows(
    u,
    v,
    flow,
    ax: Axes | None = None,
    step: int = 2,
    threshold: float = 0.0,
    background=None,
    fig: Figure | None = None,
    figsize=(2, 2),
    cmap=cm_uniform_2d,
    scale: float | None = None,
    width: float = 0.012,
    edgecolor="black",
    linewidth: float = 0.3,
    color=None,
    mode: str = "default",
    **quiver_kwargs,
):
    """Draws flow arrows, coloured by direction, on a grey hexagonal image.

    In the manner of event-camera flow viewers (e.g. Prophesee's
    ``draw_arrows(img, flow, step, threshold_px)``): the background is shown
    in grey scale, and an arrow is drawn on the strided sub-lattice
    ``u % step == 0 and v % step == 0`` wherever the flow magnitude exceeds
    ``threshold``. Arrow colour = direction (same mapping as :func:`hex_flow`);
    arrow length is proportional to the magnitude, the longest arrow spanning
    about ``step`` hexals unless ``scale`` is given.

    Args:
        u: ``u`` coordinates ``(n_hexals,)``.
        v: ``v`` coordinates ``(n_hexals,)``.
        flow: Flow ``(2, n_hexals)``.
        ax: Existing axis (new figure if None).
        step: Stride of the arrow sub-lattice (in hexals).
        threshold: Minimal magnitude of a drawn arrow.
        background: Grey values ``(n_hexals,)`` drawn under the arrows; None:
            uniform light grey hexagons; ``False``: nothing (draw on ``ax``).
        fig: Existing figure.
        figsize: Size of a new figure.
        cmap: Cyclic colormap of the arrow colours.
        scale: Flow units per data unit of arrow length (``quiver`` scale).
        width: Arrow shaft width (fraction of the axis width).
        edgecolor: Arrow outline colour (keeps arrows visible on any grey).
        linewidth: Arrow outline width.
        color: Fixed arrow colour instead of direction colours.
        mode: Pixel mapping mode.
        **quiver_kwargs: Passed to ``ax.quiver``.

    Returns:
        Tuple ``(fig, ax, quiver)``.
    """
    u = to_numpy(u).ravel()
    v = to_numpy(v).ravel()
    flow = to_numpy(flow).astype(float).reshape(2, -1)
    if background is not False:
        grey = np.full(len(u), 0.85) if background is None else to_numpy(background)
        lims = (0.0, 1.0) if background is None else plt_utils.get_lims(grey, 0)
        fig, ax, _ = hex_scatter(
            u,
            v,
            grey,
            fig=fig,
            ax=ax,
            figsize=figsize,
            cmap=plt.cm.gray,
            vmin=lims[0],
            vmax=lims[1],
            cbar=False,
            mode=mode,
        )
    else:
        fig, ax = plt_utils.init_plot(figsize, fig=fig, ax=ax)
    magnitude = np.hypot(flow[0], flow[1])
    step = max(int(step), 1)
    keep = (np.mod(u, step) == 0) & (np.mod(v, step) == 0)
    keep &= np.isfinite(magnitude) & (magnitude > threshold)
    x, y = hex_to_pixel(u[keep], v[keep], mode=mode)
    if scale is None:
        max_mag = magnitude[keep].max() if keep.any() else 1.0
        scale = max_mag / (0.9 * step * np.sqrt(3)) if max_mag > 0 else 1.0
    if color is None:
        colors = flow_colors(flow[:, keep], cmap=cmap, max_magnitude=1.0)
        colors[:, 3] = 1.0
        color_kw = {"color": colors if len(colors) else None}
    else:
        color_kw = {"color": color}
    quiver = ax.quiver(
        x,
        y,
        flow[0, keep],
        flow[1, keep],
        angles="xy",
        scale_units="xy",
        scale=scale,
        width=width,
        pivot="mid",
        zorder=3,
        edgecolor=edgecolor,
        linewidth=linewidth,
        **color_kw,
        **quiver_kwargs,
    )
    return fig, ax, quiver


# -- traces --------------------------------------------------------------------------


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
