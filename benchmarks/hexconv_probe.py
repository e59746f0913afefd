"""Probe: is the synaptic input faster as hexagonal convolutions than as a CSR product?

Issue 13 suggests exploiting that every column has the same filter. In the
default connectome each synapse set belongs to one *filter* ``(target type,
source type, du, dv)`` whose weight is the same in every column, so

    s[t, u, v] = sum over filters f of t:  w_f * r[s_f, u + du_f, v + dv_f]

is a set of shifted, scaled copies of whole cell-type maps (sources outside
the lattice read 0). This script

* counts the filters and offsets and checks that they reproduce every synapse
  set of the connectome exactly,
* runs that sum with a numba kernel on a zero-padded ``(type, row, column,
  batch)`` layout (one contiguous, vectorised multiply-add per filter and
  target type, target types in parallel) with the network's weights,
* compares it with torch's CSR product (``int32`` indices, as the engine
  stores them) on the same weights: the largest difference and the time per
  product for a batch of 1 and 4.

The filters and the padded layout are those of
:func:`flyvis.network.ensemble_kernel.structure` (which ``simulate_ensemble(...,
method="numba")`` uses).

numba is not a dependency of the core; it is installed with umap-learn. The
packing of voltages into the padded layout is not timed (an engine built on
this layout would keep its state there). Run on an idle machine:

    .venv/bin/python benchmarks/hexconv_probe.py
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np


def _time_ms(fn, reps: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps * 1e3


def _kernel():
    from numba import njit, prange

    @njit(fastmath=True, boundscheck=False, parallel=True)
    def hexconv(r, out, starts, source, offset, weight, lo, n):
        # out[t, lo:lo+n] = sum_f weight[f] * r[source[f], lo+offset[f] : ...];
        # slices (not r[.., k + d]) let LLVM vectorise: indices stay >= 0
        for t in prange(out.shape[0]):
            o = out[t, lo : lo + n]
            o[:] = 0.0
            for f in range(starts[t], starts[t + 1]):
                d = lo + offset[f]
                src = r[source[f], d : d + n]
                w = weight[f]
                for k in range(n):
                    o[k] += w * src[k]

    @njit(fastmath=True, boundscheck=False, parallel=True)
    def hexconv_rows(r, out, starts, source, offset, weight, row_lo, row_n):
        # the same, one multiply-add per lattice row: only the columns on the
        # hexagonal lattice are computed (no padding, no corners)
        for t in prange(out.shape[0]):
            for i in range(row_lo.shape[0]):
                out[t, row_lo[i] : row_lo[i] + row_n[i]] = 0.0
            for f in range(starts[t], starts[t + 1]):
                w = weight[f]
                for i in range(row_lo.shape[0]):
                    lo, n = row_lo[i], row_n[i]
                    o = out[t, lo : lo + n]
                    d = lo + offset[f]
                    src = r[source[f], d : d + n]
                    for k in range(n):
                        o[k] += w * src[k]

    return hexconv, hexconv_rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="timed repetitions")
    args = parser.parse_args(argv)

    import torch

    from flyvis.network import Network, ensemble_kernel
    from flyvis.network.ensemble_simulation import _semantic

    net = Network(device="cpu")
    # the filters, their map layout and the check that they imply every
    # synapse set: flyvis.network.ensemble_kernel.structure
    h = ensemble_kernel.structure(net)
    if h is None:
        raise SystemExit("the default network's synapses do not form filters")
    filters, starts, source_type = h.filters, h.starts, h.source
    n_types, n_nodes, width = h.n_types, net.n_nodes, h.width
    pad = h.pad
    n_synapses = net.engine.n_edges
    print(f"synapse sets {n_synapses:,}, cell types {n_types}")
    print(
        f"filters {len(filters):,}, distinct offsets "
        f"{len(np.unique(filters[:, 2:], axis=0))}, largest |du|, |dv| {pad}"
    )
    print(f"synapse sets implied by the filters {h.n_implied_synapses():,}")

    # the network's synapse weights (sign * count * strength): per synapse set
    # for the CSR product, per filter (the same in every column) for the kernel
    with torch.no_grad():
        params = {k: _semantic(net, k, v) for k, v in net.state_dict().items()}
        edge_weight = (
            params["edges_sign"][net._index_edges_sign]
            * params["edges_syn_count"][net._index_edges_syn_count]
            * params["edges_syn_strength"][net._index_edges_syn_strength]
        ).float()
    weight = edge_weight[torch.from_numpy(h.first_edge)].numpy()
    csr = (
        torch.sparse_coo_tensor(
            torch.stack([net.engine.target, net.engine.source]).long(),
            edge_weight,
            (n_nodes, n_nodes),
        )
        .coalesce()
        .to_sparse_csr()
    )
    csr = torch.sparse_csr_tensor(
        csr.crow_indices().int(), csr.col_indices().int(), csr.values(), csr.shape
    )

    hexconv, hexconv_rows = _kernel()
    side = h.n_rows
    node_pos = torch.from_numpy(h.node_pos)
    # the map position of each lattice row's first cell and its length (row u
    # holds columns v = max(-R, -R - u) .. min(R, R - u)); the rows start after
    # pad + 1 rows of padding, the columns at v = -R
    extent = int(net.connectome.config.extent)
    row_u = np.arange(-extent, extent + 1)
    col_first = np.maximum(-extent, -extent - row_u)
    row_start = (row_u + extent + pad + 1) * width + col_first + extent
    row_len = np.minimum(extent, extent - row_u) - col_first + 1
    print(f"\nsynaptic input W @ relu(V), mean of {args.reps} products (wall clock):")
    for batch in (1, 4):
        x = torch.rand(n_nodes, batch)
        maps = torch.zeros(n_types * h.map_size, batch)
        maps[node_pos] = x
        r = maps.numpy().reshape(n_types, -1)
        out = np.zeros_like(r)
        offset = h.offset * batch
        lo, n = (pad + 1) * width * batch, side * width * batch
        row_lo = (row_start * batch).astype(np.int64)
        row_n = (row_len * batch).astype(np.int64)
        common = (r, out, starts, source_type, offset, weight)
        variants = (
            ("padded maps", partial(hexconv, *common, lo, n), len(filters) * n),
            (
                "lattice rows",
                partial(hexconv_rows, *common, row_lo, row_n),
                len(filters) * int(row_n.sum()),
            ),
        )
        reference = torch.mm(csr, x)
        t_csr = _time_ms(partial(torch.mm, csr, x), args.reps)
        print(
            f"  batch {batch}: CSR product {t_csr:.3f} ms "
            f"({n_synapses * batch / 1e6:.1f} M multiply-adds)"
        )
        for name, fn, work in variants:
            out[:] = np.nan
            t_hex = _time_ms(fn, args.reps)
            got = torch.from_numpy(out).reshape(-1, batch)[node_pos]
            diff = (got - reference).abs().max().item()
            print(
                f"    hexagonal convolutions, {name}: {t_hex:.3f} ms "
                f"({work / 1e6:.1f} M), {t_csr / t_hex:.2f}x the CSR's speed, "
                f"max |difference| {diff:.2e}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
