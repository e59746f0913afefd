"""Analytic rendering of bars, edges and gratings on the hexagonal eye.

The geometry (the "eye frame", units of columns, flat-topped hexagons,
edge padding at the monitor border) is described in
:mod:`flyvis.datasets.rendering.hexeye`, which re-exports the names here.

Source: geometry from ``spec/rendering.md`` §2 (``HexEye``) and
``spec/datasets.md`` §7; the analytic renderer is this project's own.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import torch

from flyvis.utils.hex_utils import get_hex_coords

__all__ = [
    "OMM_WIDTH_DEG",
    "LED_WIDTH_DEG",
    "hexal_centers",
    "hexagon_sample_points",
    "bar_coverage",
    "render_bars",
    "strip_profile",
    "render_gratings",
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
