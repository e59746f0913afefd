"""Reading real videos as luminance movies for custom stimuli.

:func:`read_video` returns ``(frames, H, W)`` luminance in ``[0, 1]`` at a
chosen frame rate, ready for :class:`~flyvis.datasets.rendering.BoxEye`
(add a sample axis: ``BoxEye()(movie[None])``). Decoding uses ``imageio``
with its ffmpeg plugin (``imageio-ffmpeg``), an optional dependency that is
imported only when a video is read; GIFs are read with imageio's Pillow
plugin and need no ffmpeg. Frame-rate conversion picks, for every output
time, the source frame with the nearest time stamp
(:func:`resample_frame_indices`, pure Python/numpy).

Not part of flyvis 1.2.0.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["read_video", "resample_frame_indices", "to_luminance", "INSTALL_HINT"]

#: How to install the optional video dependencies.
INSTALL_HINT = "pip install imageio imageio-ffmpeg"

#: ITU-R BT.601 luma weights (as Pillow's ``"L"`` conversion).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def resample_frame_indices(
    n_frames: int,
    source_fps: float,
    target_fps: Optional[float] = None,
    start: Optional[float] = None,
    stop: Optional[float] = None,
) -> np.ndarray:
    """Source frame indices that resample a video to ``target_fps``.

    Source frame ``i`` has the time stamp ``i / source_fps``. Output frame
    ``j`` has the time ``start + j / target_fps`` for all times in ``[start,
    stop)`` (``stop`` defaults to the video duration ``n_frames /
    source_fps``) and shows the source frame with the nearest time stamp
    (ties round up), clipped to the last frame. Without ``target_fps`` the
    source frames within ``[start, stop)`` are returned unchanged.

    Args:
        n_frames: Number of source frames.
        source_fps: Source frame rate (frames/s).
        target_fps: Output frame rate (frames/s), e.g. ``1 / dt``.
        start: Start time in seconds (default 0).
        stop: Stop time in seconds, exclusive (default: the video's end).

    Returns:
        int64 array of source frame indices (repeats when upsampling, skips
        when downsampling).

    Raises:
        ValueError: For non-positive frame rates or ``start > stop``.
    """
    if source_fps <= 0 or (target_fps is not None and target_fps <= 0):
        raise ValueError(
            f"frame rates must be positive, got {source_fps} and {target_fps}."
        )
    duration = n_frames / source_fps
    start = 0.0 if start is None else float(start)
    stop = duration if stop is None else min(float(stop), duration)
    if start > stop:
        raise ValueError(f"start ({start} s) is after stop ({stop} s).")
    if n_frames <= 0:
        return np.zeros(0, dtype=np.int64)
    eps = 1e-9
    if target_fps is None:
        first = math.ceil(start * source_fps - eps)
        last = math.ceil(stop * source_fps - eps)
        return np.arange(first, min(last, n_frames), dtype=np.int64)
    n_out = max(0, math.ceil((stop - start) * target_fps - eps))
    times = start + np.arange(n_out) / target_fps
    idx = np.floor(times * source_fps + 0.5 + eps).astype(np.int64)
    return np.clip(idx, 0, n_frames - 1)


def to_luminance(frames: np.ndarray) -> np.ndarray:
    """Converts frames to float32 luminance in ``[0, 1]``.

    Args:
        frames: ``(frames, H, W)`` greyscale or ``(frames, H, W, C)`` with
            ``C`` = 3 (RGB) or 4 (RGBA, alpha ignored); integer frames are
            divided by their dtype's maximum, float frames are taken as 0..1.

    Returns:
        float32 ``(frames, H, W)``.
    """
    frames = np.asarray(frames)
    scale = np.iinfo(frames.dtype).max if np.issubdtype(frames.dtype, np.integer) else 1
    x = frames.astype(np.float32) / np.float32(scale)
    if x.ndim == 4:
        if x.shape[-1] >= 3:
            x = x[..., :3] @ np.asarray(LUMA_WEIGHTS, dtype=np.float32)
        else:
            x = x[..., 0]
    return x


def _resize(frames: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(frames))[:, None]
    x = F.interpolate(x, size=tuple(size), mode="bilinear", antialias=True)
    return x[:, 0].numpy()


def _import_imageio(ffmpeg: bool):
    try:
        import imageio.v2 as iio
    except ImportError as err:
        raise ImportError(
            f"Reading videos requires the optional packages imageio and "
            f"imageio-ffmpeg: {INSTALL_HINT}"
        ) from err
    if ffmpeg:
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError as err:
            raise ImportError(
                "Reading videos requires imageio's ffmpeg plugin (imageio-ffmpeg): "
                f"{INSTALL_HINT}"
            ) from err
    return iio


def read_video(
    path: Union[str, Path],
    framerate: Optional[float] = None,
    size: Optional[Sequence[int]] = None,
    start: Optional[float] = None,
    stop: Optional[float] = None,
) -> np.ndarray:
    """Reads a video as a luminance movie at a chosen frame rate.

    Args:
        path: Video file (anything ffmpeg decodes, e.g. mp4/avi/mov; GIFs are
            read without ffmpeg).
        framerate: Output frame rate in frames/s (e.g. ``1 / dt``); ``None``
            keeps the source frames. Frames are picked by nearest time stamp
            (:func:`resample_frame_indices`).
        size: Output ``(height, width)`` in pixels (bilinear, antialiased);
            ``None`` keeps the source size.
        start: Start time in seconds (default 0).
        stop: Stop time in seconds (exclusive; default the end).

    Returns:
        float32 array ``(frames, H, W)`` with luminance in ``[0, 1]``
        (ITU-R BT.601 luma of RGB frames).

    Raises:
        ImportError: If imageio or, for non-GIF files, imageio-ffmpeg is not
            installed (``pip install imageio imageio-ffmpeg``).
        FileNotFoundError: If ``path`` does not exist.
    """
    path = Path(path)
    is_gif = path.suffix.lower() == ".gif"
    iio = _import_imageio(ffmpeg=not is_gif)
    if not path.exists():
        raise FileNotFoundError(f"video file {path} does not exist.")
    if is_gif:
        frames = np.asarray(iio.mimread(path, memtest=False))
        durations = _gif_durations(path, len(frames))
        fps = 1000.0 / float(np.mean(durations)) if len(durations) else 10.0
        idx = resample_frame_indices(len(frames), fps, framerate, start, stop)
        movie = to_luminance(frames[idx]) if len(idx) else np.zeros((0, 1, 1))
    else:
        reader = iio.get_reader(path, format="FFMPEG")
        try:
            fps = float(reader.get_meta_data()["fps"])
            n_frames = reader.count_frames()
            idx = resample_frame_indices(n_frames, fps, framerate, start, stop)
            wanted = set(idx.tolist())
            cache = {}
            for i, frame in enumerate(reader):
                if i in wanted:
                    cache[i] = to_luminance(np.asarray(frame)[None])[0]
                if len(idx) and i >= idx[-1]:
                    break
            movie = np.stack([cache[i] for i in idx]) if len(idx) else np.zeros((0, 1, 1))
        finally:
            reader.close()
    if size is not None and len(movie):
        movie = _resize(movie, size)
    return movie.astype(np.float32, copy=False)


def _gif_durations(path: Path, n_frames: int) -> np.ndarray:
    """Per-frame durations of a GIF in milliseconds (100 ms if unknown)."""
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        durations = [
            f.info.get("duration", 100) or 100 for f in ImageSequence.Iterator(im)
        ]
    return np.asarray(durations[:n_frames], dtype=float)
