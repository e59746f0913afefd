"""Neuron and synapse models: the equations a ``Network`` integrates.

``NetworkDynamics`` is the extension point for other neuron models. A model
turns the network's parameters into physical quantities once per forward pass
(:meth:`NetworkDynamics.prepare`), gives the initial voltage, and the velocity
``dV/dt`` of the state; :func:`euler_step` and :func:`integrate` lift this to a
movie. The default model, :class:`PPNeuronIGRSynapses` (passive point neurons
with instantaneous graded-release synapses; Lappalainen et al., Nature 2024):

    dV_i/dt = ( -V_i + b_t(i) + sum_{e: target(e)=i} w_e f(V_source(e)) + x_i(t) )
              / max(tau_t(i), dt)
    w_e     = sign_p(e) * syn_count_k(e) * syn_strength_p(e)

with ``f`` = ReLU by default, time in seconds, voltages and luminance in
arbitrary units (grey = 0.5). The time constant is floored at the integration
step ``dt`` for stability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional

import torch
from torch import nn

from flyvis.network.engine import SynapseOperator

__all__ = [
    "NetworkDynamics",
    "PPNeuronIGRSynapses",
    "DynamicsParams",
    "activation_fns",
    "euler_step",
    "integrate",
]

#: Activation functions by config name.
activation_fns: Dict[str, type] = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "softplus": nn.Softplus,
    "leakyrelu": nn.LeakyReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
}


@dataclass
class DynamicsParams:
    """Per-node and per-edge quantities of one forward pass.

    Attributes:
        bias: ``(n_nodes,)`` resting potentials ``b``.
        tau: ``(n_nodes,)`` membrane time constants in seconds.
        weight: ``(n_edges,)`` synaptic weights ``w`` in edge-table order
            (``None`` given: expanded from ``synapses`` when first read).
        synapses: Operator summing ``w * r`` into targets (one step).
        extra: Further quantities of custom dynamics.
    """

    bias: torch.Tensor
    tau: torch.Tensor
    weight: Optional[torch.Tensor]
    synapses: SynapseOperator
    extra: Dict[str, torch.Tensor] = field(default_factory=dict)


def _weight(params: DynamicsParams) -> torch.Tensor:
    if params._weight is None:
        return params.synapses.weight
    return params._weight


def _set_weight(params: DynamicsParams, value: Optional[torch.Tensor]) -> None:
    params._weight = value


# a property over the dataclass field: the per-edge weights are expanded from
# grouped synapses only when read (other attributes keep plain access)
DynamicsParams.weight = property(_weight, _set_weight)


class ParameterValues(dict):
    """Semantic parameter values passed to :meth:`NetworkDynamics.prepare`.

    A dict ``name -> tensor``; node parameters are expanded to the nodes
    ``(n_nodes,)``. Edge parameters are expanded to the edges ``(n_edges,)``,
    or, when ``edges_grouped`` is true (only for dynamics that declare
    ``elementwise_edges``), given once per group of edges that share every
    edge parameter ``(n_groups,)``: pass ``grouped=edges_grouped`` on to
    ``network.engine.prepare``.
    """

    edges_grouped: bool = False


class NetworkDynamics(nn.Module):
    """Base class of network dynamics (the documented extension point).

    Subclasses implement :meth:`prepare` (parameters to physical quantities,
    once per forward pass) and :meth:`velocity` (``dV/dt``). The state is one
    voltage per node.

    Args:
        activation: Config of the presynaptic transfer function, e.g.
            ``{"type": "relu"}`` (valid types: keys of ``activation_fns``).

    Raises:
        ValueError: For an unknown activation type.
    """

    #: Whether :meth:`prepare` combines edge parameters only elementwise, so
    #: that the network may pass them per group of edges sharing every edge
    #: parameter (see :class:`ParameterValues`). Subclasses opt in.
    elementwise_edges: bool = False

    def __init__(self, activation: Optional[Mapping[str, Any]] = None):
        super().__init__()
        activation = dict(activation or {"type": "relu"})
        name = activation.pop("type", "relu")
        if name not in activation_fns:
            raise ValueError(
                f"unknown activation {name!r}; valid: {', '.join(activation_fns)}."
            )
        self.activation = activation_fns[name](**activation)

    def prepare(self, parameters: Mapping[str, torch.Tensor], network) -> DynamicsParams:
        """Expands the network's semantic parameter values to nodes and edges.

        Args:
            parameters: Semantic values per parameter name (``"nodes_bias"``,
                ``"edges_syn_strength"``, ...) expanded to nodes/edges.
            network: The calling network (engine and sizes).

        Returns:
            The quantities for this forward pass.
        """
        raise NotImplementedError

    def initial_state(self, params: DynamicsParams, batch_size: int) -> torch.Tensor:
        """Initial voltage ``(batch, n_nodes)``: the resting potentials."""
        return params.bias.expand(batch_size, -1).clone()

    def velocity(
        self, v: torch.Tensor, params: DynamicsParams, x: torch.Tensor, dt: float
    ) -> torch.Tensor:
        """Time derivative of the voltage, ``(batch, n_nodes)`` per second."""
        raise NotImplementedError

    def currents(self, v: torch.Tensor, params: DynamicsParams) -> torch.Tensor:
        """Per-edge synaptic currents ``(batch, n_edges)``."""
        return params.synapses.currents(self.activation(v))


class PPNeuronIGRSynapses(NetworkDynamics):
    """Passive point neurons with instantaneous graded-release synapses.

    ``dV/dt = (-V + b + sum_e w_e f(V_src(e)) + x) / max(tau, dt)``,
    ``w = sign * syn_count * syn_strength``. Source: Lappalainen et al.,
    Nature 2024 (Methods, "Network dynamics").
    """

    elementwise_edges = True

    def prepare(self, parameters: Mapping[str, torch.Tensor], network) -> DynamicsParams:
        """Computes ``b``, ``tau`` per node and ``w`` per edge (once per forward).

        With grouped edge parameters (:class:`ParameterValues`) ``w`` is
        computed once per edge group; ``DynamicsParams.weight`` is then the
        per-edge expansion, made only when something reads it.
        """
        weight = (
            parameters["edges_sign"]
            * parameters["edges_syn_count"]
            * parameters["edges_syn_strength"]
        )
        grouped = bool(getattr(parameters, "edges_grouped", False))
        synapses = network.engine.prepare(weight, grouped=grouped)
        return DynamicsParams(
            bias=parameters["nodes_bias"],
            tau=parameters["nodes_time_const"],
            weight=None if grouped else weight,
            synapses=synapses,
        )

    def velocity(
        self, v: torch.Tensor, params: DynamicsParams, x: torch.Tensor, dt: float
    ) -> torch.Tensor:
        """``(-V + b + W f(V) + x) / max(tau, dt)``, shape ``(batch, n_nodes)``."""
        synaptic = params.synapses(self.activation(v))
        return (-v + params.bias + synaptic + x) / torch.clamp(params.tau, min=dt)

    def integrate_fused(
        self, v0: torch.Tensor, params: DynamicsParams, inputs: torch.Tensor, dt: float
    ) -> Optional[torch.Tensor]:
        """Whole-movie Euler integration with a node-level backward, if applicable.

        Used by :func:`integrate` for ReLU with the sparse engine; returns
        ``None`` otherwise (the generic step loop is used then).
        """
        if not _fusable(self, params):
            return None
        from flyvis.network.fused import fused_euler

        return fused_euler(v0, params.bias, params.tau, params.synapses, inputs, dt)


def _fusable(dynamics: "NetworkDynamics", params: DynamicsParams) -> bool:
    """Whether the fused node-major integration computes these dynamics.

    True for ``PPNeuronIGRSynapses`` (or a subclass that keeps its velocity)
    with ReLU and the sparse engine.
    """
    return (
        isinstance(dynamics, PPNeuronIGRSynapses)
        and type(dynamics).velocity is PPNeuronIGRSynapses.velocity
        and type(dynamics.activation) is nn.ReLU
        and getattr(params.synapses, "matrix", None) is not None
        and not params.extra
    )


def euler_step(
    dynamics: NetworkDynamics,
    v: torch.Tensor,
    params: DynamicsParams,
    x: torch.Tensor,
    dt: float,
) -> torch.Tensor:
    """One explicit Euler step ``V + dt * dV/dt``.

    Args:
        dynamics: The model.
        v: Voltage ``(batch, n_nodes)``.
        params: Quantities from :meth:`NetworkDynamics.prepare`.
        x: Input current for this step ``(batch, n_nodes)``.
        dt: Integration step in seconds.

    Returns:
        The next voltage ``(batch, n_nodes)``.
    """
    return v + dt * dynamics.velocity(v, params, x, dt)


def integrate(
    dynamics: NetworkDynamics,
    v0: torch.Tensor,
    params: DynamicsParams,
    inputs: torch.Tensor,
    dt: float,
    hooks: List[Callable[[torch.Tensor], Optional[torch.Tensor]]] = (),
) -> torch.Tensor:
    """Integrates the dynamics over a movie of inputs.

    ``out[:, t]`` is the voltage after integrating input frame ``t``; the
    initial state is not part of the output.

    Args:
        dynamics: The model.
        v0: Initial voltage ``(batch, n_nodes)``.
        params: Quantities of this forward pass.
        inputs: Input currents ``(batch, n_frames, n_nodes)``.
        dt: Integration step in seconds.
        hooks: Callables applied to every new voltage; a non-``None`` return
            value replaces it.

    Returns:
        Voltages ``(batch, n_frames, n_nodes)``.
    """
    fused = getattr(dynamics, "integrate_fused", None)
    if not hooks and fused is not None:
        result = fused(v0, params, inputs, dt)
        if result is not None:
            return result
    v = v0
    out = []
    for t in range(inputs.shape[1]):
        v = euler_step(dynamics, v, params, inputs[:, t], dt)
        for hook in hooks:
            replaced = hook(v)
            if replaced is not None:
                v = replaced
        out.append(v)
    if not out:
        return v0.new_zeros(v0.shape[0], 0, v0.shape[-1])
    return torch.stack(out, dim=1)
