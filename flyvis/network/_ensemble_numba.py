"""numba kernel of :mod:`flyvis.network.ensemble_kernel` (imported on first use).

Compiled on first use and cached on disk by numba (``cache=True``: next to
this file, or in numba's user cache directory where that is not writable), so
later processes load it instead of compiling.
"""

import numpy as np
from numba import njit, prange

__all__ = ["step"]


@njit(parallel=True, fastmath=True, boundscheck=False, cache=True)
def step(R, V, R_next, W, starts, source, offset, span_start, span_len, bias, rate,
         type_seg, seg_cell, seg_len, cell_pos, cell_node, cell_input, x,
         worker_start, worker_types, out, sample, frame):  # fmt: skip
    """One Euler step of every cell of every model (maps updated in place).

    Maps ``R`` (``relu(V)``), ``V`` and ``R_next`` are ``(n_models * n_types,
    map_size)`` float32, one map per model ``k`` and cell type ``t`` (row ``k
    * n_types + t``). For each model and target type ``t``, the synaptic input
    ``s = sum_f W[f, k] * R[k, source[f]]`` shifted by ``offset[f]`` is
    accumulated over the type's span of map positions (lattice and padding
    alike: one long contiguous multiply-add per filter, no synapse indices).
    Then ``V += rate * (bias - V + s + x)`` at the cells of ``t`` (``x`` the
    photoreceptor input ``x[cell_input]``, where ``cell_input >= 0``) and
    ``R_next = relu(V)`` there; with ``frame >= 0`` the voltages also go to
    ``out[k, sample, frame, cell_node]``. The cells are updated in segments
    (``type_seg``, ``seg_cell``, ``seg_len``) of consecutive positions and
    nodes, vectorised: a lattice row of a type that covers it. Target types
    are split over the threads by ``worker_start`` / ``worker_types``.
    """
    n_types, n_models = bias.shape
    for worker in prange(worker_start.shape[0] - 1):
        acc = np.empty(span_len.max(), np.float32)
        for k in range(n_models):
            plane = k * n_types
            for ti in range(worker_start[worker], worker_start[worker + 1]):
                t = worker_types[ti]
                lo = span_start[t]
                n = span_len[t]
                s = acc[:n]
                for i in range(n):
                    s[i] = 0.0
                for f in range(starts[t], starts[t + 1]):
                    w = W[f, k]
                    d = lo + offset[f]
                    # slices keep the indices >= 0, so LLVM vectorises
                    src = R[plane + source[f]][d : d + n]
                    for i in range(n):
                        s[i] += w * src[i]
                v_t, r_t = V[plane + t], R_next[plane + t]
                a, b = rate[t, k], bias[t, k]
                for si in range(type_seg[t], type_seg[t + 1]):
                    q0 = seg_cell[si]
                    m = seg_len[si]
                    p0 = cell_pos[q0]
                    vv = v_t[p0 : p0 + m]
                    rr = r_t[p0 : p0 + m]
                    ss = s[p0 - lo : p0 - lo + m]
                    if cell_input[q0] >= 0:
                        for j in range(m):
                            ss[j] += x[cell_input[q0 + j]]
                    for j in range(m):
                        v = vv[j]
                        v = v + a * (b - v + ss[j])
                        vv[j] = v
                        rr[j] = max(v, 0.0)  # branch-free (no mispredictions)
                    if frame >= 0:
                        n0 = cell_node[q0]
                        oo = out[k, sample, frame, n0 : n0 + m]
                        for j in range(m):
                            oo[j] = vv[j]
