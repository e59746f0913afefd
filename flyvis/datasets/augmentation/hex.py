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

from contextlib import contextmanager
from typing import Any, Dict, Iterator, Mapping, Optional, Sequence

import numpy as np
import torch

from flyvis.datasets.augmentation.augmentation import Generator
from flyvis.datasets.augmentation.hex_photometric import (
    ContrastBrightness,
    GammaCorrection,
    PixelNoise,
)
from flyvis.datasets.augmentation.hex_spatial import VALID_FLIP_AXES as VALID_FLIP_AXES
from flyvis.datasets.augmentation.hex_spatial import HexFlip, HexRotate
from flyvis.datasets.augmentation.temporal import CropFrames, Interpolate

__all__ = [
    "HexRotate",
    "HexFlip",
    "ContrastBrightness",
    "PixelNoise",
    "GammaCorrection",
    "HexAugmentationMixin",
]


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
