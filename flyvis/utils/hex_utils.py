"""Hexagonal lattice of the fly eye: axial coordinates, ordering and mappings.

Every spatial quantity in flyvis (photoreceptors, cell positions, connectome
offsets, rendered movies, decoders, plots) lives on one regular hexagonal
lattice addressed by integer axial coordinates ``(u, v)`` (third cube
coordinate ``z = -(u + v)``). A hexal (hexagonal pixel) is one visual column.

Conventions (flyvis 1.2.0, ``spec/hex-lattice.md``):

* A regular lattice of extent ``n`` holds every hexal with ``|u|, |v|,
  |u + v| <= n``; it has ``1 + 3 n (n + 1)`` hexals (721 for ``n = 15``).
* Canonical order: sorted by ``u``, then by ``v`` (both ascending). Every flat
  hexal axis in flyvis follows it; the centre ``(0, 0)`` has index
  ``(N - 1) / 2``.
* Default pixel mapping: ``x = 1.5 v``, ``y = -sqrt(3) (u + v / 2)``, i.e. +u
  points down and +v points right and down on screen.

This module is pure numpy (plus an optional torch output in
:func:`get_hex_coords`).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

__all__ = [
    "get_hex_coords",
    "get_num_hexals",
    "get_hextent",
    "hex_map_index",
    "get_extent",
    "hex_to_pixel",
    "pixel_to_hex",
    "hex_rows",
    "max_extent_index",
    "crop_to_extent",
    "pad_to_regular_hex",
    "sort_u_then_v",
    "sort_u_then_v_index",
    "hex_distance",
    "strided_hex_coords",
    "rotate_Nx60",
    "rotation_permutation_index",
    "flip_coordinates",
    "flip_permutation_index",
    "NEIGHBOUR_OFFSETS",
]

#: The six neighbour offsets, counter-clockwise from "east" (+u).
NEIGHBOUR_OFFSETS = ((1, 0), (0, 1), (-1, 1), (-1, 0), (0, -1), (1, -1))


def _check_extent(extent: int) -> int:
    if isinstance(extent, bool) or int(extent) != extent or extent < 0:
        raise ValueError(f"extent must be a non-negative integer, got {extent!r}.")
    return int(extent)


def get_hex_coords(extent: int, astensor: bool = False):
    """Returns the axial coordinates of a regular lattice in canonical order.

    Args:
        extent: Lattice radius in columns (15 for the fly eye: 721 hexals).
        astensor: Return ``torch.long`` tensors instead of numpy arrays.

    Returns:
        Tuple ``(u, v)`` of integer arrays of shape ``(1 + 3 e (e + 1),)``,
        sorted by ``u`` then ``v``.

    Raises:
        ValueError: If ``extent`` is not a non-negative integer.
    """
    n = _check_extent(extent)
    u_list, v_list = [], []
    for u in range(-n, n + 1):
        v = np.arange(max(-n, -n - u), min(n, n - u) + 1)
        u_list.append(np.full_like(v, u))
        v_list.append(v)
    u = np.concatenate(u_list).astype(np.int64)
    v = np.concatenate(v_list).astype(np.int64)
    if astensor:
        import torch

        return torch.from_numpy(u), torch.from_numpy(v)
    return u, v


def strided_hex_coords(extent: int, u_stride: int = 1, v_stride: int = 1):
    """Returns the hexals of a regular lattice on a strided sub-lattice.

    A hexal is kept iff ``u % u_stride == 0 and v % v_stride == 0`` (Python
    modulo). Extent 15 with strides (3, 2) gives 123 hexals.

    Args:
        extent: Lattice radius in columns.
        u_stride: Stride along ``u`` (>= 1).
        v_stride: Stride along ``v`` (>= 1).

    Returns:
        Tuple ``(u, v)`` of int64 arrays in canonical order.

    Raises:
        ValueError: For non-positive strides.
    """
    if u_stride < 1 or v_stride < 1:
        raise ValueError(f"strides must be >= 1, got ({u_stride}, {v_stride}).")
    u, v = get_hex_coords(extent)
    keep = (u % u_stride == 0) & (v % v_stride == 0)
    return u[keep], v[keep]


def get_num_hexals(extent: int) -> int:
    """Number of hexals of a regular lattice: ``1 + 3 e (e + 1)``.

    Args:
        extent: Lattice radius.

    Returns:
        The number of hexals (721 for extent 15).
    """
    n = _check_extent(extent)
    return 1 + 3 * n * (n + 1)


def hex_map_index(extent: int) -> Tuple[np.ndarray, int, int]:
    """Positions of the hexals in the rectangular "map storage" of axial coordinates.

    The lattice is stored in an ``(H, W)`` array with row ``u - min(u)`` and
    column ``v - min(v)`` (the layout of ``Conv2dHexSpace``/``DecoderGAVP``);
    the ``H * W - n_hexals`` cells outside the hexagon are unused.

    Args:
        extent: Lattice radius.

    Returns:
        ``(index, H, W)``: the flat position ``u * W + v`` of every hexal in
        lattice order, ``int64 (n_hexals,)``, and the map size (31 x 31 for
        extent 15).
    """
    u, v = get_hex_coords(extent)
    u, v = u - u.min(), v - v.min()
    height, width = int(u.max()) + 1, int(v.max()) + 1
    return (u * width + v).astype(np.int64), height, width


def get_hextent(num_hexals: int) -> int:
    """Extent of a regular lattice from its number of hexals.

    ``floor(sqrt(N / 3))``; exact for regular counts (721 -> 15).

    Args:
        num_hexals: Number of hexals.

    Returns:
        The extent as an integer.
    """
    return int(np.floor(np.sqrt(num_hexals / 3)))


def hex_distance(u1, v1, u2=0, v2=0):
    """Hex distance ``(|du| + |dv| + |du + dv|) / 2`` between hexals.

    Args:
        u1: ``u`` of the first hexal(s).
        v1: ``v`` of the first hexal(s).
        u2: ``u`` of the second hexal(s) (default: origin).
        v2: ``v`` of the second hexal(s) (default: origin).

    Returns:
        Integer distance(s) in columns.
    """
    du = np.asarray(u1) - np.asarray(u2)
    dv = np.asarray(v1) - np.asarray(v2)
    return (np.abs(du) + np.abs(dv) + np.abs(du + dv)) // 2


def get_extent(u, v, astype=int):
    """Maximal hex distance of the given hexals to the origin.

    Args:
        u: ``u`` coordinate(s) (scalar or array).
        v: ``v`` coordinate(s).
        astype: Type of the result.

    Returns:
        The extent of the smallest regular lattice containing all hexals.
    """
    return astype(np.max(hex_distance(np.atleast_1d(u), np.atleast_1d(v))))


def hex_to_pixel(u, v, size: float = 1, mode: str = "default"):
    """Maps axial coordinates to cartesian pixel coordinates.

    Modes (flyvis 1.2.0): ``"default"``: ``x = 1.5 v``, ``y = -sqrt(3) (u +
    v/2)``; ``"flat"``: ``x = 1.5 u s``, ``y = (sqrt(3)/2 u + sqrt(3) v) s``;
    ``"pointy"``: ``x = (sqrt(3) u + sqrt(3)/2 v) s``, ``y = 1.5 v s``.
    Unlike flyvis 1.2.0, ``size`` also scales the default mode.

    Args:
        u: ``u`` coordinates (scalar, list or array).
        v: ``v`` coordinates.
        size: Hexagon circumradius.
        mode: ``"default"``, ``"flat"`` or ``"pointy"``.

    Returns:
        Tuple ``(x, y)`` of float arrays.

    Raises:
        ValueError: For an unknown mode.
    """
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    if mode == "default":
        return 1.5 * v * size, -np.sqrt(3) * (u + v / 2) * size
    if mode == "flat":
        return 1.5 * u * size, (np.sqrt(3) / 2 * u + np.sqrt(3) * v) * size
    if mode == "pointy":
        return (np.sqrt(3) * u + np.sqrt(3) / 2 * v) * size, 1.5 * v * size
    raise ValueError(f"unknown mode {mode!r}; expected 'default', 'flat' or 'pointy'.")


def pixel_to_hex(x, y, size: float = 1, mode: str = "default"):
    """Inverse of :func:`hex_to_pixel` (fractional axial coordinates).

    Args:
        x: Cartesian x.
        y: Cartesian y.
        size: Hexagon circumradius.
        mode: ``"default"``, ``"flat"`` or ``"pointy"``.

    Returns:
        Tuple ``(u, v)`` of float arrays.

    Raises:
        ValueError: For an unknown mode.
    """
    x = np.asarray(x, dtype=float) / size
    y = np.asarray(y, dtype=float) / size
    if mode == "default":
        return -x / 3 - y / np.sqrt(3), 2 * x / 3
    if mode == "flat":
        return 2 / 3 * x, -x / 3 + np.sqrt(3) / 3 * y
    if mode == "pointy":
        return np.sqrt(3) / 3 * x - y / 3, 2 / 3 * y
    raise ValueError(f"unknown mode {mode!r}; expected 'default', 'flat' or 'pointy'.")


def hex_rows(n_rows: int, n_columns: int, eps: float = 0.1, mode: str = "pointy"):
    """Pixel coordinates of a parallelogram patch of hexals.

    Args:
        n_rows: Number of rows (``v = 0 .. n_rows - 1``).
        n_columns: Number of columns (``u = 0 .. n_columns - 1``).
        eps: Shift added to x and y.
        mode: Pixel mapping mode (see :func:`hex_to_pixel`).

    Returns:
        Tuple ``(x, y)`` of float arrays of length ``n_rows * n_columns``.
    """
    v, u = np.meshgrid(np.arange(n_rows), np.arange(n_columns), indexing="ij")
    x, y = hex_to_pixel(u.ravel(), v.ravel(), mode=mode)
    return x + eps, y + eps


def max_extent_index(u, v, max_extent: int):
    """Boolean mask of hexals within ``max_extent`` of the origin.

    Args:
        u: ``u`` coordinates.
        v: ``v`` coordinates.
        max_extent: Maximal hex distance.

    Returns:
        Boolean array, True where ``|u|, |v|, |u + v| <= max_extent``.
    """
    u = np.asarray(u)
    v = np.asarray(v)
    return (
        (np.abs(u) <= max_extent)
        & (np.abs(v) <= max_extent)
        & (np.abs(u + v) <= max_extent)
    )


def crop_to_extent(u, v, color, max_extent: int):
    """Keeps only the hexals within ``max_extent`` (applied to all three arrays).

    Args:
        u: ``u`` coordinates.
        v: ``v`` coordinates.
        color: Values per hexal (last axis = hexals).
        max_extent: Maximal hex distance.

    Returns:
        Tuple ``(u, v, color)`` restricted to the mask.
    """
    mask = max_extent_index(u, v, max_extent)
    return np.asarray(u)[mask], np.asarray(v)[mask], np.asarray(color)[..., mask]


def sort_u_then_v_index(u, v):
    """Index that sorts hexals lexicographically by ``u`` then ``v``.

    Args:
        u: ``u`` coordinates.
        v: ``v`` coordinates.

    Returns:
        Integer index array.
    """
    return np.lexsort((np.asarray(v), np.asarray(u)))


def sort_u_then_v(u, v, values):
    """Sorts hexals (and their values along the last axis) by ``u`` then ``v``.

    Args:
        u: ``u`` coordinates.
        v: ``v`` coordinates.
        values: Values per hexal (last axis = hexals).

    Returns:
        Tuple ``(u, v, values)`` in canonical order.
    """
    index = sort_u_then_v_index(u, v)
    return np.asarray(u)[index], np.asarray(v)[index], np.asarray(values)[..., index]


def pad_to_regular_hex(u, v, values, extent: int, value=np.nan):
    """Scatters values given on some hexals onto a full regular lattice.

    Args:
        u: ``u`` coordinates of the given hexals.
        v: ``v`` coordinates.
        values: Values with the hexal axis last (any leading shape).
        extent: Extent of the output lattice.
        value: Fill value for the other hexals.

    Returns:
        Tuple ``(u_pad, v_pad, values_pad)`` in canonical order; hexals outside
        ``extent`` are dropped.
    """
    u = np.asarray(u)
    v = np.asarray(v)
    values = np.asarray(values)
    u_pad, v_pad = get_hex_coords(extent)
    out = np.full(
        values.shape[:-1] + u_pad.shape, value, dtype=np.result_type(values, value)
    )
    index = _lattice_index(u_pad, v_pad, extent)
    keep = max_extent_index(u, v, extent)
    out[..., index[u[keep] + extent, v[keep] + extent]] = values[..., keep]
    return u_pad, v_pad, out


def _lattice_index(u, v, extent: int) -> np.ndarray:
    """Dense ``(2e+1, 2e+1)`` lookup table ``(u + e, v + e) -> position`` (-1 if absent)."""
    table = np.full((2 * extent + 1, 2 * extent + 1), -1, dtype=np.int64)
    table[np.asarray(u) + extent, np.asarray(v) + extent] = np.arange(len(u))
    return table


def rotate_Nx60(u, v, n: int):
    """Rotates axial coordinates by ``n`` x 60 degrees counter-clockwise.

    One step maps ``(u, v) -> (-v, u + v)`` (+60 degrees in default pixel
    coordinates).

    Args:
        u: ``u`` coordinates.
        v: ``v`` coordinates.
        n: Number of 60-degree steps (any integer; taken modulo 6).

    Returns:
        Tuple ``(u, v)`` of rotated coordinates.
    """
    u = np.asarray(u)
    v = np.asarray(v)
    for _ in range(int(n) % 6):
        u, v = -v, u + v
    return u, v


def rotation_permutation_index(extent: int, n_rot: int) -> np.ndarray:
    """Permutation of a hexal axis that rotates an image by ``n_rot`` x 60 degrees.

    ``new[..., j] = old[..., idx[j]]`` moves the value at hexal ``h`` to
    ``rot(h)``.

    Args:
        extent: Lattice extent.
        n_rot: Number of counter-clockwise 60-degree steps.

    Returns:
        Integer index array of length ``get_num_hexals(extent)``.
    """
    u, v = get_hex_coords(extent)
    u_new, v_new = rotate_Nx60(u, v, n_rot)
    return np.lexsort((v_new, u_new))


_FLIPS = {
    1: lambda u, v: (u + v, -v),
    2: lambda u, v: (-u, u + v),
    3: lambda u, v: (-v, -u),
}


def flip_coordinates(u, v, axis: int):
    """Reflects axial coordinates across one of the three hex axes.

    Axis 1: ``(u, v) -> (u + v, -v)``; axis 2: ``(u, v) -> (-u, u + v)``;
    axis 3: ``(u, v) -> (-v, -u)``; axis 0: identity.

    Args:
        u: ``u`` coordinates.
        v: ``v`` coordinates.
        axis: 0, 1, 2 or 3.

    Returns:
        Tuple ``(u, v)``.

    Raises:
        ValueError: If ``axis`` is not in 0..3.
    """
    u = np.asarray(u)
    v = np.asarray(v)
    if axis == 0:
        return u, v
    if axis not in _FLIPS:
        raise ValueError("axis must be in [1, 2, 3].")
    return _FLIPS[axis](u, v)


def flip_permutation_index(extent: int, axis: int) -> np.ndarray:
    """Permutation of a hexal axis that mirrors an image across a hex axis.

    Args:
        extent: Lattice extent.
        axis: 1, 2 or 3 (0 gives the identity).

    Returns:
        Integer index array of length ``get_num_hexals(extent)``.

    Raises:
        ValueError: If ``axis`` is not in 0..3.
    """
    u, v = get_hex_coords(extent)
    u_new, v_new = flip_coordinates(u, v, axis)
    return np.lexsort((v_new, u_new))
