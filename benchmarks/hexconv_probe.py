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
  target type, target types in parallel), with random filter weights,
* compares it with torch's CSR product (``int32`` indices, as the engine
  stores them) on the same weights: the largest difference and the time per
  product for a batch of 1 and 4.

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

    from flyvis.connectome import ConnectomeFromAvgFilters

    connectome = ConnectomeFromAvgFilters()
    nodes, edges = connectome.nodes, connectome.edges
    cell_type = nodes.type_index[:].astype(np.int64)
    u, v = nodes.u[:].astype(np.int64), nodes.v[:].astype(np.int64)
    source, target = edges.source_index[:], edges.target_index[:]
    n_nodes, n_types = len(u), int(cell_type.max()) + 1
    extent = int(connectome.config.extent)

    # filters (target type, source type, offset of the source from the target)
    key = np.stack(
        [
            cell_type[target],
            cell_type[source],
            u[source] - u[target],
            v[source] - v[target],
        ],
        axis=1,
    )
    filters, filter_of_edge = np.unique(key, axis=0, return_inverse=True)
    filter_of_edge = filter_of_edge.ravel()
    pad = int(np.abs(filters[:, 2:]).max())
    print(f"synapse sets {len(source):,}, cell types {n_types}")
    print(
        f"filters {len(filters):,}, distinct offsets "
        f"{len(np.unique(filters[:, 2:], axis=0))}, largest |du|, |dv| {pad}"
    )
    # every filter must cover each target column whose source is a cell
    cells = {(t, a, b) for t, a, b in zip(cell_type, u, v)}
    covered = sum(
        (s, a + du, b + dv) in cells
        for t, s, du, dv in filters
        for a, b in zip(u[cell_type == t], v[cell_type == t])
    )
    print(f"synapse sets implied by the filters {covered:,} (must equal the above)")

    rng = np.random.default_rng(0)
    weight = rng.normal(size=len(filters)).astype(np.float32)
    order = np.argsort(filters[:, 0], kind="stable")
    filters, weight = filters[order], weight[order]
    starts = np.searchsorted(filters[:, 0], np.arange(n_types + 1)).astype(np.int64)
    # the CSR matrix with each synapse set's filter weight
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    csr = (
        torch.sparse_coo_tensor(
            torch.from_numpy(np.stack([target, source]).astype(np.int64)),
            torch.from_numpy(weight[inverse[filter_of_edge]]),
            (n_nodes, n_nodes),
        )
        .coalesce()
        .to_sparse_csr()
    )
    csr = torch.sparse_csr_tensor(
        csr.crow_indices().int(), csr.col_indices().int(), csr.values(), csr.shape
    )

    hexconv, hexconv_rows = _kernel()
    source_type = np.ascontiguousarray(filters[:, 1]).astype(np.int64)
    side = 2 * extent + 1
    width = side + 2 * pad  # padded rows and columns of a cell-type map
    rows = torch.from_numpy(u + extent + pad)
    cols = torch.from_numpy(v + extent + pad)
    # lattice columns of every map row u: v in [max(-R, -R - u), min(R, R - u)]
    row_u = np.arange(-extent, extent + 1)
    first = np.maximum(-extent, -extent - row_u)
    row_start = (row_u + extent + pad) * width + first + extent + pad
    row_len = np.minimum(extent, extent - row_u) - first + 1
    print(f"\nsynaptic input W @ relu(V), mean of {args.reps} products (wall clock):")
    for batch in (1, 4):
        x = torch.rand(n_nodes, batch)
        maps = torch.zeros(n_types, width, width, batch)
        maps[torch.from_numpy(cell_type), rows, cols] = x
        r = maps.numpy().reshape(n_types, -1)
        out_maps = np.zeros_like(maps.numpy())
        out = out_maps.reshape(n_types, -1)
        offset = ((filters[:, 2] * width + filters[:, 3]) * batch).astype(np.int64)
        lo, n = pad * width * batch, side * width * batch
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
            f"({len(source) * batch / 1e6:.1f} M multiply-adds)"
        )
        for name, fn, work in variants:
            out[:] = np.nan
            t_hex = _time_ms(fn, args.reps)
            got = torch.from_numpy(out_maps)[torch.from_numpy(cell_type), rows, cols]
            diff = (got - reference).abs().max().item()
            print(
                f"    hexagonal convolutions, {name}: {t_hex:.3f} ms "
                f"({work / 1e6:.1f} M), {t_csr / t_hex:.2f}x the CSR's speed, "
                f"max |difference| {diff:.2e}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
