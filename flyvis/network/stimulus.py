"""Input buffer mapping movies on the eye's lattice to the photoreceptors.

A movie ``(samples, frames, 1, hexals)`` (luminance, grey = 0.5) enters the
network as an input current: the same value goes to all eight photoreceptor
types R1-R8 of a column; every other node gets 0 (``spec/network.md`` §6).
"""

from __future__ import annotations

from typing import Dict, Optional, Protocol, runtime_checkable

import numpy as np
import torch

from flyvis.utils.checks import all_finite

__all__ = [
    "Stimulus",
    "StimulusProtocol",
    "AVAILABLE_STIMULI",
    "register_stimulus",
    "init_stimulus",
    "is_stimulus_protocol",
    "check_movie",
    "photoreceptor_index",
]

AVAILABLE_STIMULI: Dict[str, type] = {}


def register_stimulus(cls=None):
    """Registers a stimulus class under its name (usable as a decorator).

    Args:
        cls: The class.

    Returns:
        The class, unchanged.
    """

    def wrap(c):
        AVAILABLE_STIMULI[c.__name__] = c
        return c

    return wrap if cls is None else wrap(cls)


@runtime_checkable
class StimulusProtocol(Protocol):
    """Interface of network input buffers."""

    def __call__(self) -> torch.Tensor: ...  # noqa: D102

    def add_input(self, x: torch.Tensor, **kwargs) -> None: ...  # noqa: D102

    def add_pre_stim(self, x, **kwargs) -> None: ...  # noqa: D102

    def zero(self, n_samples=None, n_frames=None) -> None: ...  # noqa: D102

    @property
    def nonzero(self) -> bool: ...  # noqa: D102


def is_stimulus_protocol(obj) -> bool:
    """Whether ``obj`` implements :class:`StimulusProtocol`."""
    return isinstance(obj, StimulusProtocol)


def photoreceptor_index(connectome) -> Dict[str, np.ndarray]:
    """Node indices of every input (photoreceptor) type, in hexal order.

    Args:
        connectome: A connectome with ``input_cell_types`` and
            ``nodes.layer_index``.

    Returns:
        Input type name -> ``(n_hexals,)`` node indices (R1..R8 by default).
    """
    types = [
        t.decode() if isinstance(t, bytes) else str(t)
        for t in connectome.input_cell_types[:]
    ]
    return {t: np.asarray(connectome.nodes.layer_index[t][:]) for t in types}


def check_movie(x, n_hexals: int, name: str = "movie") -> torch.Tensor:
    """Validates a movie on the eye's lattice.

    Args:
        x: Tensor or array ``(samples, frames, 1, hexals)``.
        n_hexals: Expected number of hexals (721 for extent 15).
        name: Name used in error messages.

    Returns:
        ``x`` as a floating point tensor.

    Raises:
        ValueError: For a wrong shape, hexal count or non-finite values.
    """
    x = torch.as_tensor(x)
    if x.ndim != 4 or x.shape[2] != 1:
        raise ValueError(
            f"{name} requires shape (sample, frame, 1, hexals) with hexals={n_hexals}, "
            f"got {tuple(x.shape)}."
        )
    if x.shape[3] != n_hexals:
        raise ValueError(
            f"{name} has {x.shape[3]} hexals per frame, but the network's eye has "
            f"{n_hexals} (shape (sample, frame, 1, {n_hexals}) expected)."
        )
    if not x.is_floating_point():
        x = x.float()
    if not all_finite(x):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


@register_stimulus
class Stimulus:
    """Whole-network input buffer ``(n_samples, n_frames, n_nodes)``.

    Args:
        connectome: The network's connectome (``input_cell_types``,
            ``nodes.layer_index``, ``central_cells_index``).
        n_samples: Initial number of samples.
        n_frames: Initial number of frames.
        init_buffer: Allocate the buffer now (else on first use).
        device: Device of the buffer (default: CUDA if available, else CPU).

    Attributes:
        input_index: ``(n_input_types, n_hexals)`` node indices of R1-R8.
        n_input_elements: Hexals per input type (721).
        n_nodes: Number of network nodes.
        buffer: The input tensor, or ``None`` before first use.
    """

    def __init__(
        self,
        connectome,
        n_samples: int = 1,
        n_frames: int = 1,
        init_buffer: bool = True,
        device: Optional[torch.device] = None,
    ):
        import flyvis

        self.connectome = connectome
        self.device = flyvis.select_device(device)
        self.layer_index = photoreceptor_index(connectome)
        self.input_index = np.stack(list(self.layer_index.values()))
        self.central_cells_index = np.asarray(connectome.central_cells_index[:])
        self.n_input_elements = self.input_index.shape[1]
        self.n_nodes = len(connectome.nodes.index[:])
        self._flat_index = torch.from_numpy(self.input_index.reshape(-1)).to(self.device)
        self.n_samples, self.n_frames = n_samples, n_frames
        self.buffer: Optional[torch.Tensor] = None
        self._nonzero = False
        if init_buffer:
            self.zero(n_samples, n_frames)

    def to(self, device) -> "Stimulus":
        """Moves the buffer and indices to ``device``; returns self."""
        self.device = torch.device(device)
        self._flat_index = self._flat_index.to(self.device)
        if self.buffer is not None:
            self.buffer = self.buffer.to(self.device)
        return self

    def __call__(self) -> torch.Tensor:
        """The buffer ``(n_samples, n_frames, n_nodes)``."""
        if self.buffer is None:
            self.zero()
        return self.buffer

    @property
    def nonzero(self) -> bool:
        """Whether input was added since the buffer was last reset."""
        return self._nonzero

    def zero(
        self, n_samples: Optional[int] = None, n_frames: Optional[int] = None
    ) -> None:
        """Resets the buffer to zeros, resizing it if a size changes.

        Args:
            n_samples: New number of samples (``None``: keep).
            n_frames: New number of frames (``None``: keep).
        """
        n_samples = self.n_samples if n_samples is None else int(n_samples)
        n_frames = self.n_frames if n_frames is None else int(n_frames)
        shape = (n_samples, n_frames, self.n_nodes)
        # a buffer that holds a differentiable movie belongs to an autograd graph:
        # zeroing it in place would corrupt that graph, so allocate a new one
        reusable = (
            self.buffer is not None
            and tuple(self.buffer.shape) == shape
            and not self.buffer.requires_grad
        )
        if reusable:
            self.buffer.zero_()
        else:
            self.buffer = torch.zeros(shape, device=self.device)
        self.n_samples, self.n_frames = n_samples, n_frames
        self._nonzero = False

    def add_input(
        self,
        x,
        start: Optional[int] = None,
        stop: Optional[int] = None,
        n_frames_buffer: Optional[int] = None,
        cumulate: bool = False,
    ) -> None:
        """Adds a movie to the photoreceptors (all eight types of a column).

        The buffer is (re)allocated to the movie's size when there is none, when
        it already holds input (unless ``cumulate``), or when it is empty and
        of another size (e.g. after ``zero()`` without sizes).

        Args:
            x: Luminance movie ``(n_samples, n_frames, 1, n_hexals)``.
            start: First buffer frame to fill.
            stop: Frame after the last one to fill.
            n_frames_buffer: Buffer length when the buffer is (re)allocated.
            cumulate: Add to existing input instead of resetting the buffer.

        Raises:
            ValueError: For a wrong shape, hexal count or NaN values, or a frame
                range that does not match the movie.
        """
        x = check_movie(x, self.n_input_elements, "stimulus")
        empty_mismatch = (
            self.buffer is not None
            and not self._nonzero
            and start is None
            and stop is None
            and tuple(self.buffer.shape[:2])
            != (x.shape[0], n_frames_buffer or x.shape[1])
        )
        if self.buffer is None or (self._nonzero and not cumulate) or empty_mismatch:
            # an empty buffer of another size (e.g. after zero() without sizes) is
            # resized to the movie
            self.zero(x.shape[0], n_frames_buffer or x.shape[1])
        target = self.buffer[:, start:stop]
        if target.shape[:2] != x.shape[:2]:
            raise ValueError(
                f"movie of {tuple(x.shape[:2])} (samples, frames) does not fit the buffer "
                f"slice {tuple(target.shape[:2])}; call zero(n_samples, n_frames) first "
                "or pass start/stop."
            )
        n_types = self.input_index.shape[0]
        values = x.to(self.buffer).expand(-1, -1, n_types, -1).reshape(*x.shape[:2], -1)
        target.index_add_(2, self._flat_index, values)
        self._nonzero = True

    def add_pre_stim(
        self,
        x,
        start: Optional[int] = None,
        stop: Optional[int] = None,
        n_frames_buffer: Optional[int] = None,
    ) -> None:
        """Adds a constant (or per-frame) value to all photoreceptors.

        Args:
            x: Scalar, or 1-D tensor with one value per selected frame.
            start: First frame.
            stop: Frame after the last one.
            n_frames_buffer: New buffer length if the buffer is reset.
        """
        if self.buffer is None or self._nonzero:
            self.zero(None, n_frames_buffer)
        target = self.buffer[:, start:stop]
        value = torch.as_tensor(x, dtype=self.buffer.dtype, device=self.device)
        if value.ndim == 1:
            value = value[None, :, None]
        target[:, :, self._flat_index] += value
        self._nonzero = True

    def __repr__(self) -> str:
        shape = None if self.buffer is None else tuple(self.buffer.shape)
        return f"Stimulus(buffer shape={shape}, n_input_elements={self.n_input_elements})"


def init_stimulus(connectome, **kwargs):
    """Instantiates the registered stimulus class named by ``type``.

    Args:
        connectome: The network's connectome.
        **kwargs: ``type`` and constructor arguments.

    Returns:
        The stimulus, or ``None`` if no ``type`` is given.

    Raises:
        ValueError: For an unknown type (valid names listed).
    """
    kwargs = dict(kwargs)
    name = kwargs.pop("type", None)
    if name is None:
        return None
    if name not in AVAILABLE_STIMULI:
        raise ValueError(
            f"unknown stimulus type {name!r}; valid types: {', '.join(AVAILABLE_STIMULI)}."
        )
    return AVAILABLE_STIMULI[name](connectome, **kwargs)
