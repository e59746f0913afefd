"""MPI-Sintel rendered onto the fly eye: the multi-task optic-flow training data.

* :class:`RenderedSintel`: config-keyed cache (datamate Directory under
  ``flyvis.renderings_dir``) of the Sintel scenes rendered to the hexagonal
  lattice: luminance (box mean), flow (box sum, image heights per frame, y up)
  and optionally depth (box median), per vertical split of each scene.
* :class:`MultiTaskSintel`: the training dataset; items are temporally cropped,
  geometrically and photometrically augmented and resampled to ``1/dt``.
* :class:`AugmentedSintel`: deterministically flipped/rotated (and optionally
  temporally split) Sintel for evaluation.

Source: ``spec/datasets.md`` §2, §3, §5, §11. Deliberate differences from
flyvis 1.2.0 are listed in ``docs/datasets.md``.
"""

# NB: no ``from __future__ import annotations`` here: datamate inspects the
# annotations of Directory subclasses.

import logging
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import pandas as pd
import torch
from datamate import Directory, Namespace

from flyvis.datasets.augmentation.hex import HexAugmentationMixin
from flyvis.datasets.datasets import MultiTaskDataset
from flyvis.datasets.sintel_helpers import (
    SintelSequenceAccessMixin,
    _augmented_chunks,
    _check_vertical_splits,
    _remove_failed_builds,
    _render_sintel_scenes,
)
from flyvis.datasets.sintel_utils import (
    check_sintel_tree,
    parse_sequence_name,
    resolve_sintel_path,
    sintel_meta,
)
from flyvis.utils.directories import dynamic_root, reopen_by_path

__all__ = ["RenderedSintel", "MultiTaskSintel", "AugmentedSintel"]

logger = logging.getLogger(__name__)

_DEFAULT_BOXFILTER = {"extent": 15, "kernel_size": 13}


@reopen_by_path
@dynamic_root("renderings")
@_remove_failed_builds
class RenderedSintel(Directory):
    """Sintel scenes rendered to the hexagonal lattice (cache under ``renderings_dir``).

    For every sorted scene ``i`` with at least ``n_frames + 1`` images the
    frames are centre-cropped (``center_crop_fraction`` of the width), cut into
    ``vertical_splits`` overlapping strips of width ``min_frame_size + 2 *
    kernel_size`` (417 px for the defaults) and rendered with
    ``BoxEye(**boxfilter)``:

    * ``lum``: images 1..N-1 (the first image is dropped), box mean;
    * ``flow``: flow files 0..N-2 in image heights per frame (x right, y up),
      each component box-**summed** (a uniform 1 px/frame motion gives
      ``kernel_size**2 / 436`` per hexal); always stored;
    * ``depth`` (if ``"depth" in tasks``): images 1..N-1, box median.

    Entries ``sequence_{i:02d}_{scene}_split_{j:02d}/{lum,flow,depth}`` hold
    float32 arrays ``(frames, channels, hexals)``. The directory is keyed by its
    full config (every argument, including ``sintel_path``).

    Args:
        tasks: Requested tasks (subset of ``["lum", "flow", "depth"]``).
        boxfilter: ``BoxEye`` arguments ``dict(extent, kernel_size)``.
        vertical_splits: Strips per frame (>= 1).
        n_frames: Minimum number of frames (after dropping the first image) of
            a rendered scene.
        center_crop_fraction: Fraction of the width kept before splitting.
        unittest: Render only the first scene, 3 frames.
        sintel_path: Sintel root (None: ``download_sintel``).

    Raises:
        SintelNotFoundError: If Sintel is missing.
        ValueError: For missing frames, inconsistent sizes or an ``n_frames``
            longer than every scene (nothing is left on disk).
    """

    def __init__(
        self,
        tasks: list = ["flow"],  # noqa: B006 - datamate reads the defaults
        boxfilter: dict = {"extent": 15, "kernel_size": 13},  # noqa: B006
        vertical_splits: int = 3,
        n_frames: int = 19,
        center_crop_fraction: float = 0.7,
        unittest: bool = False,
        sintel_path: Optional[str] = None,
    ):
        tasks = list(tasks)
        depth = "depth" in tasks
        vertical_splits = _check_vertical_splits(vertical_splits)
        root = resolve_sintel_path(sintel_path, depth=depth)
        check_sintel_tree(root, depth=depth, n_frames=n_frames, first_scene_only=unittest)
        for name, entry in _render_sintel_scenes(
            root,
            boxfilter,
            vertical_splits,
            n_frames,
            center_crop_fraction,
            depth,
            unittest,
        ):
            self[name] = entry

    def __call__(self, seq_id: int) -> Dict[str, np.ndarray]:
        """Loads all arrays of the ``seq_id``-th sequence (sorted by name).

        Args:
            seq_id: Index into ``sorted(self)``.

        Returns:
            ``{"lum": (T, 1, hexals), "flow": (T, 2, hexals)[, "depth": ...]}``
            float32 arrays.
        """
        entry = self[sorted(self)[seq_id]]
        return {key: np.asarray(entry[key][:]) for key in sorted(entry)}


class MultiTaskSintel(HexAugmentationMixin, SintelSequenceAccessMixin, MultiTaskDataset):
    """Sintel multi-task dataset: augmented fly-eye movies with flow/depth targets.

    Items are ``{"lum": (T, 1, hexals), <task>: (T, C, hexals)}`` float32
    tensors: a temporal crop of ``n_frames`` source frames (24 Hz; random start
    when augmenting), geometrically augmented (flip across a hex axis with
    probability ``p_flip``, rotation by 60-300 degrees with probability
    ``p_rot``; flow vectors are flipped/rotated with the hexals),
    photometrically augmented (input only: pixel noise, contrast/brightness
    jitter, gamma), then resampled to ``1/dt`` (input: nearest-exact; targets:
    linear interpolation). ``T = ceil(n_frames / (24 dt))``: 40 at ``dt =
    1/50``, 19 at ``dt = 1/24``. Flow is in image heights per source frame
    (x right, y up), box-summed over each hexal; depth is the box median.

    Args:
        tasks: Subset of ``["lum", "flow", "depth"]`` (reordered to this order).
        boxfilter: ``BoxEye`` arguments, default ``dict(extent=15, kernel_size=13)``.
        vertical_splits: Strips per Sintel frame (>= 1); 3 gives 69 sequences.
        n_frames: Crop length in source frames (forced to 3 with ``unittest``).
        center_crop_fraction: Fraction of the frame width kept before splitting.
        dt: Sampling interval of the items (s).
        augment: Master switch of the random augmentations.
        random_temporal_crop: Random crop start when augmenting.
        all_frames: Return whole sequences (no crop).
        resampling: Resample the input to ``1/dt``.
        interpolate: Interpolate the targets linearly to ``1/dt``.
        p_flip: Probability of a flip.
        p_rot: Probability of a rotation (5/6: all six orientations equally likely).
        contrast_std: Std of the log contrast factor (None: no contrast jitter).
        brightness_std: Std of the brightness offset (None: none).
        gaussian_white_noise: Std of the additive pixel noise (None: none).
        gamma_std: Std of a gamma exponent around 1 (None: no gamma; applied).
        _init_cache: Load all rendered sequences into memory.
        unittest: Render and use only the first scene with 3 frames.
        flip_axes: Allowed flip axes (subset of 0..3; flips are uniform over the
            non-zero ones).
        task_weights: Accepted and stored (used by ``Task``, not here).
        sintel_path: Sintel root. None: ``flyvis.sintel_dir``, downloaded if
            missing (~5 GB). An explicit path is never downloaded into.
        seed: Seed of the item-time random draws (None: drawn from numpy's
            global generator).

    Attributes:
        rendered: The :class:`RenderedSintel` cache.
        meta: :class:`~flyvis.datasets.sintel_utils.SintelMeta`.
        arg_df: One row per sequence: ``index``, ``original_index`` (sorted
            scene index), ``name`` (``sequence_00_alley_1_split_00`` ...),
            ``original_n_frames`` (images of the scene).
        cached_sequences: Per sequence ``{key: (N - 1, C, hexals)}`` tensors.
        config: Namespace of the arguments.

    Raises:
        ValueError: For invalid tasks, ``vertical_splits < 1``, missing frames,
            inconsistent frame sizes or ``n_frames`` longer than every scene.
        SintelNotFoundError: If Sintel is not found (the message says where to
            put it).

    Examples:
        >>> data = MultiTaskSintel(tasks=["flow"], dt=1/50, sintel_path="/data/Sintel")
        >>> data[0]["lum"].shape, data[0]["flow"].shape
        (torch.Size([40, 1, 721]), torch.Size([40, 2, 721]))
    """

    original_framerate = 24
    t_pre = 0.0
    t_post = 0.0
    tasks: List[str] = []
    valid_tasks = ["lum", "flow", "depth"]
    _rendered_keys = frozenset(
        {
            "tasks",
            "boxfilter",
            "vertical_splits",
            "n_frames",
            "center_crop_fraction",
            "unittest",
            "sintel_path",
            "type",
        }
    )

    def __init__(
        self,
        tasks: Sequence[str] = ("flow",),
        boxfilter: Optional[Dict[str, int]] = None,
        vertical_splits: int = 3,
        n_frames: int = 19,
        center_crop_fraction: float = 0.7,
        dt: float = 1 / 50,
        augment: bool = True,
        random_temporal_crop: bool = True,
        all_frames: bool = False,
        resampling: bool = True,
        interpolate: bool = True,
        p_flip: float = 0.5,
        p_rot: float = 5 / 6,
        contrast_std: Optional[float] = 0.2,
        brightness_std: Optional[float] = 0.1,
        gaussian_white_noise: Optional[float] = 0.08,
        gamma_std: Optional[float] = None,
        _init_cache: bool = True,
        unittest: bool = False,
        flip_axes: Sequence[int] = (0, 1),
        task_weights: Optional[Dict[str, float]] = None,
        sintel_path: Optional[str] = None,
        seed: Optional[int] = None,
    ):
        tasks = [tasks] if isinstance(tasks, str) else list(tasks)
        invalid = [t for t in tasks if t not in self.valid_tasks]
        if invalid or not tasks:
            raise ValueError(
                f"invalid tasks {invalid}; valid tasks are {self.valid_tasks}."
            )
        tasks = [t for t in self.valid_tasks if t in tasks]
        boxfilter = {**_DEFAULT_BOXFILTER, **dict(boxfilter or {})}
        boxfilter = {k: int(v) for k, v in boxfilter.items()}
        vertical_splits = _check_vertical_splits(vertical_splits)
        if unittest and n_frames != 3:
            logger.info("unittest: n_frames %s -> 3.", n_frames)
            n_frames = 3
        if isinstance(n_frames, bool) or int(n_frames) != n_frames or n_frames < 1:
            raise ValueError(f"n_frames must be an integer >= 1, got {n_frames!r}.")
        n_frames = int(n_frames)
        depth = "depth" in tasks

        d = self.__dict__
        d["tasks"] = tasks
        d["data_keys"] = tasks if "lum" in tasks else ["lum", *tasks]
        d["boxfilter"] = boxfilter
        d["extent"] = boxfilter["extent"]
        d["vertical_splits"] = vertical_splits
        d["center_crop_fraction"] = center_crop_fraction
        d["unittest"] = bool(unittest)
        d["task_weights"] = task_weights
        d["sintel_path"] = sintel_path
        d["seed"] = seed
        self.init_augmentation(
            extent=boxfilter["extent"],
            n_frames=n_frames,
            dt=dt,
            augment=augment,
            random_temporal_crop=random_temporal_crop,
            all_frames=all_frames,
            resampling=resampling,
            interpolate=interpolate,
            p_flip=p_flip,
            p_rot=p_rot,
            flip_axes=flip_axes,
            contrast_std=contrast_std,
            brightness_std=brightness_std,
            gaussian_white_noise=gaussian_white_noise,
            gamma_std=gamma_std,
            seed=seed,
        )
        root = resolve_sintel_path(sintel_path, depth=depth)
        d["_sintel_root"] = root
        d["rendered"] = RenderedSintel(
            tasks=tasks,
            boxfilter=boxfilter,
            vertical_splits=vertical_splits,
            n_frames=n_frames,
            center_crop_fraction=center_crop_fraction,
            unittest=bool(unittest),
            sintel_path=str(root),
        )
        names = sorted(self.rendered)
        if not names:
            raise ValueError(f"no Sintel scene was rendered from {root}.")
        d["meta"] = sintel_meta(names, root, n_frames, vertical_splits, depth=depth)
        d["config"] = Namespace(
            tasks=tasks,
            interpolate=bool(interpolate),
            n_frames=n_frames,
            dt=dt,
            augment=bool(augment),
            all_frames=bool(all_frames),
            resampling=bool(resampling),
            random_temporal_crop=bool(random_temporal_crop),
            boxfilter=boxfilter,
            vertical_splits=vertical_splits,
            p_flip=p_flip,
            p_rot=p_rot,
            contrast_std=contrast_std,
            brightness_std=brightness_std,
            gaussian_white_noise=gaussian_white_noise,
            gamma_std=gamma_std,
            center_crop_fraction=center_crop_fraction,
            flip_axes=list(self.flip.flip_axes),
            unittest=bool(unittest),
            sintel_path=None if sintel_path is None else str(sintel_path),
            seed=seed,
        )
        counts = {
            scene: n
            for scene, n in zip(self.meta.scene_names, self.meta.frames_per_scene)
        }
        rows = []
        for index, name in enumerate(names):
            scene_index, scene, _ = parse_sequence_name(name)
            rows.append(
                dict(
                    index=index,
                    original_index=scene_index,
                    name=name,
                    original_n_frames=int(counts[scene]),
                )
            )
        d["arg_df"] = pd.DataFrame(rows)
        d["cached_sequences"] = None
        if _init_cache:
            self.init_cache()
        d["_initialized"] = True

    # -- attribute rules ----------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "framerate":
            raise AttributeError("cannot change framerate")
        if self.__dict__.get("_initialized", False) and name in self._rendered_keys:
            raise AttributeError("cannot change attribute of rendered initialization")
        super().__setattr__(name, value)

    @property
    def framerate(self) -> float:
        """Frame rate of the source sequences (24 Hz; read-only)."""
        return self.original_framerate

    # -- data ---------------------------------------------------------------------

    def init_cache(self) -> None:
        """Loads every rendered sequence into memory as float32 tensors."""
        self.__dict__["cached_sequences"] = [
            self._load(seq_id) for seq_id in range(len(self.arg_df))
        ]

    def _load(self, seq_id: int) -> Dict[str, torch.Tensor]:
        data = self.rendered(seq_id)
        return {
            key: torch.from_numpy(np.asarray(data[key], dtype=np.float32))
            for key in self.data_keys
        }

    def _cached(self, key: int) -> Dict[str, torch.Tensor]:
        if self.cached_sequences is not None:
            return self.cached_sequences[key]
        return self._load(key)

    def get_item(self, key: int) -> Dict[str, torch.Tensor]:
        """One augmented, resampled sample.

        Args:
            key: Sequence index (row of ``arg_df``).

        Returns:
            ``{"lum": (T, 1, hexals), <task>: (T, C, hexals)}``.
        """
        return self.apply_augmentation(self._cached(key))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__} with {len(self)} sequences.\n"
            "See docs, arg_df and meta for more details.\n"
        )

    @property
    def docs(self) -> None:
        """Prints the class docstring."""
        print(self.__doc__)


class AugmentedSintel(MultiTaskSintel):
    """Deterministically flipped, rotated and temporally split Sintel (evaluation).

    Every (temporal chunk of a) rendered sequence is stored once per
    combination of ``flip_axes`` and ``n_rotations`` (rotation varies fastest,
    then flip, then chunk); the flips and rotations listed in ``arg_df`` are
    always applied, whatever ``augment`` is. With ``augment`` the items are
    cropped and resampled to ``1/dt`` (and noise/jitter applied if configured),
    otherwise the raw 24 Hz chunks are returned.

    Args:
        n_frames: Chunk / crop length in source frames.
        flip_axes: Flip axes to enumerate (subset of 0..3).
        n_rotations: Rotations to enumerate (subset of 0..5).
        build_stim_on_init: Build the augmented copies now.
        temporal_split: Cut each sequence into ``round(T / n_frames)`` evenly
            spaced chunks.
        augment: Crop/resample (and jitter/noise) the items.
        dt: Sampling interval (s).
        tasks: Tasks (see :class:`MultiTaskSintel`).
        interpolate: Interpolate targets to ``1/dt``.
        all_frames: No temporal crop.
        random_temporal_crop: Random crop start.
        boxfilter: ``BoxEye`` arguments.
        vertical_splits: Strips per frame.
        contrast_std: Contrast jitter (None: none).
        brightness_std: Brightness jitter (None: none).
        gaussian_white_noise: Pixel noise (None: none).
        gamma_std: Gamma jitter (None: none).
        center_crop_fraction: Width fraction kept.
        indices: Subset of rows kept after building.
        unittest: First scene, 3 frames only.
        sintel_path: Sintel root (forwarded).
        seed: Seed of the item-time draws.
        **kwargs: Ignored (e.g. keys of a parent config).

    Raises:
        ValueError: For invalid flip axes or rotations.
    """

    valid_flip_axes = [0, 1, 2, 3]
    valid_rotations = [0, 1, 2, 3, 4, 5]

    def __init__(
        self,
        n_frames: int = 19,
        flip_axes: Sequence[int] = (0, 1),
        n_rotations: Sequence[int] = (0, 1, 2, 3, 4, 5),
        build_stim_on_init: bool = True,
        temporal_split: bool = False,
        augment: bool = True,
        dt: float = 1 / 50,
        tasks: Sequence[str] = ("flow",),
        interpolate: bool = True,
        all_frames: bool = False,
        random_temporal_crop: bool = False,
        boxfilter: Optional[Dict[str, int]] = None,
        vertical_splits: int = 3,
        contrast_std: Optional[float] = None,
        brightness_std: Optional[float] = None,
        gaussian_white_noise: Optional[float] = None,
        gamma_std: Optional[float] = None,
        center_crop_fraction: float = 0.7,
        indices: Optional[Sequence[int]] = None,
        unittest: bool = False,
        sintel_path: Optional[str] = None,
        seed: Optional[int] = None,
        **kwargs: Any,
    ):
        flip_axes = [int(a) for a in flip_axes]
        n_rotations = [int(n) for n in n_rotations]
        invalid = [a for a in flip_axes if a not in self.valid_flip_axes]
        if invalid:
            raise ValueError(
                f"invalid flip axes {invalid}; valid axes are {self.valid_flip_axes}."
            )
        invalid = [n for n in n_rotations if n not in self.valid_rotations]
        if invalid:
            raise ValueError(
                f"invalid rotations {invalid}; valid rotations are {self.valid_rotations}."
            )
        if kwargs:
            logger.debug("AugmentedSintel ignores %s.", sorted(kwargs))
        super().__init__(
            tasks=tasks,
            boxfilter=boxfilter,
            vertical_splits=vertical_splits,
            n_frames=n_frames,
            center_crop_fraction=center_crop_fraction,
            dt=dt,
            augment=augment,
            random_temporal_crop=random_temporal_crop,
            all_frames=all_frames,
            resampling=True,
            interpolate=interpolate,
            p_flip=0,
            p_rot=0,
            contrast_std=contrast_std,
            brightness_std=brightness_std,
            gaussian_white_noise=gaussian_white_noise,
            gamma_std=gamma_std,
            _init_cache=True,
            unittest=unittest,
            flip_axes=flip_axes,
            sintel_path=sintel_path,
            seed=seed,
        )
        d = self.__dict__
        d["indices"] = None if indices is None else np.asarray(indices, dtype=int)
        d["n_rotations"] = n_rotations
        d["temporal_split"] = bool(temporal_split)
        d["params"] = None
        self.config.update(
            flip_axes=flip_axes,
            n_rotations=n_rotations,
            temporal_split=bool(temporal_split),
            indices=None if indices is None else [int(i) for i in indices],
        )
        if build_stim_on_init:
            self._build()

    def _build(self) -> None:
        """Builds the flipped/rotated chunks and ``arg_df``."""
        cached, arg_df, params = _augmented_chunks(
            self.cached_sequences,
            self.arg_df,
            self.n_frames,
            self.temporal_split,
            self.flip,
            self.rotate,
            self.n_rotations,
            self.indices,
        )
        self.flip.axis = 0
        self.rotate.n_rot = 0
        d = self.__dict__
        d["cached_sequences"] = cached
        d["arg_df"] = arg_df
        d["params"] = params
        self.flip.augment = False
        self.rotate.augment = False
        self.temporal_crop.random = False
        if self.temporal_split:
            self.temporal_crop.augment = False

    def get_item(
        self, key: int, pad_to_length: Optional[int] = None
    ) -> Dict[str, torch.Tensor]:
        """One sample.

        Args:
            key: Row of ``arg_df``.
            pad_to_length: NaN-pad the frame axis to this length.

        Returns:
            With ``augment``: the cropped/resampled item (no further flip or
            rotation); otherwise the stored 24 Hz chunk.
        """
        if self.augment:
            data = self.apply_augmentation(
                self.cached_sequences[key], n_rot=0, flip_axis=0
            )
        else:
            data = dict(self.cached_sequences[key])
        if pad_to_length is not None:
            data = self.pad_nans(data, pad_to_length)
        return data

    @staticmethod
    def pad_nans(
        data: Dict[str, torch.Tensor], pad_to_length: int
    ) -> Dict[str, torch.Tensor]:
        """NaN-pads the frame axis (0) of every entry to ``pad_to_length``.

        Args:
            data: Dict of ``(T, C, hexals)`` tensors.
            pad_to_length: Target number of frames (>= T).

        Returns:
            Dict of ``(pad_to_length, C, hexals)`` tensors.

        Raises:
            ValueError: If a sequence is longer than ``pad_to_length``.
        """
        out = {}
        for key, value in data.items():
            missing = pad_to_length - value.shape[0]
            if missing < 0:
                raise ValueError(
                    f"{key} has {value.shape[0]} frames, more than pad_to_length="
                    f"{pad_to_length}."
                )
            pad = value.new_full((missing, *value.shape[1:]), float("nan"))
            out[key] = torch.cat([value, pad], dim=0)
        return out

    def _original_length(self) -> int:
        return len(self) // self.vertical_splits
