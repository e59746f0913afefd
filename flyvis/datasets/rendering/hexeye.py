"""Analytic stimulus rendering on the hexagonal eye, and the ``HexEye`` model.

flyvis 1.2.0 renders bars, edges and gratings by drawing a 775 x 775 pixel
image per frame, rotating it with PIL (8-bit quantised, bilinear) and
averaging the pixels inside each ommatidium's hexagon (``HexEye``). That is
slow (the default ``MovingEdge`` takes most of an hour) and quantises the grey
background to ``127/255`` for every angle that is not a multiple of 360°.
This module renders the same geometry analytically: the value of a hexal is
the average of the stimulus over a fine, fixed set of sample points inside
its hexagon (like ``HexEye``'s pixels, ``ppo`` points per column along each
axis), evaluated directly from the stimulus' closed-form description.

Geometry (the "eye frame", the frame of flyvis' ``HexEye`` and ``BoxEye``):

* Unit: one column = one inter-ommatidial step = 5.8° (``OMM_WIDTH_DEG``).
  Angles in radians convert to columns by dividing by ``radians(5.8)``;
  an LED of the Gruntman et al. 2018 display is 2.25° = 0.388 columns.
* Hexal ``(u, v)`` sits at ``X = v`` (right), ``Y = -(u + v / 2)`` (up),
  i.e. at the ``HexEye`` pixel ``(x, y) = (c + ppo v, c + ppo (u + v / 2))``
  with ``y`` the image row. As in flyvis, the horizontal spacing of the
  columns equals the vertical spacing (the lattice is stretched horizontally
  by ``2 / sqrt(3)`` relative to a regular hexagonal lattice).
* Each ommatidium is a regular flat-topped hexagon (horizontal top and bottom
  edges) with centre-to-edge distance 0.5 columns, as ``HexEye``'s hexagons
  (12.5 px at 25 px per column).
* Directions: ``angle`` (degrees) is counter-clockwise from rightward (+X)
  in the eye frame; 90° is upward (``-u``). The plotting frame of
  :func:`flyvis.utils.hex_utils.hex_to_pixel` is the eye frame scaled by
  ``(1.5, sqrt(3))``, so 0°, 90°, 180° and 270° are the same in both frames
  and other angles keep their quadrant and order (30° in the eye frame is
  drawn at 33.7° by ``hex_to_pixel``).
* Stimuli are defined as in ``HexEye``: a bar of width ``w`` (along the
  motion direction ``d = (cos a, sin a)``) and height ``h`` (along the normal
  ``n = (-sin a, cos a)``) centred at ``s`` columns along ``d`` is the set
  ``{p : |p.d - s| <= w / 2, |p.n| <= h / 2}``. ``HexEye`` edge-pads the image
  before rotating it, so a bar side that reaches the monitor border
  (``extent + 1/2`` columns from the centre) extends to infinity; this is
  reproduced (``_edge_pad``).

Everything here is pure numpy/torch and vectorised; rendering the 12 x 21
offsets of the default ``MovingEdge`` takes well under a second.

Source: geometry from ``spec/rendering.md`` §2 (``HexEye``) and
``spec/datasets.md`` §7; the analytic renderer is this project's own.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

import flyvis
from flyvis.utils.hex_utils import get_hex_coords, get_hextent, get_num_hexals

__all__ = [
    "OMM_WIDTH_DEG",
    "LED_WIDTH_DEG",
    "hexal_centers",
    "hexagon_sample_points",
    "bar_coverage",
    "render_bars",
    "strip_profile",
    "render_gratings",
    "hex_center_coordinates",
    "is_inside_hex",
    "HexEye",
]

#: Inter-ommatidial angle in degrees (one column of the hexagonal lattice).
OMM_WIDTH_DEG = 5.8
#: Width of one LED of the Gruntman et al. (2018) display in degrees.
LED_WIDTH_DEG = 2.25

#: Centre-to-edge distance of an ommatidium's hexagon in columns.
_APOTHEM = 0.5


def _omm_rad() -> float:
    return math.radians(OMM_WIDTH_DEG)


def hexal_centers(extent: int = 15) -> np.ndarray:
    """Hexal centres in the eye frame (columns; X right, Y up).

    Args:
        extent: Lattice radius (15 -> 721 hexals).

    Returns:
        float64 array ``(hexals, 2)`` of ``(X, Y) = (v, -(u + v / 2))`` in
        canonical hexal order.
    """
    u, v = get_hex_coords(extent)
    return np.stack([v.astype(float), -(u + v / 2.0)], axis=1)


def _inside_flat_hexagon(x, y, apothem: float = _APOTHEM):
    """Strict membership in a flat-topped regular hexagon centred at 0."""
    s = math.sqrt(3) / 2
    return (
        (np.abs(y) < apothem)
        & (np.abs(s * x + y / 2) < apothem)
        & (np.abs(s * x - y / 2) < apothem)
    )


def hexagon_sample_points(ppo: int = 25) -> np.ndarray:
    """Sample points inside one ommatidium's hexagon (columns, centred at 0).

    A square grid of spacing ``1 / ppo`` columns with points at half-integer
    multiples of the spacing (``(i + 1/2) / ppo``), so the set is symmetric
    under ``X -> -X`` and ``Y -> -Y`` and no point lies on the hexagon's
    symmetry axes; only points strictly inside the hexagon are kept (about
    ``0.866 ppo**2`` points: 541 for ``ppo = 25``, like ``HexEye``'s pixels).

    Args:
        ppo: Points per column (ommatidium) along each axis.

    Returns:
        float64 array ``(n_points, 2)`` of ``(X, Y)`` offsets in columns.
    """
    if ppo < 1:
        raise ValueError(f"ppo must be >= 1, got {ppo}.")
    n = int(math.ceil(0.6 * ppo)) + 1
    g = (np.arange(-n, n) + 0.5) / ppo
    x, y = np.meshgrid(g, g, indexing="xy")
    x, y = x.ravel(), y.ravel()
    keep = _inside_flat_hexagon(x, y)
    return np.stack([x[keep], y[keep]], axis=1)


def _direction(angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    a = math.radians(float(angle_deg))
    return np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])


def _edge_pad(lo, hi, half_monitor: float):
    """Sides reaching the monitor border extend to infinity (HexEye edge padding)."""
    lo = np.where(np.asarray(lo, dtype=float) <= -half_monitor, -np.inf, lo)
    hi = np.where(np.asarray(hi, dtype=float) >= half_monitor, np.inf, hi)
    return lo, hi


def bar_coverage(
    angle: float,
    d_lo,
    d_hi,
    n_lo: float = -np.inf,
    n_hi: float = np.inf,
    extent: int = 15,
    ppo: int = 25,
    centers: np.ndarray | None = None,
) -> np.ndarray:
    """Fraction of each hexagon covered by axis-aligned rectangles in a rotated frame.

    The rectangle ``{p : d_lo <= p.d <= d_hi, n_lo <= p.n <= n_hi}`` with
    ``d = (cos angle, sin angle)``, ``n = (-sin angle, cos angle)`` (eye frame,
    columns) is intersected with the sample points of every hexagon
    (:func:`hexagon_sample_points`). Vectorised over a batch of ``d`` ranges:
    the sample points are sorted by their projection on ``d`` and the points
    inside the ``n`` range are counted with a cumulative sum, so each range
    costs two binary searches per hexal.

    Args:
        angle: Direction of ``d`` in degrees (counter-clockwise from +X).
        d_lo: Lower bounds along ``d`` (columns), array of any shape ``B``
            (``-inf`` allowed).
        d_hi: Upper bounds along ``d``, broadcastable with ``d_lo``.
        n_lo: Lower bound along ``n`` (columns, may be ``-inf``).
        n_hi: Upper bound along ``n``.
        extent: Lattice radius (ignored if ``centers`` is given).
        ppo: Sample points per column along each axis.
        centers: Optional ``(hexals, 2)`` centres (columns), default
            :func:`hexal_centers`.

    Returns:
        float64 array ``B + (hexals,)`` of covered fractions in ``[0, 1]``.
    """
    if centers is None:
        centers = hexal_centers(extent)
    pts = hexagon_sample_points(ppo)
    d, n = _direction(angle)
    lo, hi = np.broadcast_arrays(np.asarray(d_lo, float), np.asarray(d_hi, float))
    batch = lo.shape
    c_d = torch.from_numpy(centers @ d)
    c_n = torch.from_numpy(centers @ n)
    l_d = torch.from_numpy(pts @ d)
    l_n = torch.from_numpy(pts @ n)
    l_d, order = torch.sort(l_d)
    l_n = l_n[order]
    k = l_d.shape[0]
    lo_t = torch.from_numpy(lo.reshape(-1, 1)) - c_d[None]  # (B, H)
    hi_t = torch.from_numpy(hi.reshape(-1, 1)) - c_d[None]
    i_lo = torch.searchsorted(l_d, lo_t.contiguous(), side="left")
    i_hi = torch.searchsorted(l_d, hi_t.contiguous(), side="right")
    if np.isneginf(n_lo) and np.isposinf(n_hi):
        count = (i_hi - i_lo).clamp(min=0)
    else:
        pn = c_n[:, None] + l_n[None, :]  # (H, K)
        inside = (pn >= n_lo) & (pn <= n_hi)
        cum = torch.zeros((c_n.shape[0], k + 1), dtype=torch.int32)
        cum[:, 1:] = torch.cumsum(inside, dim=1, dtype=torch.int32)
        count = (cum.gather(1, i_hi.T) - cum.gather(1, i_lo.T)).T.clamp(min=0)
    return (count.double() / k).numpy().reshape(*batch, -1)


def render_bars(
    angles: Sequence[float],
    widths: Sequence[float],
    offsets: Sequence[float],
    height: float,
    intensities: Sequence[float],
    bg_intensity: float = 0.5,
    bar_loc_horizontal: float = math.radians(90),
    bar_loc_vertical: float = math.radians(90),
    n_bars: int = 1,
    extent: int = 15,
    ppo: int = 25,
) -> np.ndarray:
    """Renders moving-bar frames for every ``(angle, width, intensity, offset)``.

    Bar ``(angle, width)`` at ``offset`` is centred at ``s = (bar_loc_horizontal
    - pi/2 + offset) / radians(5.8)`` columns along the motion direction and
    ``(bar_loc_vertical - pi/2) / radians(5.8)`` along the normal; it is
    ``width / radians(5.8)`` columns wide (along the motion) and ``height /
    radians(5.8)`` columns high. With ``n_bars > 1`` further bars follow at
    ``(2 extent + 1) / n_bars`` columns (the monitor width divided by the
    number of bars), as in flyvis. Sides that reach the monitor border extend
    to infinity (``HexEye`` edge padding), so a bar 180° wide at
    ``bar_loc_horizontal = 0`` is an edge whose leading side is at ``offset``.
    The hexal value is ``bg + (intensity - bg) * coverage``.

    Args:
        angles: Motion directions in degrees (counter-clockwise from rightward).
        widths: Bar widths in radians.
        offsets: Bar positions in radians (relative to ``bar_loc_horizontal``).
        height: Bar height in radians.
        intensities: Bar intensities.
        bg_intensity: Background intensity.
        bar_loc_horizontal: Horizontal reference location in radians
            (``pi/2`` = centre of the field of view).
        bar_loc_vertical: Vertical location in radians (``pi/2`` = centre).
        n_bars: Number of bars.
        extent: Lattice radius.
        ppo: Sample points per column.

    Returns:
        float64 array ``(n_angles, n_widths, n_intensities, n_offsets, hexals)``.
    """
    omm = _omm_rad()
    half = (2 * extent + 1) / 2
    centers = hexal_centers(extent)
    offsets = np.asarray(offsets, dtype=float)
    widths = np.asarray(widths, dtype=float)
    intensities = np.asarray(intensities, dtype=float)
    n_c = (bar_loc_vertical - math.pi / 2) / omm
    n_lo, n_hi = _edge_pad(n_c - height / omm / 2, n_c + height / omm / 2, half)
    period = 2 * half / n_bars
    s = (bar_loc_horizontal - math.pi / 2 + offsets) / omm  # (O,)
    out = np.empty(
        (len(angles), len(widths), len(intensities), len(offsets), len(centers))
    )
    for i, angle in enumerate(angles):
        cov = 0.0
        for b in range(n_bars):
            centre = s[None, :] + b * period
            lo, hi = _edge_pad(
                centre - widths[:, None] / omm / 2,
                centre + widths[:, None] / omm / 2,
                half,
            )
            cov = cov + bar_coverage(
                angle, lo, hi, float(n_lo), float(n_hi), ppo=ppo, centers=centers
            )
        cov = np.clip(cov, 0.0, 1.0)  # (W, O, H)
        out[i] = (
            bg_intensity
            + (intensities[None, :, None, None] - bg_intensity) * cov[:, None]
        )
    return out


def strip_profile(
    angle: float,
    period: float,
    waveform: str = "square",
    ppo: int = 25,
    n_phase: int = 4096,
) -> np.ndarray:
    """Hexagon-averaged periodic waveform as a function of phase.

    ``G(phi) = mean_k w(2 pi (l_k / period + phi))`` over the sample points
    ``l_k`` of a hexagon projected on the direction ``angle``, for
    ``phi = j / n_phase``; ``w`` is ``sign(sin)`` (square, 0 maps to +1) or
    ``sin``. The same profile applies to every hexal (they share the shape).

    Args:
        angle: Direction in degrees.
        period: Spatial period in columns.
        waveform: ``"square"`` or ``"sine"``.
        ppo: Sample points per column.
        n_phase: Phase samples per period.

    Returns:
        float64 array ``(n_phase,)`` with values in ``[-1, 1]``.
    """
    d, _ = _direction(angle)
    l_d = hexagon_sample_points(ppo) @ d
    phi = np.arange(n_phase) / n_phase
    arg = 2 * np.pi * (l_d[None, :] / period + phi[:, None])
    if waveform == "sine":
        w = np.sin(arg)
    elif waveform == "square":
        w = np.where(np.sin(arg) >= 0, 1.0, -1.0)
    else:
        raise ValueError(f"waveform must be 'square' or 'sine', got {waveform!r}.")
    return w.mean(axis=1)


def render_gratings(
    angle: float,
    period: float,
    phases: Iterable[float],
    waveform: str = "square",
    extent: int = 15,
    ppo: int = 25,
    profile: np.ndarray | None = None,
) -> np.ndarray:
    """Hexagon-averaged grating waveform for a set of phases.

    The grating is ``w(2 pi (p.d / period + phase))`` with ``p`` in columns and
    ``d = (cos angle, sin angle)``, so increasing the phase by ``x`` moves the
    pattern by ``-x`` periods along ``d``; decreasing phase over time moves it
    along ``d``.

    Args:
        angle: Direction in degrees.
        period: Spatial period in columns.
        phases: Phases in periods (array of any shape ``B``).
        waveform: ``"square"`` or ``"sine"``.
        extent: Lattice radius.
        ppo: Sample points per column.
        profile: Precomputed :func:`strip_profile` (optional).

    Returns:
        float64 array ``B + (hexals,)`` with values in ``[-1, 1]``.
    """
    if profile is None:
        profile = strip_profile(angle, period, waveform, ppo)
    d, _ = _direction(angle)
    c_d = hexal_centers(extent) @ d
    phases = np.asarray(phases, dtype=float)
    phi = (c_d / period + phases[..., None]) % 1.0
    n = len(profile)
    x = phi * n
    i0 = np.floor(x).astype(int) % n
    frac = x - np.floor(x)
    return profile[i0] * (1 - frac) + profile[(i0 + 1) % n] * frac


# ---------------------------------------------------------------------------
# HexEye


def hex_center_coordinates(n_hex_area: int, img_width: int, img_height: int, center=True):
    """Ommatidium centres of a regular hexagonal array on a monitor (pixels).

    ``dist_w = img_width / (2 e + 1)``, ``dist_h = img_height / (2 e + 1)``
    (``e`` the extent), ``x = dist_w v``, ``y = dist_h (u + v / 2)`` in
    canonical hexal order, shifted by ``(img_width // 2, img_height // 2)`` if
    ``center``. ``y`` is the image row (pointing down).

    Args:
        n_hex_area: Number of ommatidia (must fill a regular hexagon).
        img_width: Monitor width in pixels.
        img_height: Monitor height in pixels.
        center: Shift the centres to the monitor centre.

    Returns:
        ``(xs, ys, (dist_w, dist_h))`` with float64 arrays ``(n_hex_area,)``.
    """
    extent = get_hextent(n_hex_area)
    u, v = get_hex_coords(extent)
    dist_w = img_width / (2 * extent + 1)
    dist_h = img_height / (2 * extent + 1)
    xs = dist_w * v.astype(float)
    ys = dist_h * (u + v / 2.0)
    if center:
        xs = xs + img_width // 2
        ys = ys + img_height // 2
    return xs, ys, (dist_w, dist_h)


def is_inside_hex(
    x, y, x_centers, y_centers, dist_to_edge, tilt=0.0, device=None, dtype=None
):
    """Membership of points in regular hexagons (strictly inside).

    Each hexagon has centre-to-edge distance ``dist_to_edge`` and its first
    vertex at angle ``tilt`` (0: flat top and bottom edges). Computed in
    float64 (flyvis 1.2.0 used float16, so points near edges flipped with
    rounding).

    Args:
        x: Point x coordinates ``(n_points,)``.
        y: Point y coordinates ``(n_points,)``.
        x_centers: Hexagon centres x ``(n_hex,)``.
        y_centers: Hexagon centres y ``(n_hex,)``.
        dist_to_edge: Centre-to-edge distance.
        tilt: Rotation of the hexagons in radians.
        device: Device of the returned tensors (default ``flyvis.device``).
        dtype: Ignored (kept for API compatibility).

    Returns:
        ``(vertices, is_inside)``: ``vertices`` float tensor ``(7, 2, n_hex)``
        (closed polygons), ``is_inside`` bool tensor ``(n_points, n_hex)``.
    """
    device = flyvis.device if device is None else device
    x = torch.as_tensor(np.asarray(x, float))
    y = torch.as_tensor(np.asarray(y, float))
    xc = torch.as_tensor(np.asarray(x_centers, float))
    yc = torch.as_tensor(np.asarray(y_centers, float))
    r = dist_to_edge * 2 / math.sqrt(3)
    ang = tilt + torch.arange(7, dtype=torch.float64) * math.pi / 3
    vertices = torch.stack(
        [xc[None] + r * torch.cos(ang)[:, None], yc[None] + r * torch.sin(ang)[:, None]],
        dim=1,
    )
    dx = x[:, None] - xc[None]
    dy = y[:, None] - yc[None]
    inside = torch.ones_like(dx, dtype=torch.bool)
    for k in range(3):
        normal_angle = tilt + math.pi / 6 + k * math.pi / 3
        proj = dx * math.cos(normal_angle) + dy * math.sin(normal_angle)
        inside &= proj.abs() < dist_to_edge
    return vertices.to(device), inside.to(device)


class HexEye:
    """Hexagonal-pooling eye: averages monitor pixels inside each ommatidium.

    Each of the ``n_ommatidia`` ommatidia (a regular hexagonal array of
    ``c = 2e + 1`` columns across) is a regular flat-topped hexagon with
    centre-to-edge distance ``(dist_w + dist_h) / 4`` around the centres of
    :func:`hex_center_coordinates`. Pixel row ``r``, column ``c`` is the point
    ``(x, y) = (c, r)`` for every monitor shape.

    Unlike flyvis 1.2.0 the pixel membership is stored sparsely (flyvis held a
    dense ``(pixels, ommatidia)`` boolean matrix, 433 MB for the defaults) and
    computed in float64; ``"median"`` pooling works. The stimulus helpers
    (:meth:`render_bar`, :meth:`render_offset_bars`, :meth:`render_grating`,
    ...) render analytically (see the module docstring): no PIL rotation, no
    8-bit quantisation, the grey background is exact.

    Source: ``spec/rendering.md`` §2.

    Args:
        n_ommatidia: Number of ommatidia; must fill a regular hexagon (721).
        ppo: Pixels per ommatidium (column) on the monitor.
        monitor_height_px: Monitor height (default ``ppo * c``).
        monitor_width_px: Monitor width (default ``ppo * c``).
        device: Device of the outputs (default ``flyvis.device``).
        dtype: dtype of pooled outputs (default float32; flyvis used float16).

    Attributes:
        monitor_width_px, monitor_height_px: Monitor size in pixels.
        n_ommatidia: Number of ommatidia.
        ppo: Pixels per ommatidium.
        n_hex_circfer: Columns across (31).
        omm_width_rad, omm_height_rad: ``radians(5.8)``.
        kernel_sum: float tensor ``(n_ommatidia,)``, pixels per ommatidium.
        pixel_index, omm_index: long tensors ``(nnz,)``: flat pixel index
            ``r * W + c`` and ommatidium of every (pixel, ommatidium) member pair.

    Raises:
        ValueError: If ``n_ommatidia`` does not fill a regular hexagon.
    """

    def __init__(
        self,
        n_ommatidia: int = 721,
        ppo: int = 25,
        monitor_height_px: int | None = None,
        monitor_width_px: int | None = None,
        device=None,
        dtype: torch.dtype = torch.float32,
    ):
        c = 2 * (-1 / 2 + math.sqrt(1 / 4 - (1 - n_ommatidia) / 3)) + 1
        if abs(c - round(c)) > 1e-9 or n_ommatidia < 1:
            raise ValueError(f"{n_ommatidia} does not fill a regular hex grid.")
        self.n_hex_circfer = int(round(c))
        self.extent = (self.n_hex_circfer - 1) // 2
        assert get_num_hexals(self.extent) == n_ommatidia
        self.n_ommatidia = int(n_ommatidia)
        self.ppo = int(ppo)
        self.monitor_height_px = int(monitor_height_px or ppo * self.n_hex_circfer)
        self.monitor_width_px = int(monitor_width_px or ppo * self.n_hex_circfer)
        self.device = flyvis.device if device is None else torch.device(device)
        self.dtype = dtype
        self.omm_width_rad = self.omm_height_rad = math.radians(OMM_WIDTH_DEG)
        h, w = self.monitor_height_px, self.monitor_width_px
        xs, ys, (dist_w, dist_h) = hex_center_coordinates(self.n_ommatidia, w, h)
        self.x_centers, self.y_centers = xs, ys
        self.dist_to_edge = (dist_w + dist_h) / 4
        r = self.dist_to_edge * 2 / math.sqrt(3)
        # candidate pixels: a box around every centre, tested vectorised
        bx = np.arange(-math.ceil(r) - 1, math.ceil(r) + 2)
        by = np.arange(
            -math.ceil(self.dist_to_edge) - 1, math.ceil(self.dist_to_edge) + 2
        )
        ox, oy = np.meshgrid(bx, by, indexing="xy")
        cols = np.floor(xs)[:, None] + ox.ravel()[None]
        rows = np.floor(ys)[:, None] + oy.ravel()[None]
        inside = _inside_flat_hexagon(
            cols - xs[:, None], rows - ys[:, None], self.dist_to_edge
        )
        inside &= (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
        omm, k = np.nonzero(inside)
        self.pixel_index = torch.from_numpy(
            (rows[omm, k] * w + cols[omm, k]).astype(np.int64)
        )
        self.omm_index = torch.from_numpy(omm.astype(np.int64))
        self.kernel_sum = torch.bincount(self.omm_index, minlength=self.n_ommatidia).to(
            torch.float32
        )

    def __repr__(self) -> str:
        return (
            f"HexEye(n_ommatidia={self.n_ommatidia}, ppo={self.ppo}, "
            f"monitor={self.monitor_height_px}x{self.monitor_width_px})"
        )

    @property
    def is_inside(self) -> torch.Tensor:
        """Dense boolean membership matrix ``(n_pixels, n_ommatidia)`` (built on access)."""
        n_pix = self.monitor_height_px * self.monitor_width_px
        dense = torch.zeros((n_pix, self.n_ommatidia), dtype=torch.bool)
        dense[self.pixel_index, self.omm_index] = True
        return dense

    # ------------------------------------------------------------------
    # pooling

    def __call__(self, stim, mode: str = "mean", n_chunks: int = 1) -> torch.Tensor:
        """Pools monitor frames into ommatidia.

        Args:
            stim: ``(frames, H, W)`` frames (resized bilinearly to the monitor
                size if they differ from it) or ``(frames, H * W)`` flattened
                monitor frames; tensor or numpy array.
            mode: ``"mean"`` (pixel average), ``"sum"`` or ``"median"``.
            n_chunks: Minimum number of frame chunks processed at once.

        Returns:
            Tensor ``(frames, n_ommatidia)`` on ``self.device`` in ``self.dtype``.

        Raises:
            ValueError: For an unknown mode or a wrong input shape.
        """
        if mode not in ("mean", "sum", "median"):
            raise ValueError(f"mode must be 'mean', 'sum' or 'median', got {mode!r}.")
        x = torch.as_tensor(
            np.asarray(stim) if not isinstance(stim, torch.Tensor) else stim
        )
        x = x.detach().to(torch.float32).cpu()
        h, w = self.monitor_height_px, self.monitor_width_px
        if x.ndim == 3:
            if tuple(x.shape[1:]) != (h, w):
                x = F.interpolate(
                    x[:, None], size=(h, w), mode="bilinear", align_corners=False
                )[:, 0]
            x = x.reshape(x.shape[0], h * w)
        elif x.ndim != 2 or x.shape[1] != h * w:
            raise ValueError(
                f"stim must be (frames, H, W) or (frames, {h * w}), got {tuple(x.shape)}."
            )
        n = x.shape[0]
        chunk = max(
            1, min(math.ceil(n / max(n_chunks, 1)), 2**25 // len(self.pixel_index))
        )
        out = torch.zeros((n, self.n_ommatidia), dtype=torch.float32)
        for start in range(0, n, chunk):
            part = x[start : start + chunk][:, self.pixel_index]
            if mode == "median":
                out[start : start + chunk] = self._median(part)
            else:
                out[start : start + chunk].index_add_(1, self.omm_index, part)
        if mode == "mean":
            out = out / self.kernel_sum
        return out.to(device=self.device, dtype=self.dtype)

    def _median(self, values: torch.Tensor) -> torch.Tensor:
        counts = self.kernel_sum.long()
        width = int(counts.max())
        starts = torch.cumsum(counts, 0) - counts
        pos = torch.arange(len(self.omm_index)) - starts[self.omm_index]
        padded = torch.full((values.shape[0], self.n_ommatidia, width), float("nan"))
        padded[:, self.omm_index, pos] = values
        return torch.nanmedian(padded, dim=-1).values

    # ------------------------------------------------------------------
    # analytic stimulus helpers

    def _pixel_points(self) -> np.ndarray:
        """Monitor pixel centres in the eye frame (columns), ``(H * W, 2)``."""
        h, w = self.monitor_height_px, self.monitor_width_px
        rows, cols = np.divmod(np.arange(h * w), w)
        dist_w = w / self.n_hex_circfer
        dist_h = h / self.n_hex_circfer
        return np.stack([(cols - w // 2) / dist_w, -(rows - h // 2) / dist_h], axis=1)

    def _finish(self, hex_values: np.ndarray, cartesian_fn, cartesian: bool, mode: str):
        if cartesian:
            return cartesian_fn()
        if mode == "mean":
            return torch.as_tensor(hex_values, dtype=self.dtype, device=self.device)
        frames = cartesian_fn()
        h, w = self.monitor_height_px, self.monitor_width_px
        return self(frames.reshape(-1, h * w), mode=mode).reshape(*hex_values.shape)

    def render_bar(
        self,
        bar_width_rad: float,
        bar_height_rad: float,
        bar_loc_theta: float,
        bar_loc_phi: float,
        n_bars: int,
        bar_intensity: float,
        bg_intensity: float,
        moving_angle: float,
        cartesian: bool = False,
        mode: str = "mean",
    ) -> torch.Tensor:
        """Renders one bar frame (analytic; see :func:`render_bars`).

        Args:
            bar_width_rad: Bar width in radians.
            bar_height_rad: Bar height in radians.
            bar_loc_theta: Horizontal location in radians (``pi/2`` = centre).
            bar_loc_phi: Vertical location in radians (``pi/2`` = centre).
            n_bars: Number of bars.
            bar_intensity: Bar intensity.
            bg_intensity: Background intensity.
            moving_angle: Rotation of the bar's motion axis in degrees.
            cartesian: Return the ``(H, W)`` monitor image instead.
            mode: Pooling mode (``"mean"`` analytic; others pool the image).

        Returns:
            ``(n_ommatidia,)`` tensor, or an ``(H, W)`` tensor if ``cartesian``.
        """
        return self.render_offset_bars(
            bar_width_rad,
            bar_height_rad,
            n_bars,
            [0.0],
            bar_intensity,
            bg_intensity,
            moving_angle,
            cartesian=cartesian,
            mode=mode,
            bar_loc_horizontal=bar_loc_theta,
            bar_loc_vertical=bar_loc_phi,
        )[0]

    def render_offset_bars(
        self,
        bar_width_rad: float,
        bar_height_rad: float,
        n_bars: int,
        offsets,
        bar_intensity: float,
        bg_intensity: float,
        moving_angle: float,
        cartesian: bool = False,
        mode: str = "mean",
        bar_loc_horizontal: float = math.radians(90),
        bar_loc_vertical: float = math.radians(90),
    ) -> torch.Tensor:
        """Renders a bar at a sequence of offsets along its motion axis.

        Args:
            bar_width_rad: Bar width in radians.
            bar_height_rad: Bar height in radians.
            n_bars: Number of bars.
            offsets: Offsets in radians (array ``(n_offsets,)``).
            bar_intensity: Bar intensity.
            bg_intensity: Background intensity.
            moving_angle: Motion direction in degrees.
            cartesian: Return monitor images ``(n_offsets, H, W)`` instead.
            mode: Pooling mode.
            bar_loc_horizontal: Horizontal reference location in radians.
            bar_loc_vertical: Vertical location in radians.

        Returns:
            Tensor ``(n_offsets, n_ommatidia)`` (or ``(n_offsets, H, W)``).
        """
        offsets = np.atleast_1d(np.asarray(offsets, dtype=float))
        kwargs = dict(
            bg_intensity=bg_intensity,
            bar_loc_horizontal=bar_loc_horizontal,
            bar_loc_vertical=bar_loc_vertical,
            n_bars=n_bars,
        )
        values = render_bars(
            [moving_angle],
            [bar_width_rad],
            offsets,
            bar_height_rad,
            [bar_intensity],
            extent=self.extent,
            ppo=self.ppo,
            **kwargs,
        )[0, 0, 0]

        def cartesian_fn():
            pts = self._pixel_points()
            cov = 0.0
            omm = _omm_rad()
            half = self.n_hex_circfer / 2
            d, n = _direction(moving_angle)
            pd, pn = pts @ d, pts @ n
            n_c = (bar_loc_vertical - math.pi / 2) / omm
            n_lo, n_hi = _edge_pad(
                n_c - bar_height_rad / omm / 2, n_c + bar_height_rad / omm / 2, half
            )
            in_n = (pn >= n_lo) & (pn <= n_hi)
            frames = []
            for off in offsets:
                cov = np.zeros(len(pts), dtype=bool)
                for b in range(n_bars):
                    s = (
                        bar_loc_horizontal - math.pi / 2 + off
                    ) / omm + b * 2 * half / n_bars
                    lo, hi = _edge_pad(
                        s - bar_width_rad / omm / 2, s + bar_width_rad / omm / 2, half
                    )
                    cov |= (pd >= lo) & (pd <= hi) & in_n
                img = np.where(cov, bar_intensity, bg_intensity)
                frames.append(img.reshape(self.monitor_height_px, self.monitor_width_px))
            return torch.as_tensor(
                np.stack(frames), dtype=torch.float32, device=self.device
            )

        return self._finish(values, cartesian_fn, cartesian, mode)

    def render_grating(
        self,
        period_rad: float,
        phase_rad: float,
        intensity: float,
        bg_intensity: float,
        moving_angle: float,
        width_rad: float | None = None,
        height_rad: float | None = None,
        cartesian: bool = False,
        mode: str = "mean",
    ) -> torch.Tensor:
        """Renders a square-wave grating (values ``intensity`` / ``bg_intensity``).

        The grating varies along the direction ``moving_angle``: a point at
        ``x`` radians along that direction has ``intensity`` where
        ``((x + phase_rad) mod period) < period / 2`` and ``bg_intensity``
        elsewhere. With ``width_rad``/``height_rad`` the grating is limited to
        a central window (along / across the direction) and the rest is 0.5.

        Args:
            period_rad: Spatial period in radians.
            phase_rad: Phase in radians (shifts the pattern by ``-phase_rad``).
            intensity: Intensity of the bright half-periods.
            bg_intensity: Intensity of the other half-periods.
            moving_angle: Direction in degrees.
            width_rad: Window width along the direction (radians), or None.
            height_rad: Window height across the direction (radians), or None.
            cartesian: Return the ``(H, W)`` monitor image instead.
            mode: Pooling mode.

        Returns:
            ``(n_ommatidia,)`` tensor, or ``(H, W)`` if ``cartesian``.
        """
        return self.render_grating_offsets(
            period_rad,
            intensity,
            bg_intensity,
            moving_angle,
            width_rad,
            height_rad,
            cartesian,
            mode,
            phases=[phase_rad],
        )[0]

    def render_grating_offsets(
        self,
        period_rad: float,
        intensity: float,
        bg_intensity: float,
        moving_angle: float,
        width_rad: float | None = None,
        height_rad: float | None = None,
        cartesian: bool = False,
        mode: str = "mean",
        phases=None,
    ) -> torch.Tensor:
        """Renders a grating at phase steps of half a column (``radians(2.9)``).

        Args:
            period_rad: Spatial period in radians.
            intensity: Intensity of the bright half-periods.
            bg_intensity: Intensity of the other half-periods.
            moving_angle: Direction in degrees.
            width_rad: Window width (radians) or None.
            height_rad: Window height (radians) or None.
            cartesian: Return monitor images instead.
            mode: Pooling mode.
            phases: Explicit phases in radians (default: ``arange(ceil(period
                / step)) * step``, ``step = radians(5.8 / 2)``).

        Returns:
            Tensor ``(n_phases, n_ommatidia)`` (or ``(n_phases, H, W)``).
        """
        omm = _omm_rad()
        if phases is None:
            step = math.radians(OMM_WIDTH_DEG / 2)
            phases = np.arange(math.ceil(period_rad / step)) * step
        phases = np.atleast_1d(np.asarray(phases, dtype=float))
        d, n = _direction(moving_angle)
        half = self.n_hex_circfer / 2

        def window_mask(pts):
            pd, pn = pts @ d, pts @ n
            mask = np.ones(len(pts), dtype=bool)
            if width_rad is not None:
                lo, hi = _edge_pad(-width_rad / omm / 2, width_rad / omm / 2, half)
                mask &= (pd >= lo) & (pd <= hi)
            if height_rad is not None:
                lo, hi = _edge_pad(-height_rad / omm / 2, height_rad / omm / 2, half)
                mask &= (pn >= lo) & (pn <= hi)
            return mask

        def values_at(pts):
            # pts (P, 2) -> (n_phases, P)
            x = (pts @ d)[None] * omm + phases[:, None]
            bright = np.mod(x, period_rad) < period_rad / 2
            val = np.where(bright, intensity, bg_intensity)
            return np.where(window_mask(pts)[None], val, 0.5)

        # hexal means: sample points of every hexagon (chunked over hexals)
        pts = hexagon_sample_points(self.ppo)
        centers = hexal_centers(self.extent)
        values = np.empty((len(phases), len(centers)))
        for start in range(0, len(centers), 64):
            c = centers[start : start + 64]
            p = (c[:, None, :] + pts[None]).reshape(-1, 2)
            values[:, start : start + 64] = (
                values_at(p).reshape(len(phases), len(c), -1).mean(-1)
            )

        def cartesian_fn():
            img = values_at(self._pixel_points())
            return torch.as_tensor(
                img.reshape(len(phases), self.monitor_height_px, self.monitor_width_px),
                dtype=torch.float32,
                device=self.device,
            )

        return self._finish(values, cartesian_fn, cartesian, mode)

    def render_bar_movie(
        self,
        t_stim: float,
        dt: float,
        bar_width_rad: float,
        bar_height_rad: float,
        n_bars: int,
        offsets,
        bar_intensity: float,
        bg_intensity: float,
        moving_angle: float,
        t_pre: float = 0.0,
        t_between: float = 0.0,
        t_post: float = 0.0,
        bar_loc_horizontal: float = math.radians(90),
        bar_loc_vertical: float = math.radians(90),
    ) -> torch.Tensor:
        """Renders a bar movie: grey, the offsets held in turn, grey.

        Each offset frame is held ``round(t_stim / (len(offsets) dt))`` frames;
        ``int(t_pre / dt)`` grey (``bg_intensity``) frames precede the bar,
        ``int(t_between / dt)`` grey frames separate consecutive offsets and
        ``int(t_post / dt)`` follow.

        Args:
            t_stim: Duration of the bar motion (s).
            dt: Frame interval (s).
            bar_width_rad: Bar width (radians).
            bar_height_rad: Bar height (radians).
            n_bars: Number of bars.
            offsets: Offsets in radians.
            bar_intensity: Bar intensity.
            bg_intensity: Background intensity.
            moving_angle: Direction in degrees.
            t_pre: Grey time before (s).
            t_between: Grey time between offsets (s).
            t_post: Grey time after (s).
            bar_loc_horizontal: Horizontal reference location (radians).
            bar_loc_vertical: Vertical location (radians).

        Returns:
            Tensor ``(frames, n_ommatidia)``.

        Raises:
            ValueError: If an offset would be held for 0 frames.
        """
        offsets = np.atleast_1d(np.asarray(offsets, dtype=float))
        n_hold = round(t_stim / (len(offsets) * dt))
        if n_hold == 0:
            raise ValueError(
                f"t_stim={t_stim} s is too short for {len(offsets)} offsets at dt={dt} s "
                "(each offset would be shown for 0 frames)."
            )
        bars = self.render_offset_bars(
            bar_width_rad,
            bar_height_rad,
            n_bars,
            offsets,
            bar_intensity,
            bg_intensity,
            moving_angle,
            bar_loc_horizontal=bar_loc_horizontal,
            bar_loc_vertical=bar_loc_vertical,
        )
        grey = torch.full((1, self.n_ommatidia), float(bg_intensity), dtype=bars.dtype)
        grey = grey.to(bars.device)
        parts = [grey.repeat(int(t_pre / dt), 1)]
        for i in range(len(offsets)):
            if i > 0:
                parts.append(grey.repeat(int(t_between / dt), 1))
            parts.append(bars[i : i + 1].repeat(n_hold, 1))
        parts.append(grey.repeat(int(t_post / dt), 1))
        return torch.cat(parts, dim=0)

    def illustrate(self, figsize=(5, 5), fontsize: int = 5) -> tuple[Any, Any]:
        """Draws ommatidium centres (red), pixels (cyan) and hexagon outlines.

        Args:
            figsize: Figure size in inches.
            fontsize: Font size.

        Returns:
            ``(fig, ax)``.
        """
        from flyvis.analysis.visualization.plt_utils import init_plot

        fig, ax = init_plot(figsize=figsize, fontsize=fontsize)
        h, w = self.monitor_height_px, self.monitor_width_px
        rows, cols = np.divmod(np.arange(h * w), w)
        ax.scatter(cols, rows, s=0.05, c="#34ebd6", lw=0)
        ax.scatter(self.x_centers, self.y_centers, s=0.5, c="r", lw=0)
        vertices, _ = is_inside_hex(
            [], [], self.x_centers, self.y_centers, self.dist_to_edge, device="cpu"
        )
        vertices = vertices.numpy()
        for i in range(self.n_ommatidia):
            ax.plot(vertices[:, 0, i], vertices[:, 1, i], c="k", lw=0.25)
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=fontsize)
        return fig, ax
