"""Simulating many parameter sets of one network (an ensemble) in one batched call.

Trained models of an ensemble share the connectome and the fixed parameters
(synapse signs and counts) and differ in resting potentials, time constants
and the 604 synapse strengths. Group the edges by (target cell, source cell
type): all edges of a group share one strength, so

    s_i = sum_groups(i) strength_m[pair(g)] * sum_{e in g} sign_e count_e r_m[src(e)]

The inner sums for all models are one sparse product with a shared matrix (one
column per model; per model and sample on CUDA), the outer sum a cheap
weighted segment sum over ~422k groups (``method="torch"``, on any device).
``method="numba"`` runs the numba CPU kernel of
:mod:`flyvis.network.ensemble_kernel` instead, which computes the synaptic
input as hexagonal convolutions; the default ``method="auto"`` takes it where
it applies. Results equal looping over the models (up to floating point
summation order).
"""

from __future__ import annotations

from typing import Dict, List, Mapping, Sequence, Union

import torch

from flyvis.network import ensemble_kernel
from flyvis.network.dynamics import PPNeuronIGRSynapses
from flyvis.network.engine import _csr, _csr_layout
from flyvis.network.network import _check_dt
from flyvis.network.stimulus import check_movie

__all__ = ["stack_parameter_sets", "simulate_ensemble"]

ParameterSets = Union[Sequence[Mapping[str, torch.Tensor]], Mapping[str, torch.Tensor]]


def stack_parameter_sets(
    network, parameter_sets: ParameterSets
) -> Dict[str, torch.Tensor]:
    """Stacks state dicts (or validates stacked ones) to ``(n_models, ...)`` tensors.

    Args:
        network: The network whose parameters the sets hold.
        parameter_sets: A list of state dicts (e.g. checkpoints' ``"network"``
            entries) or a dict of tensors with a leading model axis.

    Returns:
        Dict parameter name -> ``(n_models, n_values)`` tensor on the network's device.

    Raises:
        ValueError: For missing keys or shapes that do not match the network.
    """
    expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
    if isinstance(parameter_sets, Mapping):
        stacked = {k: torch.as_tensor(v) for k, v in parameter_sets.items()}
    else:
        sets = list(parameter_sets)
        if not sets:
            raise ValueError("parameter_sets is empty.")
        missing = [k for k in expected if any(k not in s for s in sets)]
        if missing:
            raise ValueError(
                f"parameter sets lack {missing}; expected keys {list(expected)}."
            )
        stacked = {
            k: torch.stack([torch.as_tensor(s[k]) for s in sets]) for k in expected
        }
    for key, shape in expected.items():
        if key not in stacked:
            raise ValueError(f"parameter sets lack {key!r}.")
        if tuple(stacked[key].shape[1:]) != shape:
            raise ValueError(
                f"{key} has shape {tuple(stacked[key].shape[1:])} per model, the network "
                f"{shape}: the parameter sets belong to a different connectome or config."
            )
    return {k: v.to(network.device, torch.float32) for k, v in stacked.items()}


class _GroupedSynapses:
    """Edges grouped by (target node, source type): shared CSR and group maps."""

    def __init__(self, network):
        engine = network.engine
        src, tar = engine.source.cpu(), engine.target.cpu()
        pair_index = network._index_edges_syn_strength.cpu()
        n_types = len(network.cell_types)
        src_type = network.node_type_index.cpu()[src]
        key = tar * n_types + src_type
        uniq, group = torch.unique(key, return_inverse=True)  # sorted by target
        n_groups = len(uniq)
        perm, crow, col = _csr_layout(group, src, max(n_groups, network.n_nodes))
        self.n_groups = n_groups
        self.perm = perm
        # int32 indices: with int64 ones every sparse product first converts
        # them (about a third of its time)
        index_dtype = torch.int32 if len(src) < 2**31 - 1 else torch.long
        self.crow = crow[: n_groups + 1].to(index_dtype)
        self.col = col.to(index_dtype)
        first = torch.full((n_groups,), -1, dtype=torch.long)
        first.scatter_(0, group.flip(0), torch.arange(len(group) - 1, -1, -1))
        self.group_pair = pair_index[first]
        self.group_target = (uniq // n_types).contiguous()
        self.shape = (n_groups, network.n_nodes)
        # groups are sorted by target: summing them into nodes is a 0/1 CSR matrix
        counts = torch.bincount(self.group_target, minlength=network.n_nodes)
        crow_s = torch.zeros(network.n_nodes + 1, dtype=torch.long)
        crow_s[1:] = torch.cumsum(counts, 0)
        self.scatter = _csr(
            crow_s.to(index_dtype),
            torch.arange(n_groups, dtype=index_dtype),
            torch.ones(n_groups),
            (network.n_nodes, n_groups),
        )

    def to(self, device):
        for name in ("perm", "crow", "col", "group_pair", "group_target", "scatter"):
            setattr(self, name, getattr(self, name).to(device))
        return self


def _fixed_weights_shared(sets: Dict[str, torch.Tensor]) -> bool:
    return all(
        bool((sets[k] == sets[k][:1]).all()) for k in ("edges_sign", "edges_syn_count")
    )


@torch.no_grad()
def simulate_ensemble(
    network,
    parameter_sets: ParameterSets,
    movie_input,
    dt: float,
    initial_state: Union[str, None] = "auto",
    method: str = "auto",
) -> torch.Tensor:
    """Responses of every parameter set to a movie, in one batched simulation.

    Equivalent to loading each parameter set into ``network`` and calling
    ``network.simulate(movie_input, dt, initial_state)`` (within ~1e-6 V).
    ``method="torch"`` simulates, on the CPU, the movies of a batch one after
    the other, each for all models at once, and a batch of 3 or more movies
    model by model, which is faster there; on CUDA the whole batch at once.

    Args:
        network: A :class:`flyvis.network.Network` with ``PPNeuronIGRSynapses``.
        parameter_sets: List of state dicts or dict of stacked tensors
            (``(n_models, ...)``), see :func:`stack_parameter_sets`.
        movie_input: Luminance ``(batch, frames, 1, hexals)``.
        dt: Integration step in seconds.
        initial_state: ``"auto"`` (1 s of grey 0.5 per model) or ``None``
            (resting potentials).
        method: ``"auto"`` (default): ``"numba"`` where it applies, else
            ``"torch"``. ``"torch"``: sparse products, on any device.
            ``"numba"``: the CPU kernel of :mod:`flyvis.network.ensemble_kernel`
            (hexagonal convolutions; needs numba, which comes with umap-learn,
            ReLU ``PPNeuronIGRSynapses`` dynamics, synapse parameters shared by
            filter as in the flyvis connectomes, and the same synapse signs and
            counts in every set). On 2 CPU cores, 8 models and one movie ran
            2.3-4.8x faster than a loop over the models and 1.5-3.3x faster
            than ``"torch"``; its cost grows with the number of movies, and
            from ~4 movies per call a loop is as fast (``benchmarks/README.md``).
            Importing numba adds ~100 MB to the process.

    Returns:
        Voltages ``(n_models, batch, frames, n_nodes)``.

    Raises:
        ValueError: For invalid movies, ``dt``, parameter sets, dynamics or
            ``method`` (also ``"numba"`` where it does not apply).
    """
    if method not in ("auto", "torch", "numba"):
        raise ValueError(f"method must be 'auto', 'torch' or 'numba', got {method!r}.")
    dt = _check_dt(dt)
    if not isinstance(network.dynamics, PPNeuronIGRSynapses):
        raise ValueError("simulate_ensemble supports PPNeuronIGRSynapses dynamics only.")
    movie = check_movie(movie_input, network._n_hexals(), "movie_input").to(
        network.device
    )
    if initial_state not in ("auto", None):
        raise ValueError("initial_state must be 'auto' or None for ensembles.")
    sets = stack_parameter_sets(network, parameter_sets)
    shared = _fixed_weights_shared(sets)
    hexconv = _kernel_structure(network, shared, method)
    # On the CPU, a batch of 3 or more movies is simulated faster model by model
    # (one CSR product serves the whole batch there): 0.89 s against 1.34 s for
    # 8 models x 4 movies x 100 steps; a batch of 1 (2) is 1.6x (1.4x) faster
    # batched (benchmarks/README.md).
    one_at_a_time = _movies_per_chunk(network.device, movie.shape[0]) == 1
    if hexconv is None and ((one_at_a_time and movie.shape[0] >= 3) or not shared):
        return torch.stack(
            [_simulate_one(network, s, movie, dt, initial_state) for s in _unstack(sets)]
        )
    params = {key: _semantic(network, key, value) for key, value in sets.items()}
    index = {k: getattr(network, f"_index_{k}") for k in sets}
    if hexconv is not None:
        inputs = network._photoreceptor_input(movie)
        inputs = inputs[:, :, network.input_index().reshape(-1)]
        return ensemble_kernel.simulate(
            network, hexconv, params, index, inputs, dt, initial_state == "auto"
        )
    n_models, batch = sets["nodes_bias"].shape[0], movie.shape[0]
    grouped = _grouped(network)
    n_nodes = network.n_nodes
    # node-major layout: voltages (n_nodes, n_models, chunk), no transposes per
    # step. On the CPU the samples of a batch are simulated one after the other
    # (chunk = 1): with a batch axis every per-model operand ((rows, models, 1)
    # strengths, resting potentials, rates) is broadcast over a short inner
    # axis, which made a batch of 2 take 3x as long as one sample (measured).
    chunk = _movies_per_chunk(network.device, batch)
    # contiguous (rows, models, 1) tensors: a transposed view would be read with a
    # stride of n_rows every step, which costs more than the products themselves
    bias = params["nodes_bias"][:, index["nodes_bias"]].t().contiguous()[:, :, None]
    tau = params["nodes_time_const"][:, index["nodes_time_const"]].t().contiguous()
    tau = tau[:, :, None]
    rate = dt / tau.clamp(min=dt)
    fixed = (
        params["edges_sign"][0, index["edges_sign"]]
        * params["edges_syn_count"][0, index["edges_syn_count"]]
    )
    gather = _csr(grouped.crow, grouped.col, fixed[grouped.perm], grouped.shape)
    strength = params["edges_syn_strength"][:, grouped.group_pair].t().contiguous()
    strength = strength[:, :, None]
    activation = network.dynamics.activation

    # preallocated products: a fresh 13 MB (groups, columns) result every step
    # costs page faults and zero-filling, about 3x the product itself
    n_cols = n_models * chunk
    grouped_input = torch.empty(grouped.n_groups, n_cols, device=network.device)
    synaptic = torch.empty(n_nodes, n_cols, device=network.device)

    def step(v, x, out=None):
        width = v.shape[2]  # chunk (1 for the initial state)
        cols = n_models * width
        r = activation(v).view(n_nodes, cols)
        # addmm with beta=0 writes the product straight into the preallocated
        # output (mm(..., out=) zero-fills and copies a temporary: +30 %)
        # contiguous prefixes of the buffers (the initial state has one column
        # per model, fewer than a chunk of movies on CUDA)
        products = grouped_input.view(-1)[: grouped.n_groups * cols]
        products = products.view(grouped.n_groups, cols)
        torch.addmm(products, gather, r, beta=0, out=products)
        products.view(grouped.n_groups, n_models, width).mul_(strength)
        inputs = synaptic.view(-1)[: n_nodes * cols].view(n_nodes, cols)
        torch.addmm(inputs, grouped.scatter, products, beta=0, out=inputs)
        drive = inputs.view(n_nodes, n_models, width).add_(bias).sub_(v).add_(x)
        return torch.addcmul(v, rate, drive, out=out)

    # a copy: .contiguous() would return `bias` itself, and the double-buffered
    # loop below would then overwrite the resting potentials
    v_start = bias.new_empty(n_nodes, n_models, 1).copy_(bias)
    if initial_state == "auto":
        grey = network._constant_input(1, 0.5)[0, 0][:, None, None]  # (N, 1, 1)
        for _ in range(int(1.0 / dt)):
            v_start = step(v_start, grey)
    # node-major inputs (T, N, 1, B); each step is copied into the (M, B, T, N)
    # output (cheaper than permuting a movie-sized copy)
    x = network._photoreceptor_input(movie).permute(1, 2, 0).contiguous()[:, :, None, :]
    n_frames = movie.shape[1]
    out = torch.empty(n_models, batch, n_frames, n_nodes, device=network.device)
    for first in range(0, batch, chunk):
        last = min(batch, first + chunk)
        # fresh buffers: the double-buffered loop writes into both
        v = v_start.new_empty(n_nodes, n_models, last - first)
        v.copy_(v_start.expand_as(v))
        v_next = torch.empty_like(v)
        for t in range(n_frames):
            v, v_next = step(v, x[t, :, :, first:last], out=v_next), v
            out[:, first:last, t].copy_(v.permute(1, 2, 0))
    return out


def _movies_per_chunk(device: torch.device, batch: int) -> int:
    """Movies simulated at once by the torch method: all on CUDA, one on the CPU."""
    return batch if device.type == "cuda" else 1


def _kernel_structure(network, fixed_weights_shared: bool, method: str):
    """The filter structure for the numba kernel, or ``None`` for the torch method.

    ``fixed_weights_shared``: whether the parameter sets share their synapse
    signs and counts (:func:`_fixed_weights_shared`).

    Raises:
        ValueError: If ``method="numba"`` and the kernel does not apply (with the
            reason).
    """
    if method == "torch":
        return None
    reason = None
    if network.device.type != "cpu":
        reason = f"it runs on the CPU only (network on {network.device})"
    elif not (
        type(network.dynamics).velocity is PPNeuronIGRSynapses.velocity
        and type(network.dynamics.activation) is torch.nn.ReLU
    ):
        reason = "it integrates ReLU PPNeuronIGRSynapses dynamics only"
    elif not fixed_weights_shared:
        reason = "the parameter sets differ in synapse signs or counts"
    elif not ensemble_kernel.numba_available():
        reason = "numba is not installed"
    hexconv = None if reason else ensemble_kernel.structure(network)
    if hexconv is None and reason is None:
        reason = "the synapse parameters of this connectome are not shared by filter"
    if reason and method == "numba":
        raise ValueError(f"method='numba' does not apply: {reason}.")
    return hexconv


def _semantic(network, key: str, raw: torch.Tensor) -> torch.Tensor:
    table, name = key.split("_", 1)
    param = (network.node_params if table == "nodes" else network.edge_params)[name]
    return param.parameter.semantic(raw)


def _grouped(network) -> _GroupedSynapses:
    cached = getattr(network, "_grouped_synapses", None)
    if cached is None:
        cached = _GroupedSynapses(network).to(network.device)
        network._grouped_synapses = cached
    return cached


def _unstack(sets: Dict[str, torch.Tensor]) -> List[Dict[str, torch.Tensor]]:
    n = next(iter(sets.values())).shape[0]
    return [{k: v[i] for k, v in sets.items()} for i in range(n)]


def _simulate_one(network, state_dict, movie, dt, initial_state):
    backup = {k: v.detach().clone() for k, v in network.state_dict().items()}
    try:
        network.load_state_dict(state_dict)
        return network.simulate(movie, dt, initial_state=initial_state)
    finally:
        network.load_state_dict(backup)
