"""Photometric augmentations of hexagonal movies: contrast, noise, gamma.

Re-exported by :mod:`flyvis.datasets.augmentation.hex`.

Source: ``spec/datasets.md`` §4.
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from flyvis.datasets.augmentation.augmentation import (
    Augmentation,
    Generator,
    as_numpy_generator,
    randint,
)

__all__ = ["ContrastBrightness", "PixelNoise", "GammaCorrection"]


def _normal(mean: float, std: float, generator: Generator) -> float:
    """One draw from ``N(mean, std)``."""
    if isinstance(generator, torch.Generator):
        value = torch.randn((1,), generator=generator, dtype=torch.float64).item()
        return float(mean + std * value)
    return float(as_numpy_generator(generator).normal(mean, std))


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
