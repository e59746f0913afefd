"""Dataset helpers: cross-validation splits, index samplers and example movies."""

from __future__ import annotations

from typing import Iterator, Sequence, Tuple

import numpy as np
from torch.utils.data import Sampler

__all__ = ["CrossValIndices", "get_random_data_split", "IndexSampler"]


class CrossValIndices:
    """K-fold cross-validation indices, reproducing flyvis' split exactly.

    ``indices = arange(n_samples)``, shuffled in place with
    ``numpy.random.RandomState(seed)`` if ``shuffle``. Fold ``k`` takes the
    slice of ``indices`` belonging to the fold (sizes ``n // folds``, plus one
    for the first ``n % folds`` folds) and uses its *values* as *positions* of
    a boolean mask; the split is ``(indices[~mask], indices[mask])``. Without
    shuffling this is the ordinary contiguous k-fold split.

    Example:
        ``CrossValIndices(10, 4)(0)`` with shuffled indices
        ``[2 8 4 9 1 6 7 3 0 5]`` gives train ``[2 8 9 6 7 3 5]`` and
        validation ``[4 1 0]``.

    Args:
        n_samples: Number of samples.
        folds: Number of folds.
        shuffle: Shuffle the indices before splitting.
        seed: Seed of the legacy ``RandomState`` used for shuffling.
    """

    def __init__(self, n_samples: int, folds: int, shuffle: bool = True, seed: int = 0):
        if folds < 1:
            raise ValueError(f"folds must be >= 1, got {folds}.")
        self.n_samples = n_samples
        self.folds = folds
        self.shuffle = shuffle
        self.seed = seed
        self.indices = np.arange(n_samples)
        if shuffle:
            np.random.RandomState(seed).shuffle(self.indices)
        self.fold_sizes = np.full(folds, n_samples // folds, dtype=int)
        self.fold_sizes[: n_samples % folds] += 1

    def __call__(self, fold: int) -> Tuple[np.ndarray, np.ndarray]:
        """Returns the split of one fold.

        Args:
            fold: Fold index in ``0 .. folds - 1``.

        Returns:
            Tuple ``(train_indices, validation_indices)`` of integer arrays.
        """
        if not 0 <= fold < self.folds:
            raise IndexError(f"fold {fold} out of range for {self.folds} folds.")
        start = int(self.fold_sizes[:fold].sum())
        stop = start + int(self.fold_sizes[fold])
        test_values = self.indices[start:stop]
        mask = np.zeros(self.n_samples, dtype=bool)
        mask[test_values] = True
        return self.indices[~mask], self.indices[mask]

    def iter(self) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """Yields the splits of all folds in order.

        Yields:
            ``(train_indices, validation_indices)`` per fold.
        """
        for fold in range(self.folds):
            yield self(fold)


def get_random_data_split(
    fold: int, n_samples: int, n_folds: int, shuffle: bool = True, seed: int = 0
) -> Tuple[np.ndarray, np.ndarray]:
    """Train and validation indices of one cross-validation fold.

    Args:
        fold: Fold index.
        n_samples: Number of samples.
        n_folds: Number of folds.
        shuffle: Shuffle before splitting.
        seed: Seed of the shuffle.

    Returns:
        ``CrossValIndices(n_samples, n_folds, shuffle, seed)(fold)``.
    """
    return CrossValIndices(
        n_samples=n_samples, folds=n_folds, shuffle=shuffle, seed=seed
    )(fold)


class IndexSampler(Sampler):
    """Sampler that yields the given indices in their order.

    Args:
        indices: Sample indices.
    """

    def __init__(self, indices: Sequence[int]):
        self.indices = indices

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


# ---------------------------------------------------------------------------
# Example movies (placeholder, later work):
#   load_moving_mnist(delete_if_exists=False) -> (10000, 20, 64, 64) in [0, 1]
#   random_walk_of_blocks(n_blocks=20, block_size=4, ...) -> (3, 20, 64, 64)
# See spec/utilities.md sections 4.1 and 4.2. Not implemented yet.
# ---------------------------------------------------------------------------
