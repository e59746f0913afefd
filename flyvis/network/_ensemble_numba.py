"""numba kernels of :mod:`flyvis.network.ensemble_kernel` (imported on first use).

Compiled on first use and cached on disk by numba (``cache=True``: next to
this file, or in numba's user cache directory where that is not writable), so
later processes load them instead of compiling.
"""

from numba import njit, prange

__all__ = ["step", "add_input", "write"]


@njit(parallel=True, fastmath=True, boundscheck=False, cache=True)
def step(R, V, R_next, S, W, starts, source, offset, row_start, row_len,
         bias, rate, type_start, cell_pos, worker_start, worker_types, C):  # fmt: skip
    """One Euler step of every cell on the padded maps (in place).

    ``S[t] = sum_f W[f] * R[source[f]]`` shifted by ``offset[f]`` on the
    lattice rows of type ``t``, then ``V[t] += rate[t] * (bias[t] - V[t] +
    S[t])`` at the cells of ``t`` and ``R_next = relu(V)`` there. Maps are
    ``(n_types, width**2 * C)`` float32 with ``C`` columns per position; ``W``
    ``(n_filters, n_rows * C)`` holds each filter's ``C`` weights tiled along a
    row; target types are split over the threads by ``worker_start`` /
    ``worker_types``.
    """
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
                    # slices keep the indices >= 0, so LLVM vectorises
                    src = r_s[a + d : a + d + n]
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


@njit(fastmath=True, boundscheck=False, cache=True)
def add_input(V, R_next, x, input_pos, input_rate, C):
    """Adds ``rate * x`` to the photoreceptors' voltages and updates their ReLU.

    ``V`` and ``R_next`` are the flat maps, ``x`` ``(n_inputs,)`` one input per
    photoreceptor (the same for every column), ``input_pos`` their map
    positions and ``input_rate`` ``(n_inputs, C)`` their Euler rates.
    """
    for i in range(input_pos.shape[0]):
        p = input_pos[i] * C
        for k in range(C):
            v = V[p + k] + input_rate[i, k] * x[i]
            V[p + k] = v
            R_next[p + k] = v if v > 0 else 0.0


@njit(parallel=True, boundscheck=False, cache=True)
def write(V, node_pos, out, first_model, sample, frame, C):
    """Writes every node's voltage into ``out[first_model + k, sample, frame]``.

    ``out`` is the whole ``(n_models, batch, frames, n_nodes)`` output (one
    array type for every call, so one compiled version), ``k < C``.
    """
    for n in prange(node_pos.shape[0]):
        p = node_pos[n] * C
        for k in range(C):
            out[first_model + k, sample, frame, n] = V[p + k]
