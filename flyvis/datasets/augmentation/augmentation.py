"""Base class of all augmentations and helpers for explicit random draws.

Augmentations follow one pattern: :meth:`Augmentation.set_or_sample` sets the
parameters of the transformation (drawing the missing ones from an explicit
random generator), and :meth:`Augmentation.transform` applies them
deterministically. Sampling once and then applying the same parameters to the
input movie and to its targets keeps them consistent.
"""

from __future__ import annotations

from typing import Any, Optional, Union

import numpy as np
import torch

__all__ = ["Augmentation", "Generator", "randint", "uniform", "as_numpy_generator"]

#: A random generator accepted by the augmentations: a numpy ``Generator``, a
#: ``torch.Generator`` or ``None`` (a fresh, entropy-seeded numpy generator).
Generator = Union[np.random.Generator, torch.Generator, None]


def as_numpy_generator(generator: Generator = None) -> np.random.Generator:
    """Returns a numpy generator for ``generator``.

    Args:
        generator: A numpy generator (returned as is), a ``torch.Generator``
            (a numpy generator seeded from one draw of it) or ``None`` (a fresh
            generator seeded from the operating system's entropy).

    Returns:
        A ``numpy.random.Generator``.
    """
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, torch.Generator):
        seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
        return np.random.default_rng(seed)
    if generator is None:
        return np.random.default_rng()
    raise TypeError(
        "generator must be a numpy.random.Generator, a torch.Generator or None, "
        f"got {type(generator).__name__}."
    )


def randint(low: int, high: int, generator: Generator = None) -> int:
    """Draws one integer uniformly from ``[low, high)`` (``high`` exclusive).

    Args:
        low: Smallest value.
        high: One more than the largest value (``high > low``).
        generator: Source of randomness (numpy or torch generator, or ``None``
            for a fresh entropy-seeded numpy generator).

    Returns:
        The drawn integer.
    """
    if high <= low:
        raise ValueError(f"randint needs high > low, got [{low}, {high}).")
    if isinstance(generator, torch.Generator):
        return int(torch.randint(low, high, (1,), generator=generator).item())
    return int(as_numpy_generator(generator).integers(low, high))


def uniform(low: float = 0.0, high: float = 1.0, generator: Generator = None) -> float:
    """Draws one float uniformly from ``[low, high)``.

    Args:
        low: Lower bound.
        high: Upper bound.
        generator: Source of randomness (numpy or torch generator, or ``None``).

    Returns:
        The drawn value.
    """
    if isinstance(generator, torch.Generator):
        u = float(torch.rand((1,), generator=generator, dtype=torch.float64).item())
        return low + (high - low) * u
    return float(as_numpy_generator(generator).uniform(low, high))


class Augmentation:
    """Base class of augmentations of sequences.

    Attributes:
        augment: If False, calling the object returns its input unchanged.
    """

    augment: bool = True

    def __call__(self, seq: Any, *args: Any, **kwargs: Any) -> Any:
        """Applies :meth:`transform` if :attr:`augment` is True.

        Args:
            seq: The sequence to transform (usually a tensor
                ``(frames, channels, hexals)``).
            *args: Passed on to :meth:`transform`.
            **kwargs: Passed on to :meth:`transform`.

        Returns:
            The transformed sequence, or ``seq`` itself if not augmenting.
        """
        if self.augment:
            return self.transform(seq, *args, **kwargs)
        return seq

    def transform(self, seq: Any, *args: Any, **kwargs: Any) -> Any:
        """Transforms a sequence deterministically (identity by default).

        Args:
            seq: The sequence.
            *args: Transformation arguments of subclasses.
            **kwargs: Transformation keyword arguments of subclasses.

        Returns:
            The transformed sequence.
        """
        return seq

    def set_or_sample(self, *args: Any, generator: Optional[Generator] = None) -> None:
        """Sets the transformation parameters, drawing the ``None`` ones.

        The base class has no parameters (no-op).

        Args:
            *args: Parameter values; ``None`` means "draw at random".
            generator: Source of randomness for the drawn parameters.
        """
