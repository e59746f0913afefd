"""MPI-Sintel: download, layout checks, frame readers, metadata and splits.

Directory layout that is read (``spec/datasets.md`` §2.2)::

    <sintel_path>/
      training/final/<scene>/frame_0001.png ... frame_NNNN.png   # RGB, 1024 x 436
      training/flow/<scene>/frame_0001.flo ... frame_(NNNN-1).flo  # one fewer than images
      training/depth/<scene>/frame_0001.dpt ... frame_NNNN.dpt     # depth task only
      test/                                                       # checked by download_sintel

Files are consumed in sorted order (hidden files, i.e. names starting with
``"."``, are ignored); scenes in sorted order of their directory names.

Frame alignment: luminance and depth are loaded from image 1 on (``start=1``),
flow from 0, so ``lum[k]`` (image ``k + 1``) is paired with ``flow[k]`` (motion
from image ``k`` to ``k + 1``).

Source: ``spec/datasets.md`` §2, §3.3, §3.7, §5.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np

from flyvis.datasets.sintel_download import _download, _extract, _file_sha256, _zip_name
from flyvis.datasets.sintel_errors import (
    SintelChecksumError,
    SintelDownloadError,
    SintelNotFoundError,
)
from flyvis.datasets.sintel_files import png_size, read_dpt_header, read_flo_header
from flyvis.datasets.sintel_frames import (
    PathLike,
    frame_files,
    load_sequence,
    sample_depth,
    sample_flow,
    sample_lum,
)
from flyvis.datasets.sintel_splits import (
    DROPPED_VALIDATION_INDICES as DROPPED_VALIDATION_INDICES,
)
from flyvis.datasets.sintel_splits import (
    TRAINING_SCENES,
    VALIDATION_SCENES,
    original_train_and_validation_indices,
    parse_sequence_name,
    remove_nans,
    temporal_split_cached_samples,
    temporal_split_sequence,
)

__all__ = [
    "SINTEL_URL",
    "SINTEL_DEPTH_URL",
    "VALIDATION_SCENES",
    "TRAINING_SCENES",
    "SintelNotFoundError",
    "SintelDownloadError",
    "SintelChecksumError",
    "load_sequence",
    "sample_lum",
    "sample_flow",
    "sample_depth",
    "frame_files",
    "sintel_scenes",
    "sintel_exists",
    "check_sintel_tree",
    "resolve_sintel_path",
    "temporal_split_cached_samples",
    "temporal_split_sequence",
    "remove_nans",
    "SintelMeta",
    "sintel_meta",
    "parse_sequence_name",
    "original_train_and_validation_indices",
    "download_sintel",
]

logger = logging.getLogger(__name__)

#: The complete MPI-Sintel data set (~5 GB): images, flow, test set.
SINTEL_URL = "http://files.is.tue.mpg.de/sintel/MPI-Sintel-complete.zip"
#: The MPI-Sintel depth training data (``training/depth``).
SINTEL_DEPTH_URL = (
    "http://files.is.tue.mpg.de/jwulff/sintel/MPI-Sintel-depth-training-20150305.zip"
)


# ---------------------------------------------------------------------------
# errors


def _layout_help(sintel_dir: Path) -> str:
    return (
        f"Put MPI-Sintel into {sintel_dir} in this layout:\n"
        f"  {sintel_dir}/training/final/<scene>/frame_0001.png ... frame_NNNN.png\n"
        f"  {sintel_dir}/training/flow/<scene>/frame_0001.flo ... "
        "frame_(NNNN-1).flo\n"
        f"  {sintel_dir}/training/depth/<scene>/frame_0001.dpt ... frame_NNNN.dpt"
        "   (depth task only)\n"
        f"  {sintel_dir}/test/\n"
        f"(unzip {SINTEL_URL} there; for depth also {SINTEL_DEPTH_URL}),\n"
        "or pass the location explicitly: MultiTaskSintel(..., sintel_path='/path/to/"
        "MPI-Sintel') (also AugmentedSintel, RenderedSintel, download_sintel), or set "
        "FLYVIS_ROOT_DIR so that $FLYVIS_ROOT_DIR/SintelDataSet holds it."
    )


# ---------------------------------------------------------------------------
# layout checks


def sintel_scenes(sintel_path: PathLike) -> List[str]:
    """Sorted scene names under ``training/final``.

    Args:
        sintel_path: Sintel root.

    Returns:
        Scene directory names, sorted.

    Raises:
        SintelNotFoundError: If ``training/final`` does not exist.
    """
    final = Path(sintel_path) / "training" / "final"
    if not final.is_dir():
        raise SintelNotFoundError(
            f"MPI-Sintel not found: {final} does not exist.\n"
            + _layout_help(Path(sintel_path))
        )
    return sorted(
        p.name for p in final.iterdir() if p.is_dir() and not p.name.startswith(".")
    )


def sintel_exists(sintel_path: PathLike, depth: bool = False) -> bool:
    """Whether a Sintel tree exists (the check of :func:`download_sintel`).

    Args:
        sintel_path: Sintel root.
        depth: Also require ``training/depth``.

    Returns:
        True if ``training/final``, ``training/flow``, ``test`` (and
        ``training/depth``) exist.
    """
    root = Path(sintel_path)
    required = [root / "training" / "final", root / "training" / "flow", root / "test"]
    if depth:
        required.append(root / "training" / "depth")
    return all(p.is_dir() for p in required)


def check_sintel_tree(
    sintel_path: PathLike,
    depth: bool = False,
    n_frames: Optional[int] = None,
    first_scene_only: bool = False,
) -> Dict[str, int]:
    """Validates a Sintel tree before rendering (headers only, no decoding).

    Checks per scene: images exist; ``#flow == #images - 1``; ``#depth ==
    #images`` (depth only); all images have one size; flow (and depth) files
    are valid and have the image size.

    Args:
        sintel_path: Sintel root.
        depth: Check the depth files too.
        n_frames: If given, require at least one scene with ``n_frames + 1``
            images (shorter scenes are skipped when rendering).
        first_scene_only: Check only the first scene (``unittest`` mode).

    Returns:
        ``{scene: number of images}`` for the checked scenes (sorted).

    Raises:
        SintelNotFoundError: If a required directory is missing.
        ValueError: For missing frame files, inconsistent sizes, invalid files or
            an ``n_frames`` longer than every scene.
    """
    root = Path(sintel_path)
    scenes = sintel_scenes(root)
    if not scenes:
        raise SintelNotFoundError(
            f"MPI-Sintel not found: {root / 'training' / 'final'} has no scene "
            "directories.\n" + _layout_help(root)
        )
    if first_scene_only:
        scenes = scenes[:1]
    kinds = ["flow"] + (["depth"] if depth else [])
    for kind in kinds:
        if not (root / "training" / kind).is_dir():
            raise SintelNotFoundError(
                f"MPI-Sintel {kind} not found: {root / 'training' / kind} does not "
                "exist.\n" + _layout_help(root)
            )
    counts = {}
    for scene in scenes:
        images = frame_files(root / "training" / "final" / scene)
        if not images:
            raise ValueError(f"Sintel scene {scene} has no images in training/final.")
        sizes = {}
        for image in images:
            sizes.setdefault(png_size(image), []).append(image.name)
        if len(sizes) > 1:
            detail = ", ".join(f"{w}x{h}: {names[:3]}" for (w, h), names in sizes.items())
            raise ValueError(f"images of Sintel scene {scene} differ in size: {detail}.")
        size = next(iter(sizes))
        expected = {"flow": len(images) - 1, "depth": len(images)}
        readers = {"flow": read_flo_header, "depth": read_dpt_header}
        for kind in kinds:
            scene_dir = root / "training" / kind / scene
            if not scene_dir.is_dir():
                raise ValueError(
                    f"Sintel scene {scene} has no {kind} directory {scene_dir}."
                )
            files = frame_files(scene_dir)
            if len(files) != expected[kind]:
                raise ValueError(
                    f"missing frames in Sintel scene {scene}: {len(images)} images but "
                    f"{len(files)} {kind} files in {scene_dir} (expected "
                    f"{expected[kind]})."
                )
            for file in files:
                if readers[kind](file) != size:
                    raise ValueError(
                        f"{file}: size {readers[kind](file)} differs from the image "
                        f"size {size} of scene {scene}."
                    )
        counts[scene] = len(images)
    if n_frames is not None and max(counts.values()) - 1 < n_frames:
        raise ValueError(
            f"n_frames={n_frames} is longer than every Sintel scene in {root} (the "
            f"longest has {max(counts.values()) - 1} frames after dropping the "
            "first image)."
        )
    return counts


def resolve_sintel_path(
    sintel_path: Optional[PathLike] = None, depth: bool = False
) -> Path:
    """The Sintel root: an explicit path, or the default (downloaded if missing).

    The default root ``flyvis.sintel_dir`` is used as is when it holds
    ``training/final`` and ``training/flow`` (and ``training/depth`` if needed);
    otherwise :func:`download_sintel` is called.

    Args:
        sintel_path: Explicit root (must exist; never downloaded into).
        depth: The depth data is needed.

    Returns:
        The absolute root path.

    Raises:
        SintelNotFoundError: If an explicit root does not exist or the default
            one can neither be found nor downloaded.
    """
    if sintel_path is None:
        import flyvis

        default = flyvis.data_dir("sintel_dir").expanduser().resolve()
        kinds = ["final", "flow"] + (["depth"] if depth else [])
        if all((default / "training" / kind).is_dir() for kind in kinds):
            return default  # training data present (``test/`` is not needed)
        return download_sintel(depth=depth).resolve()
    path = Path(sintel_path).expanduser().resolve()
    if not (path / "training" / "final").is_dir():
        raise SintelNotFoundError(
            f"MPI-Sintel not found at sintel_path={str(sintel_path)!r}: "
            f"{path / 'training' / 'final'} does not exist.\n" + _layout_help(path)
        )
    return path


class SintelMeta(NamedTuple):
    """Paths and indices of the Sintel scenes used by a dataset.

    Attributes:
        lum_paths: Scene directories under ``training/final`` (kept scenes).
        flow_paths: Scene directories under ``training/flow``.
        depth_paths: Scene directories under ``training/depth`` (None unless
            depth was rendered).
        sequence_indices: Sorted-scene indices of the kept scenes.
        frames_per_scene: Number of images of each kept scene.
        sequence_index_to_splits: ``{scene index: dataset indices of its
            vertical splits}``.
        scene_names: Names of the kept scenes.
    """

    lum_paths: List[Path]
    flow_paths: List[Path]
    depth_paths: Optional[List[Path]]
    sequence_indices: np.ndarray
    frames_per_scene: np.ndarray
    sequence_index_to_splits: Dict[int, np.ndarray]
    scene_names: List[str]


def sintel_meta(
    names: Sequence[str],
    sintel_path: PathLike,
    n_frames: int,
    vertical_splits: int,
    depth: bool = False,
) -> SintelMeta:
    """Metadata of a rendered Sintel dataset.

    Args:
        names: Sorted rendered sequence names (one per dataset index).
        sintel_path: Sintel root.
        n_frames: Minimum number of frames of kept scenes.
        vertical_splits: Splits per scene (for the consistency check).
        depth: Depth was rendered.

    Returns:
        :class:`SintelMeta`.

    Raises:
        ValueError: If a scene does not have ``vertical_splits`` sequences.
    """
    root = Path(sintel_path)
    scenes = sintel_scenes(root)
    rendered: Dict[int, List[int]] = {}
    for index, name in enumerate(names):
        scene_index, scene, _ = parse_sequence_name(name)
        if scene_index >= len(scenes) or scenes[scene_index] != scene:
            raise ValueError(
                f"rendered sequence {name} does not match the scenes of {root}."
            )
        rendered.setdefault(scene_index, []).append(index)
    kept, counts = [], []
    for scene_index in sorted(rendered):
        n_images = len(frame_files(root / "training" / "final" / scenes[scene_index]))
        if n_images - 1 >= n_frames:
            kept.append(scene_index)
            counts.append(n_images)
    for scene_index, indices in rendered.items():
        if len(indices) != vertical_splits:
            raise ValueError(
                f"scene {scenes[scene_index]} has {len(indices)} rendered sequences, "
                f"expected vertical_splits={vertical_splits}."
            )
    kept_names = [scenes[i] for i in kept]
    return SintelMeta(
        lum_paths=[root / "training" / "final" / s for s in kept_names],
        flow_paths=[root / "training" / "flow" / s for s in kept_names],
        depth_paths=[root / "training" / "depth" / s for s in kept_names]
        if depth
        else None,
        sequence_indices=np.array(kept, dtype=int),
        frames_per_scene=np.array(counts, dtype=int),
        sequence_index_to_splits={i: np.array(rendered[i], dtype=int) for i in kept},
        scene_names=kept_names,
    )


def download_sintel(
    delete_if_exists: bool = False,
    depth: bool = False,
    sintel_path: Optional[PathLike] = None,
    url: Optional[str] = None,
    sha256: Union[str, Mapping[str, str], None] = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Downloads and extracts MPI-Sintel unless it is already there.

    If ``training/final``, ``training/flow`` and ``test`` (and ``training/depth``
    with ``depth``) exist below the target, nothing is downloaded. Otherwise the
    zip file(s) are downloaded with a progress bar into the target directory
    (to ``<name>.zip.part``, renamed to ``<name>.zip`` only when complete and,
    if given, the SHA-256 checksum matches; a failed, interrupted or corrupt
    download is deleted), extracted into a temporary directory inside the
    target and moved into place. An existing complete zip file is reused. The
    zip file is kept, as in flyvis.

    Args:
        delete_if_exists: Download again and replace existing files.
        depth: Also get the depth data (``training/depth``).
        sintel_path: Target directory (default ``flyvis.sintel_dir``, i.e.
            ``$FLYVIS_ROOT_DIR/SintelDataSet``).
        url: Download this zip instead of the official ones (its contents must
            hold ``training/`` and ``test/``, possibly below one top directory).
        sha256: Expected hex SHA-256 of the (single) downloaded zip, or a mapping
            url -> checksum. None: not checked (the checksum is logged).
        progress: Show a tqdm progress bar.
        timeout: Socket timeout in seconds.

    Returns:
        The target directory.

    Raises:
        SintelDownloadError: If a download fails or is incomplete (also when
            offline; the message says where to put the data by hand).
        SintelChecksumError: On a checksum mismatch.
        SintelNotFoundError: If the extracted data lack the expected layout.
    """
    import flyvis

    target = (
        Path(sintel_path) if sintel_path is not None else flyvis.data_dir("sintel_dir")
    )
    target = target.expanduser().resolve()
    if sintel_exists(target, depth) and not delete_if_exists:
        logger.info("Found Sintel at %s", target)
        return target

    if url is not None:
        urls = [url]
    else:
        urls = []
        if delete_if_exists or not sintel_exists(target, depth=False):
            urls.append(SINTEL_URL)
        if depth and (delete_if_exists or not (target / "training" / "depth").is_dir()):
            urls.append(SINTEL_DEPTH_URL)

    def checksum_of(u: str) -> Optional[str]:
        if isinstance(sha256, Mapping):
            return sha256.get(u)
        return sha256 if len(urls) == 1 or u == urls[0] else None

    target.mkdir(parents=True, exist_ok=True)
    for u in urls:
        archive = target / _zip_name(u)
        expected = checksum_of(u)
        reuse = archive.is_file() and not delete_if_exists
        if reuse and expected is not None and _file_sha256(archive) != expected.lower():
            logger.warning(
                "Existing %s has a wrong checksum; downloading again.", archive
            )
            reuse = False
        if reuse:
            logger.info("Using the existing %s.", archive)
        else:
            logger.info("Downloading %s to %s.", u, archive)
            try:
                _download(u, archive, expected, progress, timeout)
            except SintelDownloadError as error:
                raise SintelDownloadError(f"{error}\n" + _layout_help(target)) from error
        _extract(archive, target, replace=delete_if_exists)

    if not sintel_exists(target, depth):
        raise SintelNotFoundError(
            f"after extracting, the Sintel layout is incomplete in {target}.\n"
            + _layout_help(target)
        )
    return target
