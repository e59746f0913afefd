"""Ensemble simulation on the CPU as hexagonal convolutions (numba kernel).

Every synapse set of the connectome belongs to one *filter* ``(target type,
source type, offset du, dv)`` whose parameters (sign, synapse count, synapse
strength) are the same in every column: the default connectome's 1,513,231
synapse sets are 2,355 filters. The synaptic input is then a sum of shifted,
scaled copies of whole cell-type maps,

    s[t, u, v, c] = sum over filters f of t:  w[f, c] * relu(V)[s_f, u + du, v + dv, c]

with one weight per filter and model ``c``. This module keeps the voltages as
zero-padded maps ``(cell type, row, column, model)`` and runs the Euler step
``V <- V + a (b - V + s + x)`` in a numba kernel: per target type and lattice
row, one contiguous multiply-add per filter (no synapse indices), the target
types split over the threads by their number of filters.

Used by :func:`~flyvis.network.ensemble_simulation.simulate_ensemble` with
``method="numba"`` (opt-in). On 2 CPU cores it was up to ~1.8x faster than
the torch method (8 and 50 models), but its lead varied with the machine's
state and shrank when torch work ran just before it; in one run of three it
was slower (``benchmarks/README.md``). numba comes with umap-learn, a
dependency of flyvis; it is imported on first use only (+~100 MB of memory),
and the kernels are compiled once (a few seconds) and then loaded from
numba's on-disk cache.
"""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np
import torch

__all__ = ["numba_available", "structure", "simulate", "HexConvEnsemble"]

#: Columns (models x movies) per kernel call: wider maps leave the CPU caches
#: and run slower per column (8 models x 4 movies: 42 against 21 ms per model
#: and movie for 8 columns).
MAX_COLUMNS = 8


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
    synapses exactly.

    Args:
        network: The network.
        cell_type: Cell type index of every node ``(n_nodes,)``.
        u: Hex coordinate ``u`` of every node ``(n_nodes,)``.
        v: Hex coordinate ``v`` of every node ``(n_nodes,)``.
        pad: Largest ``|du|``, ``|dv|`` of a filter (map padding).
        filters: ``(n_filters, 4)`` target type, source type, du, dv, sorted by
            target type.
        first: ``(n_filters,)`` one synapse set of each filter.

    Attributes:
        n_types: Number of cell types.
        width: Side of a padded cell-type map in positions.
        filters: ``(n_filters, 4)`` target type, source type, du, dv.
        first_edge: ``(n_filters,)`` one synapse set of each filter.
    """

    def __init__(self, network, cell_type, u, v, pad, filters, first):
        extent = int(network.connectome.config.extent)
        self.n_types = int(cell_type.max()) + 1
        self.width = P = 2 * extent + 1 + 2 * pad
        self.n_rows = 2 * extent + 1
        self.filters, self.first_edge = filters, first
        self.starts = np.searchsorted(filters[:, 0], np.arange(self.n_types + 1))
        self.starts = self.starts.astype(np.int64)
        self.source = np.ascontiguousarray(filters[:, 1], dtype=np.int64)
        self.offset = (filters[:, 2] * P + filters[:, 3]).astype(np.int64)
        # lattice row u holds columns v = max(-R, -R - u) .. min(R, R - u)
        row_u = np.arange(-extent, extent + 1)
        col_first = np.maximum(-extent, -extent - row_u)
        self.row_start = ((row_u + extent + pad) * P + col_first + extent + pad).astype(
            np.int64
        )
        self.row_len = (np.minimum(extent, extent - row_u) - col_first + 1).astype(
            np.int64
        )
        self.map_size = P * P  # positions per cell-type map
        pos = (u + extent + pad) * P + (v + extent + pad)
        by_type = np.argsort(cell_type, kind="stable")
        self.type_start = np.searchsorted(
            cell_type[by_type], np.arange(self.n_types + 1)
        ).astype(np.int64)
        self.cell_pos = pos[by_type].astype(np.int64)
        self.node_pos = (cell_type * self.map_size + pos).astype(np.int64)
        self.cell_type = cell_type
        # the lowest node index of each type
        self.first_cell = by_type[self.type_start[:-1]].astype(np.int64)
        self.inputs = network.input_index().cpu().reshape(-1).numpy()
        self.input_pos = self.node_pos[self.inputs]

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
        """Target types dealt to ``n_workers`` threads by their number of filters."""
        loads, lists = [0] * n_workers, [[] for _ in range(n_workers)]
        for t in np.argsort(-np.diff(self.starts), kind="stable"):
            w = int(np.argmin(loads))
            lists[w].append(t)
            loads[w] += int(self.starts[t + 1] - self.starts[t])
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
    cell exists, no duplicates).

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
            if per_type and candidate.n_implied_synapses() == len(source):
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
    # per-type parameters from the first cell of each type (checked by
    # structure(): the cells of a type share them)
    some_cell = torch.from_numpy(h.first_cell)
    bias = params["nodes_bias"][:, index["nodes_bias"][some_cell]]  # (models, types)
    tau = params["nodes_time_const"][:, index["nodes_time_const"][some_cell]]
    rate = dt / tau.clamp(min=dt)
    x = inputs.cpu().numpy().astype(np.float32, copy=False)
    grey = np.full(len(h.inputs), 0.5, np.float32)
    worker_start, worker_types = h.workers(numba.get_num_threads())
    n_nodes, P2 = network.n_nodes, h.map_size
    out = np.empty((n_models, batch, n_frames, n_nodes), np.float32)
    for m0 in range(0, n_models, MAX_COLUMNS):
        m1 = min(n_models, m0 + MAX_COLUMNS)
        C = m1 - m0
        W = weight[m0:m1].t().repeat(1, h.n_rows).contiguous().numpy()
        b = bias[m0:m1].t().contiguous().numpy()  # (types, C)
        a = rate[m0:m1].t().contiguous().numpy()
        input_rate = np.ascontiguousarray(a[h.cell_type[h.inputs]])
        V0 = _aligned_zeros((h.n_types, P2 * C))
        V0.reshape(-1, C)[h.node_pos] = b[h.cell_type]  # resting potentials
        models = (C, W, b, a, input_rate, worker_start, worker_types)
        if auto_state:  # 1 s of grey
            _run(h, models, V0, [grey] * int(1.0 / dt))
        for sample in range(batch):
            _run(h, models, _aligned_copy(V0), x[sample], (out, m0, sample))
    return torch.from_numpy(out)


def _run(h: HexConvEnsemble, models: tuple, V: np.ndarray, inputs, out=None):
    """Euler steps from the maps ``V`` (updated in place), one per input frame.

    Args:
        h: The structure.
        models: ``(C, W, bias, rate, input_rate, worker_start, worker_types)``
            of a chunk of models (see :func:`simulate`).
        V: Voltage maps ``(n_types, map_size * C)``.
        inputs: Photoreceptor inputs, one ``(n_inputs,)`` array per step.
        out: ``(output, first model, sample)``: where the voltages go, if given.
    """
    from flyvis.network._ensemble_numba import add_input, step, write

    C, W, bias, rate, input_rate, worker_start, worker_types = models
    R, R_next, S = (_aligned_zeros(V.shape) for _ in range(3))
    np.maximum(V, 0, out=R)
    flat_V = V.reshape(-1)
    for frame, frame_input in enumerate(inputs):
        step(R, V, R_next, S, W, h.starts, h.source, h.offset, h.row_start, h.row_len,
             bias, rate, h.type_start, h.cell_pos, worker_start, worker_types, C)  # fmt: skip
        add_input(flat_V, R_next.reshape(-1), frame_input, h.input_pos, input_rate, C)
        R, R_next = R_next, R
        if out is not None:
            write(flat_V, h.node_pos, out[0], out[1], out[2], frame, C)


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
