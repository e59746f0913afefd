"""Spatial and photometric augmentations of hexagonal movies, and the item pipeline.

Sequences are tensors shaped ``(..., frames, channels, hexals)`` with the hexal
axis in canonical order (sorted by ``u``, then ``v``; ``spec/hex-lattice.md``).
Channels of size 2 (or 3) are vector fields in the x-right / y-up frame of
``sample_flow`` (e.g. optic flow in image heights per frame) and are rotated or
reflected together with the hexals; size-1 channels (luminance, depth) are only
permuted.

Every augmentation splits randomness from application (as torchvision v2's
``_get_params`` / ``_transform``): :meth:`set_or_sample` draws the missing
parameters from an explicit generator and stores them, :meth:`transform` applies
the stored parameters deterministically. One draw therefore reaches the input
movie and all its targets alike.

:class:`HexAugmentationMixin` is the runtime pipeline shared by
:class:`~flyvis.datasets.sintel.MultiTaskSintel` and
:class:`~flyvis.datasets.photo_flow.MultiTaskPhotoFlow`
(``spec/datasets.md`` §3.4-§3.6, with the deviations listed in
``docs/datasets.md``).

Source: ``spec/datasets.md`` §4, ``spec/hex-lattice.md`` §4.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence

import numpy as np
import torch

from flyvis.datasets.augmentation.augmentation import (
    Augmentation,
    Generator,
    as_numpy_generator,
    randint,
    uniform,
)
from flyvis.datasets.augmentation.temporal import CropFrames, Interpolate
from flyvis.datasets.augmentation.utils import (
    FLIP_ANGLES,
    flip_matrix,
    flip_permutation_index,
    rotation_matrix,
    rotation_permutation_index,
)

__all__ = [
    "HexRotate",
    "HexFlip",
    "ContrastBrightness",
    "PixelNoise",
    "GammaCorrection",
    "HexAugmentationMixin",
]

#: Valid flip axes (0 = identity).
VALID_FLIP_AXES = (0, 1, 2, 3)


def _normal(mean: float, std: float, generator: Generator) -> float:
    """One draw from ``N(mean, std)``."""
    if isinstance(generator, torch.Generator):
        value = torch.randn((1,), generator=generator, dtype=torch.float64).item()
        return float(mean + std * value)
    return float(as_numpy_generator(generator).normal(mean, std))


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


class ContrastBrightness(Augmentation):
    """Contrast and brightness jitter of luminance.

    ``x' = max(0, c (x - 0.5) + 0.5 + c b)`` (clamped at 0 only, not at 1).

    Args:
        contrast_factor: Contrast factor ``c`` (``None``: identity).
        brightness_factor: Brightness offset ``b`` (luminance units).
        contrast_std: Std of ``log c`` when sampling.
        brightness_std: Std of ``b`` when sampling.

    Example:
        >>> ContrastBrightness(0.5, 0.5)(torch.tensor([0.0, 1.0, -1.0]))
        tensor([0.5000, 1.0000, 0.0000])
    """

    def __init__(
        self,
        contrast_factor: Optional[float] = None,
        brightness_factor: Optional[float] = None,
        contrast_std: Optional[float] = 0.2,
        brightness_std: Optional[float] = 0.1,
    ):
        self.contrast_factor = contrast_factor
        self.brightness_factor = brightness_factor
        self.contrast_std = contrast_std
        self.brightness_std = brightness_std

    def transform(self, seq: torch.Tensor) -> torch.Tensor:
        """Applies the stored factors.

        Args:
            seq: Luminance tensor of any shape.

        Returns:
            The jittered luminance (identity if ``contrast_factor`` is None).
        """
        if self.contrast_factor is None:
            return seq
        c = self.contrast_factor
        b = self.brightness_factor or 0.0
        return (c * (seq - 0.5) + 0.5 + c * b).clamp(min=0)

    def set_or_sample(
        self,
        contrast_factor: Optional[float] = None,
        brightness_factor: Optional[float] = None,
        generator: Generator = None,
    ) -> None:
        """Sets the factors, drawing the ``None`` ones.

        ``c = exp(N(0, contrast_std))`` (``1`` if ``contrast_std`` is falsy but
        ``brightness_std`` is not; ``None``, i.e. no jitter, if both are falsy);
        ``b = N(0, brightness_std)`` (``0`` if falsy).

        Args:
            contrast_factor: Contrast factor or None to draw it.
            brightness_factor: Brightness offset or None to draw it.
            generator: Source of randomness.
        """
        if contrast_factor is None:
            if self.contrast_std:
                contrast_factor = math.exp(_normal(0.0, self.contrast_std, generator))
            elif self.brightness_std:
                contrast_factor = 1.0
        if brightness_factor is None:
            if self.brightness_std:
                brightness_factor = _normal(0.0, self.brightness_std, generator)
            else:
                brightness_factor = 0.0
        self.contrast_factor = contrast_factor
        self.brightness_factor = brightness_factor

    def __repr__(self) -> str:
        return (
            f"ContrastBrightness(contrast_factor={self.contrast_factor}, "
            f"brightness_factor={self.brightness_factor}, "
            f"contrast_std={self.contrast_std}, brightness_std={self.brightness_std})"
        )


class PixelNoise(Augmentation):
    """Additive Gaussian white noise per hexal and frame, clamped at 0.

    ``x' = max(0, x + std * n)``, ``n ~ N(0, 1)``. The noise is generated from a
    seed drawn in :meth:`set_or_sample`, so :meth:`transform` is deterministic
    after a draw (without a drawn seed torch's global generator is used).

    Args:
        std: Noise standard deviation (luminance units; falsy: identity).

    Attributes:
        seed: Seed of the noise (set by :meth:`set_or_sample`).
    """

    def __init__(self, std: Optional[float] = 0.08):
        self.std = std
        self.seed: Optional[int] = None

    def transform(self, seq: torch.Tensor) -> torch.Tensor:
        """Adds the noise.

        Args:
            seq: Luminance tensor of any shape.

        Returns:
            The noisy luminance (identity if ``std`` is falsy).
        """
        if not self.std:
            return seq
        if self.seed is None:
            noise = torch.randn_like(seq)
        else:
            gen = torch.Generator().manual_seed(int(self.seed))
            noise = torch.randn(seq.shape, generator=gen, dtype=seq.dtype).to(seq.device)
        return (seq + self.std * noise).clamp(min=0)

    def set_or_sample(
        self, std: Optional[float] = None, generator: Generator = None
    ) -> None:
        """Optionally overrides ``std`` and draws the noise seed.

        Args:
            std: New standard deviation (kept if None).
            generator: Source of randomness of the seed.
        """
        if std is not None:
            self.std = std
        self.seed = randint(0, 2**62, generator=generator)

    def __repr__(self) -> str:
        return f"PixelNoise(std={self.std})"


class GammaCorrection(Augmentation):
    """Gamma correction ``x' = x ** gamma`` of (non-negative) luminance.

    Args:
        gamma: Exponent (falsy: identity); must not be negative.
        std: Std of ``gamma`` around 1 when sampling (falsy: ``gamma = 1``).

    Raises:
        ValueError: If ``gamma < 0``.
    """

    def __init__(self, gamma: Optional[float] = 1, std: Optional[float] = None):
        self.gamma = gamma
        self.std = std

    @property
    def gamma(self) -> Optional[float]:
        """The exponent."""
        return self._gamma

    @gamma.setter
    def gamma(self, gamma: Optional[float]) -> None:
        if gamma is not None and gamma < 0:
            raise ValueError("Gamma must be positive.")
        self._gamma = gamma

    def transform(self, seq: torch.Tensor) -> torch.Tensor:
        """Applies the exponent (negative inputs are clamped to 0 first).

        Args:
            seq: Luminance tensor of any shape.

        Returns:
            ``seq ** gamma`` (identity if ``gamma`` is falsy or 1).
        """
        if not self.gamma or self.gamma == 1:
            return seq
        return seq.clamp(min=0) ** self.gamma

    def set_or_sample(
        self, gamma: Optional[float] = None, generator: Generator = None
    ) -> None:
        """Sets ``gamma`` or draws ``max(0, N(1, std))`` (1 if ``std`` is falsy).

        Args:
            gamma: Exponent or None to draw it.
            generator: Source of randomness.
        """
        if gamma is None:
            gamma = max(0.0, _normal(1.0, self.std, generator)) if self.std else 1.0
        self.gamma = gamma

    def __repr__(self) -> str:
        return f"GammaCorrection(gamma={self.gamma}, std={self.std})"


# ---------------------------------------------------------------------------
# the item pipeline shared by the multi-task datasets

#: Attributes that hold the augmentation objects, in the order of flyvis.
_AUGMENTATION_NAMES = (
    "temporal_crop",
    "jitter",
    "rotate",
    "flip",
    "noise",
    "piecewise_resample",
    "linear_interpolate",
    "gamma_correct",
)


class HexAugmentationMixin:
    """Runtime augmentation pipeline of multi-task hexagonal movie datasets.

    Mix in before :class:`~flyvis.datasets.datasets.MultiTaskDataset` and call
    :meth:`init_augmentation` in ``__init__``. Items are made from cached
    sequences ``{"lum": (N, 1, hexals), <task>: (N, C, hexals)}`` at
    ``original_framerate`` by :meth:`apply_augmentation`:

    * input: ``resample(rotate(flip(gamma(jitter(noise(crop(lum)))))))``;
    * each target task (except ``"lum"``):
      ``interpolate(rotate(flip(crop(y))))`` (linear if ``interpolate``, else the
      piecewise-constant resampling of the input).

    All random parameters (crop start, flip axis, rotation, contrast,
    brightness, noise seed, gamma) are drawn once per item from one generator
    (:attr:`generator`, re-seeded per ``DataLoader`` worker) and shared by the
    input and all targets. Every parameter below is a settable attribute that
    updates exactly the corresponding augmentation (and ``config``).

    Attributes:
        temporal_crop: :class:`CropFrames`.
        jitter: :class:`ContrastBrightness`.
        rotate: :class:`HexRotate`.
        flip: :class:`HexFlip`.
        noise: :class:`PixelNoise`.
        gamma_correct: :class:`GammaCorrection` (applied, unlike flyvis 1.2.0).
        piecewise_resample: ``Interpolate(original_framerate, 1/dt, "nearest-exact")``.
        linear_interpolate: ``Interpolate(original_framerate, 1/dt, "linear")``.
        generator: ``numpy.random.Generator`` of the item-time draws.
        fix_augmentation_params: If True, :meth:`apply_augmentation` keeps the
            current parameters instead of drawing new ones.
    """

    original_framerate: float = 24
    fix_augmentation_params: bool = False

    def init_augmentation(
        self,
        *,
        extent: int,
        n_frames: int,
        dt: float,
        augment: bool = True,
        random_temporal_crop: bool = True,
        all_frames: bool = False,
        resampling: bool = True,
        interpolate: bool = True,
        p_flip: float = 0.5,
        p_rot: float = 5 / 6,
        flip_axes: Sequence[int] = (0, 1),
        contrast_std: Optional[float] = 0.2,
        brightness_std: Optional[float] = 0.1,
        gaussian_white_noise: Optional[float] = 0.08,
        gamma_std: Optional[float] = None,
        seed: Any = None,
    ) -> None:
        """Creates the augmentation objects and the item generator.

        Args:
            extent: Lattice extent of the cached sequences.
            n_frames: Length of the temporal crop (source frames).
            dt: Sampling interval of the items (s), > 0.
            augment: Master switch of the random augmentations.
            random_temporal_crop: Random crop start when augmenting.
            all_frames: No temporal crop.
            resampling: Resample the input to ``1/dt`` (nearest-exact).
            interpolate: Interpolate targets linearly to ``1/dt``.
            p_flip: Probability of a flip.
            p_rot: Probability of a rotation by 60-300 degrees.
            flip_axes: Allowed flip axes (subset of 0..3).
            contrast_std: Std of the log contrast factor (None: no contrast jitter).
            brightness_std: Std of the brightness offset (None: none).
            gaussian_white_noise: Std of the pixel noise (None: none).
            gamma_std: Std of the gamma exponent around 1 (None: no gamma).
            seed: Seed of :attr:`generator` (an int or a sequence of ints);
                None seeds it from numpy's global generator, so that
                ``np.random.seed`` makes runs reproducible.
        """
        if seed is None:
            seed = [int(np.random.randint(0, 2**31 - 1))]
        elif isinstance(seed, (int, np.integer)):
            seed = [int(seed)]
        else:
            seed = [int(s) for s in seed]
        d = self.__dict__
        d["_augmentation_seed"] = seed
        d["generator"] = np.random.default_rng(seed)
        d["_worker_seed"] = None
        d["_worker_generator"] = None
        d["_random_temporal_crop"] = bool(random_temporal_crop)
        d["_resampling"] = bool(resampling)
        d["_interpolate"] = bool(interpolate)
        d["temporal_crop"] = CropFrames(
            n_frames, all_frames=bool(all_frames), random=bool(random_temporal_crop)
        )
        d["jitter"] = ContrastBrightness(
            contrast_std=contrast_std, brightness_std=brightness_std
        )
        d["rotate"] = HexRotate(extent, p_rot=p_rot)
        d["flip"] = HexFlip(extent, p_flip=p_flip, flip_axes=flip_axes)
        d["noise"] = PixelNoise(gaussian_white_noise)
        d["gamma_correct"] = GammaCorrection(1, gamma_std)
        d["piecewise_resample"] = Interpolate(
            self.original_framerate, 1.0, mode="nearest-exact"
        )
        d["linear_interpolate"] = Interpolate(self.original_framerate, 1.0, mode="linear")
        self.dt = dt
        self.augment = augment

    # -- helpers --------------------------------------------------------------------

    def _update_config(self, name: str, value: Any) -> None:
        config = self.__dict__.get("config")
        if config is not None and name in config:
            config[name] = value

    def _item_generator(self) -> np.random.Generator:
        """The generator of item-time draws; re-seeded in each DataLoader worker."""
        info = torch.utils.data.get_worker_info()
        if info is None:
            return self.generator
        if self._worker_seed != info.seed:
            self.__dict__["_worker_seed"] = info.seed
            self.__dict__["_worker_generator"] = np.random.default_rng(
                [*self._augmentation_seed, 3, int(info.seed) % 2**63]
            )
        return self._worker_generator

    # -- settable parameters ---------------------------------------------------------

    @property
    def dt(self) -> float:
        """Sampling interval of the items (s); updates both resamplers."""
        return self._dt

    @dt.setter
    def dt(self, value: float) -> None:
        if value is None or not value > 0:
            raise ValueError(f"dt must be > 0, got {value}.")
        self.__dict__["_dt"] = value
        self.piecewise_resample.target_framerate = 1 / value
        self.linear_interpolate.target_framerate = 1 / value
        self._update_config("dt", value)

    @property
    def augment(self) -> bool:
        """Master switch of the random augmentations (crop start, geometry, photometry).

        The resamplers are independent of it, and the crop to ``n_frames``
        always happens (from frame 0 when not augmenting) unless ``all_frames``.
        """
        return self._augment

    @augment.setter
    def augment(self, value: bool) -> None:
        value = bool(value)
        self.__dict__["_augment"] = value
        self.temporal_crop.random = self._random_temporal_crop if value else False
        for name in ("jitter", "rotate", "flip", "noise", "gamma_correct"):
            getattr(self, name).augment = value
        self.piecewise_resample.augment = self._resampling
        self.linear_interpolate.augment = self._interpolate
        self._update_config("augment", value)

    @property
    def random_temporal_crop(self) -> bool:
        """Random crop start (when augmenting)."""
        return self._random_temporal_crop

    @random_temporal_crop.setter
    def random_temporal_crop(self, value: bool) -> None:
        self.__dict__["_random_temporal_crop"] = bool(value)
        self.temporal_crop.random = bool(value) and self._augment
        self._update_config("random_temporal_crop", bool(value))

    @property
    def all_frames(self) -> bool:
        """Return whole sequences (no temporal crop)."""
        return self.temporal_crop.all_frames

    @all_frames.setter
    def all_frames(self, value: bool) -> None:
        self.temporal_crop.all_frames = bool(value)
        self._update_config("all_frames", bool(value))

    @property
    def n_frames(self) -> int:
        """Length of the temporal crop (source frames)."""
        return self.temporal_crop.n_frames

    @n_frames.setter
    def n_frames(self, value: int) -> None:
        self.temporal_crop.n_frames = int(value)
        self._update_config("n_frames", int(value))

    @property
    def resampling(self) -> bool:
        """Resample the input (and non-interpolated targets) to ``1/dt``."""
        return self._resampling

    @resampling.setter
    def resampling(self, value: bool) -> None:
        self.__dict__["_resampling"] = bool(value)
        self.piecewise_resample.augment = bool(value)
        self._update_config("resampling", bool(value))

    @property
    def interpolate(self) -> bool:
        """Interpolate the targets linearly to ``1/dt``."""
        return self._interpolate

    @interpolate.setter
    def interpolate(self, value: bool) -> None:
        self.__dict__["_interpolate"] = bool(value)
        self.linear_interpolate.augment = bool(value)
        self._update_config("interpolate", bool(value))

    def _delegate(name: str, target: str, attribute: str, doc: str):  # noqa: N805
        def getter(self):
            return getattr(getattr(self, target), attribute)

        def setter(self, value):
            setattr(getattr(self, target), attribute, value)
            self._update_config(name, value)

        return property(getter, setter, doc=doc)

    p_flip = _delegate("p_flip", "flip", "p_flip", "Probability of a flip.")
    p_rot = _delegate("p_rot", "rotate", "p_rot", "Probability of a rotation.")
    flip_axes = _delegate("flip_axes", "flip", "flip_axes", "Allowed flip axes.")
    contrast_std = _delegate(
        "contrast_std", "jitter", "contrast_std", "Std of the log contrast factor."
    )
    brightness_std = _delegate(
        "brightness_std", "jitter", "brightness_std", "Std of the brightness offset."
    )
    gaussian_white_noise = _delegate(
        "gaussian_white_noise", "noise", "std", "Std of the pixel noise."
    )
    gamma_std = _delegate("gamma_std", "gamma_correct", "std", "Std of gamma around 1.")
    del _delegate

    # -- the pipeline -----------------------------------------------------------------

    def set_augmentation_params(
        self,
        n_rot: Optional[int] = None,
        flip_axis: Optional[int] = None,
        contrast_factor: Optional[float] = None,
        brightness_factor: Optional[float] = None,
        gaussian_white_noise: Optional[float] = None,
        gamma: Optional[float] = None,
        start_frame: Optional[int] = None,
        total_sequence_length: Optional[int] = None,
        generator: Generator = None,
    ) -> None:
        """Sets the parameters of all augmentations, drawing the ``None`` ones.

        Does nothing if :attr:`fix_augmentation_params` is True. Parameters are
        drawn (in the order rotation, flip, contrast/brightness, noise seed,
        gamma, crop start) also when ``augment`` is False; they are then not
        applied.

        Args:
            n_rot: Number of 60-degree rotations.
            flip_axis: Flip axis.
            contrast_factor: Contrast factor.
            brightness_factor: Brightness offset.
            gaussian_white_noise: Noise std (overrides the stored one if given).
            gamma: Gamma exponent.
            start_frame: First frame of the temporal crop.
            total_sequence_length: Number of frames of the sequence to crop.
            generator: Source of randomness (default: :meth:`_item_generator`).
        """
        if self.fix_augmentation_params:
            return
        if generator is None:
            generator = self._item_generator()
        self.rotate.set_or_sample(n_rot, generator=generator)
        self.flip.set_or_sample(flip_axis, generator=generator)
        self.jitter.set_or_sample(contrast_factor, brightness_factor, generator=generator)
        self.noise.set_or_sample(gaussian_white_noise, generator=generator)
        self.gamma_correct.set_or_sample(gamma, generator=generator)
        if not self.temporal_crop.all_frames:
            self.temporal_crop.set_or_sample(
                start_frame, total_sequence_length, generator=generator
            )

    def apply_augmentation(
        self,
        data: Mapping[str, torch.Tensor],
        n_rot: Optional[int] = None,
        flip_axis: Optional[int] = None,
        contrast_factor: Optional[float] = None,
        brightness_factor: Optional[float] = None,
        gaussian_white_noise: Optional[float] = None,
        gamma: Optional[float] = None,
        start_frame: Optional[int] = None,
        generator: Generator = None,
    ) -> Dict[str, torch.Tensor]:
        """Makes one item from a cached sequence.

        Args:
            data: ``{"lum": (N, 1, hexals), <task>: (N, C, hexals), ...}`` at
                ``original_framerate``.
            n_rot: Rotation (None: drawn).
            flip_axis: Flip axis (None: drawn).
            contrast_factor: Contrast factor (None: drawn).
            brightness_factor: Brightness offset (None: drawn).
            gaussian_white_noise: Noise std (None: keep the configured one).
            gamma: Gamma exponent (None: drawn).
            start_frame: Crop start (None: drawn when the crop is random).
            generator: Source of randomness (default: the dataset's generator).

        Returns:
            ``{"lum": (T, 1, hexals), <task>: (T, C, hexals)}`` for ``"lum"`` and
            every task, ``T = ceil(n_frames / (original_framerate * dt))`` with
            resampling (``n_frames`` without; the whole sequence with
            ``all_frames``).
        """
        total = data["lum"].shape[0]
        self.set_augmentation_params(
            n_rot=n_rot,
            flip_axis=flip_axis,
            contrast_factor=contrast_factor,
            brightness_factor=brightness_factor,
            gaussian_white_noise=gaussian_white_noise,
            gamma=gamma,
            start_frame=start_frame,
            total_sequence_length=total,
            generator=generator,
        )
        lum = self.temporal_crop(data["lum"])
        lum = self.gamma_correct(self.jitter(self.noise(lum)))
        lum = self.piecewise_resample(self.rotate(self.flip(lum)))
        out = {"lum": lum}
        for task in self.tasks:
            if task == "lum":
                continue
            y = self.rotate(self.flip(self.temporal_crop(data[task])))
            if self._interpolate:
                y = self.linear_interpolate(y)
            else:
                y = self.piecewise_resample(y)
            out[task] = y
        return out

    @contextmanager
    def augmentation(self, abool: bool) -> Iterator[None]:
        """Context in which ``augment`` is ``abool``; all flags restored on exit.

        Args:
            abool: Temporary value of ``augment``.

        Yields:
            Nothing.
        """
        objects = [getattr(self, name) for name in _AUGMENTATION_NAMES]
        flags = [obj.augment for obj in objects]
        crop_random = self.temporal_crop.random
        previous = self._augment
        self.augment = abool
        try:
            yield
        finally:
            self.augment = previous
            for obj, flag in zip(objects, flags):
                obj.augment = flag
            self.temporal_crop.random = crop_random
