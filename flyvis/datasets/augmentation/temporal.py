"""Temporal augmentations: resampling to the integration time step and cropping.

Sequences are tensors whose time axis is ``dim`` (0 by default), usually shaped
``(frames, channels, hexals)``.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from flyvis.datasets.augmentation.augmentation import Augmentation, Generator, randint

__all__ = ["Interpolate", "CropFrames", "get_temporal_sample_indices"]

_ALIGN_CORNERS_MODES = ("linear", "bilinear", "bicubic", "trilinear")


class Interpolate(Augmentation):
    """Resamples a sequence from one frame rate to another along time.

    The output has ``ceil(target_framerate / original_framerate * T)`` frames.

    * ``mode="nearest-exact"``: piecewise constant,
      ``out[j] = in[min(floor((j + 0.5) * T / T_out), T - 1)]``.
    * ``mode="linear"``: linear interpolation with aligned corners,
      ``out[j] = in(j * (T - 1) / (T_out - 1))``.

    Args:
        original_framerate: Frame rate of the input sequence (1/s).
        target_framerate: Frame rate of the output sequence (1/s), i.e. ``1/dt``.
        mode: Any mode of ``torch.nn.functional.interpolate`` for 3-D input,
            typically ``"nearest-exact"`` or ``"linear"``.

    Attributes:
        align_corners: True for the linear-type modes, else None.
    """

    def __init__(self, original_framerate: float, target_framerate: float, mode: str):
        self.original_framerate = original_framerate
        self.target_framerate = target_framerate
        self.mode = mode
        self.align_corners = True if mode in _ALIGN_CORNERS_MODES else None

    def output_length(self, length: int) -> int:
        """Number of output frames for ``length`` input frames.

        Args:
            length: Number of input frames.

        Returns:
            ``ceil(target_framerate / original_framerate * length)``.
        """
        return math.ceil(self.target_framerate / self.original_framerate * length)

    def transform(self, sequence: torch.Tensor, dim: int = 0) -> torch.Tensor:
        """Resamples ``sequence`` along ``dim``.

        Args:
            sequence: 3-D tensor, e.g. ``(frames, channels, hexals)``. Integer
                tensors are converted to float.
            dim: The time axis.

        Returns:
            Float tensor with the time axis resampled to
            :meth:`output_length` frames, other axes unchanged.
        """
        assert sequence.dim() == 3, (
            f"Interpolate expects a 3-D tensor, got shape {tuple(sequence.shape)}."
        )
        if not torch.is_floating_point(sequence):
            sequence = sequence.float()
        moved = sequence.movedim(dim, -1)
        out = F.interpolate(
            moved,
            size=self.output_length(moved.shape[-1]),
            mode=self.mode,
            align_corners=self.align_corners,
        )
        return out.movedim(-1, dim)

    def piecewise_constant_indices(self, length: int) -> torch.Tensor:
        """Indices that nearest-exact resampling of ``length`` frames selects.

        Args:
            length: Number of input frames.

        Returns:
            Long tensor ``(output_length(length),)`` of input frame indices.
        """
        indices = torch.arange(length, dtype=torch.float32)[None, None]
        out = F.interpolate(
            indices, size=self.output_length(length), mode="nearest-exact"
        )
        return out.flatten().round().long()

    def __repr__(self) -> str:
        return (
            f"Interpolate(original_framerate={self.original_framerate}, "
            f"target_framerate={self.target_framerate}, mode={self.mode!r})"
        )


class CropFrames(Augmentation):
    """Crops ``n_frames`` consecutive frames along time.

    Args:
        n_frames: Length of the crop in frames.
        start: First frame of the crop, used when ``random`` is True (it is set
            by :meth:`set_or_sample`).
        all_frames: If True, return the sequence uncropped.
        random: If True, crop from :attr:`start`; otherwise always from 0.
    """

    def __init__(
        self,
        n_frames: int,
        start: Optional[int] = 0,
        all_frames: bool = False,
        random: bool = False,
    ):
        self.n_frames = n_frames
        self.start = start
        self.all_frames = all_frames
        self.random = random

    def transform(self, sequence: torch.Tensor, dim: int = 0) -> torch.Tensor:
        """Crops ``sequence`` along ``dim``.

        Args:
            sequence: Tensor with time along ``dim``.
            dim: The time axis.

        Returns:
            ``sequence`` unchanged if ``all_frames``, else the frames
            ``[start, start + n_frames)`` (``start = 0`` unless ``random``).

        Raises:
            ValueError: If ``n_frames`` exceeds the sequence length.
        """
        if self.all_frames:
            return sequence
        total = sequence.shape[dim]
        if self.n_frames > total:
            raise ValueError(
                f"cannot crop {self.n_frames} frames from a sequence of {total} frames."
            )
        start = (self.start or 0) if self.random else 0
        if start + self.n_frames > total:
            raise ValueError(
                f"cannot crop frames [{start}, {start + self.n_frames}) from a "
                f"sequence of {total} frames."
            )
        return sequence.narrow(dim, start, self.n_frames)

    def set_or_sample(
        self,
        start: Optional[int] = None,
        total_sequence_length: Optional[int] = None,
        generator: Generator = None,
    ) -> None:
        """Sets the crop start, drawing it uniformly if not given.

        Args:
            start: First frame of the crop; ``None`` draws it uniformly from
                ``0 .. total_sequence_length - n_frames - 1`` (just 0 if that
                range is empty), when ``total_sequence_length`` is given.
            total_sequence_length: Length of the sequence to crop from.
            generator: Source of randomness for the draw.

        Raises:
            ValueError: If ``n_frames`` exceeds ``total_sequence_length``.
        """
        if total_sequence_length is not None and self.n_frames > total_sequence_length:
            raise ValueError(
                f"cannot crop {self.n_frames} frames from a sequence of "
                f"{total_sequence_length} frames."
            )
        if start is None and total_sequence_length:
            start = randint(
                0, (total_sequence_length - self.n_frames) or 1, generator=generator
            )
        self.start = start

    def __repr__(self) -> str:
        return (
            f"CropFrames(n_frames={self.n_frames}, start={self.start}, "
            f"all_frames={self.all_frames}, random={self.random})"
        )


def get_temporal_sample_indices(
    n_frames: int,
    total_seq_length: int,
    framerate: float,
    dt: float,
    augment: bool,
    generator: Generator = None,
) -> torch.Tensor:
    """Indices of source frames that sample ``n_frames`` at the time step ``dt``.

    ``step = dt * framerate`` source frames per output frame; the indices are
    ``floor(arange(start, start + n_frames - 1e-6, step))``, so the output has
    ``ceil((n_frames - 1e-6) / step)`` entries. With ``augment`` the start frame
    is drawn uniformly from ``0 .. total_seq_length - n_frames - 1`` (0 if that
    range is empty), else it is 0.

    Args:
        n_frames: Number of source frames covered.
        total_seq_length: Number of frames of the source sequence.
        framerate: Frame rate of the source sequence (1/s).
        dt: Output sampling interval (s).
        augment: Draw a random start frame.
        generator: Source of randomness for the start frame.

    Returns:
        Long tensor of source frame indices.

    Raises:
        ValueError: If ``n_frames > total_seq_length``.
    """
    if n_frames > total_seq_length:
        raise ValueError(
            f"cannot interpolate between {n_frames} frames from a sequence of "
            f"{total_seq_length} frames."
        )
    start = 0
    if augment:
        start = randint(0, (total_seq_length - n_frames) or 1, generator=generator)
    step = dt * framerate
    indices = np.floor(np.arange(start, start + n_frames - 1e-6, step))
    return torch.from_numpy(indices.astype(np.int64))
