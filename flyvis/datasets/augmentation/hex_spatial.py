"""Spatial augmentations of hexagonal movies: rotations and reflections.

Hexals are permuted on the lattice; 2- and 3-channel vector fields (x-right /
y-up frame) are rotated or reflected with them. Re-exported by
:mod:`flyvis.datasets.augmentation.hex`.

Source: ``spec/datasets.md`` §4, ``spec/hex-lattice.md`` §4.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np
import torch

from flyvis.datasets.augmentation.augmentation import (
    Augmentation,
    Generator,
    randint,
    uniform,
)
from flyvis.datasets.augmentation.utils import (
    FLIP_ANGLES,
    flip_matrix,
    flip_permutation_index,
    rotation_matrix,
    rotation_permutation_index,
)

__all__ = ["VALID_FLIP_AXES", "HexRotate", "HexFlip"]

#: Valid flip axes (0 = identity).
VALID_FLIP_AXES = (0, 1, 2, 3)


def _as_tensor(seq: Any) -> tuple[torch.Tensor, bool]:
    if isinstance(seq, np.ndarray):
        return torch.from_numpy(seq), True
    if isinstance(seq, torch.Tensor):
        return seq, False
    raise TypeError(f"expected a torch.Tensor or numpy array, got {type(seq).__name__}.")


def _permute_and_map(
    seq: Any,
    permutation: torch.Tensor,
    matrix_2d: torch.Tensor,
    matrix_3d: torch.Tensor,
) -> Any:
    """Permutes the hexal axis and maps 2-/3-channel vectors with a matrix.

    Args:
        seq: ``(..., channels, hexals)`` tensor or array. Inputs with fewer than
            three dimensions are treated as scalar fields (permutation only).
        permutation: Index of the hexal axis.
        matrix_2d: Matrix applied to 2-channel data.
        matrix_3d: Matrix applied to 3-channel data.

    Returns:
        The transformed sequence, same type as the input.
    """
    x, was_numpy = _as_tensor(seq)
    if x.shape[-1] != permutation.numel():
        raise ValueError(
            f"the last axis has {x.shape[-1]} hexals, expected {permutation.numel()} "
            "(canonical hexal order of the lattice)."
        )
    out = x[..., permutation.to(x.device)]
    channels = x.shape[-2] if x.dim() >= 3 else 1
    if channels > 1:
        if channels == 2:
            matrix = matrix_2d
        elif channels == 3:
            matrix = matrix_3d
        else:
            raise ValueError(
                f"cannot rotate or reflect {channels}-channel data: vector fields "
                "must have 2 or 3 channels at dim -2 (1 channel: scalar field)."
            )
        if not torch.is_floating_point(out):
            out = out.float()
        out = torch.einsum("ij,...jh->...ih", matrix.to(out), out)
    return out.numpy() if was_numpy else out


class HexRotate(Augmentation):
    """Rotation of hexagonal sequences by multiples of 60 degrees.

    The value of hexal ``h`` moves to ``rot^n(h)`` with one step
    ``(u, v) -> (-v, u + v)`` (counter-clockwise on screen); 2- and 3-channel
    data are additionally rotated by ``+60 n`` degrees (counter-clockwise in the
    x-right / y-up frame).

    Args:
        extent: Lattice extent (15 -> 721 hexals).
        n_rot: Initial number of 60-degree steps (stored modulo 6).
        p_rot: Probability of a rotation when sampling (then ``n_rot`` is uniform
            on 1..5); ``p_rot = 5/6`` makes every ``n_rot`` in 0..5 equally likely.

    Attributes:
        permutation_indices: ``{n: LongTensor (hexals,)}`` for ``n`` in 0..5.
        rotation_matrices: ``{n: (2, 2)}``; ``rotation_matrices_3d``: ``{n: (3, 3)}``.

    Example:
        >>> HexRotate(1, n_rot=1)(torch.arange(7)[None, None])
        tensor([[[1, 4, 0, 3, 6, 2, 5]]])
    """

    def __init__(self, extent: int, n_rot: int = 0, p_rot: float = 0.5):
        self.extent = int(extent)
        self.p_rot = p_rot
        self.permutation_indices = {
            n: torch.from_numpy(rotation_permutation_index(self.extent, n)).long()
            for n in range(6)
        }
        self.rotation_matrices = {n: rotation_matrix(n * math.pi / 3) for n in range(6)}
        self.rotation_matrices_3d = {
            n: rotation_matrix(n * math.pi / 3, three_d=True) for n in range(6)
        }
        self.n_rot = n_rot

    @property
    def n_rot(self) -> int:
        """Number of counter-clockwise 60-degree steps (0..5)."""
        return self._n_rot

    @n_rot.setter
    def n_rot(self, n_rot: int) -> None:
        self._n_rot = int(n_rot) % 6

    def rotate(self, seq: Any) -> Any:
        """Rotates ``seq`` by ``n_rot`` x 60 degrees.

        Args:
            seq: ``(..., channels, hexals)`` tensor or array.

        Returns:
            The rotated sequence (same shape).
        """
        n = self.n_rot
        return _permute_and_map(
            seq,
            self.permutation_indices[n],
            self.rotation_matrices[n],
            self.rotation_matrices_3d[n],
        )

    def transform(self, seq: Any, n_rot: Optional[int] = None) -> Any:
        """Rotates ``seq`` (identity for ``n_rot == 0``).

        Args:
            seq: ``(..., channels, hexals)`` tensor or array.
            n_rot: If given, set :attr:`n_rot` first.

        Returns:
            The rotated sequence.
        """
        if n_rot is not None:
            self.n_rot = n_rot
        return self.rotate(seq) if self.n_rot > 0 else seq

    def set_or_sample(
        self, n_rot: Optional[int] = None, generator: Generator = None
    ) -> None:
        """Sets ``n_rot`` or draws it.

        Args:
            n_rot: Number of steps; ``None`` draws 1..5 with probability
                ``p_rot`` and 0 otherwise.
            generator: Source of randomness.
        """
        if n_rot is None:
            if self.p_rot and self.p_rot > uniform(generator=generator):
                n_rot = randint(1, 6, generator=generator)
            else:
                n_rot = 0
        self.n_rot = n_rot

    def __repr__(self) -> str:
        return f"HexRotate(extent={self.extent}, n_rot={self.n_rot}, p_rot={self.p_rot})"


class HexFlip(Augmentation):
    """Reflection of hexagonal sequences across one of three lattice axes.

    Axis 1: ``(u, v) -> (u + v, -v)``, axis 2: ``(u, v) -> (-u, u + v)``, axis 3:
    ``(u, v) -> (-v, -u)``; axis 0 is the identity. 2- and 3-channel data are
    reflected across the line at 90, 150 or 210 degrees (axis 1 maps
    ``(x, y) -> (-x, y)``).

    Args:
        extent: Lattice extent.
        axis: Initial axis.
        p_flip: Probability of a flip when sampling.
        flip_axes: Axes allowed (0 is always allowed); sampled flips are uniform
            over its non-zero entries.

    Raises:
        ValueError: If ``flip_axes`` holds values outside 0..3.

    Example:
        >>> HexFlip(1, axis=1)(torch.arange(7)[None, None])
        tensor([[[0, 2, 1, 3, 5, 4, 6]]])
    """

    def __init__(
        self,
        extent: int,
        axis: int = 0,
        p_flip: float = 0.5,
        flip_axes: Sequence[int] = (0, 1, 2, 3),
    ):
        self.extent = int(extent)
        self.p_flip = p_flip
        self.flip_axes = flip_axes
        identity = torch.arange(1 + 3 * self.extent * (self.extent + 1))
        self.permutation_indices = {0: identity}
        self.flip_matrices = {0: torch.eye(2)}
        self.flip_matrices_3d = {0: torch.eye(3)}
        for ax, angle in FLIP_ANGLES.items():
            self.permutation_indices[ax] = torch.from_numpy(
                flip_permutation_index(self.extent, ax)
            ).long()
            self.flip_matrices[ax] = flip_matrix(math.radians(angle))
            self.flip_matrices_3d[ax] = flip_matrix(math.radians(angle), three_d=True)
        self.axis = axis

    @property
    def flip_axes(self) -> list[int]:
        """Allowed flip axes."""
        return self._flip_axes

    @flip_axes.setter
    def flip_axes(self, flip_axes: Sequence[int]) -> None:
        flip_axes = [int(a) for a in flip_axes]
        invalid = [a for a in flip_axes if a not in VALID_FLIP_AXES]
        if invalid:
            raise ValueError(
                f"invalid flip axes {invalid}; valid axes are {list(VALID_FLIP_AXES)}."
            )
        self._flip_axes = flip_axes

    @property
    def axis(self) -> int:
        """Current flip axis (0 = no flip)."""
        return self._axis

    @axis.setter
    def axis(self, axis: int) -> None:
        axis = int(axis)
        if axis not in VALID_FLIP_AXES:
            raise ValueError("axis must be in [1, 2, 3].")
        if axis != 0 and axis not in self.flip_axes:
            raise ValueError(f"flip axis {axis} is not in flip_axes {self.flip_axes}.")
        self._axis = axis

    def flip(self, seq: Any) -> Any:
        """Reflects ``seq`` across :attr:`axis`.

        Args:
            seq: ``(..., channels, hexals)`` tensor or array.

        Returns:
            The reflected sequence (same shape).
        """
        ax = self.axis
        return _permute_and_map(
            seq,
            self.permutation_indices[ax],
            self.flip_matrices[ax],
            self.flip_matrices_3d[ax],
        )

    def transform(self, seq: Any, axis: Optional[int] = None) -> Any:
        """Reflects ``seq`` (identity for axis 0).

        Args:
            seq: ``(..., channels, hexals)`` tensor or array.
            axis: If given, set :attr:`axis` first.

        Returns:
            The reflected sequence.
        """
        if axis is not None:
            self.axis = axis
        return self.flip(seq) if self.axis != 0 else seq

    def set_or_sample(
        self, axis: Optional[int] = None, generator: Generator = None
    ) -> None:
        """Sets the axis or draws it.

        Args:
            axis: Flip axis; ``None`` draws one of the non-zero ``flip_axes``
                uniformly with probability ``p_flip`` and 0 otherwise.
            generator: Source of randomness.
        """
        if axis is None:
            candidates = sorted({a for a in self.flip_axes if a != 0})
            if self.p_flip and self.p_flip > uniform(generator=generator) and candidates:
                axis = candidates[randint(0, len(candidates), generator=generator)]
            else:
                axis = 0
        self.axis = axis

    def __repr__(self) -> str:
        return (
            f"HexFlip(extent={self.extent}, axis={self.axis}, p_flip={self.p_flip}, "
            f"flip_axes={self.flip_axes})"
        )
