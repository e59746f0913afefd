"""MPI-Sintel frame readers: luminance, flow and depth of scene directories.

Files are consumed in sorted order (hidden files, i.e. names starting with
``"."``, are ignored). Re-exported by :mod:`flyvis.datasets.sintel_utils`.

Source: ``spec/datasets.md`` §2.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, List, Optional, Union

import numpy as np
import torch

from flyvis.datasets.sintel_errors import SintelNotFoundError
from flyvis.datasets.sintel_files import read_dpt, read_flo, read_png_luminance

__all__ = [
    "sample_lum",
    "sample_flow",
    "sample_depth",
    "frame_files",
    "load_sequence",
]

PathLike = Union[str, os.PathLike]


# ---------------------------------------------------------------------------
# frame readers


def sample_lum(path: PathLike) -> np.ndarray:
    """Luminance of one Sintel frame.

    Args:
        path: PNG file.

    Returns:
        float32 ``(H, W)`` in ``[0, 1]`` (PIL ``"L"`` luma / 255).
    """
    return read_png_luminance(path)


def sample_flow(path: PathLike) -> np.ndarray:
    """Optic flow of one Sintel frame in flyvis units.

    Args:
        path: ``.flo`` file (pixels per frame, u right, v down).

    Returns:
        float32 ``(2, H, W)``: ``(x, y)`` in image heights per frame (divided by
        ``H``, 436 for Sintel), x to the right and **y upwards** (v negated).
    """
    flow = read_flo(path)
    height = flow.shape[0]
    return np.stack([flow[..., 0] / height, -flow[..., 1] / height]).astype(np.float32)


def sample_depth(path: PathLike) -> np.ndarray:
    """Depth of one Sintel frame.

    Args:
        path: ``.dpt`` file.

    Returns:
        float32 ``(H, W)`` depth (Sintel units, no conversion).
    """
    return read_dpt(path)


def frame_files(path: PathLike) -> List[Path]:
    """Files of a scene directory in sorted order (hidden files ignored).

    Args:
        path: Scene directory.

    Returns:
        Sorted list of file paths.

    Raises:
        SintelNotFoundError: If ``path`` is not a directory.
    """
    path = Path(path)
    if not path.is_dir():
        raise SintelNotFoundError(f"Sintel scene directory {path} does not exist.")
    return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


def load_sequence(
    path: PathLike,
    sample_function: Callable[[Path], np.ndarray],
    start: int = 0,
    end: Optional[int] = None,
    as_tensor: bool = True,
) -> Union[torch.Tensor, np.ndarray]:
    """Loads the frames ``[start:end]`` of a scene directory.

    Args:
        path: Scene directory (e.g. ``training/final/alley_1``).
        sample_function: Reader of one file (:func:`sample_lum`,
            :func:`sample_flow`, :func:`sample_depth`).
        start: First file (in sorted order).
        end: One past the last file (None: to the end).
        as_tensor: Return a float32 tensor instead of a numpy array.

    Returns:
        The stacked frames ``(frames, ...)``.

    Raises:
        ValueError: If no file is selected or the frames differ in shape.
    """
    files = frame_files(path)[start:end]
    if not files:
        raise ValueError(f"no frames in {path} for the range [{start}:{end}].")
    frames = []
    for file in files:
        frame = sample_function(file)
        if frames and frame.shape != frames[0].shape:
            raise ValueError(
                f"wrong frame size within scene {Path(path).name}: {file.name} has "
                f"shape {frame.shape}, {files[0].name} has {frames[0].shape}."
            )
        frames.append(frame)
    array = np.stack(frames).astype(np.float32, copy=False)
    return torch.from_numpy(array) if as_tensor else array
