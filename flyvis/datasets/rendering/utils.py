"""Helpers for rendering and preparing stimuli.

Cartesian-frame filters (:func:`median`), spatial cropping/splitting of wide
frames (:func:`center_crop`, :func:`split`) and temporal utilities that act on
the frame axis of movies (:func:`resample`, :func:`pad`, :func:`repeat_last`,
:func:`shuffle`).

Source: flyvis 1.2.0 behaviour as specified in ``spec/rendering.md`` §3 and
``spec/datasets.md`` §3.1 and §9. Bar/grating rendering and the ``HexEye``
helpers are not part of this module yet.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "median",
    "split",
    "center_crop",
    "resample",
    "pad",
    "repeat_last",
    "shuffle",
]

#: Upper bound on the number of float elements of the unfolded window tensor that
#: :func:`median` materialises at once (2**25 floats = 128 MiB in float32).
MEDIAN_MAX_ELEMENTS = 2**25


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


# ---------------------------------------------------------------------------
# spatial filters


def median_padding(kernel_size: int) -> tuple[int, int]:
    """Reflect padding ``(before, after)`` used by :func:`median` on each axis.

    ``p = kernel_size - 1`` is split as ``(p // 2, p - p // 2)``, so for odd
    kernels the window is centred on the pixel (13 -> ``(6, 6)``) and for even
    kernels it extends one pixel further after the pixel than before it.

    Args:
        kernel_size: Side length of the square window in pixels.

    Returns:
        ``(before, after)`` padding in pixels.
    """
    p = int(kernel_size) - 1
    return p // 2, p - p // 2


def median(
    x: torch.Tensor | np.ndarray,
    kernel_size: int,
    stride: int = 1,
    n_chunks: int | None = None,
) -> torch.Tensor:
    """Median filter over square windows with reflect padding.

    Every frame is padded with ``torch`` ``"reflect"`` padding (the edge pixel
    is not repeated: ``d c b | a b c d``, which is scipy's ``mode="mirror"``,
    not scipy's ``mode="reflect"``) by ``(p // 2, p - p // 2)`` pixels on each
    axis, ``p = kernel_size - 1``, and each output pixel is the median of the
    ``kernel_size x kernel_size`` window whose top-left corner is the padded
    pixel at ``(stride * i, stride * j)``. For an even number of window
    elements the lower of the two middle values is returned (``torch.median``).

    The windows are extracted with ``unfold`` and processed in chunks of frames
    so that at most :data:`MEDIAN_MAX_ELEMENTS` window values are held at once.
    The input is never modified.

    Source: ``spec/rendering.md`` §1.2 (``ftype="median"``) and §3.

    Args:
        x: Frames of shape ``(H, W)``, ``(frames, H, W)`` or
            ``(samples, frames, H, W)`` (pixels; any luminance units).
        kernel_size: Side length of the square window in pixels (>= 1).
        stride: Step between windows in pixels (>= 1). With ``stride=1`` the
            output has the input shape.
        n_chunks: Minimum number of chunks the frames are split into; ``None``
            chooses the number from the memory bound only.

    Returns:
        Median-filtered frames as a tensor (numpy input becomes a CPU tensor)
        with the leading axes of ``x`` and spatial size
        ``((H - 1) // stride + 1, (W - 1) // stride + 1)``; equal to the input
        shape for ``stride=1``. Floating inputs keep their dtype; integer
        inputs are filtered as float32.

    Raises:
        ValueError: If ``x`` is not 2-, 3- or 4-D, if ``kernel_size`` or
            ``stride`` is not a positive integer, or if the frames are too small
            for reflect padding (each side must exceed its padding).
    """
    kernel_size = _check_positive_int(kernel_size, "kernel_size")
    stride = _check_positive_int(stride, "stride")
    if n_chunks is not None:
        n_chunks = _check_positive_int(n_chunks, "n_chunks")
    x = torch.as_tensor(x)
    if x.ndim not in (2, 3, 4):
        raise ValueError(
            "median expects a 2-D (H, W), 3-D (frames, H, W) or 4-D "
            f"(samples, frames, H, W) input, got shape {tuple(x.shape)}."
        )
    if not torch.is_floating_point(x):
        x = x.float()
    lead, (h, w) = tuple(x.shape[:-2]), tuple(x.shape[-2:])
    before, after = median_padding(kernel_size)
    if after >= h or after >= w:
        raise ValueError(
            f"frames of size {h}x{w} are too small for reflect padding of "
            f"{(before, after)} pixels (kernel_size={kernel_size}); each side must "
            f"be larger than {after}."
        )
    h_out = (h - 1) // stride + 1
    w_out = (w - 1) // stride + 1
    frames = x.reshape(-1, 1, h, w)  # a view or a copy; never written to
    n = frames.shape[0]
    per_frame = kernel_size * kernel_size * h_out * w_out
    chunk = max(1, MEDIAN_MAX_ELEMENTS // max(per_frame, 1))
    if n_chunks is not None:
        chunk = min(chunk, max(1, math.ceil(n / n_chunks)))
    out = torch.empty((n, h_out * w_out), dtype=x.dtype, device=x.device)
    for start in range(0, n, chunk):
        part = frames[start : start + chunk]
        padded = F.pad(part, (before, after, before, after), mode="reflect")
        windows = F.unfold(padded, kernel_size=kernel_size, stride=stride)
        out[start : start + chunk] = windows.median(dim=1).values
    return out.reshape(*lead, h_out, w_out)


# ---------------------------------------------------------------------------
# spatial crops


def center_crop(array: np.ndarray | torch.Tensor, out_nelements_ratio: float):
    """Keeps the central part of the last axis.

    With ``n = array.shape[-1]`` and ``m = int(out_nelements_ratio * n)`` the
    slice ``[(n - m) // 2, (n + m) // 2)`` is kept (e.g. 1024 and 0.7 ->
    columns ``[154, 870)``, 716 wide).

    Source: ``spec/rendering.md`` §3, ``spec/datasets.md`` §3.1.

    Args:
        array: numpy array or tensor; the last axis is cropped (pixels).
        out_nelements_ratio: Fraction of the last axis to keep (0..1).

    Returns:
        The cropped array (a view), same type as the input.
    """
    n = array.shape[-1]
    m = int(out_nelements_ratio * n)
    return array[..., (n - m) // 2 : (n + m) // 2]


def split(
    array: np.ndarray | torch.Tensor,
    out_nelements: int,
    n_splits: int | None,
    center_crop_fraction: float | None = 0.7,
):
    """Cuts the last axis into evenly overlapping windows.

    Optionally centre-crops the last axis to ``int(center_crop_fraction * n)``
    elements (:func:`center_crop`), then takes ``n_splits`` windows of width
    ``w = max(out_nelements, int(N / n_splits))`` (``N`` = cropped width) that
    overlap by ``o = ceil((w * n_splits - N) / (n_splits - 1))``: window ``i``
    covers ``[i * (w - o), i * (w - o) + w)``, so the last window may stop
    short of ``N``. Used to cut a 436 x 1024 Sintel frame into three
    436 x 417 strips (crop 0.7 -> 716 columns; windows ``[0, 417)``,
    ``[149, 566)``, ``[298, 715)``).

    Source: ``spec/datasets.md`` §3.1, ``spec/rendering.md`` §3.

    Args:
        array: numpy array or tensor ``(..., N)`` (last axis in pixels).
        out_nelements: Minimum window width in elements.
        n_splits: Number of windows. ``1`` only adds the leading axis;
            ``0`` or ``None`` returns the (cropped) array unchanged.
        center_crop_fraction: Fraction kept by the central crop, or ``None``
            for no crop.

    Returns:
        ``(n_splits, ..., w)`` windows stacked on a new leading axis (same
        type as the input), or the array itself for ``n_splits`` 0/``None``.

    Raises:
        ValueError: If ``n_splits`` is negative.
    """
    if n_splits is not None and n_splits < 0:
        raise ValueError(f"n_splits must be non-negative or None, got {n_splits}.")
    if center_crop_fraction is not None:
        array = center_crop(array, center_crop_fraction)
    n = array.shape[-1]
    if n_splits == 1:
        return array[None]
    if n_splits in (None, 0):
        return array
    out = max(int(out_nelements), int(n / n_splits))
    overlap = math.ceil((out * n_splits - n) / (n_splits - 1))
    step = out - overlap
    splits = [array[..., i * step : i * step + out] for i in range(n_splits)]
    if isinstance(array, torch.Tensor):
        return torch.stack(splits, dim=0)
    return np.stack(splits, axis=0)


# ---------------------------------------------------------------------------
# temporal helpers


def resample(
    stims: torch.Tensor | np.ndarray,
    t_stim: float,
    dt: float,
    dim: int = 0,
    device: torch.device | str | None = None,
    return_indices: bool = False,
):
    """Resamples a stimulus to ``int(t_stim / dt)`` frames by nearest indices.

    The frame indices are ``torch.linspace(0, n - 1, int(t_stim / dt))``
    (float32) truncated to integers, ``n = stims.shape[dim]``; for upsampling
    this repeats frames unequally (counts differ by at most one).

    Source: ``spec/rendering.md`` §3, ``spec/datasets.md`` §9.

    Args:
        stims: Stimulus tensor or numpy array with a frame axis ``dim``.
        t_stim: Target duration in seconds.
        dt: Time step in seconds.
        dim: Frame axis.
        device: Device of the returned tensor; ``None`` keeps the input's
            device. numpy input returns numpy unless a device is given.
        return_indices: Also return the selected indices.

    Returns:
        The resampled stimulus with ``int(t_stim / dt)`` frames along ``dim``,
        and, if ``return_indices``, the ``torch.long`` indices used.
    """
    n_out = int(t_stim / dt)
    n_in = stims.shape[dim]
    indices = torch.linspace(0, n_in - 1, n_out, dtype=torch.float32).long()
    if isinstance(stims, np.ndarray) and device is None:
        out = np.take(stims, indices.numpy(), axis=dim)
    else:
        stims = torch.as_tensor(stims)
        if device is not None:
            stims = stims.to(device)
        out = torch.index_select(stims, dim, indices.to(stims.device))
    if return_indices:
        return out, indices
    return out


def pad(
    stim: torch.Tensor | np.ndarray,
    t_stim: float,
    dt: float,
    fill: float = 0,
    mode: str = "end",
    pad_mode: str = "value",
):
    """Pads the frame axis (second-to-last) up to ``int(t_stim / dt)`` frames.

    Source: ``spec/rendering.md`` §3, ``spec/datasets.md`` §9.

    Args:
        stim: Stimulus ``(..., frames, features)`` (at least 2-D), e.g.
            ``(frames, hexals)``; numpy input returns numpy.
        t_stim: Target duration in seconds.
        dt: Time step in seconds.
        fill: Constant used with ``pad_mode="value"``.
        mode: ``"end"`` appends frames, ``"start"`` prepends them.
        pad_mode: ``"value"`` (constant ``fill``), ``"continue"`` (repeat the
            edge frame: the last frame for ``"end"``, the first for
            ``"start"``), or a torch padding mode ``"reflect"``,
            ``"replicate"`` or ``"circular"``.

    Returns:
        The padded stimulus with ``max(frames, int(t_stim / dt))`` frames; an
        input that is already long enough is returned unchanged.

    Raises:
        ValueError: For an unknown ``mode``/``pad_mode`` or an input with
            fewer than 2 axes.
    """
    if mode not in ("end", "start"):
        raise ValueError(f"mode must be 'end' or 'start', got {mode!r}.")
    valid = ("value", "continue", "reflect", "replicate", "circular")
    if pad_mode not in valid:
        raise ValueError(f"pad_mode must be one of {valid}, got {pad_mode!r}.")
    if stim.ndim < 2:
        raise ValueError(
            f"pad expects at least 2 axes (..., frames, features), got {stim.ndim}."
        )
    is_numpy = isinstance(stim, np.ndarray)
    x = torch.as_tensor(stim)
    n_frames = int(t_stim / dt)
    diff = n_frames - x.shape[-2]
    if diff <= 0:
        return stim
    before, after = (0, diff) if mode == "end" else (diff, 0)
    shape = x.shape
    x4 = x.reshape(1, -1, shape[-2], shape[-1])
    if pad_mode == "value":
        out = F.pad(x4, (0, 0, before, after), mode="constant", value=fill)
    else:
        torch_mode = "replicate" if pad_mode == "continue" else pad_mode
        if torch_mode == "reflect" and diff >= shape[-2]:
            raise ValueError(
                f"reflect padding of {diff} frames needs more than {diff} frames, "
                f"got {shape[-2]}."
            )
        if not torch.is_floating_point(x4):
            out = F.pad(x4.double(), (0, 0, before, after), mode=torch_mode).to(x.dtype)
        else:
            out = F.pad(x4, (0, 0, before, after), mode=torch_mode)
    out = out.reshape(*shape[:-2], n_frames, shape[-1])
    return out.numpy() if is_numpy else out


def repeat_last(stim: torch.Tensor | np.ndarray, dim: int, n_repeats: int):
    """Appends ``n_repeats`` copies of the last slice along ``dim``.

    Source: ``spec/rendering.md`` §3.

    Args:
        stim: Tensor or numpy array.
        dim: Axis along which the last slice is repeated.
        n_repeats: Number of copies to append (>= 0).

    Returns:
        Array of the input type with ``stim.shape[dim] + n_repeats`` entries
        along ``dim``.
    """
    if isinstance(stim, np.ndarray):
        last = np.take(stim, [-1], axis=dim)
        return np.concatenate([stim, np.repeat(last, n_repeats, axis=dim)], axis=dim)
    last = stim.narrow(dim, stim.shape[dim] - 1, 1)
    reps = [1] * stim.ndim
    reps[dim] = n_repeats
    return torch.cat([stim, last.repeat(*reps)], dim=dim)


def shuffle(stims: torch.Tensor | np.ndarray, randomstate: Any = None):
    """Randomly permutes frames.

    For 2-D input ``(frames, features)`` the frames are permuted; for 3-D input
    ``(samples, frames, features)`` each sample gets its own permutation.

    Source: ``spec/rendering.md`` §3.

    Args:
        stims: ``(frames, ...)`` or ``(samples, frames, features)`` array or
            tensor.
        randomstate: ``np.random.RandomState`` (or ``Generator``) used for the
            permutations; ``None`` uses numpy's global random state.

    Returns:
        The shuffled stimulus (same type and shape).
    """
    rng = np.random if randomstate is None else randomstate
    if stims.ndim == 3:
        perms = np.stack([rng.permutation(stims.shape[1]) for _ in range(stims.shape[0])])
        rows = np.arange(stims.shape[0])[:, None]
        if isinstance(stims, torch.Tensor):
            perms_t = torch.from_numpy(perms).to(stims.device)
            rows_t = torch.from_numpy(rows).to(stims.device)
            return stims[rows_t, perms_t]
        return stims[rows, perms]
    perm = rng.permutation(stims.shape[0])
    if isinstance(stims, torch.Tensor):
        return stims[torch.from_numpy(perm).to(stims.device)]
    return stims[perm]
