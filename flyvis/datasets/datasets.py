"""Base classes of all sequence, stimulus and multi-task datasets."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pandas as pd
import torch

from flyvis.datasets.augmentation.augmentation import Generator
from flyvis.datasets.augmentation.temporal import get_temporal_sample_indices
from flyvis.utils.dataset_utils import get_random_data_split

__all__ = ["SequenceDataset", "StimulusDataset", "MultiTaskDataset"]


class SequenceDataset(torch.utils.data.Dataset):
    """Interface of every stimulus and sequence dataset.

    Subclasses set the class attributes (or instance attributes) below and
    implement :meth:`get_item`. Optional attributes used by the helpers:
    ``original_framerate`` (frames/s of the raw sequences; a ``framerate``
    attribute is accepted as an alias), ``augment`` (bool) and ``n_sequences``.

    Attributes:
        arg_df: One row per sample, describing its parameters.
        dt: Sampling interval of the returned sequences = integration time step (s).
        t_pre: Grey warm-up time before the stimulus (s).
        t_post: Cool-down time after the stimulus (s).
    """

    arg_df: Optional[pd.DataFrame] = None
    dt: Optional[float] = None
    t_pre: Optional[float] = None
    t_post: Optional[float] = None

    def get_item(self, key: int) -> Any:
        """Returns the sample with index ``key`` (implemented by subclasses).

        Args:
            key: Non-negative sample index.

        Returns:
            The sample, usually a tensor or a dict of tensors.
        """
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.arg_df)

    def __getitem__(self, key: Any) -> Any:
        """Advanced indexing.

        Args:
            key: An integer (negative values count from the end), a slice, or
                an iterable of integers.

        Returns:
            One item for an integer key, a list of items otherwise.

        Raises:
            IndexError: If an integer key is out of range.
            TypeError: For any other kind of key.
        """
        if isinstance(key, slice):
            return [self.get_item(i) for i in range(*key.indices(len(self)))]
        if isinstance(key, torch.Tensor) and key.dim() == 0:
            key = key.item()
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            key = int(key)
            n = len(self)
            if key < 0:
                key += n
            if key < 0 or key >= n:
                raise IndexError(f"The index ({key}) is out of range.")
            return self.get_item(key)
        if isinstance(key, Iterable) and not isinstance(key, (str, bytes)):
            return [self[k] for k in key]
        raise TypeError("Invalid argument type.")

    def _source_framerate(self) -> float:
        """Frame rate of the raw sequences (1/s)."""
        for name in ("original_framerate", "framerate"):
            value = getattr(self, name, None)
            if value is not None:
                return value
        return 1 / self.dt

    def get_temporal_sample_indices(
        self,
        n_frames: int,
        total_seq_length: int,
        augment: Optional[bool] = None,
        generator: Generator = None,
    ) -> torch.Tensor:
        """Indices of raw frames that resample ``n_frames`` frames to ``1/dt``.

        The raw frame rate is ``original_framerate`` (or ``framerate``) if the
        dataset defines it, else ``1/dt`` (then the indices are
        ``0 .. n_frames - 1``). See
        :func:`flyvis.datasets.augmentation.temporal.get_temporal_sample_indices`.

        Args:
            n_frames: Number of raw frames covered.
            total_seq_length: Number of raw frames of the sequence.
            augment: Draw a random start frame; defaults to ``self.augment``
                (False if absent).
            generator: Source of randomness for the start frame; defaults to
                ``self.generator`` if the dataset has one.

        Returns:
            Long tensor of raw frame indices.
        """
        if augment is None:
            augment = getattr(self, "augment", False)
        if generator is None:
            generator = getattr(self, "generator", None)
        return get_temporal_sample_indices(
            n_frames,
            total_seq_length,
            self._source_framerate(),
            self.dt,
            augment,
            generator=generator,
        )


class StimulusDataset(SequenceDataset):
    """A sequence dataset whose samples are addressed by stimulus parameters."""

    def get_stimulus_index(self, kwargs: Dict[str, Any]) -> int:
        """Index of the single ``arg_df`` row matching all given parameters.

        Args:
            kwargs: Mapping column -> value. A ``"self"`` key is ignored, so
                subclasses can pass ``locals()``.

        Returns:
            The row index (as in ``arg_df.index``).

        Raises:
            ValueError: If ``arg_df`` is missing or not exactly one row matches.
        """
        if getattr(self, "arg_df", None) is None:
            raise ValueError("arg_df attribute not specified.")
        kwargs = {k: v for k, v in kwargs.items() if k != "self"}
        mask = np.ones(len(self.arg_df), dtype=bool)
        for column, value in kwargs.items():
            mask &= (self.arg_df[column] == value).to_numpy()
        matches = self.arg_df.index[mask]
        if len(matches) != 1:
            raise ValueError(
                f"expected exactly one stimulus matching {kwargs}, found {len(matches)}."
            )
        return matches.item()


class MultiTaskDataset(SequenceDataset):
    """A dataset whose samples are dicts of an input movie and task targets.

    Attributes:
        tasks: Names of the target tasks, e.g. ``["flow"]``.
        augment: Master switch of the (random) augmentations.
    """

    tasks: List[str] = []
    augment: bool = False

    @contextmanager
    def augmentation(self, abool: bool) -> Iterator[None]:
        """Context in which ``self.augment`` is ``abool`` (restored on exit).

        Args:
            abool: Temporary value of ``augment``.

        Yields:
            Nothing.
        """
        previous = self.augment
        self.augment = abool
        try:
            yield
        finally:
            self.augment = previous

    def get_random_data_split(
        self, fold: int, n_folds: int, shuffle: bool = True, seed: int = 0
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Train and validation indices of one cross-validation fold.

        Args:
            fold: Fold index.
            n_folds: Number of folds.
            shuffle: Shuffle before splitting.
            seed: Seed of the shuffle.

        Returns:
            ``(train_indices, validation_indices)``, see
            :class:`flyvis.utils.dataset_utils.CrossValIndices`.
        """
        return get_random_data_split(
            fold, n_samples=len(self), n_folds=n_folds, shuffle=shuffle, seed=seed
        )
