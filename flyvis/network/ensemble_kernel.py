"""Ensemble simulation on the CPU as hexagonal convolutions (numba kernel).

Every synapse set of the connectome belongs to one *filter* ``(target type,
source type, offset du, dv)`` whose parameters (sign, synapse count, synapse
strength) are the same in every column: the default connectome's 1,513,231
synapse sets are 2,355 filters. The synaptic input is then a sum of shifted,
scaled copies of whole cell-type maps,

    s[c, t, u, v] = sum over filters f of t:  w[f, c] * relu(V)[c, s_f, u + du, v + dv]

with one weight per filter and model ``c``. This module keeps the voltages as
zero-padded maps, one per model and cell type, and runs the Euler step
``V <- V + a (b - V + s + x)`` in a numba kernel: per model and target type,
one long contiguous multiply-add per filter over the type's span of map
positions (no synapse indices), the target types split over the threads by
their number of filters.

Used by :func:`~flyvis.network.ensemble_simulation.simulate_ensemble` with
``method="numba"`` (the default on the CPU where numba is installed). numba
comes with umap-learn, a dependency of flyvis; it is imported on first use
only (+~100 MB of memory), and the kernel is compiled once (a few seconds)
and then loaded from numba's on-disk cache.
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional

import numpy as np
import torch

__all__ = ["numba_available", "structure", "simulate", "HexConvEnsemble"]

#: Work of updating and writing the voltages of a cell type, in filters
#: (for dealing the types to the threads).
CELL_UPDATE_COST = 1.0


def numba_available() -> bool:
    """Whether numba can be imported (the ensemble kernel's requirement)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


class HexConvEnsemble:
    """The filter structure of a network and its padded-map layout.

    Built by :func:`structure`, which checks that it describes the network's
    synapses exactly. A cell-type map has ``2 * extent + 3 + 2 * pad`` rows
    (lattice row ``u``) of ``width = 2 * extent + 1 + pad`` positions (column
    ``v``), with ``pad + 1`` rows of zeros above and below the lattice and
    ``pad`` columns of zeros on the right only: a read up to ``pad`` left of
    a row lands in the previous row's padding. So every read of a filter at a
    cell is its source cell or a zero.

    Args:
        network: The network.
        cell_type: Cell type index of every node ``(n_nodes,)``.
        u: Hex coordinate ``u`` of every node ``(n_nodes,)``.
        v: Hex coordinate ``v`` of every node ``(n_nodes,)``.
        pad: Largest ``|du|``, ``|dv|`` of a filter.
        filters: ``(n_filters, 4)`` target type, source type, du, dv, sorted by
            target type.
        first: ``(n_filters,)`` one synapse set of each filter.

    Attributes:
        n_types: Number of cell types.
        width: Positions per map row.
        map_size: Positions per cell-type map.
        filters: ``(n_filters, 4)`` target type, source type, du, dv.
        first_edge: ``(n_filters,)`` one synapse set of each filter.
    """

    def __init__(self, network, cell_type, u, v, pad, filters, first):
        extent = int(network.connectome.config.extent)
        self.n_types = int(cell_type.max()) + 1
        self.pad = pad
        self.width = P = 2 * extent + 1 + pad
        self.n_rows = 2 * extent + 1  # lattice rows
        self.map_size = P * (self.n_rows + 2 * pad + 2)
        self.filters, self.first_edge = filters, first
        self.starts = np.searchsorted(filters[:, 0], np.arange(self.n_types + 1))
        self.starts = self.starts.astype(np.int64)
        self.source = np.ascontiguousarray(filters[:, 1], dtype=np.int64)
        self.offset = (filters[:, 2] * P + filters[:, 3]).astype(np.int64)
        pos = (u + extent + pad + 1) * P + (v + extent)
        # the cells in type order, by map position (lattice row, then column)
        by_type = np.lexsort((pos, cell_type))
        self.type_start = np.searchsorted(
            cell_type[by_type], np.arange(self.n_types + 1)
        ).astype(np.int64)
        self.cell_pos = pos[by_type].astype(np.int64)
        self.cell_node = by_type.astype(np.int64)
        self.node_pos = (cell_type * self.map_size + pos).astype(np.int64)
        self.cell_type = cell_type
        # one cell of each type (the first in node order)
        self.first_cell = np.unique(cell_type, return_index=True)[1].astype(np.int64)
        self.inputs = network.input_index().cpu().reshape(-1).numpy()
        # the photoreceptor input of each cell (cell order), -1 for none
        input_of_node = np.full(len(cell_type), -1, np.int64)
        input_of_node[self.inputs] = np.arange(len(self.inputs))
        self.cell_input = input_of_node[by_type]
        # each type's span of map positions, from its first to its last cell
        self.span_start = self.cell_pos[self.type_start[:-1]]
        self.span_len = self.cell_pos[self.type_start[1:] - 1] + 1 - self.span_start
        # segments of cells updated together: consecutive in position and
        # node, and all or none receiving input (the lattice rows of a type
        # that covers them; single cells of the sparser types); type t's
        # segments are type_seg[t] .. type_seg[t + 1] - 1
        receives = self.cell_input >= 0
        joined = (
            (np.diff(self.cell_pos) == 1)
            & (np.diff(self.cell_node) == 1)
            & (receives[1:] == receives[:-1])
            & (cell_type[by_type][1:] == cell_type[by_type][:-1])
        )
        self.seg_cell = np.flatnonzero(np.r_[True, ~joined]).astype(np.int64)
        self.seg_len = np.diff(np.r_[self.seg_cell, len(cell_type)]).astype(np.int64)
        self.type_seg = np.searchsorted(self.seg_cell, self.type_start).astype(np.int64)

    def n_implied_synapses(self) -> int:
        """Synapse sets the filters imply: target cells whose source cell exists."""
        P2 = self.map_size
        occupied = np.zeros(self.n_types * P2, dtype=bool)
        occupied[self.node_pos] = True
        total = 0
        for t in range(self.n_types):
            cells = self.cell_pos[self.type_start[t] : self.type_start[t + 1]]
            f = slice(self.starts[t], self.starts[t + 1])
            where = (self.source[f] * P2 + self.offset[f])[:, None] + cells[None, :]
            total += int(occupied[where].sum())
        return total

    def workers(self, n_workers: int):
        """Target types dealt to ``n_workers`` threads by their work.

        A type's work is its number of filters plus :data:`CELL_UPDATE_COST`.

        Returns:
            ``(starts, types)``: worker ``i`` takes ``types[starts[i]:starts[i + 1]]``.
        """
        cost = np.diff(self.starts) + CELL_UPDATE_COST
        loads, lists = [0.0] * n_workers, [[] for _ in range(n_workers)]
        for t in np.argsort(-cost, kind="stable"):
            w = int(np.argmin(loads))
            lists[w].append(t)
            loads[w] += float(cost[t])
        types = np.array([t for group in lists for t in group], dtype=np.int64)
        starts = np.cumsum([0] + [len(group) for group in lists]).astype(np.int64)
        return starts, types


def structure(network) -> Optional[HexConvEnsemble]:
    """The network's filters, or ``None`` if its synapses do not form filters.

    Cached on the network. Requires cells on the network's hexagonal lattice,
    the resting potentials and time constants shared by the cells of a type,
    every synapse set of a ``(target type, source type, du, dv)`` filter to
    share its sign, count and strength parameters, and the filters to imply
    exactly the network's synapse sets (one per target cell whose source
    cell exists, no duplicates), and at most one photoreceptor input per cell.

    Args:
        network: A :class:`~flyvis.network.Network`.

    Returns:
        The :class:`HexConvEnsemble`, or ``None``.
    """
    cached = getattr(network, "_hexconv_ensemble", False)
    if cached is not False:
        return cached
    result = None
    nodes = network.connectome.nodes
    cell_type = network.node_type_index.cpu().numpy().astype(np.int64)
    u = np.asarray(nodes.u[:], dtype=np.int64)
    v = np.asarray(nodes.v[:], dtype=np.int64)
    extent = int(network.connectome.config.extent)
    on_lattice = np.maximum.reduce([np.abs(u), np.abs(v), np.abs(u + v)]) <= extent
    source = network.engine.source.cpu().numpy()
    target = network.engine.target.cpu().numpy()
    types_present = np.array_equal(np.unique(cell_type), np.arange(cell_type.max() + 1))
    if on_lattice.all() and len(source) and types_present:
        du, dv = u[source] - u[target], v[source] - v[target]
        # one int64 key per synapse set: (target type, source type, du, dv)
        n_types, span = int(cell_type.max()) + 1, 4 * extent + 1
        key = (cell_type[target] * n_types + cell_type[source]) * span + du + 2 * extent
        key = key * span + dv + 2 * extent
        _, first, of_edge = np.unique(key, return_index=True, return_inverse=True)
        of_edge = of_edge.ravel()
        filters = np.stack([cell_type[target], cell_type[source], du, dv], axis=1)[first]
        shared = all(
            np.array_equal(idx, idx[first][of_edge])
            for idx in (
                getattr(network, f"_index_{k}").cpu().numpy()
                for k in ("edges_sign", "edges_syn_count", "edges_syn_strength")
            )
        )
        # one synapse set per filter and target cell (no duplicates)
        pairs = np.sort(of_edge * len(cell_type) + target)
        unique = not (pairs[1:] == pairs[:-1]).any()
        if shared and unique:
            # np.unique sorted the keys, so the filters are sorted by target type
            pad = int(max(np.abs(du).max(), np.abs(dv).max()))
            candidate = HexConvEnsemble(network, cell_type, u, v, pad, filters, first)
            # node parameters shared by the cells of a type, and the filters
            # implying exactly the network's synapse sets
            per_type = all(
                np.array_equal(idx, idx[candidate.first_cell[cell_type]])
                for idx in (
                    getattr(network, f"_index_{k}").cpu().numpy()
                    for k in ("nodes_bias", "nodes_time_const")
                )
            )
            unique_inputs = len(np.unique(candidate.inputs)) == len(candidate.inputs)
            if (
                per_type
                and unique_inputs
                and candidate.n_implied_synapses() == len(source)
            ):
                result = candidate
    network._hexconv_ensemble = result
    return result


def simulate(
    network,
    hexconv: HexConvEnsemble,
    params: Dict[str, torch.Tensor],
    index: Dict[str, torch.Tensor],
    inputs: torch.Tensor,
    dt: float,
    auto_state: bool,
) -> torch.Tensor:
    """Euler integration of every model for every movie (CPU, float32).

    Args:
        network: The network (ReLU ``PPNeuronIGRSynapses``).
        hexconv: Its :func:`structure`.
        params: Semantic parameter values ``(n_models, n_params)`` by state-dict key.
        index: Parameter index of every node / edge by state-dict key.
        inputs: Photoreceptor input currents ``(batch, frames, n_inputs)``
            (the network's ``input_index`` order).
        dt: Integration step in seconds.
        auto_state: Start from 1 s of grey (0.5) instead of the resting potentials.

    Returns:
        Voltages ``(n_models, batch, frames, n_nodes)``.
    """
    import numba

    h = hexconv
    n_models = params["nodes_bias"].shape[0]
    batch, n_frames, _ = inputs.shape
    first = torch.from_numpy(h.first_edge)
    weight = (
        params["edges_sign"][:, index["edges_sign"][first]]
        * params["edges_syn_count"][:, index["edges_syn_count"][first]]
        * params["edges_syn_strength"][:, index["edges_syn_strength"][first]]
    )  # (models, filters)
    # per-type parameters from one cell of each type (checked by structure():
    # the cells of a type share them)
    some_cell = torch.from_numpy(h.first_cell)
    bias = params["nodes_bias"][:, index["nodes_bias"][some_cell]]  # (models, types)
    tau = params["nodes_time_const"][:, index["nodes_time_const"][some_cell]]
    rate = dt / tau.clamp(min=dt)
    model = _Models(
        W=weight.t().float().contiguous().numpy(),  # (filters, models)
        bias=bias.t().float().contiguous().numpy(),  # (types, models)
        rate=rate.t().float().contiguous().numpy(),
        workers=h.workers(numba.get_num_threads()),
    )
    # resting potentials on the maps (n_models * n_types, map_size)
    V0 = _aligned_zeros((n_models * h.n_types, h.map_size))
    V0.reshape(n_models, -1)[:, h.node_pos] = model.bias[h.cell_type].T
    x = inputs.cpu().numpy().astype(np.float32, copy=False)
    out = np.empty((n_models, batch, n_frames, network.n_nodes), np.float32)
    if auto_state:  # 1 s of grey
        grey = np.full(len(h.inputs), 0.5, np.float32)
        _run(h, model, V0, [grey] * int(1.0 / dt), out, -1)
    for sample in range(batch):
        _run(h, model, _aligned_copy(V0), x[sample], out, sample)
    return torch.from_numpy(out)


class _Models(NamedTuple):
    W: np.ndarray  # (n_filters, n_models) filter weights
    bias: np.ndarray  # (n_types, n_models) resting potentials
    rate: np.ndarray  # (n_types, n_models) Euler rates dt / tau
    workers: tuple  # the target types of each thread (HexConvEnsemble.workers)


def _run(h: HexConvEnsemble, model: _Models, V: np.ndarray, inputs, out, sample):
    """Euler steps from the maps ``V`` (updated in place), one per input frame.

    Args:
        h: The structure.
        model: The models' parameters.
        V: Voltage maps ``(n_models * n_types, map_size)``.
        inputs: Photoreceptor inputs, one ``(n_inputs,)`` array per step.
        out: ``(n_models, batch, frames, n_nodes)`` output.
        sample: Where in ``out`` the voltages of each step go (``-1``: nowhere).
    """
    from flyvis.network._ensemble_numba import step

    worker_start, worker_types = model.workers
    R, R_next = _aligned_zeros(V.shape), _aligned_zeros(V.shape)
    np.maximum(V, 0, out=R)
    for frame, frame_input in enumerate(inputs):
        step(R, V, R_next, model.W, h.starts, h.source, h.offset, h.span_start,
             h.span_len, model.bias, model.rate, h.type_seg, h.seg_cell, h.seg_len,
             h.cell_pos, h.cell_node, h.cell_input, frame_input, worker_start, worker_types,
             out, max(sample, 0), frame if sample >= 0 else -1)  # fmt: skip
        R, R_next = R_next, R


def _aligned_zeros(shape) -> np.ndarray:
    """float32 zeros starting at a 64-byte boundary (a cache line).

    numpy's buffers are 16-byte aligned; after large frees glibc serves
    megabyte-sized arrays from the heap, and the kernel's vector loads and
    stores then straddle cache lines (measured: the ensemble ran 2x slower
    after a loop of torch simulations).
    """
    n = int(np.prod(shape))
    buffer = np.zeros(n + 16, np.float32)
    start = (-buffer.ctypes.data % 64) // 4
    return buffer[start : start + n].reshape(shape)


def _aligned_copy(array: np.ndarray) -> np.ndarray:
    """A 64-byte aligned copy of a float32 array."""
    out = _aligned_zeros(array.shape)
    out[...] = array
    return out
