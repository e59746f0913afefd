"""``Network``: the connectome as a continuous-time rate network in PyTorch.

A thin ``nn.Module`` that owns the parameters (state-dict keys as in flyvis
1.2.0: ``nodes_bias``, ``nodes_time_const``, ``edges_sign``,
``edges_syn_count``, ``edges_syn_strength``), expands them to nodes and edges
once per forward pass and integrates the dynamics (``dynamics.py``) with
explicit Euler steps. Shapes: movies ``(batch, frames, 1, hexals)``, network
inputs and responses ``(batch, frames, n_nodes)``; time in seconds.
"""

from __future__ import annotations

import copy
import logging
import warnings
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Union

import numpy as np
import torch
from datamate import Namespace, namespacify
from torch import nn

import flyvis
from flyvis.connectome.connectome import connectome_arrays, init_connectome
from flyvis.network.defaults import DEFAULT_NETWORK_CONFIG
from flyvis.network.dynamics import (
    DynamicsParams,
    NetworkDynamics,
    ParameterValues,
    integrate,
)
from flyvis.network.engine import SynapticEngine
from flyvis.network.initialization import Parameter, build_parameter
from flyvis.network.state import NetworkState, StateLike, _check_dt
from flyvis.network.stimulus import (
    Stimulus,
    check_movie,
    init_stimulus,
    photoreceptor_index,
)
from flyvis.utils.checks import all_finite
from flyvis.utils.class_utils import forward_subclass
from flyvis.utils.nn_utils import n_params, simulation

__all__ = ["Network", "NetworkState", "IntegrationWarning", "DEFAULT_NETWORK_CONFIG"]

logger = logging.getLogger(__name__)


class IntegrationWarning(Warning):
    """The integration step is coarser than the model was trained for (> 1/50 s)."""


def _merge(defaults: Mapping, given: Optional[Mapping]) -> Dict[str, Any]:
    if given is None:
        return copy.deepcopy(dict(defaults))
    return copy.deepcopy(dict(given))


class Network(nn.Module):
    """Connectome-constrained network of the fly visual system.

    Args:
        connectome: Connectome config (``type`` + arguments); default: the
            bundled FIB-25/FIB-19 connectome at extent 15.
        dynamics: Dynamics config; default ``PPNeuronIGRSynapses`` with ReLU.
        node_config: Node parameter configs by name (``bias``, ``time_const``).
        edge_config: Edge parameter configs by name (``sign``, ``syn_count``,
            ``syn_strength``).
        stimulus_config: Input buffer config (``{"type": "Stimulus", ...}``).
        engine: Synaptic-input engine: ``"sparse"`` (fast default) or
            ``"reference"`` (gather/scatter, for tests).
        device: Device of parameters and simulations (default: CUDA if
            available, else CPU).

    Attributes:
        connectome: The connectome directory.
        dynamics: The :class:`NetworkDynamics` module.
        node_params: Namespace of node :class:`Parameter` objects.
        edge_params: Namespace of edge :class:`Parameter` objects.
        n_nodes: Number of cells (45,669 by default).
        n_edges: Number of synapse sets (1,513,231 by default).
        num_parameters: ``NumberOfParams(free=734, fixed=2959)`` by default.
        stimulus: The input buffer (:class:`Stimulus`).
        config: Namespace of the five configs.

    Raises:
        ValueError: For unknown ``type`` names (valid ones listed) or invalid
            parameter configs.
        FileNotFoundError: If the connectome file cannot be found.

    Source: Lappalainen et al., Nature 2024.
    """

    def __init__(
        self,
        connectome: Optional[Mapping] = None,
        dynamics: Optional[Mapping] = None,
        node_config: Optional[Mapping] = None,
        edge_config: Optional[Mapping] = None,
        stimulus_config: Optional[Mapping] = None,
        engine: str = "sparse",
        device: Optional[Union[str, torch.device]] = None,
    ):
        super().__init__()
        d = DEFAULT_NETWORK_CONFIG
        self.config = namespacify(
            {
                "connectome": _merge(d["connectome"], connectome),
                "dynamics": _merge(d["dynamics"], dynamics),
                "node_config": _merge(d["node_config"], node_config),
                "edge_config": _merge(d["edge_config"], edge_config),
                "stimulus_config": _merge(d["stimulus_config"], stimulus_config),
            }
        )
        self.device = flyvis.select_device(device)
        self.connectome = init_connectome(**self.config.connectome.to_dict())
        dyn_config = self.config.dynamics.to_dict()
        if dyn_config:
            self.dynamics = forward_subclass(NetworkDynamics, dyn_config)
        else:
            self.dynamics = NetworkDynamics()
        tables = connectome_arrays(self.connectome)
        self.cell_types = list(tables["cell_types"])
        self.n_nodes = len(tables["node_type_index"])
        self.register_buffer(
            "node_type_index",
            torch.from_numpy(tables["node_type_index"]),
            persistent=False,
        )
        self.n_edges = len(tables["source_index"])
        self.engine = SynapticEngine(
            torch.from_numpy(tables["source_index"]),
            torch.from_numpy(tables["target_index"]),
            self.n_nodes,
            name=engine,
        )
        self.node_params = Namespace()
        self.edge_params = Namespace()
        self.symmetry_config: Dict[str, list] = {}
        self.clamp_config: Dict[str, Any] = {}
        for table, configs, store in (
            ("nodes", self.config.node_config, self.node_params),
            ("edges", self.config.edge_config, self.edge_params),
        ):
            for name, param_config in configs.items():
                param = build_parameter(param_config.to_dict(), tables)
                if param.table != table:
                    raise ValueError(
                        f"{table[:-1]} parameter {name!r} has type {param_config['type']}, "
                        f"which is a parameter of {param.table}."
                    )
                key = f"{table}_{name}"
                store[name] = param
                self.register_parameter(key, param.raw_values)
                # int32 (Parameter.indices); the grouped forward pass reads
                # only the per-group indices (_group_edges)
                self.register_buffer(f"_index_{key}", param.indices, persistent=False)
                self.symmetry_config[key] = param.symmetry_masks
                self.clamp_config[key] = param_config.get("clamp", None)
        self._group_edges()
        for param in self._parameters_by_name().values():
            param.finalize(self)
        self._state_hooks: List[Callable] = []
        self.to(self.device)
        self.num_parameters = n_params(self)
        self.stimulus = init_stimulus(
            self.connectome, device=self.device, **self.config.stimulus_config.to_dict()
        )
        logger.info("Initialized network with %s parameters.", self.num_parameters)

    # ------------------------------------------------------------------ setup
    def _apply(self, fn, *args, **kwargs):
        module = super()._apply(fn, *args, **kwargs)
        probe = next(iter(self.buffers()), None)
        if probe is not None:
            self.device = probe.device
            if getattr(self, "stimulus", None) is not None and hasattr(
                self.stimulus, "to"
            ):
                self.stimulus.to(self.device)
        return module

    def _group_edges(self) -> None:
        """Groups edges that share every edge parameter (one weight per group).

        The default parameters share by (source type, target type, offset):
        2,355 groups for 1,513,231 edges. The dynamics then combine the edge
        parameters per group (``NetworkDynamics.elementwise_edges``) and the
        engine gathers the group weights into its CSR layout once.
        """
        names = [k for k in self._parameters_by_name() if k.startswith("edges_")]
        if not names:
            return
        key = np.zeros(self.n_edges, dtype=np.int64)
        for name in names:
            index = getattr(self, f"_index_{name}").numpy()
            n = int(index.max()) + 1 if len(index) else 1
            if int(key.max(initial=0)) >= (2**62) // max(n, 1):
                key = np.unique(key, return_inverse=True)[1].astype(np.int64)
            key = key * n + index
        _, first, group = np.unique(key, return_index=True, return_inverse=True)
        self.engine.set_edge_groups(torch.from_numpy(group.reshape(-1)))
        for name in names:
            index = getattr(self, f"_index_{name}")
            self.register_buffer(
                f"_group_index_{name}",
                index[torch.from_numpy(first)].long(),
                persistent=False,
            )
            # the per-edge index follows from the groups (see __getattr__):
            # 6 MB less per edge parameter of the default network
            del self._buffers[f"_index_{name}"]
            self._parameters_by_name()[name].group_indices(
                self._buffers[f"_group_index_{name}"], self.engine.edge_group
            )

    def __getattr__(self, name: str):
        if name.startswith("_index_edges_"):
            buffers = self.__dict__.get("_buffers", {})
            group_index = buffers.get("_group_index_" + name[len("_index_") :])
            if group_index is not None:
                return group_index.index_select(0, self.engine.edge_group.long())
        return super().__getattr__(name)

    def _parameters_by_name(self) -> Dict[str, Parameter]:
        out = {f"nodes_{k}": v for k, v in self.node_params.items()}
        out.update({f"edges_{k}": v for k, v in self.edge_params.items()})
        return out

    def prepare(self) -> DynamicsParams:
        """Expands the semantic parameter values to nodes and edges.

        Called once per forward pass (and by the step-by-step API).

        Returns:
            The dynamics quantities (resting potentials, time constants,
            synaptic weights and the synapse operator).
        """
        grouped = bool(getattr(self.dynamics, "elementwise_edges", False)) and (
            self.engine.has_edge_groups
        )
        expanded = ParameterValues()
        expanded.edges_grouped = grouped
        for key, param in self._parameters_by_name().items():
            raw = getattr(self, key)
            values = param.parameter.semantic(raw)
            if grouped and key.startswith("edges_"):
                index = getattr(self, f"_group_index_{key}")
            else:
                # int64 for the index_add of the backward pass (int32: slow path)
                index = getattr(self, f"_index_{key}").long()
            expanded[key] = (
                values.index_select(0, index)
                if values.ndim
                else values.expand(len(index))
            )
        return self.dynamics.prepare(expanded, self)

    def _initial_v(self, params: DynamicsParams, state: StateLike, batch_size: int):
        if state is None:
            return self.dynamics.initial_state(params, batch_size)
        v = (
            state.v
            if isinstance(state, NetworkState)
            else getattr(getattr(state, "nodes", None), "activity", state)
        )
        v = torch.as_tensor(v).to(self.device)
        if v.ndim == 1:
            v = v[None]
        if v.shape[-1] != self.n_nodes:
            raise ValueError(
                f"state has {v.shape[-1]} nodes, the network has {self.n_nodes}."
            )
        if v.shape[0] != batch_size:
            if v.shape[0] != 1:
                raise ValueError(
                    f"state has batch size {v.shape[0]}, the input has {batch_size}."
                )
            v = v.expand(batch_size, -1)
        return v

    # ---------------------------------------------------------------- forward
    def forward(
        self, x: torch.Tensor, dt: float, state: StateLike = None, as_states: bool = False
    ):
        """Integrates the network over whole-network input currents.

        Args:
            x: Input ``(batch, n_frames, n_nodes)`` (e.g. ``network.stimulus()``).
            dt: Integration step in seconds (> 0).
            state: Initial state; ``None`` starts at the resting potentials.
            as_states: Return a list of :class:`NetworkState` instead of a tensor.

        Returns:
            Voltages ``(batch, n_frames, n_nodes)`` after each step (autograd
            connected), or a list of ``n_frames`` states.

        Raises:
            ValueError: For a wrong input shape, non-finite input or ``dt <= 0``.
        """
        dt = _check_dt(dt)
        x = torch.as_tensor(x)
        if x.ndim != 3 or x.shape[-1] != self.n_nodes:
            raise ValueError(
                f"network input must have shape (batch, frames, {self.n_nodes}), "
                f"got {tuple(x.shape)}; use network.simulate for movies "
                "(batch, frames, 1, hexals)."
            )
        if not all_finite(x):
            raise ValueError("network input contains NaN or infinite values.")
        x = x.to(self.device)
        self.clamp()
        params = self.prepare()
        v0 = self._initial_v(params, state, x.shape[0])
        responses = integrate(self.dynamics, v0, params, x, dt, self._hooks())
        if as_states:
            return [NetworkState(responses[:, t]) for t in range(responses.shape[1])]
        return responses

    def _hooks(self):
        return [lambda v, h=h, kw=kw: _call_hook(h, v, kw) for h, kw in self._state_hooks]

    def _photoreceptor_input(self, movie: torch.Tensor) -> torch.Tensor:
        """Maps a movie ``(B, T, 1, hexals)`` to network input ``(B, T, n_nodes)``."""
        stim = (
            self.stimulus
            if self.stimulus is not None
            else Stimulus(self.connectome, init_buffer=False, device=self.device)
        )
        stim.zero(movie.shape[0], movie.shape[1])
        stim.add_input(movie)
        return stim()

    def input_index(self) -> torch.Tensor:
        """Node indices of the photoreceptors, ``(n_input_types, n_hexals)``.

        Row ``k`` holds the nodes of the k-th input type (R1..R8) in hexal order.
        """
        if getattr(self, "_input_index", None) is None:
            index = np.stack(list(photoreceptor_index(self.connectome).values()))
            self._input_index = torch.from_numpy(index)
        return self._input_index.to(self.device)

    def _constant_input(self, batch_size: int, value: float) -> torch.Tensor:
        """A single frame ``(batch, 1, n_nodes)`` with ``value`` on photoreceptors."""
        x = torch.zeros(batch_size, 1, self.n_nodes, device=self.device)
        x[:, :, self.input_index().reshape(-1)] = value
        return x

    def stepper(self, dt: float, batch_size: int = 1, initial_state="auto"):
        """Step-by-step simulation for closed-loop use (see ``NetworkStepper``).

        Args:
            dt: Integration step in seconds.
            batch_size: Number of independent simulations (e.g. 2 eyes).
            initial_state: ``"auto"`` (1 s grey), ``None`` (resting potentials)
                or a state.

        Returns:
            A :class:`flyvis.network.stepper.NetworkStepper`.
        """
        from flyvis.network.stepper import NetworkStepper

        return NetworkStepper(
            self, dt, batch_size=batch_size, initial_state=initial_state
        )

    def steady_state(
        self,
        t_pre: Optional[float],
        dt: float,
        batch_size: int,
        value: Optional[float] = 0.5,
        state: StateLike = None,
        grad: bool = False,
        return_last: bool = True,
    ):
        """State after ``t_pre`` seconds of constant luminance on all photoreceptors.

        Args:
            t_pre: Duration in seconds; ``None`` or <= 0 returns ``state``.
            dt: Integration step in seconds.
            batch_size: Number of samples.
            value: Luminance (0.5 = grey); ``None`` returns ``state``.
            state: Start state (``None``: resting potentials).
            grad: Track gradients.
            return_last: Return only the last state (else the list of states).

        Returns:
            A :class:`NetworkState` (or list of states).
        """
        if t_pre is None or t_pre <= 0 or value is None:
            return state
        dt = _check_dt(dt)
        n_frames = int(t_pre / dt)
        x = self._constant_input(batch_size, value).expand(-1, n_frames, -1)
        with torch.set_grad_enabled(grad):
            if return_last:
                self.clamp()
                params = self.prepare()
                v = self._initial_v(params, state, batch_size)
                v = _run_last(self.dynamics, v, params, x, dt, self._hooks())
                return NetworkState(v)
            return self(x, dt, state=state, as_states=True)

    def fade_in_state(
        self,
        t_fade_in: Optional[float],
        dt: float,
        initial_frames,
        state: StateLike = None,
        grad: bool = False,
    ):
        """State after ramping the contrast of a frame up from grey.

        Frame ``k`` of ``n = int(t_fade_in / dt)`` is ``0.5 + k/(n-1) (frame -
        0.5)``: the first is grey, the last the frame itself.

        Args:
            t_fade_in: Duration in seconds; ``None`` or <= 0 returns ``state``.
            dt: Integration step in seconds.
            initial_frames: ``(batch, 1, hexals)`` frame(s) to fade in (also
                ``(batch, hexals)`` or a one-frame movie ``(batch, 1, 1, hexals)``).
            state: Start state (``None``: resting potentials).
            grad: Track gradients.

        Returns:
            The last :class:`NetworkState`.
        """
        if t_fade_in is None or t_fade_in <= 0:
            return state
        dt = _check_dt(dt)
        frames = torch.as_tensor(initial_frames).to(self.device)
        if frames.ndim == 4 and frames.shape[1] == 1:  # a one-frame movie
            frames = frames[:, 0]
        if frames.ndim == 2:
            frames = frames[:, None]
        frames = check_movie(frames[:, None], self._n_hexals(), "initial_frames")[:, 0]
        n = int(t_fade_in / dt)
        ramp = torch.linspace(0, 1, n, device=self.device)[None, :, None, None]
        movie = (ramp * (frames[:, None] - 0.5) + 0.5).to(torch.float32)
        with torch.set_grad_enabled(grad):
            self.clamp()
            params = self.prepare()
            v = self._initial_v(params, state, frames.shape[0])
            x = self._photoreceptor_input(movie)
            return NetworkState(_run_last(self.dynamics, v, params, x, dt, self._hooks()))

    def _n_hexals(self) -> int:
        return int(self.input_index().shape[1])

    def simulate(
        self,
        movie_input,
        dt: float,
        initial_state: Union[str, StateLike] = "auto",
        as_states: bool = False,
        as_layer_activity: bool = False,
    ):
        """Responses to a movie, without gradients.

        Args:
            movie_input: Luminance ``(batch, frames, 1, hexals)``, grey = 0.5.
            dt: Integration step in seconds (warns if > 1/50).
            initial_state: ``"auto"`` (1 s grey steady state), ``None``
                (resting potentials) or a state.
            as_states: Return a list of states.
            as_layer_activity: Return a ``LayerActivity`` of CPU responses.

        Returns:
            Voltages ``(batch, frames, n_nodes)`` (on the network's device), a
            list of states or a ``LayerActivity``.

        Raises:
            ValueError: For a wrong movie shape or hexal count, NaN values or
                ``dt <= 0``.
        """
        dt = _check_dt(dt)
        movie = check_movie(movie_input, self._n_hexals(), "movie_input").to(self.device)
        if dt > 1 / 50:
            warnings.warn(
                f"dt={dt} s is coarser than 1/50 s; responses may be inaccurate.",
                IntegrationWarning,
                stacklevel=2,
            )
        if isinstance(initial_state, str):
            if initial_state != "auto":
                raise ValueError(
                    f"initial_state must be 'auto', None or a state, got {initial_state!r}."
                )
            initial_state = self.steady_state(1.0, dt, movie.shape[0])
        with simulation(self), torch.no_grad():
            x = self._photoreceptor_input(movie)
            result = self(x, dt, state=initial_state, as_states=as_states)
        if as_layer_activity:
            from flyvis.utils.activity_utils import LayerActivity

            return LayerActivity(result.cpu(), self.connectome, keepref=True)
        return result

    # ------------------------------------------------------------- utilities
    def clamp(self) -> None:
        """Applies clamp configs and symmetry ties to trainable parameters in place."""
        with torch.no_grad():
            for key in self._parameters_by_name():
                param = getattr(self, key)
                if not param.requires_grad:
                    continue
                mode = self.clamp_config.get(key)
                if mode == "non_negative":
                    param.clamp_(min=0)
                elif isinstance(mode, (list, tuple)) and len(mode) == 2:
                    param.clamp_(min=mode[0], max=mode[1])
                elif mode not in (None, False):
                    raise NotImplementedError(f"clamp mode {mode!r} of {key}")
                for mask in self.symmetry_config.get(key, []):
                    mask = mask.to(param.device)
                    param[mask] = param[mask].mean()

    def register_state_hook(self, state_hook: Callable, **kwargs) -> None:
        """Registers ``state_hook(state, **kwargs)`` called on every new state.

        A non-``None`` return value (a state or voltage tensor) replaces the state.

        Raises:
            ValueError: If ``state_hook`` is not callable.
        """
        if not callable(state_hook):
            raise ValueError(f"state hook {state_hook!r} is not callable.")
        self._state_hooks.append((state_hook, kwargs))

    def clear_state_hooks(self, clear: bool = True) -> None:
        """Removes all state hooks."""
        if clear:
            self._state_hooks = []

    @contextmanager
    def enable_grad(self, grad: bool = True) -> Iterator[None]:
        """Context manager setting torch's grad mode and restoring it."""
        previous = torch.is_grad_enabled()
        torch.set_grad_enabled(grad)
        try:
            yield
        finally:
            torch.set_grad_enabled(previous)

    def target_sum(self, x: torch.Tensor) -> torch.Tensor:
        """Sums edge values ``(..., n_edges)`` into their targets ``(..., n_nodes)``."""
        out = x.new_zeros(x.shape[:-1] + (self.n_nodes,))
        return out.index_add(-1, self.engine.target.long(), x)

    def param_api(self) -> Dict[str, Dict[str, Namespace]]:
        """Semantic parameter values and their node/edge index, for inspection.

        Returns:
            ``{"nodes": {name: Namespace(parameter, indices)}, "edges": {...}}``.
        """
        out: Dict[str, Dict[str, Namespace]] = {"nodes": {}, "edges": {}}
        for key, param in self._parameters_by_name().items():
            table, name = key.split("_", 1)
            out[table][name] = Namespace(
                parameter=param.parameter.semantic(getattr(self, key)).detach(),
                indices=getattr(self, f"_index_{key}").long(),
            )
        return out

    def __repr__(self) -> str:
        return "Network(" + repr(self.config)[len("Namespace(") :]


def _call_hook(hook, v: torch.Tensor, kwargs: Dict[str, Any]):
    result = hook(NetworkState(v), **kwargs)
    if result is None:
        return None
    return result.v if isinstance(result, NetworkState) else result


def _run_last(dynamics, v, params, x, dt, hooks) -> torch.Tensor:
    """Integrates without keeping intermediate voltages; returns the last one."""
    from flyvis.network.dynamics import euler_step

    for t in range(x.shape[1]):
        v = euler_step(dynamics, v, params, x[:, t], dt)
        for hook in hooks:
            replaced = hook(v)
            if replaced is not None:
                v = replaced
    return v
