"""Optic-flow plots: direction as hue, magnitude as alpha/saturation; arrows.

Part of :mod:`flyvis.analysis.visualization.plots` (``spec/visualization.md`` §3).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.color_utils import cm_uniform_2d, get_cmap
from flyvis.analysis.visualization.hex_plots import (  # noqa: F401
    _NAN_EDGE,
    _NAN_FACE,
    _add_hexagons,
    _hex_pixels,
    _regular_coords,
    hex_scatter,
    set_hex_colors,
)
from flyvis.analysis.visualization.plt_utils import to_numpy
from flyvis.utils.hex_utils import (
    crop_to_extent,
    hex_to_pixel,
    sort_u_then_v,
)


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
