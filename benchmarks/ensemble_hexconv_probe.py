"""Probe: the ensemble simulation as hexagonal convolutions in a numba kernel.

Issue 13 asks for an 8-model ensemble simulation 3x faster than a loop over
the models. ``simulate_ensemble`` (torch, grouped CSR products) is ~1.6x.
This script measures the candidate that needs no synapse indices at all: the
1,513,231 synapse sets are 2,355 filters (target type, source type, offset)
with one weight per model each (``benchmarks/hexconv_probe.py``), so one
Euler step for all models is

    s[t, u, v, c] = sum over filters f of t:  w[f, c] * relu(V)[s_f, u + du, v + dv, c]
    V <- V + a[t, c] * (b[t, c] - V + s + x)

on zero-padded cell-type maps ``(type, row, column, model * batch)``, target
types split over the threads by their number of filters, the weights tiled
along a lattice row so that the innermost loop is one contiguous,
vectorised multiply-add. It runs ``--frames`` steps from the resting
potentials for 8 parameter sets (as ``bench_engine.py --cases ensemble``),
writes the ``(models, batch, frames, n_nodes)`` output as
``simulate_ensemble`` does, and prints its time next to ``simulate_ensemble``
and the loop, with the largest difference.

numba is not a dependency of the core; it is installed with umap-learn.
Run on an idle machine:

    .venv/bin/python benchmarks/ensemble_hexconv_probe.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _kernels(C: int):
    """Numba kernels for ``C`` columns (models x batch) per map position."""
    from numba import njit, prange

    @njit(parallel=True, fastmath=True, boundscheck=False)
    def step(R, V, R_next, S, W, starts, source, offset, row_start, row_len,
             bias, rate, type_start, cell_pos, worker_start, worker_types):  # fmt: skip
        for worker in prange(worker_start.shape[0] - 1):
            for ti in range(worker_start[worker], worker_start[worker + 1]):
                t = worker_types[ti]
                s_t = S[t]
                for i in range(row_start.shape[0]):
                    a = row_start[i] * C
                    s_t[a : a + row_len[i] * C] = 0.0
                for f in range(starts[t], starts[t + 1]):
                    w = W[f]  # the filter's C weights, tiled along a row
                    r_s = R[source[f]]
                    d = offset[f] * C
                    for i in range(row_start.shape[0]):
                        a = row_start[i] * C
                        n = row_len[i] * C
                        out = s_t[a : a + n]
                        src = r_s[a + d : a + d + n]  # slices: indices >= 0, vectorised
                        for k in range(n):
                            out[k] += w[k] * src[k]
                v_t, r_t = V[t], R_next[t]
                for q in range(type_start[t], type_start[t + 1]):
                    p = cell_pos[q] * C
                    for k in range(C):
                        v = v_t[p + k]
                        v = v + rate[t, k] * (bias[t, k] - v + s_t[p + k])
                        v_t[p + k] = v
                        r_t[p + k] = v if v > 0 else 0.0

    @njit(fastmath=True, boundscheck=False)
    def add_input(V, R_next, x, input_pos, input_rate, batch):
        for i in range(input_pos.shape[0]):
            p = input_pos[i] * C
            for k in range(C):
                v = V[p + k] + input_rate[i, k] * x[i, k % batch]
                V[p + k] = v
                R_next[p + k] = v if v > 0 else 0.0

    @njit(parallel=True, boundscheck=False)
    def write(V, node_pos, out):
        for n in prange(node_pos.shape[0]):
            p = node_pos[n] * C
            for k in range(C):
                out[k, n] = V[p + k]

    return step, add_input, write


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions")
    parser.add_argument("--frames", type=int, default=100, help="Euler steps")
    parser.add_argument("--batch", type=int, default=1, help="movies per model")
    args = parser.parse_args(argv)

    import numba
    import torch

    from flyvis.network import Network
    from flyvis.network.ensemble_simulation import (
        _semantic,
        simulate_ensemble,
        stack_parameter_sets,
    )

    torch.manual_seed(0)
    net = Network(device="cpu")
    base = {k: v.clone() for k, v in net.state_dict().items()}
    sets = []
    for _ in range(8):
        sd = {k: v.clone() for k, v in base.items()}
        sd["nodes_bias"] += 0.05 * torch.randn_like(sd["nodes_bias"])
        sd["edges_syn_strength"] *= torch.exp(
            0.2 * torch.randn_like(sd["edges_syn_strength"])
        )
        sets.append(sd)
    n_models, batch, n_frames, dt = len(sets), args.batch, args.frames, 0.01
    movie = 0.5 + 0.3 * torch.rand(batch, n_frames, 1, 721)
    C = n_models * batch  # column c = model * batch + sample

    # maps: one (P x P) zero-padded map per cell type, C values per position
    extent = int(net.connectome.config.extent)
    cell_type = net.node_type_index.numpy().astype(np.int64)
    u = net.connectome.nodes.u[:].astype(np.int64)
    v = net.connectome.nodes.v[:].astype(np.int64)
    source, target = net.engine.source.numpy(), net.engine.target.numpy()
    du, dv = u[source] - u[target], v[source] - v[target]
    pad = int(max(np.abs(du).max(), np.abs(dv).max()))
    P = 2 * extent + 1 + 2 * pad
    n_types = int(cell_type.max()) + 1
    pos = (u + extent + pad) * P + (v + extent + pad)

    key = np.stack([cell_type[target], cell_type[source], du, dv], axis=1)
    filters, filter_of_edge = np.unique(key, axis=0, return_inverse=True)
    filter_of_edge = filter_of_edge.ravel()
    first = np.full(len(filters), -1)
    first[filter_of_edge[::-1]] = np.arange(len(filter_of_edge))[::-1]
    index = {
        k: getattr(net, f"_index_{k}").numpy()
        for k in ("edges_sign", "edges_syn_count", "edges_syn_strength")
    }
    for idx in index.values():  # every synapse set of a filter shares its parameters
        assert np.array_equal(idx, idx[first][filter_of_edge])
    order = np.argsort(filters[:, 0], kind="stable")
    filters, first = filters[order], first[order]
    starts = np.searchsorted(filters[:, 0], np.arange(n_types + 1)).astype(np.int64)
    f_source = filters[:, 1].astype(np.int64)
    f_offset = (filters[:, 2] * P + filters[:, 3]).astype(np.int64)
    row_u = np.arange(-extent, extent + 1)
    col_first = np.maximum(-extent, -extent - row_u)
    row_start = ((row_u + extent + pad) * P + col_first + extent + pad).astype(np.int64)
    row_len = (np.minimum(extent, extent - row_u) - col_first + 1).astype(np.int64)

    stacked = stack_parameter_sets(net, sets)
    params = {k: _semantic(net, k, value) for k, value in stacked.items()}
    weight = (
        params["edges_sign"][:, index["edges_sign"][first]]
        * params["edges_syn_count"][:, index["edges_syn_count"][first]]
        * params["edges_syn_strength"][:, index["edges_syn_strength"][first]]
    )  # (models, filters)
    W = weight.t().repeat_interleave(batch, 1).repeat(1, 2 * extent + 1)
    W = np.ascontiguousarray(W.numpy(), dtype=np.float32)
    per_type = {
        k: params[f"nodes_{k}"].t().repeat_interleave(batch, 1)
        for k in ("bias", "time_const")
    }
    bias = np.ascontiguousarray(per_type["bias"].numpy(), dtype=np.float32)
    rate = (dt / per_type["time_const"].clamp(min=dt)).numpy().astype(np.float32)
    by_type = np.argsort(cell_type, kind="stable")
    type_start = np.searchsorted(cell_type[by_type], np.arange(n_types + 1))
    cell_pos = pos[by_type].astype(np.int64)
    node_pos = (cell_type * P * P + pos).astype(np.int64)
    inputs = net.input_index().reshape(-1).numpy()
    x = (
        net._photoreceptor_input(movie)[:, :, inputs]
        .permute(1, 2, 0)
        .contiguous()
        .numpy()
    )
    input_pos, input_rate = node_pos[inputs], rate[cell_type[inputs]]

    # target types dealt to the threads by their number of filters
    n_workers = numba.get_num_threads()
    loads, lists = [0] * n_workers, [[] for _ in range(n_workers)]
    for t in np.argsort(-np.diff(starts), kind="stable"):
        w = int(np.argmin(loads))
        lists[w].append(t)
        loads[w] += int(starts[t + 1] - starts[t])
    worker_types = np.array([t for group in lists for t in group], dtype=np.int64)
    worker_start = np.cumsum([0] + [len(group) for group in lists]).astype(np.int64)

    step, add_input, write = _kernels(C)

    def structured():
        V = np.zeros((n_types, P * P * C), np.float32)
        for t in range(n_types):
            for q in range(type_start[t], type_start[t + 1]):
                V[t, cell_pos[q] * C : (cell_pos[q] + 1) * C] = bias[t]
        R, R_next, S = np.maximum(V, 0), np.zeros_like(V), np.zeros_like(V)
        out = np.empty((n_models, batch, n_frames, net.n_nodes), np.float32)
        columns = out.reshape(C, n_frames, net.n_nodes)
        flat_V, flat_next = V.reshape(-1), R_next.reshape(-1)
        for frame in range(n_frames):
            step(R, V, R_next, S, W, starts, f_source, f_offset, row_start, row_len,
                 bias, rate, type_start, cell_pos, worker_start, worker_types)  # fmt: skip
            add_input(flat_V, flat_next, x[frame], input_pos, input_rate, batch)
            R, R_next = R_next, R
            flat_next = R_next.reshape(-1)
            write(flat_V, node_pos, columns[:, frame])
        return torch.from_numpy(out)

    def loop():
        for sd in sets:
            net.load_state_dict(sd)
            net.simulate(movie, dt, initial_state=None)

    def batched():
        return simulate_ensemble(net, sets, movie, dt, initial_state=None)

    start = time.perf_counter()
    got = structured()
    compiled = time.perf_counter() - start
    diff = (got - batched()).abs().max().item()
    times = {}
    for name, fn in (("numba kernel", structured), ("simulate_ensemble", batched)):
        times[name] = []
        for _ in range(args.reps):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    times["loop over models"] = []
    for _ in range(args.reps):
        start = time.perf_counter()
        loop()
        times["loop over models"].append(time.perf_counter() - start)
    net.load_state_dict(base)
    loop_time = statistics.median(times["loop over models"])
    print(
        f"{n_models} models, batch {batch}, {n_frames} steps, {C} columns, "
        f"median of {args.reps} (first call with compilation: {compiled:.1f} s):"
    )
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:18s} {median:.3f} s  ({loop_time / median:.2f}x the loop)")
    print(f"  max |numba - simulate_ensemble| {diff:.2e} V")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
