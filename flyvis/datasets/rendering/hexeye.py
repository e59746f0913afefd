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

import numpy as np
import torch
import torch.nn.functional as F

import flyvis
from flyvis.datasets.rendering.hexeye_analytic import (
    LED_WIDTH_DEG,
    OMM_WIDTH_DEG,
    _direction,
    _edge_pad,
    _omm_rad,
    bar_coverage,
    hexagon_sample_points,
    hexal_centers,
    render_bars,
    render_gratings,
    strip_profile,
)
from flyvis.datasets.rendering.hexeye_pixels import (
    _hexagon_pixel_members,
    hex_center_coordinates,
    is_inside_hex,
)
from flyvis.utils.hex_utils import get_num_hexals

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
        self.pixel_index, self.omm_index = _hexagon_pixel_members(
            xs, ys, self.dist_to_edge, w, h
        )
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
