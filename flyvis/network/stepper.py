"""Step-by-step simulation for closed-loop use (e.g. a body simulator).

``Network.simulate`` integrates a whole movie at once. A closed loop (an
agent whose next eye image depends on its last action) needs one Euler step
at a time from the current photoreceptor input, with the parameters expanded
once and kept. :class:`NetworkStepper` does that:

    stepper = network.stepper(dt=0.002, batch_size=2)   # e.g. two eyes at 500 Hz
    for t in range(n_steps):
        frame = render_eyes(...)                         # (2, 1, 721) luminance
        v = stepper.step(frame)                          # (2, 45669) voltages
        t4 = stepper.cell_type("T4c")                    # (2, 721)

Steps run without gradients. After changing the network's parameters call
:meth:`NetworkStepper.refresh`.
"""

from __future__ import annotations

from typing import Optional, Union

import torch

from flyvis.network.dynamics import _fusable, euler_step
from flyvis.network.engine import _node_major
from flyvis.network.fused import FusedStep, step_rate
from flyvis.network.state import NetworkState, _check_dt
from flyvis.network.stimulus import check_movie

__all__ = ["NetworkStepper"]


class NetworkStepper:
    """Holds expanded parameters and the current state; advances one step per call.

    Args:
        network: The :class:`flyvis.network.Network`.
        dt: Integration step in seconds (fixed for the stepper's lifetime).
        batch_size: Number of independent simulations (e.g. 2 eyes).
        initial_state: ``"auto"`` (1 s of grey, 0.5), ``None`` (resting
            potentials) or a :class:`NetworkState` / voltage tensor.

    Raises:
        ValueError: For ``dt <= 0`` or a state of the wrong size.
    """

    def __init__(
        self,
        network,
        dt: float,
        batch_size: int = 1,
        initial_state: Union[str, NetworkState, torch.Tensor, None] = "auto",
    ):
        self.network = network
        self.dt = _check_dt(dt)
        self.batch_size = int(batch_size)
        self._n_hexals = network._n_hexals()
        self._input_index = network.input_index().reshape(-1)
        self._n_types = len(self._input_index) // self._n_hexals
        self._type_index = {}
        self._x = torch.zeros(self.batch_size, network.n_nodes, device=network.device)
        # node-major state for the fused step: (n_nodes, batch) double buffer
        self._x_nm = self._x.t().contiguous()
        self._v_nm: Optional[torch.Tensor] = None
        self._v_next: Optional[torch.Tensor] = None
        self.refresh()
        self.reset(initial_state)

    def refresh(self) -> None:
        """Re-expands the network's parameters (after they were changed)."""
        with torch.no_grad():
            self.network.clamp()
            self.params = self.network.prepare()
            self._fused = (
                FusedStep(
                    self.params.bias.detach(),
                    step_rate(self.params.tau.detach(), self.dt),
                    self.params.synapses.matrix,
                    self.batch_size,
                )
                if _fusable(self.network.dynamics, self.params)
                else None
            )

    def reset(self, initial_state: Union[str, NetworkState, torch.Tensor, None] = "auto"):
        """Sets the state: ``"auto"`` (grey steady state), ``None`` or a given state.

        Args:
            initial_state: As in the constructor.

        Returns:
            The new :class:`NetworkState`.
        """
        with torch.no_grad():
            if isinstance(initial_state, str):
                if initial_state != "auto":
                    raise ValueError(
                        f"initial_state must be 'auto', None or a state, got {initial_state!r}."
                    )
                initial_state = self.network.steady_state(1.0, self.dt, self.batch_size)
            self.v = self.network._initial_v(self.params, initial_state, self.batch_size)
            self.v = self.v.clone()
        return self.state

    @property
    def state(self) -> NetworkState:
        """The current state (voltages ``(batch, n_nodes)``)."""
        return NetworkState(self.v)

    def step(self, frame: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Integrates one step of ``dt`` with the given photoreceptor input.

        Args:
            frame: Luminance ``(batch, 1, hexals)`` or ``(batch, hexals)``
                (grey = 0.5); ``None`` means no input (dark, 0).

        Returns:
            Voltages after the step, ``(batch, n_nodes)``: a view of the
            state, whose memory later steps reuse; clone it to keep it.

        Raises:
            ValueError: For a wrong shape, hexal count or NaN input.
        """
        with torch.no_grad():
            if frame is None:
                self._x.zero_()
            else:
                frame = torch.as_tensor(frame)
                if frame.ndim == 2:
                    frame = frame[:, None]
                frame = check_movie(frame[:, None], self._n_hexals, "frame")[:, 0, 0]
                if frame.shape[0] != self.batch_size:
                    raise ValueError(
                        f"frame has batch size {frame.shape[0]}, the stepper {self.batch_size}."
                    )
                values = frame.to(self._x).repeat(1, self._n_types)
                if self._fused is None:
                    self._x[:, self._input_index] = values
                else:
                    self._x_nm[self._input_index] = values.t()
            if self._fused is None:
                self.v = euler_step(
                    self.network.dynamics, self.v, self.params, self._x, self.dt
                )
            else:
                self._fused_step(frame is None)
            for hook in self.network._hooks():
                replaced = hook(self.v)
                if replaced is not None:
                    self.v = replaced
        return self.v

    def _fused_step(self, dark: bool) -> None:
        """Advances the node-major state with :class:`FusedStep` (no allocation)."""
        if self._v_nm is None or self.v.data_ptr() != self._v_nm.data_ptr():
            # first step, or the state was replaced (reset, hook, assignment)
            self._v_nm = _node_major(self.v)
            self._v_next = torch.empty_like(self._v_nm)
        if dark:
            self._x_nm.zero_()
        self._fused(self._v_nm, self._x_nm, out=self._v_next)
        self._v_nm, self._v_next = self._v_next, self._v_nm
        self.v = self._v_nm.t()

    def cell_type(self, cell_type: str) -> torch.Tensor:
        """Voltages of all cells of one type, ``(batch, n_cells_of_type)``."""
        if cell_type not in self._type_index:
            if cell_type not in self.network.cell_types:
                raise ValueError(f"unknown cell type {cell_type!r}.")
            index = self.network.connectome.nodes.layer_index[cell_type][:]
            self._type_index[cell_type] = torch.as_tensor(index, device=self.v.device)
        return self.v[:, self._type_index[cell_type]]
