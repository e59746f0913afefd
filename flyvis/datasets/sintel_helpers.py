"""Helpers of :mod:`flyvis.datasets.sintel`: build hooks, rendering, sequence access.

The dataset classes (:class:`~flyvis.datasets.sintel.RenderedSintel`,
:class:`~flyvis.datasets.sintel.MultiTaskSintel`,
:class:`~flyvis.datasets.sintel.AugmentedSintel`) stay in
:mod:`flyvis.datasets.sintel`; this module holds the functions they call and
:class:`SintelSequenceAccessMixin`, the scene-index and cartesian-frame access
of ``MultiTaskSintel``.

Source: ``spec/datasets.md`` §2, §3, §5, §11.
"""

# NB: no ``from __future__ import annotations``: the mixin's annotations stay
# evaluated, as they were in :mod:`flyvis.datasets.sintel`.

import functools
import logging
import shutil
from itertools import product
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import torch
import yaml
from datamate import get_root_dir

import flyvis
from flyvis.datasets.rendering.eye import BoxEye
from flyvis.datasets.rendering.utils import split
from flyvis.datasets.sintel_utils import (
    SintelNotFoundError,
    frame_files,
    load_sequence,
    original_train_and_validation_indices,
    sample_depth,
    sample_flow,
    sample_lum,
    sintel_scenes,
    temporal_split_cached_samples,
)

__all__ = ["SintelSequenceAccessMixin"]

#: The logger of :mod:`flyvis.datasets.sintel` (where these helpers are used).
logger = logging.getLogger("flyvis.datasets.sintel")


def _remove_failed_builds(cls):
    """Class decorator: delete the directory of a build that raised.

    datamate marks a failed build ``stopped`` and leaves it on disk; lookups skip
    it, but it is clutter. Directories created during the failed call whose
    status is ``stopped`` are removed.
    """
    new = cls.__new__

    @functools.wraps(new)
    def __new__(*args, **kwargs):
        root = Path(get_root_dir())
        pattern = f"{cls.__name__}_*"
        before = set(root.glob(pattern)) if root.is_dir() else set()
        try:
            return new(*args, **kwargs)
        except BaseException:
            for path in set(root.glob(pattern)) - before if root.is_dir() else ():
                try:
                    meta = yaml.safe_load((path / "_meta.yaml").read_text())
                except (OSError, yaml.YAMLError):
                    continue
                if isinstance(meta, dict) and meta.get("status") == "stopped":
                    shutil.rmtree(path, ignore_errors=True)
            raise

    cls.__new__ = __new__
    return cls


def _check_vertical_splits(vertical_splits: Any) -> int:
    if isinstance(vertical_splits, bool) or int(vertical_splits) != vertical_splits:
        raise ValueError(
            f"vertical_splits must be an integer >= 1, got {vertical_splits!r}."
        )
    if vertical_splits < 1:
        raise ValueError(f"vertical_splits must be >= 1, got {vertical_splits}.")
    return int(vertical_splits)


def _render_sintel_scenes(
    root: Path,
    boxfilter: Dict[str, int],
    vertical_splits: int,
    n_frames: int,
    center_crop_fraction: float,
    depth: bool,
    unittest: bool,
) -> Iterator[Tuple[str, Dict[str, np.ndarray]]]:
    """Renders the Sintel scenes under ``root`` for :class:`RenderedSintel`.

    Yields:
        ``(name, entry)`` per vertical split of every scene with at least
        ``n_frames + 1`` images: ``name`` is
        ``sequence_{i:02d}_{scene}_split_{j:02d}``, ``entry`` holds the float32
        arrays ``lum``, ``flow`` (and ``depth``), ``(frames, channels, hexals)``.
    """
    eye = BoxEye(**dict(boxfilter))
    width = int(eye.min_frame_size[1]) + 2 * eye.kernel_size
    device = flyvis.device
    training = root / "training"
    for i, scene in enumerate(sintel_scenes(root)):
        if unittest and i > 0:
            break
        n_images = len(frame_files(training / "final" / scene))
        if n_images - 1 < n_frames:
            logger.info(
                "Skipping Sintel scene %s: %d frames < n_frames=%d.",
                scene,
                n_images - 1,
                n_frames,
            )
            continue
        lum_end, flow_end = (4, 3) if unittest else (None, None)
        lum = load_sequence(training / "final" / scene, sample_lum, 1, lum_end)
        lum = split(lum, width, vertical_splits, center_crop_fraction)
        lum = eye(lum.to(device), ftype="mean").cpu()  # (S, T, 1, hexals)
        flow = load_sequence(training / "flow" / scene, sample_flow, 0, flow_end)
        flow = split(flow, width, vertical_splits, center_crop_fraction)
        flow = torch.cat(
            [eye(flow[:, :, c].to(device), ftype="sum").cpu() for c in range(2)],
            dim=2,
        )  # (S, T, 2, hexals)
        if depth:
            dpt = load_sequence(training / "depth" / scene, sample_depth, 1, lum_end)
            dpt = split(dpt, width, vertical_splits, center_crop_fraction)
            dpt = eye(dpt.to(device), ftype="median").cpu()
        for j in range(lum.shape[0]):
            entry = {"lum": lum[j].numpy(), "flow": flow[j].numpy()}
            if depth:
                entry["depth"] = dpt[j].numpy()
            yield f"sequence_{i:02d}_{scene}_split_{j:02d}", entry


def _augmented_chunks(
    cached_sequences: List[Dict[str, torch.Tensor]],
    arg_df: pd.DataFrame,
    n_frames: int,
    temporal_split: bool,
    flip,
    rotate,
    n_rotations: Sequence[int],
    indices: Optional[np.ndarray],
) -> Tuple[List[Dict[str, torch.Tensor]], pd.DataFrame, List[tuple]]:
    """The flipped/rotated (temporal chunks of the) sequences of ``AugmentedSintel``.

    Rotation varies fastest, then flip, then chunk; ``indices`` (if given)
    selects rows afterwards.

    Returns:
        ``(cached, arg_df, params)``: the transformed sequences, their table and
        the ``((name, original_index, index, temporal_index, frames), flip_axis,
        n_rot)`` tuples.
    """
    chunks, repeats = temporal_split_cached_samples(
        cached_sequences, n_frames, split=temporal_split
    )
    base = arg_df.loc[np.repeat(np.arange(len(arg_df)), repeats)]
    temporal_index = np.concatenate([np.arange(r) for r in repeats])
    frames = [chunk["lum"].shape[0] for chunk in chunks]
    params = list(
        product(
            zip(
                base["name"],
                base["original_index"],
                base["index"],
                temporal_index,
                frames,
            ),
            flip.flip_axes,
            n_rotations,
        )
    )
    arg_df = pd.DataFrame(
        [(*p[0], p[1], p[2]) for p in params],
        columns=[
            "name",
            "original_index",
            "vertical_split_index",
            "temporal_split_index",
            "frames",
            "flip_ax",
            "n_rot",
        ],
    )
    cached = []
    for chunk in chunks:
        for axis in flip.flip_axes:
            flipped = {k: flip.transform(v, axis=axis) for k, v in chunk.items()}
            for n_rot in n_rotations:
                cached.append(
                    {k: rotate.transform(v, n_rot=n_rot) for k, v in flipped.items()}
                )
    if indices is not None:
        cached = [cached[i] for i in indices]
        arg_df = arg_df.iloc[indices].reset_index(drop=True)
        params = [params[i] for i in indices]
    return cached, arg_df, params


class SintelSequenceAccessMixin:
    """Scene indices and cartesian (pixel) frames of a rendered Sintel dataset.

    Mixed into :class:`~flyvis.datasets.sintel.MultiTaskSintel`; relies on its
    ``meta``, ``arg_df``, ``vertical_splits``, ``center_crop_fraction`` and
    ``_sintel_root``.
    """

    # -- indices and cartesian access ----------------------------------------------

    def original_sequence_index(self, key: int) -> int:
        """Sorted-scene index of the scene of sequence ``key``.

        Args:
            key: Sequence index.

        Returns:
            The scene index.

        Raises:
            ValueError: If ``key`` is no sequence index.
        """
        for scene_index, splits in self.meta.sequence_index_to_splits.items():
            if key in splits:
                return int(scene_index)
        raise ValueError(f"key {key} is not a sequence index of this dataset.")

    def _scene_position(self, key: int) -> int:
        scene_index = self.original_sequence_index(key)
        return int(np.flatnonzero(self.meta.sequence_indices == scene_index)[0])

    def _cartesian(
        self,
        directory: Path,
        reader,
        key: int,
        vertical_splits: Optional[int],
        outwidth: int,
        center_crop_fraction: Optional[float],
        sampling: slice,
    ) -> np.ndarray:
        files = frame_files(directory)[sampling]
        frames = np.array([reader(p) for p in files])
        return split(
            frames,
            outwidth,
            vertical_splits or self.vertical_splits,
            self.center_crop_fraction
            if center_crop_fraction is None
            else center_crop_fraction,
        )

    def cartesian_sequence(
        self,
        key: int,
        vertical_splits: Optional[int] = None,
        outwidth: int = 716,
        center_crop_fraction: Optional[float] = None,
        sampling: slice = slice(1, None),
    ) -> np.ndarray:
        """Cartesian luminance frames of the scene of sequence ``key``.

        Args:
            key: Sequence index.
            vertical_splits: Number of strips (default: the dataset's).
            outwidth: Minimum strip width (417 reproduces the rendered strips).
            center_crop_fraction: Width fraction kept (default: the dataset's).
            sampling: Frames (files) to load; default drops the first image.

        Returns:
            float32 ``(splits, frames, H, width)`` in ``[0, 1]``, e.g.
            ``(1, 49, 436, 1024)`` for ``vertical_splits=1,
            center_crop_fraction=1.0``.
        """
        directory = self.meta.lum_paths[self._scene_position(key)]
        return self._cartesian(
            directory, sample_lum, key, vertical_splits, outwidth,
            center_crop_fraction, sampling,
        )  # fmt: skip

    def cartesian_flow(
        self,
        key: int,
        vertical_splits: Optional[int] = None,
        outwidth: int = 417,
        center_crop_fraction: Optional[float] = None,
        sampling: slice = slice(None),
    ) -> np.ndarray:
        """Cartesian flow of the scene of sequence ``key``.

        Args:
            key: Sequence index.
            vertical_splits: Number of strips (default: the dataset's).
            outwidth: Minimum strip width.
            center_crop_fraction: Width fraction kept (default: the dataset's).
            sampling: Flow files to load (default all).

        Returns:
            float32 ``(splits, frames, 2, H, width)`` in image heights per frame,
            x right, y up.
        """
        directory = self.meta.flow_paths[self._scene_position(key)]
        return self._cartesian(
            directory, sample_flow, key, vertical_splits, outwidth,
            center_crop_fraction, sampling,
        )  # fmt: skip

    def cartesian_depth(
        self,
        key: int,
        vertical_splits: Optional[int] = None,
        outwidth: int = 417,
        center_crop_fraction: Optional[float] = None,
        sampling: slice = slice(1, None),
    ) -> np.ndarray:
        """Cartesian depth of the scene of sequence ``key``.

        Args:
            key: Sequence index.
            vertical_splits: Number of strips (default: the dataset's).
            outwidth: Minimum strip width.
            center_crop_fraction: Width fraction kept (default: the dataset's).
            sampling: Depth files to load; default drops the first.

        Returns:
            float32 ``(splits, frames, H, width)``.

        Raises:
            SintelNotFoundError: If the depth data are not on disk.
        """
        position = self._scene_position(key)
        directory = self._sintel_root / "training" / "depth"
        directory = directory / self.meta.scene_names[position]
        if not directory.is_dir():
            raise SintelNotFoundError(f"Sintel depth not found: {directory}.")
        return self._cartesian(
            directory, sample_depth, key, vertical_splits, outwidth,
            center_crop_fraction, sampling,
        )  # fmt: skip

    def original_train_and_validation_indices(self) -> Tuple[List[int], List[int]]:
        """The paper's scene split (51 training / 16 validation sequences by default).

        Returns:
            ``(train_indices, validation_indices)``, ascending; see
            :func:`~flyvis.datasets.sintel_utils.original_train_and_validation_indices`.
        """
        return original_train_and_validation_indices(self.arg_df)
