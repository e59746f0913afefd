"""Fused Euler integration of ``PPNeuronIGRSynapses`` with a hand-written backward.

One autograd function integrates a whole movie

    r_t     = relu(V_t)
    s_t     = W r_t                                   (sparse engine, CSR SpMM)
    D_t     = b - V_t + s_t + x_t                     (the "drive")
    V_t+1   = V_t + a * D_t,       a = dt / max(tau, dt)

and backpropagates through time explicitly. It keeps only node-level tensors:
the voltages (the output ``(batch, frames, n_nodes)``, needed anyway); the
drive ``D_t`` that the time-constant gradient needs is recovered from them
(``a D_t = V_t+1 - V_t``) instead of being stored. Every step's
CSR product and update work on contiguous ``(n_nodes, batch)`` tensors;
inputs, outputs and output gradients are moved between their ``(batch,
frames, n_nodes)`` layout and node-major chunk buffers with one transposing
copy per chunk of steps. Without gradients the same loop runs without keeping
the drives. The weight gradient is a sampled dense-dense product over all
steps, ``dL/dW_e = sum_t,b g_t[b, tgt(e)] r_t[b, src(e)]`` with ``g_t = a *
lambda_t+1`` (the adjoint of ``s_t``), accumulated chunk by chunk. Compared with
autograd over the step loop this saves most of the per-step tensors and
their bookkeeping; results equal the generic path (tested against the
reference engine and with ``gradcheck``).

Used automatically by ``Network.forward`` for the default dynamics with ReLU
and the sparse engine, when no state hooks are registered.
"""

from __future__ import annotations

import torch

from flyvis.network.engine import SynapseOperator, _csr, _node_major

__all__ = ["fused_euler", "FusedStep", "step_rate"]


class _FusedEuler(torch.autograd.Function):
    # Every step works node-major on contiguous (n_nodes, batch) tensors, so
    # the CSR product W @ r needs no transposition. The movie input, the output
    # (saved for backward, no second copy of the voltages) and the output
    # gradient are moved between their (batch, frames, n_nodes) layout and
    # node-major (steps, n_nodes, batch) chunk buffers with one transposing
    # copy per chunk: per-step strided reads and writes cost ~10x a contiguous
    # element-wise op. The weight gradient's SDDMM needs node-major
    # (n_nodes, steps * batch) operands: see _ChunkedWeightGrad.

    @staticmethod
    def forward(ctx, v0, bias, rate, values, x, operator):
        out = _integrate(v0, bias, rate, operator.matrix, x)
        ctx.operator = operator
        # the output itself is saved (no node-major copy of the voltages); the
        # drives are recovered from it in backward: D_t = (V_t+1 - V_t) / a
        ctx.save_for_backward(v0, rate, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        v0, rate, out = ctx.saved_tensors  # out (B, T, N)
        operator = ctx.operator
        needs_v0, needs_bias, needs_rate, needs_values, needs_x, _ = _used_input_grads(
            ctx
        )
        batch, n_frames, n_nodes = out.shape
        rate_c = _per_node(rate, batch)
        keep = 1 - rate_c
        lam = grad_out.new_zeros(n_nodes, batch)  # dL/dV_t+1
        g = torch.empty_like(lam)  # g_t = dL/dD_t (= dL/ds_t = dL/dx_t)
        grad_r = torch.empty_like(lam)
        # per-node sums over steps, accumulated in the loop
        bias_acc = torch.zeros_like(lam) if needs_bias else None
        rate_acc = torch.zeros_like(lam) if needs_rate else None
        increment = torch.empty_like(lam) if needs_rate else None
        grad_x = grad_out.new_empty(batch, n_frames, n_nodes) if needs_x else None
        chunks = _Chunks(n_frames, batch)
        weight_grad = (
            _ChunkedWeightGrad(operator.matrix, chunks.size, n_nodes, batch)
            if needs_values
            else None
        )
        # node-major voltages V_start ... V_end of a chunk and its output gradients
        volts = out.new_empty(chunks.size + 1, n_nodes, batch)
        grads = out.new_empty(chunks.size, n_nodes, batch)
        for start, end in chunks.reversed():
            n = end - start
            v_chunk, g_chunk = volts[: n + 1], grads[:n]
            if start == 0:
                v_chunk[0].copy_(v0.t())
                v_chunk[1:].copy_(out[:, :end].permute(1, 2, 0))
            else:
                v_chunk.copy_(out[:, start - 1 : end].permute(1, 2, 0))
            g_chunk.copy_(grad_out[:, start:end].permute(1, 2, 0))
            if needs_values:
                weight_grad.begin_chunk(n)
            for s in range(n - 1, -1, -1):
                lam.add_(g_chunk[s])
                torch.mul(lam, rate_c, out=g)
                if needs_values:
                    weight_grad.record(s, g)
                if needs_x:
                    g_chunk[s].copy_(g)  # consumed above; holds dL/dx_t now
                if needs_bias:
                    bias_acc.add_(g)
                v = v_chunk[s]  # V_t
                if needs_rate:
                    # a * D_t = V_t+1 - V_t
                    torch.sub(v_chunk[s + 1], v, out=increment)
                    rate_acc.addcmul_(g, increment)
                # addmm with beta=0 writes the product straight into grad_r (its
                # old values are ignored); mm(..., out=) first zero-fills it
                torch.addmm(grad_r, operator.matrix_t, g, beta=0, out=grad_r)
                torch.addcmul(
                    torch.ops.aten.threshold_backward(grad_r, v, 0), lam, keep, out=lam
                )
            if needs_values:
                weight_grad.add_chunk(v_chunk[:n])
            if needs_x:
                grad_x[:, start:end].copy_(g_chunk.permute(2, 0, 1))
        grad_bias = bias_acc.sum(1) if needs_bias else None
        # sum_t,b lam_t+1 * D_t = sum_t,b g_t * D_t / a = sum_t,b g_t * (a D_t) / a^2
        grad_rate = rate_acc.sum(1) / rate.square() if needs_rate else None
        grad_values = weight_grad.result() if needs_values else None
        return (
            (lam.t().contiguous() if needs_v0 else None),
            grad_bias,
            grad_rate,
            grad_values,
            grad_x,
            None,
        )


def _used_input_grads(ctx) -> tuple:
    """``ctx.needs_input_grad``, less the gradients this backward pass discards.

    ``needs_input_grad`` says which inputs required gradients in the forward
    pass. A backward pass for some tensors only (``torch.autograd.grad(loss,
    [nodes_bias])``, as the activity penalty does) discards the others; their
    most expensive part, the weight gradient, is then skipped. Asks the
    autograd engine whether it will run the node that consumes each
    gradient; where that cannot be asked, every gradient is computed.
    """
    needs = list(ctx.needs_input_grad)
    will_execute = getattr(torch._C, "_will_engine_execute_node", None)
    if will_execute is None:
        return tuple(needs)
    for i, (node, _) in enumerate(ctx.next_functions):
        if needs[i] and node is not None:
            try:
                needs[i] = bool(will_execute(node))
            except (RuntimeError, TypeError):  # not inside a graph task
                pass
    return tuple(needs)


class _Chunks:
    """Steps of a movie in chunks of about 40 columns (``steps * batch``).

    The forward pass takes chunks of :attr:`size` steps from the start; the
    backward pass (:meth:`reversed`) aligns them at the end of the movie, so
    only the chunk starting at step 0 may be shorter. About 40 columns keep the
    node-major buffers of a chunk small (7 MB each for the default network)
    with an SDDMM as fast as for larger chunks.

    Args:
        n_frames: Steps of the movie.
        batch: Batch size.
    """

    def __init__(self, n_frames: int, batch: int):
        self.n_frames = n_frames
        self.size = max(1, min(n_frames, -(-40 // batch)))

    def reversed(self):
        """``(start, end)`` of every chunk, last chunk first."""
        for end in range(self.n_frames, 0, -self.size):
            yield max(0, end - self.size), end


class _ChunkedWeightGrad:
    """Accumulates ``dL/dW_e = sum_t,b g_t[tgt(e), b] r_t[src(e), b]`` chunk by chunk.

    The SDDMM needs node-major ``(n_nodes, steps * batch)`` operands, filled
    for one chunk of steps at a time (:class:`_Chunks`), so the memory is two
    chunk-sized buffers instead of two movie-sized ones. The products of all
    chunks are accumulated in place into one sparse tensor with the layout of
    the forward matrix (no zero-filled pattern and no copy per chunk).

    Args:
        matrix: CSR matrix of the forward pass (rows = targets).
        steps: Steps per chunk.
        n_nodes: Number of nodes.
        batch: Batch size.
    """

    def __init__(self, matrix: torch.Tensor, steps: int, n_nodes: int, batch: int):
        values = matrix.values()
        self._g = values.new_empty(n_nodes, steps, batch)
        self._r = values.new_empty(n_nodes, steps, batch)
        self._sum = _csr(
            matrix.crow_indices(),
            matrix.col_indices(),
            torch.zeros_like(values),
            matrix.shape,
        )

    def _view(self, buffer: torch.Tensor, n: int) -> torch.Tensor:
        # a contiguous prefix of the buffer, also for a shorter chunk
        n_nodes, _, batch = buffer.shape
        return buffer.view(-1)[: n_nodes * n * batch].view(n_nodes, n, batch)

    def begin_chunk(self, n: int) -> None:
        """Starts a chunk of ``n`` steps (at most the buffers' length)."""
        self._g_chunk = self._view(self._g, n)

    def record(self, s: int, g: torch.Tensor) -> None:
        """Records the adjoint ``g`` ``(n_nodes, batch)`` of step ``s`` of the chunk."""
        self._g_chunk[:, s].copy_(g)

    def add_chunk(self, volts: torch.Tensor) -> None:
        """Adds the chunk's products, given its voltages ``V_t`` ``(n, n_nodes, batch)``.

        ``r_t = relu(V_t)``, with ``V_t`` the voltage before step ``t``.
        """
        n_nodes = self._g.shape[0]
        g_chunk = self._g_chunk
        r_chunk = self._view(self._r, volts.shape[0])
        torch.clamp(volts.permute(1, 0, 2), min=0, out=r_chunk)
        # dense operands (n_nodes, K) and (K, n_nodes); the transposed view is
        # used as is (no copy; as fast as a contiguous one)
        torch.sparse.sampled_addmm(
            self._sum,
            g_chunk.view(n_nodes, -1),
            r_chunk.view(n_nodes, -1).t(),
            beta=1.0,
            out=self._sum,
        )

    def result(self) -> torch.Tensor:
        """The accumulated gradient of every stored value, CSR order ``(n_edges,)``."""
        return self._sum.values()


def _per_node(x: torch.Tensor, batch: int) -> torch.Tensor:
    """Per-node values ``(n_nodes,)`` repeated as a contiguous ``(n_nodes, batch)``.

    Element-wise ops between same-shaped contiguous tensors run as one flat
    vectorised loop; broadcasting a ``(n_nodes, 1)`` operand over a short batch
    axis makes them several times slower.
    """
    return x.unsqueeze(1).expand(-1, batch).contiguous()


def fused_euler(
    v0: torch.Tensor,
    bias: torch.Tensor,
    tau: torch.Tensor,
    synapses: SynapseOperator,
    inputs: torch.Tensor,
    dt: float,
) -> torch.Tensor:
    """Integrates ``PPNeuronIGRSynapses`` with ReLU over a movie (fused).

    Args:
        v0: Initial voltage ``(batch, n_nodes)`` (batch as ``inputs``).
        bias: Resting potentials ``(n_nodes,)``.
        tau: Time constants ``(n_nodes,)`` in seconds (floored at ``dt``).
        synapses: Operator of the sparse engine for this forward pass.
        inputs: Input currents ``(batch, n_frames, n_nodes)``.
        dt: Integration step in seconds.

    Returns:
        Voltages ``(batch, n_frames, n_nodes)`` after each step.
    """
    rate = step_rate(tau, dt)
    tensors = (v0, bias, rate, synapses.values, inputs)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return _FusedEuler.apply(v0, bias, rate, synapses.values, inputs, synapses)
    return _integrate(v0, bias, rate, synapses.matrix, inputs)


def _integrate(v0, bias, rate, matrix, x):
    """Euler integration of a movie, node-major; the forward pass of the fused path.

    Each chunk of steps is integrated in a node-major ``(steps, n_nodes,
    batch)`` buffer that first holds ``b + x_t``; step ``t`` overwrites its
    slot with ``V_t+1 = V_t + a (b + x_t + W relu(V_t) - V_t)``
    (:meth:`FusedStep.advance`), and one transposing copy per
    chunk writes the voltages into the ``(batch, frames, n_nodes)`` output. For
    a batch of 1 the output itself is node-major and no buffer is used. The
    peak memory is the output plus one chunk.
    """
    batch, n_frames, n_nodes = x.shape
    out = v0.new_empty(batch, n_frames, n_nodes)
    if n_frames == 0:
        return out
    step = FusedStep(bias, rate, matrix, batch)
    chunks = _Chunks(n_frames, batch)
    buffer = None if batch == 1 else out.new_empty(chunks.size, n_nodes, batch)
    # fresh (n_nodes, batch) buffers: v0.t() of a batch of 1 is "contiguous" with
    # column-major strides, which sends the CSR product down a slow path
    v = _node_major(v0)
    for start in range(0, n_frames, chunks.size):
        end = min(n_frames, start + chunks.size)
        if buffer is None:
            chunk = out[0, start:end].unsqueeze(-1)  # (n, n_nodes, 1), a view
        else:
            chunk = buffer[: end - start]
        torch.add(x[:, start:end].permute(1, 2, 0), step.bias, out=chunk)
        for s in range(end - start):
            v = step.advance(v, chunk[s])
        if buffer is not None:
            out[:, start:end].copy_(chunk.permute(2, 0, 1))
            # the next chunk overwrites the buffer
            v = v.clone()
    return out


class FusedStep:
    """One node-major Euler step without allocation (movies and closed loops).

    Holds the per-node rates and resting potentials expanded for the batch and
    a work buffer, so a step is one CSR product accumulated in place and two
    or three element-wise ops on contiguous ``(n_nodes, batch)`` tensors.

    Args:
        bias: Resting potentials ``(n_nodes,)``.
        rate: ``dt / max(tau, dt)`` per node ``(n_nodes,)``.
        matrix: CSR matrix of the synaptic weights (rows = targets).
        batch: Batch size.
    """

    def __init__(self, bias, rate, matrix: torch.Tensor, batch: int):
        self.bias = _per_node(bias, batch)
        self.rate = _per_node(rate, batch)
        self.matrix = matrix
        self._r = torch.empty_like(self.bias)

    def advance(self, v: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Overwrites ``u = b + x`` with the next voltage ``V + a (u + W relu(V) - V)``.

        Args:
            v: Voltages ``(n_nodes, batch)``, contiguous.
            u: Resting potentials plus input currents ``(n_nodes, batch)``,
                contiguous (not ``v``); receives the result.

        Returns:
            ``u``.
        """
        torch.addmm(u, self.matrix, torch.clamp(v, min=0, out=self._r), out=u)
        return torch.lerp(v, u, self.rate, out=u)

    def __call__(self, v: torch.Tensor, x: torch.Tensor, out: torch.Tensor):
        """Writes ``V + a * D`` with ``D = b - V + W relu(V) + x`` into ``out``.

        Args:
            v: Voltages ``(n_nodes, batch)``, contiguous.
            x: Input currents ``(n_nodes, batch)`` (any strides).
            out: Output buffer ``(n_nodes, batch)``, contiguous (not ``v``).

        Returns:
            ``out``.
        """
        return self.advance(v, torch.add(x, self.bias, out=out))


def step_rate(tau: torch.Tensor, dt: float) -> torch.Tensor:
    """Euler update fraction ``dt / max(tau, dt)`` per node (time constants in s)."""
    return dt / torch.clamp(tau, min=dt)
