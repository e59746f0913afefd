"""Pixel geometry of ``HexEye``: ommatidium centres and hexagon membership.

Re-exported by :mod:`flyvis.datasets.rendering.hexeye`.

Source: ``spec/rendering.md`` §2.
"""

from __future__ import annotations

import math

import numpy as np
import torch

import flyvis
from flyvis.datasets.rendering.hexeye_analytic import _inside_flat_hexagon
from flyvis.utils.hex_utils import get_hex_coords, get_hextent

__all__ = ["hex_center_coordinates", "is_inside_hex"]


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


def _hexagon_pixel_members(xs, ys, dist_to_edge: float, w: int, h: int):
    """(pixel, ommatidium) member pairs of ``HexEye``'s flat-topped hexagons.

    Args:
        xs: Ommatidium centres x (pixel columns) ``(n_ommatidia,)``.
        ys: Ommatidium centres y (pixel rows) ``(n_ommatidia,)``.
        dist_to_edge: Centre-to-edge distance of the hexagons in pixels.
        w: Monitor width in pixels.
        h: Monitor height in pixels.

    Returns:
        ``(pixel_index, omm_index)``: long tensors ``(nnz,)``, the flat pixel
        index ``r * w + c`` and the ommatidium of every member pair.
    """
    r = dist_to_edge * 2 / math.sqrt(3)
    # candidate pixels: a box around every centre, tested vectorised
    bx = np.arange(-math.ceil(r) - 1, math.ceil(r) + 2)
    by = np.arange(-math.ceil(dist_to_edge) - 1, math.ceil(dist_to_edge) + 2)
    ox, oy = np.meshgrid(bx, by, indexing="xy")
    cols = np.floor(xs)[:, None] + ox.ravel()[None]
    rows = np.floor(ys)[:, None] + oy.ravel()[None]
    inside = _inside_flat_hexagon(cols - xs[:, None], rows - ys[:, None], dist_to_edge)
    inside &= (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    omm, k = np.nonzero(inside)
    pixel_index = torch.from_numpy((rows[omm, k] * w + cols[omm, k]).astype(np.int64))
    omm_index = torch.from_numpy(omm.astype(np.int64))
    return pixel_index, omm_index
