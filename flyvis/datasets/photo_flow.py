"""Optic-flow movies made from real photographs, with exact ground-truth flow.

:class:`MultiTaskPhotoFlow` is a :class:`~flyvis.datasets.datasets.MultiTaskDataset`
shaped like :class:`MultiTaskSintel` (items ``{"lum": (frames, 1, hexals),
"flow": (frames, 2, hexals)}``) whose movies are rendered from photographs that
ship inside installed wheels (:mod:`flyvis.datasets.photo_sources`). It needs no
download and is the default training data when Sintel is not on disk.

Each sequence is a stack of layers moving in the image plane:

* a background photo seen by a virtual camera that translates, rotates about
  the view axis and zooms, smoothly over time;
* 1-3 foreground patches (rectangles or ellipses) cut from *other* photos,
  each with its own smooth translation, rotation and zoom, occluding the
  background (later patches occlude earlier ones).

Every layer follows a similarity transform ``p = T(t) + s(t) R(theta(t)) q`` from
layer coordinates ``q`` (texture pixels relative to a texture centre) to screen
coordinates ``p`` (pixels relative to the frame centre, x right, y down).
Frames are sampled with ``torch.nn.functional.grid_sample`` (bilinear,
``align_corners=False``, reflection padding) and the flow is computed exactly
from the transforms, not estimated.

Conventions (as Sintel in flyvis, ``datasets.md`` §2.3 and §3.2):

* ``lum[k]`` is image ``k + 1``; ``flow[k]`` is the motion from image ``k`` to
  image ``k + 1`` of the content visible at each pixel of image ``k + 1``
  (so the target at frame ``k`` describes the motion that produced input frame
  ``k``). Where layers overlap, the flow is that of the topmost layer.
* Flow units: pixels per source frame divided by the frame height ``H``; x
  points right, y points **up** (the image y component is negated).
* Rendering to the hexagonal lattice with ``BoxEye(**boxfilter)``: luminance
  with ``ftype="mean"``, each flow component with ``ftype="sum"`` (a uniform
  motion of ``v`` px/frame gives ``kernel_size**2 * v / H`` per hexal).
"""

import json
import logging
import math
from pathlib import Path
from typing import (
    Any,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

import numpy as np
import torch
from datamate import Directory, Namespace, set_root_context

import flyvis
from flyvis.datasets.augmentation.hex import HexAugmentationMixin
from flyvis.datasets.datasets import MultiTaskDataset
from flyvis.datasets.photo_flow_render import (  # noqa: F401  (re-exported)
    _RENDER_DEVICE,
    RENDER_VERSION,
    CartesianSequence,
    _render_all,
    _specs_from_config,
    render_cartesian,
    render_hex,
)
from flyvis.datasets.photo_flow_specs import (  # noqa: F401  (re-exported)
    DEFAULT_VALIDATION_PHOTOS,
    REFERENCE_HEIGHT,
    MotionRanges,
    _split_photos,
    sample_sequence_specs,
)
from flyvis.datasets.photo_sources import photo_names

__all__ = [
    "MotionRanges",
    "CartesianSequence",
    "sample_sequence_specs",
    "render_cartesian",
    "render_hex",
    "RenderedPhotoFlow",
    "MultiTaskPhotoFlow",
    "DEFAULT_VALIDATION_PHOTOS",
    "REFERENCE_HEIGHT",
]

logger = logging.getLogger(__name__)

#: Frame height of Sintel (pixels); motion parameters are relative to it.


class RenderedPhotoFlow(Directory):
    """Config-keyed cache of rendered photo-flow sequences (datamate Directory).

    Files: ``lum.h5`` ``(n_sequences, n_source_frames, 1, hexals)``,
    ``flow.h5`` ``(n_sequences, n_source_frames, 2, hexals)`` (float32) and
    ``specs.h5`` (one JSON byte string per sequence with its layers and
    motions). Built by :class:`MultiTaskPhotoFlow`; the config holds every
    parameter that changes the rendering (plus ``version``).
    """

    # NB: this module does not use ``from __future__ import annotations``, because
    # datamate inspects the (then stringified) annotations of Directory classes.
    def __init__(self, config: dict):
        specs, lum, flow = _render_all(config, _RENDER_DEVICE.get())
        self.lum = lum.numpy()
        self.flow = flow.numpy()
        self.specs = np.array([json.dumps(s).encode() for s in specs])


# ---------------------------------------------------------------------------
# the dataset


class MultiTaskPhotoFlow(HexAugmentationMixin, MultiTaskDataset):
    """Optic-flow dataset rendered from real photographs (offline, exact flow).

    All sequences are rendered once at construction (deterministic in
    ``seed``) and cached on disk in a :class:`RenderedPhotoFlow` directory keyed
    by the rendering config. Items are made with the augmentation pipeline of
    :class:`MultiTaskSintel` (:class:`~flyvis.datasets.augmentation.hex.HexAugmentationMixin`):
    a temporal crop of ``n_frames`` source frames at 24 Hz (random start when
    augmenting), random hex flips and rotations (applied to the luminance and
    the flow vectors alike), pixel noise, contrast/brightness and gamma jitter
    of the luminance, and resampling to ``1/dt``. The constructor accepts the
    same keys as :class:`MultiTaskSintel`, so a training config can switch
    between the two by its ``type`` alone. The geometric and photometric
    augmentations are off by default (the training config
    ``config/task/photoflow.yaml`` switches them on with flyvis's training
    values); all random draws come from one generator seeded with ``seed``.

    Args:
        tasks: Targets, a subset of ``["lum", "flow"]``.
        boxfilter: ``BoxEye`` arguments, ``dict(extent=15, kernel_size=13)`` by
            default.
        n_sequences: Number of sequences.
        n_frames: Length of the temporal crop in source frames (24 Hz).
        n_source_frames: Rendered frames per sequence (>= ``n_frames``).
        frame_size: ``(H, W)`` of the cartesian frames (pixels); at least
            ``BoxEye.min_frame_size + kernel_size - 1`` per axis (403 for the
            defaults) so that no receptor box reaches the frame border.
        dt: Sampling interval of the items (s).
        augment: Random temporal crops (master switch).
        random_temporal_crop: Random crop start when augmenting.
        all_frames: Return all rendered frames (no crop).
        resampling: Resample the luminance to ``1/dt`` (nearest-exact);
            otherwise it stays at 24 Hz.
        interpolate: Interpolate the flow linearly to ``1/dt``; otherwise it is
            resampled like the luminance.
        p_flip: Probability of a flip across a hex axis (flow flipped alike).
        p_rot: Probability of a rotation by 60-300 degrees (flow rotated alike).
        flip_axes: Allowed flip axes (subset of 0..3; flips are uniform over
            the non-zero ones).
        contrast_std: Std of the log contrast factor (None: no contrast jitter).
        brightness_std: Std of the brightness offset (None: none).
        gaussian_white_noise: Std of additive pixel noise (None: none).
        gamma_std: Std of a gamma exponent around 1 (None: no gamma).
        vertical_splits: Accepted for config compatibility with
            :class:`MultiTaskSintel`; ignored (the frames have ``frame_size``).
        center_crop_fraction: Accepted for compatibility; ignored.
        _init_cache: Accepted for compatibility; ignored (always cached).
        unittest: Accepted for compatibility; ignored.
        task_weights: Accepted and stored (used by ``Task``).
        sintel_path: Accepted for compatibility; ignored.
        n_foreground: Inclusive range of the number of foreground patches.
        motion: Overrides of :class:`MotionRanges` (a mapping).
        photos: Photo names to use (default: all of
            :func:`~flyvis.datasets.photo_sources.photo_names`).
        validation_photos: Photos whose sequences form the validation set
            (default :data:`DEFAULT_VALIDATION_PHOTOS`).
        seed: Seed of the rendering and of the item-time random draws (crop
            start, flip, rotation, jitter, noise).
        cache: Store the rendering under ``root`` (and reuse it); if False,
            render in memory only.
        root: Cache root directory (default ``flyvis.renderings_dir``).
        device: Device used for rendering (default ``flyvis.device``); the
            cached sequences and the items are on the CPU.

    Attributes:
        arg_df: One row per sequence: ``index``, ``name``, ``background``,
            ``foregrounds`` (comma separated), ``n_foreground``, ``split``,
            background ``speed`` (H/frame), ``direction`` (deg, 0 = right,
            90 = up), ``angular_velocity`` (deg/frame) and ``zoom_rate``
            (log scale/frame), ``original_n_frames``.
        cached_sequences: Per sequence ``{"lum": (N, 1, hexals), "flow": (N, 2,
            hexals)}`` float32 CPU tensors at 24 Hz.
        config: Namespace of all arguments.
        rendered: The cache directory (None if ``cache`` is False).

    Raises:
        ValueError: For invalid tasks, ``n_frames > n_source_frames``,
            ``dt <= 0``, too small frames or unknown photos.

    Example:
        >>> data = MultiTaskPhotoFlow(tasks=["flow"], dt=1/50)
        >>> item = data[0]
        >>> item["lum"].shape, item["flow"].shape
        (torch.Size([40, 1, 721]), torch.Size([40, 2, 721]))
    """

    original_framerate = 24
    t_pre = 0.0
    t_post = 0.0
    valid_tasks = ["lum", "flow"]

    def __init__(
        self,
        tasks: Sequence[str] = ("flow",),
        boxfilter: Optional[Mapping[str, int]] = None,
        n_sequences: int = 48,
        n_frames: int = 19,
        n_source_frames: int = 30,
        frame_size: Tuple[int, int] = (436, 417),
        dt: float = 1 / 50,
        augment: bool = True,
        random_temporal_crop: bool = True,
        all_frames: bool = False,
        resampling: bool = True,
        interpolate: bool = True,
        p_flip: float = 0.0,
        p_rot: float = 0.0,
        flip_axes: Sequence[int] = (0, 1, 2, 3),
        contrast_std: Optional[float] = None,
        brightness_std: Optional[float] = None,
        gaussian_white_noise: Optional[float] = None,
        gamma_std: Optional[float] = None,
        n_foreground: Tuple[int, int] = (1, 3),
        motion: Optional[Mapping[str, Any]] = None,
        photos: Optional[Sequence[str]] = None,
        validation_photos: Optional[Sequence[str]] = None,
        seed: int = 0,
        cache: bool = True,
        root: Optional[str | Path] = None,
        device: Optional[str | torch.device] = None,
        vertical_splits: Any = None,
        center_crop_fraction: Any = None,
        _init_cache: bool = True,
        unittest: bool = False,
        task_weights: Optional[Mapping[str, float]] = None,
        sintel_path: Any = None,
    ):
        tasks = [tasks] if isinstance(tasks, str) else list(tasks)
        invalid = [t for t in tasks if t not in self.valid_tasks]
        if invalid or not tasks:
            raise ValueError(
                f"invalid tasks {invalid}; valid tasks are {self.valid_tasks}."
            )
        self.tasks = [t for t in self.valid_tasks if t in tasks]
        self.data_keys = self.tasks if "lum" in self.tasks else ["lum", *self.tasks]
        boxfilter = dict(boxfilter or dict(extent=15, kernel_size=13))
        self.extent = boxfilter.setdefault("extent", 15)
        if n_sequences < 1:
            raise ValueError(f"n_sequences must be >= 1, got {n_sequences}.")
        if n_frames < 1 or n_frames > n_source_frames:
            raise ValueError(
                f"n_frames ({n_frames}) must be between 1 and n_source_frames "
                f"({n_source_frames})."
            )
        photos = list(photos) if photos is not None else list(photo_names())
        unknown = sorted(set(photos) - set(photo_names()))
        if unknown or not photos:
            raise ValueError(f"unknown photos {unknown}; valid photos: {photo_names()}.")
        if validation_photos is None:
            validation_photos = DEFAULT_VALIDATION_PHOTOS
        validation_photos = [p for p in photos if p in set(validation_photos)]
        n_foreground = tuple(int(n) for n in n_foreground)
        if len(n_foreground) != 2 or not 0 <= n_foreground[0] <= n_foreground[1]:
            raise ValueError(
                f"n_foreground must be a range (min, max), got {n_foreground}."
            )
        motion_ranges = MotionRanges.from_dict(motion)
        frame_size = tuple(int(s) for s in frame_size)
        self._check_frame_size(frame_size, boxfilter)

        self.n_source_frames = n_source_frames
        self.seed = seed
        self.render_config = dict(
            version=RENDER_VERSION,
            boxfilter=boxfilter,
            n_sequences=int(n_sequences),
            n_source_frames=int(n_source_frames),
            frame_size=list(frame_size),
            n_foreground=list(n_foreground),
            motion=motion_ranges.to_dict(),
            photos=photos,
            validation_photos=validation_photos,
            seed=int(seed),
        )

        self.task_weights = task_weights
        # item-time augmentations: one explicit generator (see HexAugmentationMixin)
        self.init_augmentation(
            extent=self.extent,
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
            seed=[int(seed), 2],
        )

        self.device = flyvis.device if device is None else torch.device(device)
        self.root = Path(root) if root is not None else flyvis.data_dir("renderings_dir")
        self._rendered: Optional[RenderedPhotoFlow] = None
        self._rendered_path: Optional[Path] = None
        if cache:
            self.root.mkdir(parents=True, exist_ok=True)
            token = _RENDER_DEVICE.set(self.device)
            try:
                with set_root_context(self.root):
                    self._rendered = RenderedPhotoFlow(self.render_config)
            finally:
                _RENDER_DEVICE.reset(token)
            self._rendered_path = Path(self._rendered.path)
            specs = [json.loads(s) for s in self._rendered.specs[:]]
            lum = torch.from_numpy(self._rendered.lum[:])
            flow = torch.from_numpy(self._rendered.flow[:])
        else:
            specs, lum, flow = _render_all(self.render_config, self.device)
        self.specs = specs
        self.cached_sequences = [
            {"lum": lum[i].float(), "flow": flow[i].float()} for i in range(len(specs))
        ]
        self.arg_df = self._arg_df(specs)
        self.config = Namespace(
            tasks=self.tasks,
            dt=dt,
            augment=augment,
            random_temporal_crop=random_temporal_crop,
            all_frames=all_frames,
            resampling=resampling,
            interpolate=interpolate,
            n_frames=n_frames,
            p_flip=p_flip,
            p_rot=p_rot,
            flip_axes=list(self.flip.flip_axes),
            contrast_std=contrast_std,
            brightness_std=brightness_std,
            gaussian_white_noise=gaussian_white_noise,
            gamma_std=gamma_std,
            **{k: v for k, v in self.render_config.items() if k != "version"},
        )

    # -- validation and bookkeeping -------------------------------------------------

    @staticmethod
    def _check_frame_size(
        frame_size: Tuple[int, int], boxfilter: Mapping[str, int]
    ) -> None:
        kernel = int(boxfilter.get("kernel_size", 13))
        minimum = 2 * int(boxfilter.get("extent", 15)) * kernel + 1 + kernel - 1
        if len(frame_size) != 2 or min(frame_size) < minimum:
            raise ValueError(
                f"frame_size {frame_size} too small for BoxEye({dict(boxfilter)}): "
                f"need at least {minimum} pixels per axis."
            )

    def _arg_df(self, specs: List[Dict[str, Any]]):
        import pandas as pd

        rows = []
        for spec in specs:
            background = spec["layers"][0]
            vx, vy = background["velocity"]
            height = self.render_config["frame_size"][0]
            rows.append(
                dict(
                    index=spec["index"],
                    name=f"sequence_{spec['index']:02d}_{spec['background']}",
                    background=spec["background"],
                    foregrounds=",".join(layer["photo"] for layer in spec["layers"][1:]),
                    n_foreground=len(spec["layers"]) - 1,
                    split=spec["split"],
                    speed=math.hypot(vx, vy) / height,
                    direction=math.degrees(math.atan2(-vy, vx)) % 360,
                    angular_velocity=math.degrees(background["angular_velocity"]),
                    zoom_rate=background["zoom_rate"],
                    original_n_frames=self.n_source_frames,
                )
            )
        return pd.DataFrame(rows)

    @property
    def rendered(self) -> Optional[RenderedPhotoFlow]:
        """The cache directory (None if the dataset was built with ``cache=False``)."""
        if self._rendered is None and self._rendered_path is not None:
            self._rendered = RenderedPhotoFlow(self._rendered_path)
        return self._rendered

    def __getstate__(self) -> Dict[str, Any]:
        # datamate directories do not pickle; they are re-opened from their path
        state = self.__dict__.copy()
        state["_rendered"] = None
        return state

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__} with {len(self)} sequences.\n"
            "See docs, arg_df and config for more details.\n"
        )

    # -- items ----------------------------------------------------------------------

    def get_item(self, key: int) -> Dict[str, torch.Tensor]:
        """Returns one (cropped, augmented, resampled) sequence.

        Args:
            key: Sequence index.

        Returns:
            ``{"lum": (T, 1, hexals)}`` plus ``"flow": (T, 2, hexals)`` if
            requested; ``T = ceil(n_frames / (24 dt))`` (or the whole sequence
            with ``all_frames``). Luminance in ``[0, 1]``, flow in frame heights
            per source frame (x right, y up, box-summed over each hexal).
        """
        return self.apply_augmentation(self.cached_sequences[key])

    # -- splits and inspection -------------------------------------------------------

    def photo_split(self) -> Dict[str, List[str]]:
        """Training and validation photos.

        Returns:
            ``{"train": [...], "validation": [...]}``.
        """
        train, validation = _split_photos(
            self.render_config["photos"], self.render_config["validation_photos"]
        )
        return {"train": train, "validation": validation}

    def original_train_and_validation_indices(self) -> Tuple[List[int], List[int]]:
        """Split by source photo: no photo appears in both sets.

        Validation sequences are those whose background is a validation photo;
        their foreground patches come from validation photos as well.

        Returns:
            ``(train_indices, validation_indices)``, ascending lists.
        """
        split = self.arg_df["split"].to_numpy()
        index = self.arg_df["index"].to_numpy()
        return (
            [int(i) for i in index[split == "train"]],
            [int(i) for i in index[split == "validation"]],
        )

    def _cartesian(self, key: int) -> CartesianSequence:
        key = int(key) + (len(self) if key < 0 else 0)
        if not 0 <= key < len(self):
            raise IndexError(f"The index ({key}) is out of range.")
        return render_cartesian(
            self.specs[key],
            tuple(self.render_config["frame_size"]),
            self.n_source_frames,
            device=self.device,
        )

    def cartesian_sequence(self, key: int) -> np.ndarray:
        """Re-renders the cartesian luminance frames of a sequence.

        Args:
            key: Sequence index.

        Returns:
            float32 array ``(n_source_frames, H, W)`` in ``[0, 1]``.
        """
        return self._cartesian(key).lum.cpu().numpy()

    def cartesian_flow(self, key: int) -> np.ndarray:
        """Re-renders the cartesian flow of a sequence.

        Args:
            key: Sequence index.

        Returns:
            float32 array ``(n_source_frames, 2, H, W)`` in frame heights per
            frame, x right, y up (the units of Sintel's ``sample_flow``).
        """
        flow = self._cartesian(key).flow
        height = flow.shape[-2]
        flow = torch.stack([flow[:, 0], -flow[:, 1]], dim=1) / height
        return flow.cpu().numpy()

    @property
    def docs(self) -> None:
        """Prints the class docstring."""
        print(self.__doc__)
