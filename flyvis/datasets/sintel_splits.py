"""MPI-Sintel sequence splits: temporal splits, NaN removal, train/validation scenes.

Re-exported by :mod:`flyvis.datasets.sintel_utils`.

Source: ``spec/datasets.md`` §3.3, §3.7, §5.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np
import torch

from flyvis.datasets.rendering.utils import split

__all__ = [
    "VALIDATION_SCENES",
    "TRAINING_SCENES",
    "DROPPED_VALIDATION_INDICES",
    "temporal_split_sequence",
    "temporal_split_cached_samples",
    "remove_nans",
    "parse_sequence_name",
    "original_train_and_validation_indices",
]

#: Scenes of the paper's validation set.
VALIDATION_SCENES = (
    "ambush_2",
    "bamboo_1",
    "bandage_1",
    "cave_4",
    "market_2",
    "mountain_1",
)
#: Scenes of the paper's training set.
TRAINING_SCENES = (
    "alley_1",
    "alley_2",
    "ambush_4",
    "ambush_5",
    "ambush_6",
    "ambush_7",
    "bamboo_2",
    "bandage_2",
    "cave_2",
    "market_5",
    "market_6",
    "shaman_2",
    "shaman_3",
    "sleeping_1",
    "sleeping_2",
    "temple_2",
    "temple_3",
)
#: Sequence indices dropped from the validation set by the original data loader
#: (``cave_4`` splits 1 and 2 of the default 69-sequence dataset).
DROPPED_VALIDATION_INDICES = (37, 38)


# ---------------------------------------------------------------------------
# temporal splits


def temporal_split_sequence(sequence: torch.Tensor, n_frames: int) -> List[torch.Tensor]:
    """Cuts a sequence into evenly spaced chunks of ``n_frames`` along time.

    ``s = round(T / n_frames)`` chunks (numpy rounding); for ``s <= 1`` the
    single chunk ``sequence[:n_frames]``; otherwise ``s`` windows of
    ``n_frames`` frames that evenly cover (and may overlap in) the sequence,
    e.g. starts 0, 15, 30 for ``T = 49``, 0 and 13 for ``T = 32``.

    Args:
        sequence: ``(T, ...)`` tensor.
        n_frames: Chunk length.

    Returns:
        List of ``(n_frames, ...)`` tensors (shorter only if ``T < n_frames``).
    """
    total = sequence.shape[0]
    n_splits = int(np.round(total / n_frames))
    if n_splits <= 1:
        return [sequence[:n_frames]]
    moved = sequence.movedim(0, -1)
    chunks = split(moved, n_frames, n_splits, center_crop_fraction=None)
    return [chunk.movedim(-1, 0) for chunk in chunks]


def temporal_split_cached_samples(
    cached_sequences: Sequence[Mapping[str, torch.Tensor]],
    n_frames: int,
    split: bool = True,
) -> Tuple[List[Dict[str, torch.Tensor]], np.ndarray]:
    """Splits every cached sequence into temporal chunks.

    Args:
        cached_sequences: Dicts of ``(T, C, hexals)`` tensors (same ``T`` per dict).
        n_frames: Chunk length.
        split: If False, return the sequences unchanged (one chunk each).

    Returns:
        ``(chunks, repeats)``: the flat list of chunk dicts and the number of
        chunks per input sequence.
    """
    if not split:
        return list(cached_sequences), np.ones(len(cached_sequences), dtype=int)
    chunks, repeats = [], []
    for sequence in cached_sequences:
        parts = {k: temporal_split_sequence(v, n_frames) for k, v in sequence.items()}
        n = len(next(iter(parts.values())))
        chunks.extend({k: v[i] for k, v in parts.items()} for i in range(n))
        repeats.append(n)
    return chunks, np.array(repeats, dtype=int)


def remove_nans(data: Any, dim: int = 0) -> Any:
    """Removes frames that are entirely NaN (e.g. padding) along ``dim``.

    Args:
        data: Tensor, numpy array, or dict of them.
        dim: Frame axis.

    Returns:
        Same type with all-NaN frames dropped.
    """
    if isinstance(data, Mapping):
        return {k: remove_nans(v, dim) for k, v in data.items()}
    if isinstance(data, torch.Tensor):
        moved = data.movedim(dim, 0)
        keep = ~torch.isnan(moved.reshape(moved.shape[0], -1)).all(dim=1)
        return moved[keep].movedim(0, dim)
    array = np.moveaxis(np.asarray(data), dim, 0)
    keep = ~np.isnan(array.reshape(array.shape[0], -1)).all(axis=1)
    return np.moveaxis(array[keep], 0, dim)


# ---------------------------------------------------------------------------
# metadata and splits


def parse_sequence_name(name: str) -> Tuple[int, str, int]:
    """Parses ``sequence_<ii>_<scene>_split_<jj>``.

    Args:
        name: Rendered sequence name.

    Returns:
        ``(scene index, scene name, split index)``.

    Raises:
        ValueError: If ``name`` does not follow the pattern.
    """
    parts = name.split("_")
    if len(parts) < 5 or parts[0] != "sequence" or parts[-2] != "split":
        raise ValueError(f"not a rendered Sintel sequence name: {name!r}.")
    return int(parts[1]), "_".join(parts[2:-2]), int(parts[-1])


def _names(data: Any) -> List[str]:
    if hasattr(data, "arg_df"):
        data = data.arg_df
    if hasattr(data, "columns") and "name" in data.columns:
        return [str(n) for n in data["name"]]
    return [str(n) for n in data]


def original_train_and_validation_indices(
    data: Any,
) -> Tuple[List[int], List[int]]:
    """The paper's train/validation split of the rendered Sintel sequences.

    Rows whose name contains a training (validation) scene name (substring
    test) are training (validation) sequences; the values 37 and 38
    (``cave_4`` splits 1 and 2 of the default 69 sequences, dropped by the
    original data loader) are then removed from the validation list. For the
    default dataset: 51 training and 16 validation indices.

    Args:
        data: A dataset with ``arg_df``, a DataFrame with a ``name`` column or
            a sequence of names (position = dataset index).

    Returns:
        ``(train_indices, validation_indices)``, ascending lists of ints.
    """
    names = _names(data)
    train = [i for i, n in enumerate(names) if any(s in n for s in TRAINING_SCENES)]
    val = [i for i, n in enumerate(names) if any(s in n for s in VALIDATION_SCENES)]
    val = [i for i in val if i not in DROPPED_VALIDATION_INDICES]
    return train, val
