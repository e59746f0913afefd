"""Probe: would a numba kernel beat torch's CSR product for the ensemble step?

Issue 13 allows a numba kernel. This script measures the candidate that reads
the fewest bytes per synapse: one fused Euler step for 8 parameter sets at
once, the CSR column indices and the edge-group of every synapse stored as
``uint16`` (4 bytes per synapse instead of 8), the weight looked up in a
``(n_groups, n_models)`` table that fits in the L2 cache, and the update
``V + a (b - V + W relu(V) + x)`` done in the same pass. It prints

* its time per step next to the torch path of ``simulate_ensemble`` (grouped
  CSR products) on the same parameter sets,
* the largest difference between the two (float32),
* the RSS that importing numba and compiling a kernel adds (measured in a
  fresh subprocess, since the training process's peak RSS is a target).

numba is not a dependency of the core; the script needs it installed (it is
with umap-learn). Run on an idle machine:

    .venv/bin/python benchmarks/numba_probe.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

RSS_PROBE = """
import os, numpy as np, torch
import flyvis.network
def rss():  # resident set size in MB (Linux)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
before = rss()
from numba import njit, prange
@njit(parallel=True, cache=False)
def total(a):
    s = 0.0
    for i in prange(len(a)):
        s += a[i]
    return s
total(np.ones(10))
print(before, rss())
"""


def _kernel():
    """Compiles the fused ensemble Euler step (all models per synapse read)."""
    from numba import njit, prange

    @njit(parallel=True, fastmath=True, boundscheck=False, error_model="numpy")
    def integrate(crow, col, grp, table, v0, bias, rate, x, out, n_chunks):
        n_nodes, n_models = v0.shape
        v = v0.copy()
        v_next = np.empty_like(v0)
        for t in range(x.shape[0]):
            for c in prange(n_chunks):
                s = np.zeros(n_models, np.float32)
                for i in range(c * n_nodes // n_chunks, (c + 1) * n_nodes // n_chunks):
                    s[:] = 0
                    for k in range(crow[i], crow[i + 1]):
                        j = col[k]
                        g = grp[k]
                        for m in range(n_models):
                            s[m] += table[g, m] * max(v[j, m], np.float32(0))
                    for m in range(n_models):
                        vi = v[i, m]
                        new = vi + rate[i, m] * (bias[i, m] - vi + s[m] + x[t, i])
                        v_next[i, m] = new
                        out[m, t, i] = new
            v, v_next = v_next, v
        return out

    return integrate


def main(argv=None) -> int:
    """Runs the probe and prints the comparison; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    import numba
    import torch

    from flyvis.network import Network
    from flyvis.network.ensemble_simulation import simulate_ensemble

    torch.set_num_threads(2)
    numba.set_num_threads(2)
    torch.manual_seed(0)
    net = Network(device="cpu")
    engine = net.engine
    n_models, n_nodes, steps = 8, net.n_nodes, args.steps
    if n_nodes >= 2**16 or engine.n_groups >= 2**16:
        raise SystemExit("uint16 indices need fewer than 65,536 nodes and edge groups.")
    base = {k: v.clone() for k, v in net.state_dict().items()}
    sets = []
    for _ in range(n_models):
        sd = {k: v.clone() for k, v in base.items()}
        sd["nodes_bias"] += 0.05 * torch.randn_like(sd["nodes_bias"])
        sd["edges_syn_strength"] *= torch.exp(
            0.2 * torch.randn_like(sd["edges_syn_strength"])
        )
        sets.append(sd)
    movie = 0.5 + 0.3 * torch.rand(1, steps, 1, 721)

    # the same parameter sets as per-node / per-group arrays for the kernel
    tables, biases, rates = [], [], []
    with torch.no_grad():
        for sd in sets:
            net.load_state_dict(sd)
            params = net.prepare()
            tables.append(params.synapses._group_weight.numpy())
            biases.append(params.bias.numpy())
            rates.append((0.01 / params.tau.clamp(min=0.01)).numpy())
        net.load_state_dict(base)
        x = net._photoreceptor_input(movie)[0].numpy()  # (steps, n_nodes)
    table = np.ascontiguousarray(np.stack(tables, 1), dtype=np.float32)
    bias = np.ascontiguousarray(np.stack(biases, 1), dtype=np.float32)
    rate = np.ascontiguousarray(np.stack(rates, 1), dtype=np.float32)
    crow = engine.crow.numpy().astype(np.int32)
    col = engine.col.numpy().astype(np.uint16)
    grp = engine.group_csr.numpy().astype(np.uint16)
    out = np.empty((n_models, steps, n_nodes), np.float32)
    integrate = _kernel()

    start = time.perf_counter()
    integrate(crow, col, grp, table, bias, bias, rate, x, out, 64)
    compile_s = time.perf_counter() - start
    kernel_times, torch_times = [], []
    for _ in range(args.reps):
        start = time.perf_counter()
        integrate(crow, col, grp, table, bias, bias, rate, x, out, 64)
        kernel_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference = simulate_ensemble(net, sets, movie, 0.01, initial_state=None)
        torch_times.append(time.perf_counter() - start)
    diff = float(np.abs(reference[:, 0].numpy() - out).max())

    before, after = map(
        float,
        subprocess.run(
            [sys.executable, "-c", RSS_PROBE], capture_output=True, text=True, check=True
        ).stdout.split(),
    )
    kernel_ms = min(kernel_times) / steps * 1e3
    torch_ms = min(torch_times) / steps * 1e3
    print(
        f"ensemble step, {n_models} models, batch 1, {steps} steps (best of {args.reps}):"
    )
    print(
        f"  numba kernel    {kernel_ms:.2f} ms per step (compilation {compile_s:.1f} s)"
    )
    print(f"  torch (default) {torch_ms:.2f} ms per step")
    print(f"  numba / torch   {kernel_ms / torch_ms:.2f}x the time")
    print(f"  max |difference| {diff:.2e} V")
    print(
        f"  RSS of a fresh process: {before:.0f} MB with torch and flyvis.network, "
        f"{after:.0f} MB after importing numba and compiling one parallel kernel "
        f"(+{after - before:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
