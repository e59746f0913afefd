"""Rotation and reflection matrices and hexal permutations for hex augmentations.

Conventions (``spec/hex-lattice.md`` §4, ``spec/datasets.md`` §4.9):

* Vectors (e.g. optic flow) are ``(x, y)`` with x pointing right and y up.
  :func:`rotation_matrix` rotates them counter-clockwise; :func:`flip_matrix`
  reflects them across the line through the origin at a given angle.
* Hexal axes are in the canonical order (sorted by ``u``, then ``v``).
  :func:`rotation_permutation_index` / :func:`flip_permutation_index` return an
  index ``idx`` such that ``new[..., j] = old[..., idx[j]]`` moves the value of
  hexal ``h`` to ``rot(h)`` (``flip(h)``).

The coordinate maps themselves live in :mod:`flyvis.utils.hex_utils` and are
re-exported here.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from flyvis.utils.hex_utils import (
    flip_coordinates,
    flip_permutation_index,
    rotate_Nx60,
    rotation_permutation_index,
)

__all__ = [
    "rotation_matrix",
    "flip_matrix",
    "rotate_Nx60",
    "rotation_permutation_index",
    "flip_coordinates",
    "flip_permutation_index",
    "FLIP_ANGLES",
]

#: Angle (degrees) of the reflection line of each flip axis (axis 0 = identity).
FLIP_ANGLES = {1: 90.0, 2: 150.0, 3: 210.0}


def _embed(matrix: np.ndarray, three_d: bool) -> torch.Tensor:
    if three_d:
        out = np.eye(3)
        out[:2, :2] = matrix
        matrix = out
    return torch.tensor(matrix, dtype=torch.float32)


def rotation_matrix(angle_rad: float, three_d: bool = False) -> torch.Tensor:
    """Counter-clockwise rotation matrix.

    ``[[cos a, -sin a], [sin a, cos a]]``; the 3x3 variant rotates the first two
    components and leaves the third unchanged.

    Args:
        angle_rad: Rotation angle ``a`` in radians (counter-clockwise in the
            x-right / y-up frame).
        three_d: Return the 3x3 variant.

    Returns:
        float32 tensor ``(2, 2)`` or ``(3, 3)``.
    """
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return _embed(np.array([[c, -s], [s, c]]), three_d)


def flip_matrix(angle_rad: float, three_d: bool = False) -> torch.Tensor:
    """Reflection across the line through the origin at ``angle_rad``.

    ``[[cos 2a, sin 2a], [sin 2a, -cos 2a]]``; the 3x3 variant leaves the third
    component unchanged. ``flip_matrix(pi / 2)`` maps ``(x, y) -> (-x, y)``.

    Args:
        angle_rad: Angle ``a`` of the reflection line in radians.
        three_d: Return the 3x3 variant.

    Returns:
        float32 tensor ``(2, 2)`` or ``(3, 3)``.
    """
    c, s = math.cos(2 * angle_rad), math.sin(2 * angle_rad)
    return _embed(np.array([[c, s], [s, -c]]), three_d)
