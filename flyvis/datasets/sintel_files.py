"""Readers and writers of the MPI-Sintel file formats (``.flo``, ``.dpt``, PNG).

* ``.flo`` (Middlebury optic flow): float32 magic ``202021.25`` (the bytes
  ``b"PIEH"``), int32 width ``W``, int32 height ``H``, then ``H * W * 2`` float32
  values, row-major, interleaved ``(u, v)`` per pixel (pixels per frame, u to
  the right, v downwards). All little-endian.
* ``.dpt`` (Sintel depth): float32 tag ``202021.25``, int32 ``W``, int32 ``H``,
  then ``H * W`` float32 depth values, row-major.
* PNG frames: read as 8-bit greyscale (PIL ``"L"``, ITU-R 601 luma) / 255.

Readers validate the header and the file size and raise :class:`ValueError`
with the file name on a bad magic number, implausible sizes or a truncated
file. Writers produce exactly the layout above (used by the tests to build a
fake Sintel tree).

Source: ``spec/datasets.md`` §2.3, §11.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Union

import numpy as np

__all__ = [
    "TAG_FLOAT",
    "TAG_BYTES",
    "read_flo",
    "write_flo",
    "read_dpt",
    "write_dpt",
    "read_flo_header",
    "read_dpt_header",
    "read_png_luminance",
    "write_png",
    "png_size",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

#: Magic number / tag of ``.flo`` and ``.dpt`` files (float32).
TAG_FLOAT = 202021.25
#: The magic number as bytes (little-endian float32 202021.25 = ``b"PIEH"``).
TAG_BYTES = np.array([TAG_FLOAT], dtype="<f4").tobytes()
#: Largest accepted width or height (pixels) of a flow or depth file.
MAX_SIDE = 100_000

_HEADER_BYTES = 12


def _read_header(path: Path, kind: str) -> tuple[bytes, int, int]:
    with open(path, "rb") as f:
        header = f.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES:
        raise ValueError(
            f"{path}: truncated {kind} file ({len(header)} bytes; the header alone "
            f"has {_HEADER_BYTES})."
        )
    width, height = (int(x) for x in np.frombuffer(header[4:], dtype="<i4"))
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"{path}: invalid {kind} size W={width}, H={height}.")
    return header[:4], width, height


def _check_size(path: Path, kind: str, width: int, height: int, channels: int) -> None:
    expected = _HEADER_BYTES + 4 * width * height * channels
    actual = path.stat().st_size
    if actual != expected:
        state = "truncated" if actual < expected else "oversized"
        raise ValueError(
            f"{path}: {state} {kind} file: {actual} bytes, expected {expected} "
            f"for W={width}, H={height}."
        )


def read_flo_header(path: PathLike) -> tuple[int, int]:
    """Validates a ``.flo`` header and the file size.

    Args:
        path: The ``.flo`` file.

    Returns:
        ``(width, height)`` in pixels.

    Raises:
        ValueError: On a bad magic number, invalid sizes or a wrong file size.
    """
    path = Path(path)
    magic, width, height = _read_header(path, ".flo")
    if magic != TAG_BYTES:
        value = float(np.frombuffer(magic, dtype="<f4")[0])
        raise ValueError(
            f"{path}: not a Middlebury .flo file: magic number {value!r} "
            f"(bytes {magic!r}), expected {TAG_FLOAT} (bytes {TAG_BYTES!r})."
        )
    _check_size(path, ".flo", width, height, 2)
    return width, height


def read_flo(path: PathLike) -> np.ndarray:
    """Reads a Middlebury ``.flo`` optic-flow file.

    Args:
        path: The ``.flo`` file.

    Returns:
        float32 array ``(H, W, 2)``: ``(u, v)`` per pixel in pixels per frame,
        u to the right, v downwards (image axes, as stored).

    Raises:
        ValueError: On a bad magic number or a truncated file.
    """
    path = Path(path)
    width, height = read_flo_header(path)
    data = np.fromfile(path, dtype="<f4", offset=_HEADER_BYTES)
    return data.reshape(height, width, 2).astype(np.float32, copy=False)


def write_flo(path: PathLike, flow: np.ndarray) -> Path:
    """Writes a Middlebury ``.flo`` file.

    Args:
        path: Target file (overwritten).
        flow: ``(H, W, 2)`` array of ``(u, v)`` in pixels per frame.

    Returns:
        The path.

    Raises:
        ValueError: If ``flow`` is not ``(H, W, 2)``.
    """
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must have shape (H, W, 2), got {flow.shape}.")
    height, width = flow.shape[:2]
    path = Path(path)
    with open(path, "wb") as f:
        f.write(TAG_BYTES)
        f.write(np.array([width, height], dtype="<i4").tobytes())
        f.write(np.ascontiguousarray(flow, dtype="<f4").tobytes())
    return path


def read_dpt_header(path: PathLike) -> tuple[int, int]:
    """Validates a ``.dpt`` header and the file size.

    A tag other than ``202021.25`` is accepted with a warning if width, height
    and file size are consistent (some tools write an integer tag).

    Args:
        path: The ``.dpt`` file.

    Returns:
        ``(width, height)`` in pixels.

    Raises:
        ValueError: On invalid sizes or a wrong file size.
    """
    path = Path(path)
    tag, width, height = _read_header(path, ".dpt")
    _check_size(path, ".dpt", width, height, 1)
    if tag != TAG_BYTES:
        logger.warning(
            "%s: unexpected .dpt tag %r (expected %s); reading it anyway.",
            path,
            tag,
            TAG_FLOAT,
        )
    return width, height


def read_dpt(path: PathLike) -> np.ndarray:
    """Reads a Sintel ``.dpt`` depth file.

    Args:
        path: The ``.dpt`` file.

    Returns:
        float32 array ``(H, W)`` of depth values (no unit conversion).

    Raises:
        ValueError: On invalid sizes or a truncated file.
    """
    path = Path(path)
    width, height = read_dpt_header(path)
    data = np.fromfile(path, dtype="<f4", offset=_HEADER_BYTES)
    return data.reshape(height, width).astype(np.float32, copy=False)


def write_dpt(path: PathLike, depth: np.ndarray) -> Path:
    """Writes a Sintel ``.dpt`` depth file (float tag ``202021.25``).

    Args:
        path: Target file (overwritten).
        depth: ``(H, W)`` depth array.

    Returns:
        The path.

    Raises:
        ValueError: If ``depth`` is not 2-D.
    """
    depth = np.asarray(depth)
    if depth.ndim != 2:
        raise ValueError(f"depth must have shape (H, W), got {depth.shape}.")
    height, width = depth.shape
    path = Path(path)
    with open(path, "wb") as f:
        f.write(TAG_BYTES)
        f.write(np.array([width, height], dtype="<i4").tobytes())
        f.write(np.ascontiguousarray(depth, dtype="<f4").tobytes())
    return path


def read_png_luminance(path: PathLike) -> np.ndarray:
    """Reads an image as luminance in ``[0, 1]``.

    The image is converted to 8-bit greyscale with PIL (``"L"`` mode, ITU-R 601
    luma ``L = 0.299 R + 0.587 G + 0.114 B`` with PIL's integer rounding) and
    divided by 255.

    Args:
        path: Image file (PNG or any format PIL reads).

    Returns:
        float32 array ``(H, W)``.

    Raises:
        ValueError: If the file cannot be read as an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            grey = np.asarray(image.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{path}: cannot read image: {error}") from error
    return grey / 255


def png_size(path: PathLike) -> tuple[int, int]:
    """Size of an image without decoding it.

    Args:
        path: Image file.

    Returns:
        ``(width, height)`` in pixels.

    Raises:
        ValueError: If the file cannot be read as an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return tuple(image.size)
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{path}: cannot read image: {error}") from error


def write_png(path: PathLike, image: np.ndarray) -> Path:
    """Writes an 8-bit PNG.

    Args:
        path: Target file.
        image: ``(H, W)`` greyscale or ``(H, W, 3)`` RGB array; uint8, or floats
            in ``[0, 1]`` (scaled by 255 and rounded).

    Returns:
        The path.
    """
    from PIL import Image

    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    Image.fromarray(image).save(path, format="PNG")
    return Path(path)
