"""Decoders: from network activity to task predictions on the hex lattice.

A decoder maps the activity of the whole network ``(n_samples, n_frames,
n_nodes)`` to a prediction on the hexagonal lattice ``(n_samples, n_frames, C,
n_hexals)``. :class:`DecoderGAVP` (the flyvis default) rectifies the voltages of
the 34 output cell types, scatters them onto a 2-D "map storage" of the axial
coordinates (``(31, 31)`` for extent 15) and applies convolutions with
hexagonally shaped kernels.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from flyvis.utils.activity_utils import LayerActivity
from flyvis.utils.hex_utils import get_hex_coords, get_num_hexals, hex_map_index
from flyvis.utils.nn_utils import n_params

__all__ = [
    "ActivityDecoder",
    "GlobalAvgPool",
    "Conv2dConstWeight",
    "Conv2dHexSpace",
    "DecoderGAVP",
    "Dropout",
    "init_decoder",
]

logger = logging.getLogger(__name__)


class ActivityDecoder(nn.Module):
    """Base class of decoders.

    Args:
        connectome: Connectome providing the cell types, node indices and
            ``config.extent``.

    Attributes:
        dvs_channels: ``LayerActivity`` indexer of the activity by cell type
            (``use_central=False``).
        num_parameters: ``NumberOfParams`` of the decoder.
        u: Axial ``u`` coordinates of the hexals, shifted to start at 0,
            ``(n_hexals,)``.
        v: Axial ``v`` coordinates, shifted to start at 0, ``(n_hexals,)``.
        H: Height of the map storage (``u.max() + 1``, 31 for extent 15).
        W: Width of the map storage (``v.max() + 1``, 31 for extent 15).
    """

    def __init__(self, connectome: Any):
        super().__init__()
        self.dvs_channels = LayerActivity(None, connectome, use_central=False)
        self.num_parameters = n_params(self)
        extent = int(connectome.config.extent)
        # flat position of every hexal in the (H, W) map (tensors cached per device)
        self._map_index_np, self.H, self.W = hex_map_index(extent)
        self.u, self.v = np.divmod(self._map_index_np, self.W)
        self.n_hexals = len(self.u)
        self.n_nodes = self.dvs_channels.n_nodes
        self._map_index: Dict[torch.device, torch.Tensor] = {}

    def _check_activity(self, activity: Any) -> None:
        if not isinstance(activity, torch.Tensor):
            raise ValueError(
                f"{type(self).__name__} expects a torch.Tensor, got {type(activity)}."
            )
        if activity.ndim != 3 or activity.shape[-1] != self.n_nodes:
            raise ValueError(
                f"{type(self).__name__} expects activity of shape (n_samples, "
                f"n_frames, {self.n_nodes}), got {tuple(activity.shape)}."
            )

    def map_index(self, device: torch.device) -> torch.Tensor:
        """Flat indices ``u * W + v`` of the hexals in the map storage.

        Args:
            device: Device of the returned tensor.

        Returns:
            ``torch.long`` tensor ``(n_hexals,)`` on ``device`` (cached).
        """
        index = self._map_index.get(device)
        if index is None:
            index = torch.from_numpy(self._map_index_np).to(device)
            self._map_index[device] = index
        return index

    def forward(self, activity: torch.Tensor) -> LayerActivity:
        """Updates ``dvs_channels`` with the activity and returns it.

        Args:
            activity: Network activity ``(n_samples, n_frames, n_nodes)``.

        Returns:
            The ``LayerActivity`` view ``dvs_channels``.
        """
        self.dvs_channels.update(activity)
        return self.dvs_channels


class GlobalAvgPool(nn.Module):
    """Mean over the last axis."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Averages over the last axis.

        Args:
            x: Tensor ``(..., n)``.

        Returns:
            Tensor ``(...)``.
        """
        return x.mean(dim=-1)


class Conv2dConstWeight(nn.Conv2d):
    """``nn.Conv2d`` whose weights and biases are optionally initialised to a constant.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel size.
        const_weight: If not ``None``, every weight and bias element is set to
            this value; otherwise PyTorch's default initialisation is kept.
        stride: Stride.
        padding: Padding.
        **kwargs: Further ``nn.Conv2d`` arguments.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        const_weight: Optional[float] = None,
        stride: int = 1,
        padding: int = 0,
        **kwargs: Any,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            **kwargs,
        )
        if const_weight is not None:
            with torch.no_grad():
                self.weight.fill_(const_weight)
                if self.bias is not None:
                    self.bias.fill_(const_weight)


class Conv2dHexSpace(Conv2dConstWeight):
    """Convolution with hexagonally shaped kernels on the axial map storage.

    For ``kernel_size > 1`` the kernel taps outside a hex lattice of extent
    ``kernel_size // 2`` (row = ``u``, column = ``v``, shifted to
    ``0 .. k - 1``) are masked: the weight is multiplied by the mask at
    construction and again, in place, at the start of every forward pass, so
    masked taps stay exactly 0 after optimizer updates. For ``k = 5``, 19 of the
    25 taps are active. The mask is a plain attribute (not a buffer, so it is
    not part of the state dict) kept on the CPU and copied to the weight's
    device/dtype when applied.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Odd kernel size.
        const_weight: Constant initial weight and bias (``None``: PyTorch's
            default initialisation).
        stride: Stride.
        padding: Padding.
        compute_dtype: Dtype the convolution runs in (e.g. ``torch.bfloat16``:
            input, weight and bias are cast, the output is cast back); ``None``:
            the input's dtype.
        **kwargs: Further ``nn.Conv2d`` arguments.

    Raises:
        ValueError: If ``kernel_size`` is even.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        const_weight: Optional[float] = 1e-3,
        stride: int = 1,
        padding: int = 0,
        compute_dtype: Optional[torch.dtype] = None,
        **kwargs: Any,
    ):
        if not kernel_size % 2:
            raise ValueError(f"{kernel_size} is even. Must be odd.")
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            const_weight=const_weight,
            stride=stride,
            padding=padding,
            **kwargs,
        )
        self.compute_dtype = compute_dtype
        self.mask: Optional[torch.Tensor] = None
        self._mask_cache: Optional[torch.Tensor] = None
        if kernel_size > 1:
            self.mask = self.hex_mask(out_channels, in_channels, kernel_size)
            self.apply_mask()

    @staticmethod
    def hex_mask(out_channels: int, in_channels: int, kernel_size: int) -> torch.Tensor:
        """Mask of the hexagonal kernel taps.

        Args:
            out_channels: Output channels.
            in_channels: Input channels.
            kernel_size: Odd kernel size ``k``.

        Returns:
            CPU float tensor ``(out_channels, in_channels, k, k)``, 1 at the taps
            of a hex lattice of extent ``k // 2`` and 0 elsewhere.
        """
        radius = kernel_size // 2
        u, v = get_hex_coords(radius)
        mask = torch.zeros(kernel_size, kernel_size, device="cpu")
        mask[torch.from_numpy(u + radius), torch.from_numpy(v + radius)] = 1
        return mask.expand(out_channels, in_channels, kernel_size, kernel_size).clone()

    def apply_mask(self) -> None:
        """Zeroes the masked kernel taps of the weight in place (no autograd)."""
        if self.mask is None:
            return
        weight = self.weight
        mask = self._mask_cache
        if mask is None or mask.device != weight.device or mask.dtype != weight.dtype:
            mask = self.mask.to(device=weight.device, dtype=weight.dtype)
            self._mask_cache = mask
        with torch.no_grad():
            # through .data: the version counter is not bumped, so graphs of
            # earlier forward passes (not yet backpropagated) stay valid
            weight.data.mul_(mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Masks the weight, then convolves.

        Args:
            x: Input ``(batch, in_channels, H, W)``.

        Returns:
            Output ``(batch, out_channels, H', W')``.
        """
        self.apply_mask()
        dtype = self.compute_dtype
        if dtype is None or dtype == x.dtype:
            return super().forward(x)
        bias = None if self.bias is None else self.bias.to(dtype)
        return self._conv_forward(x.to(dtype), self.weight.to(dtype), bias).to(x.dtype)


class _RectifiedGather(torch.autograd.Function):
    """``relu(x[:, index]) * mask`` that saves only its output for backward.

    The gradient flows where the output is positive (``relu`` passes and the
    mask is 1), so neither the gathered values nor the mask product need to be
    kept (the decoder's convolution keeps the output anyway).
    """

    @staticmethod
    def forward(ctx, x, index, mask):
        out = torch.gather(x, 1, index.expand(x.shape[0], -1))
        out.clamp_(min=0).mul_(mask)
        ctx.save_for_backward(out, index)
        ctx.n_cols = x.shape[1]
        return out

    @staticmethod
    def backward(ctx, grad):
        out, index = ctx.saved_tensors
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad = torch.ops.aten.threshold_backward(grad, out, 0)
            grad_x = grad.new_zeros(grad.shape[0], ctx.n_cols)
            grad_x.scatter_add_(1, index.expand(grad.shape[0], -1), grad)
        return grad_x, None, None


class Dropout(nn.Dropout):
    """``torch.nn.Dropout`` with the mask drawn from ``torch.rand``.

    Same semantics (in training, each element is zeroed with probability ``p``
    and the rest scaled by ``1 / (1 - p)``; identity in evaluation), about twice
    as fast on CPU as ``bernoulli_``. A subclass of ``nn.Dropout``, so code that
    looks for dropout modules finds it.

    Args:
        p: Probability of zeroing an element, in ``[0, 1]``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Applies dropout to ``x`` (any shape) in training mode."""
        if not self.training or self.p == 0:
            return x
        if self.p >= 1:
            return x.mul_(0.0) if self.inplace else x * 0.0
        mask = torch.rand_like(x).ge_(self.p).mul_(1.0 / (1.0 - self.p))
        if self.inplace:
            return x.mul_(mask)
        return x * mask


class DecoderGAVP(ActivityDecoder):
    """Convolutional read-out on the hexagonal map (flyvis' default decoder).

    Architecture: ``base`` = for every ``c`` in ``shape[:-1]`` (``c != 0``)
    ``Conv2dHexSpace(in, c)``, ``BatchNorm2d(c)`` (if ``batch_norm``),
    activation, ``Dropout`` (if ``p_dropout``); ``decoder`` = [``BatchNorm2d``
    if ``base`` is empty and ``batch_norm``] + ``Conv2dHexSpace(in,
    out_channels (+ 1 if normalize_last))``; ``head`` = global average pooling
    over hexals if ``n_out_features``. The default flow decoder (``shape=[8,
    2], kernel_size=5``) has 7427 parameters.

    Args:
        connectome: Connectome (34 output cell types for the default one).
        shape: Channels of the hidden layers followed by the number of output
            channels ``C``, e.g. ``[8, 2]`` for optic flow.
        kernel_size: Odd kernel size of all convolutions.
        p_dropout: Dropout probability after each hidden layer (0/None: none).
        batch_norm: Use ``BatchNorm2d`` after each hidden convolution.
        n_out_features: If given, predict ``n_out_features`` values per output
            channel by averaging over all hexals; ``out_channels = C *
            n_out_features``.
        const_weight: Constant initial weights/biases (``None``: PyTorch
            defaults).
        normalize_last: Add an extra output channel used as a learned,
            per-pixel divisive normaliser ``softplus(x) + 1 >= 1``.
        activation: Name of a ``torch.nn`` activation module.
        cell_types: Output cell types the decoder reads, in this order
            (``None``: all output types of the connectome, as in flyvis). A
            subset such as ``["T4a", ..., "T5d"]`` mirrors the lobula plate,
            where the tangential cells that signal optic flow are driven by
            T4/T5 (not a flyvis 1.2.0 option).
        p_type_dropout: Probability of dropping a whole input cell type (all
            its hexals and frames of a movie) in training mode; the kept types
            are scaled by ``1 / (1 - p)``. It stops the read-out from relying
            on a few types, so every type it reads must carry the signal (not
            a flyvis 1.2.0 option; default 0: off).
        conv_dtype: ``"bfloat16"`` runs the convolutions in bfloat16 (the rest
            in float32): ~1.4x faster forward + backward on CPUs with
            AVX512-BF16, gradients within ~0.5 % (see the benchmarks'
            decoder_probe.py); ``None``/``"float32"``: float32 (default; not a
            flyvis 1.2.0 option).

    Raises:
        ValueError: For an even kernel size, an empty ``shape``, output types
            that do not cover the full lattice, ``cell_types`` that are not
            output cell types of the connectome, ``p_type_dropout`` outside
            ``[0, 1)`` or another ``conv_dtype``.
    """

    def __init__(
        self,
        connectome: Any,
        shape: List[int],
        kernel_size: int,
        p_dropout: float = 0.5,
        batch_norm: bool = True,
        n_out_features: Optional[int] = None,
        const_weight: Optional[float] = None,
        normalize_last: bool = True,
        activation: str = "Softplus",
        cell_types: Optional[List[str]] = None,
        p_type_dropout: float = 0.0,
        conv_dtype: Optional[str] = None,
    ):
        if conv_dtype not in (None, "float32", "bfloat16"):
            raise ValueError(
                f"conv_dtype must be 'float32' or 'bfloat16', got {conv_dtype!r}."
            )
        compute = torch.bfloat16 if conv_dtype == "bfloat16" else None
        if not kernel_size % 2:
            raise ValueError(f"{kernel_size} is even. Must be odd.")
        p_type_dropout = float(p_type_dropout or 0.0)
        if not 0.0 <= p_type_dropout < 1.0:
            raise ValueError(f"p_type_dropout must be in [0, 1), got {p_type_dropout}.")
        shape = [int(c) for c in shape]
        if len(shape) == 0:
            raise ValueError("`shape` needs at least one entry (the output channels).")
        if not hasattr(nn, activation):
            raise ValueError(f"Unknown activation {activation!r} (not in torch.nn).")
        super().__init__(connectome)
        p = (kernel_size - 1) // 2
        self.kernel_size = kernel_size
        self.p_dropout = p_dropout
        self.p_type_dropout = p_type_dropout
        self.normalize_last = normalize_last
        self.n_out_features = n_out_features
        self.out_channels_per_feature = shape[-1]

        output_index = self.dvs_channels.output_indices
        if cell_types is not None:
            outputs = [str(t) for t in self.dvs_channels.output_cell_types]
            cell_types = [str(t) for t in cell_types]
            unknown = [t for t in cell_types if t not in outputs]
            if not cell_types or unknown or len(set(cell_types)) != len(cell_types):
                raise ValueError(
                    "DecoderGAVP `cell_types` must be a non-empty list of distinct "
                    f"output cell types ({', '.join(outputs)}); got {cell_types}"
                    + (f" (unknown: {', '.join(unknown)})." if unknown else ".")
                )
            output_index = output_index[[outputs.index(t) for t in cell_types]]
        self.cell_types = cell_types
        expected = get_num_hexals(int(connectome.config.extent))
        if output_index.ndim != 2 or output_index.shape[1] != expected:
            raise ValueError(
                "DecoderGAVP needs every output cell type to cover the full lattice "
                f"({expected} hexals); got output indices of shape "
                f"{output_index.shape}."
            )
        # hexal-major order (hexal, type): see forward
        self._output_index_np = output_index.T.reshape(-1).astype(np.int64)
        self._map_gather: Dict[torch.device, Any] = {}
        self.n_output_types = output_index.shape[0]

        in_channels = self.n_output_types
        self.out_channels = shape[-1] * n_out_features if n_out_features else shape[-1]

        base: List[nn.Module] = []
        for c in shape[:-1]:
            if c == 0:
                continue
            base.append(
                Conv2dHexSpace(
                    in_channels,
                    c,
                    kernel_size,
                    const_weight,
                    padding=p,
                    compute_dtype=compute,
                )
            )
            if batch_norm:
                base.append(nn.BatchNorm2d(c))
            base.append(getattr(nn, activation)())
            if p_dropout:
                base.append(Dropout(p_dropout))
            in_channels = c
        self.base = nn.Sequential(*base)

        decoder: List[nn.Module] = []
        if len(self.base) == 0 and batch_norm:
            decoder.append(nn.BatchNorm2d(in_channels))
        decoder.append(
            Conv2dHexSpace(
                in_channels,
                self.out_channels + 1 if normalize_last else self.out_channels,
                kernel_size,
                const_weight,
                padding=p,
                compute_dtype=compute,
            )
        )
        self.decoder = nn.Sequential(*decoder)
        self.head = nn.Sequential(GlobalAvgPool()) if n_out_features else nn.Sequential()

        self.num_parameters = n_params(self)
        logger.info("Initialized decoder with %s parameters.", self.num_parameters)
        logger.info(repr(self))

    def _map_gather_index(self, device: torch.device):
        """Node of every (map pixel, output type) and the on-lattice pixel mask.

        Returns:
            ``(H * W * n_types,)`` node indices (pixels outside the lattice point
            to node 0) and a float mask of the same shape, 1 on the lattice;
            cached per device.
        """
        cached = self._map_gather.get(device)
        if cached is None:
            n_types = self.n_output_types
            nodes = torch.zeros(self.H * self.W, n_types, dtype=torch.long)
            index = torch.from_numpy(self._map_index_np)
            nodes[index] = torch.from_numpy(self._output_index_np).view(-1, n_types)
            mask = torch.zeros(self.H * self.W, n_types)
            mask[index] = 1.0
            cached = (nodes.view(-1).to(device), mask.view(-1).to(device))
            self._map_gather[device] = cached
        return cached

    def forward(self, activity: torch.Tensor) -> torch.Tensor:
        """Decodes activity to predictions on the hex lattice.

        Args:
            activity: Network activity ``(N, T, n_nodes)``.

        Returns:
            ``(N, T, C * n_out_features, n_hexals)`` predictions, or ``(N, T, C,
            n_out_features)`` if ``n_out_features`` is set.

        Raises:
            ValueError: For a non-tensor or a tensor of the wrong shape.
        """
        self._check_activity(activity)
        n_samples, n_frames, _ = activity.shape
        device = activity.device
        n_types, n_hex = self.n_output_types, self.n_hexals

        # Rectified voltages of the output types on the (H, W) map in
        # channels-last memory layout ((N * T, H * W, n_types) storage), for
        # which CPU convolutions (forward and backward) run about 2x faster than
        # for the default layout; map pixels outside the lattice are 0. One
        # gather from the (N * T, n_nodes) activity builds it.
        map_nodes, on_lattice = self._map_gather_index(device)
        flat = activity.reshape(n_samples * n_frames, -1)
        x = _RectifiedGather.apply(flat, map_nodes, on_lattice.to(flat.dtype))
        x = x.view(n_samples * n_frames, self.H, self.W, n_types).permute(0, 3, 1, 2)
        if self.training and self.p_type_dropout:
            p = self.p_type_dropout
            keep = torch.rand(n_samples, 1, n_types, 1, 1, device=device, dtype=x.dtype)
            keep = keep.ge_(p).mul_(1.0 / (1.0 - p))
            x = (x.unflatten(0, (n_samples, n_frames)) * keep).flatten(0, 1)
        map_index = self.map_index(device)

        out = self.decoder(self.base(x))
        if self.normalize_last:
            oc = self.out_channels
            out = out[:, :oc] / (F.softplus(out[:, oc:]) + 1)

        # gather the hexals back: (N, T, out_channels, n_hexals)
        out = out.permute(0, 2, 3, 1).reshape(
            n_samples * n_frames, self.H * self.W, self.out_channels
        )
        out = out.index_select(1, map_index).transpose(1, 2)
        out = out.reshape(n_samples, n_frames, self.out_channels, n_hex)

        if self.n_out_features:
            out = self.head(out).view(
                n_samples, n_frames, self.out_channels_per_feature, self.n_out_features
            )
        return out


def _find_decoder_class(name: str) -> type:
    candidate = globals().get(name)
    if isinstance(candidate, type) and issubclass(candidate, nn.Module):
        return candidate
    stack = [ActivityDecoder]
    seen = set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if cls.__qualname__ == name or cls.__name__ == name:
            return cls
        stack.extend(cls.__subclasses__())
    valid = sorted(
        {c.__name__ for c in seen if c is not ActivityDecoder} | {"DecoderGAVP"}
    )
    raise ValueError(f"Unknown decoder type {name!r}. Valid types: {', '.join(valid)}.")


def init_decoder(decoder_config: Any, connectome: Any) -> nn.Module:
    """Builds one decoder from its config.

    Example configs: flow ``dict(type="DecoderGAVP", shape=[8, 2],
    kernel_size=5, const_weight=0.001, n_out_features=None, p_dropout=0.5)``;
    depth ``shape=[8, 1]``; luminance/feature regression ``shape=[8, 3],
    n_out_features=2``.

    Args:
        decoder_config: Mapping (dict or ``datamate.Namespace``) with key
            ``type`` (decoder class name, e.g. ``"DecoderGAVP"``) and the
            constructor's keyword arguments. Not modified.
        connectome: Connectome passed to the decoder.

    Returns:
        The decoder module.

    Raises:
        ValueError: If ``type`` is missing or names no decoder class.
    """
    config = copy.deepcopy(dict(decoder_config))
    if "type" not in config:
        raise ValueError("The decoder config needs a `type` entry, e.g. 'DecoderGAVP'.")
    cls = _find_decoder_class(config.pop("type"))
    return cls(connectome=connectome, **config)
