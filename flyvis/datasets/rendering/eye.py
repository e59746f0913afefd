"""Fly eye models that render cartesian movies onto the hexagonal photoreceptor array.

:class:`BoxEye` is the eye used for training and all datasets in flyvis: every
photoreceptor averages (or sums, or takes the median of) a square box of pixels
around its centre on a hexagonal lattice of receptor centres.

Source: flyvis 1.2.0 as specified in ``spec/rendering.md`` §1 (receptor
placement, filtering, sampling) and ``spec/hex-lattice.md`` §1.1 (canonical
hexal order). ``HexEye`` (geometrically exact hexagonal pooling) is not
implemented yet.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import flyvis
from flyvis.datasets.rendering.utils import median, median_padding
from flyvis.utils.checks import all_finite
from flyvis.utils.hex_utils import get_hex_coords

__all__ = ["BoxEye"]

#: Filter types accepted by :meth:`BoxEye.__call__`.
FTYPES = ("mean", "sum", "median")

#: Upper bound on the number of gathered window values held at once when
#: sampling filtered receptor values (2**25 floats = 128 MiB in float32).
_MAX_GATHER_ELEMENTS = 2**25


def _check_int(value: Any, name: str, minimum: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or int(value) < minimum
    ):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


class BoxEye:
    """Box-filter eye: renders ``(samples, frames, H, W)`` movies to hexals.

    Receptor ``(u, v)`` (canonical hexal order, ``hex-lattice.md`` §1.1) sits at
    the pixel offset ``row = trunc(d * (u + v / 2))``, ``col = d * v`` from the
    frame centre (``d = kernel_size``; truncation toward zero, e.g. -188.5 ->
    -188); ``+u`` points down the image and ``+v`` right (and half a spacing
    down). Each receptor reports the box average (``"mean"``), box sum
    (``"sum"``) or median (``"median"``) of the ``d x d`` pixels around its
    centre. Horizontal and vertical receptor spacing are both ``d`` pixels (the
    lattice is not geometrically exact, as in flyvis 1.2.0).

    Source: ``spec/rendering.md`` §1.

    Args:
        extent: Lattice radius in receptors (15 -> 721 receptors, 31 across).
        kernel_size: Box side length ``d`` in pixels; also the receptor spacing.

    Attributes:
        extent: Lattice radius.
        kernel_size: Box side length ``d`` in pixels.
        receptor_centers: ``torch.long`` tensor ``(hexals, 2)`` of
            ``(row, col)`` pixel offsets from the frame centre (CPU).
        hexals: Number of receptors (721 for the defaults).
        min_frame_size: ``torch.long`` tensor ``[2 * extent * d + 1] * 2``
            (``[391, 391]`` for the defaults); smaller frames are resized to it.
        pad: Zero padding ``(left, right, top, bottom)`` of the box filter,
            ``(ceil((d - 1) / 2), floor((d - 1) / 2)) * 2`` = ``(6, 6, 6, 6)``.

    Raises:
        ValueError: If ``extent`` is not an integer >= 0 or ``kernel_size`` is
            not an integer >= 1.

    Example:
        >>> eye = BoxEye()
        >>> eye(torch.rand(1, 1, 64, 64)).shape  # upsampled to 391 x 391 first
        torch.Size([1, 1, 1, 721])
    """

    def __init__(self, extent: int = 15, kernel_size: int = 13):
        self.extent = _check_int(extent, "extent", 0)
        self.kernel_size = d = _check_int(kernel_size, "kernel_size", 1)
        u, v = get_hex_coords(self.extent)
        # trunc(d * (u + v / 2)) computed exactly in integers
        twice_row = d * (2 * u + v)
        rows = np.sign(twice_row) * (np.abs(twice_row) // 2)
        cols = d * v
        self.receptor_centers = torch.from_numpy(np.stack([rows, cols], axis=1)).long()
        self.hexals = int(self.receptor_centers.shape[0])
        self.min_frame_size = (
            self.receptor_centers.max(dim=0).values
            - self.receptor_centers.min(dim=0).values
            + 1
        )
        p = (d - 1) / 2
        self.pad = (math.ceil(p), math.floor(p), math.ceil(p), math.floor(p))
        self._conv: nn.Conv2d | None = None
        self._index_cache: dict[tuple, torch.Tensor] = {}

    def __repr__(self) -> str:
        return f"BoxEye(extent={self.extent}, kernel_size={self.kernel_size})"

    # ------------------------------------------------------------------
    # public API

    @property
    def conv(self) -> nn.Conv2d:
        """The ``d x d`` all-ones box convolution (bias 0, no gradients, CPU).

        Kept for API compatibility with flyvis 1.2.0; :meth:`__call__` uses
        equivalent vectorised operations on the input's device instead. Built
        lazily without random initialisation (the global RNG is not touched).
        """
        if self._conv is None:
            d = self.kernel_size
            conv = nn.utils.skip_init(nn.Conv2d, 1, 1, kernel_size=d, stride=1, padding=0)
            with torch.no_grad():
                conv.weight.fill_(1.0)
                conv.bias.zero_()
            conv.weight.requires_grad_(False)
            conv.bias.requires_grad_(False)
            self._conv = conv
        return self._conv

    def __call__(
        self,
        sequence: torch.Tensor | np.ndarray,
        ftype: str = "mean",
        hex_sample: bool = True,
    ) -> torch.Tensor:
        """Renders cartesian movies onto the receptor array.

        Steps (``spec/rendering.md`` §1.2):

        1. Frames smaller than ``min_frame_size`` in either axis are resized to
           exactly ``min_frame_size`` (both axes, aspect ratio not kept) with
           bilinear interpolation, half-pixel centres and antialiasing (as
           torchvision >= 0.17 ``resize``). Larger frames are kept; the array
           then covers only their central part.
        2. ``"mean"``: zero-pad by ``pad``, ``d x d`` box sum, divided by
           ``d**2`` (receptors on the frame edge average in zeros).
           ``"sum"``: the box sum. ``"median"``: median over the ``d x d``
           window with reflect padding (:func:`~.utils.median`).
        3. With ``hex_sample`` the filtered frames are sampled at the receptor
           centres shifted by ``(H // 2, W // 2)``. Only the receptor windows
           are evaluated in that case (identical values, far less work).

        Args:
            sequence: Movies ``(samples, frames, height, width)``, luminance
                (typically 0..1), as tensor or numpy array of any real dtype.
                Tensors are processed on their device; numpy arrays are moved
                to ``flyvis.device``. Computation is in float32.
            ftype: ``"mean"``, ``"sum"`` or ``"median"``.
            hex_sample: Sample the receptors (``True``) or return the filtered
                cartesian frames (``False``).

        Returns:
            float32 tensor ``(samples, frames, 1, hexals)`` of receptor values
            (same units as the input; box sums for ``"sum"``), or with
            ``hex_sample=False`` the filtered frames ``(samples, frames, H', W')``
            (``H', W'`` the possibly resized frame size).

        Raises:
            ValueError: If ``ftype`` is unknown, ``sequence`` is not 4-D or
                contains NaN/inf values.
        """
        if ftype not in FTYPES:
            raise ValueError(f"Unknown ftype {ftype!r}; valid ftypes are {FTYPES}.")
        x = self._prepare(sequence)
        x = self._resize(x)
        if hex_sample:
            return self._filter_at_receptors(x, ftype)
        return self._filter_frames(x, ftype)

    def hex_render(self, sequence: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Point-samples frames at the receptor centres (no filtering).

        Frames smaller than ``min_frame_size`` are resized first (as in
        :meth:`__call__`); samples are taken at ``(H // 2 + row, W // 2 + col)``.

        Source: ``spec/rendering.md`` §1.3.

        Args:
            sequence: Movies ``(samples, frames, height, width)`` (tensor or
                numpy array; luminance).

        Returns:
            float32 tensor ``(samples, frames, 1, hexals)``.

        Raises:
            ValueError: If ``sequence`` is not 4-D or contains NaN/inf values.
        """
        x = self._resize(self._prepare(sequence))
        s, f, h, w = x.shape
        idx = self._receptor_flat_index(h, w, x.device)
        out = torch.index_select(x.reshape(s * f, h * w), 1, idx)
        return out.reshape(s, f, 1, self.hexals)

    def frame_region(self, frame_size) -> tuple:
        """The part of a frame this eye reads, centred as the frame.

        Receptors sit relative to the centre ``(H // 2, W // 2)`` of the frame
        the eye is given. This returns the rows and columns ``(r0, r1, c0, c1)``
        of the smallest crop with the same centre pixel (odd size ``2 m + 1``)
        that holds every receptor's box, so that the eye reads the same values
        from the crop as from the whole frame (renderers can skip the rest).
        An axis that the boxes do not fit into, or a frame the eye would
        resize (smaller than :attr:`min_frame_size`), is not cropped.

        Args:
            frame_size: ``(H, W)`` of the whole frame in pixels.

        Returns:
            ``(r0, r1, c0, c1)``: rows ``r0 .. r1 - 1``, columns ``c0 .. c1 - 1``.
        """
        height, width = (int(n) for n in frame_size)
        if height < int(self.min_frame_size[0]) or width < int(self.min_frame_size[1]):
            return 0, height, 0, width
        d, before = self.kernel_size, self.pad[0]  # a box: offsets -before .. d-1-before
        bounds = []
        for axis, size in enumerate((height, width)):
            offsets = self.receptor_centers[:, axis]
            half = max(before - int(offsets.min()), int(offsets.max()) + d - 1 - before)
            centre = size // 2
            if centre - half < 0 or centre + half + 1 > size:
                bounds += [0, size]
            else:
                bounds += [centre - half, centre + half + 1]
        return tuple(bounds)

    # ------------------------------------------------------------------
    # internals

    def _prepare(self, sequence: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Validates the input and returns a float32 tensor."""
        if isinstance(sequence, np.ndarray):
            x = torch.from_numpy(np.asarray(sequence)).to(flyvis.device)
        elif isinstance(sequence, torch.Tensor):
            x = sequence
        else:
            raise ValueError(
                "sequence must be a torch.Tensor or numpy array of shape "
                f"(samples, frames, height, width), got {type(sequence).__name__}."
            )
        if x.ndim != 4:
            raise ValueError(
                "sequence must be 4-D with shape (samples, frames, height, width), "
                f"got shape {tuple(x.shape)}."
            )
        if x.is_complex() or x.dtype == torch.bool:
            raise ValueError(f"sequence must have a real dtype, got {x.dtype}.")
        x = x.detach().to(torch.float32)
        if not all_finite(x):
            raise ValueError(
                "sequence contains NaN or inf values; expected finite luminances."
            )
        return x

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        s, f, h, w = x.shape
        mh, mw = (int(m) for m in self.min_frame_size)
        if h >= mh and w >= mw:
            return x
        if s * f == 0:
            return x.new_zeros((s, f, mh, mw))
        y = F.interpolate(
            x.reshape(s * f, 1, h, w),
            size=(mh, mw),
            mode="bilinear",
            align_corners=False,
            antialias=True,
        )
        return y.reshape(s, f, mh, mw)

    def _receptor_flat_index(self, h: int, w: int, device: torch.device) -> torch.Tensor:
        """Flat pixel index of each receptor centre in an ``h x w`` frame."""
        key = ("point", h, w, str(device))
        if key not in self._index_cache:
            rows = self.receptor_centers[:, 0] + h // 2
            cols = self.receptor_centers[:, 1] + w // 2
            self._index_cache[key] = (rows * w + cols).to(device)
        return self._index_cache[key]

    def _window_flat_index(
        self, h: int, w: int, before: int, after: int, device: torch.device
    ) -> torch.Tensor:
        """Flat indices ``(d * d * hexals,)`` of the receptor windows.

        Ordered window-position-major (row-major over the ``d x d`` window),
        then by receptor, so that ``values.reshape(n, d * d, hexals)[:, k]`` is
        window position ``k`` of every receptor. Indices refer to the frame
        padded by ``before``/``after`` pixels on each axis; the window of a
        receptor at image pixel ``(r, c)`` covers padded rows
        ``r .. r + d - 1`` and columns ``c .. c + d - 1``, i.e. image rows
        ``r - before .. r + d - 1 - before`` (centred for odd ``d``).
        """
        key = ("window", h, w, before, after, str(device))
        if key not in self._index_cache:
            d = self.kernel_size
            wp = w + before + after
            rows = self.receptor_centers[:, 0] + h // 2
            cols = self.receptor_centers[:, 1] + w // 2
            k = torch.arange(d)
            win_r = rows[None, None, :] + k[:, None, None]
            win_c = cols[None, None, :] + k[None, :, None]
            self._index_cache[key] = (win_r * wp + win_c).reshape(-1).to(device)
        return self._index_cache[key]

    def _filter_at_receptors(self, x: torch.Tensor, ftype: str) -> torch.Tensor:
        s, f, h, w = x.shape
        d = self.kernel_size
        n = s * f
        frames = x.reshape(n, h, w)
        if ftype == "median":
            before, after = median_padding(d)
            pad_mode = "reflect"
            if n and (after >= h or after >= w):
                raise ValueError(
                    f"frames of size {h}x{w} are too small for a {d}x{d} median "
                    "filter with reflect padding."
                )
        else:
            before, after = self.pad[0], self.pad[1]
            pad_mode = "constant"
        idx = self._window_flat_index(h, w, before, after, x.device)
        out = x.new_empty((n, self.hexals))
        chunk = max(1, _MAX_GATHER_ELEMENTS // max(idx.numel(), 1))
        for start in range(0, n, chunk):
            part = frames[start : start + chunk, None]
            padded = F.pad(part, (before, after, before, after), mode=pad_mode)
            values = torch.index_select(padded.reshape(part.shape[0], -1), 1, idx)
            values = values.reshape(part.shape[0], d * d, self.hexals)
            if ftype == "median":
                out[start : start + chunk] = values.median(dim=1).values
            else:
                # sequential accumulation in row-major window order: bit-identical
                # to the CPU all-ones convolution of flyvis 1.2.0 (a pairwise
                # tree sum deviates by ~10 ulp on box sums ~150)
                acc = values[:, 0].clone()
                for k in range(1, d * d):
                    acc += values[:, k]
                out[start : start + chunk] = acc
        if ftype == "mean":
            out = out / d**2
        return out.reshape(s, f, 1, self.hexals)

    def _filter_frames(self, x: torch.Tensor, ftype: str) -> torch.Tensor:
        s, f, h, w = x.shape
        d = self.kernel_size
        if ftype == "median":
            return median(x, d)
        frames = F.pad(x.reshape(s * f, 1, h, w), self.pad, mode="constant", value=0.0)
        ones = torch.ones((1, 1, d, d), dtype=x.dtype, device=x.device)
        frames = F.conv2d(frames, ones)  # d x d box sum, as flyvis 1.2.0
        if ftype == "mean":
            frames = frames / d**2
        return frames.reshape(s, f, h, w)
