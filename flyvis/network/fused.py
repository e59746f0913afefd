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
inputs and outputs are read and written per step through transposed views.
Without gradients the same loop runs without keeping the drives. The weight
gradient is one sampled dense-dense product over all steps, ``dL/dW_e = sum_t,b g_t[b, tgt(e)] r_t[b, src(e)]``
with ``g_t = a * lambda_t+1`` (the adjoint of ``s_t``). Compared with
autograd over the step loop this saves most of the per-step tensors and
their bookkeeping; results equal the generic path (tested against the
reference engine and with ``gradcheck``).

Used automatically by ``Network.forward`` for the default dynamics with ReLU
and the sparse engine, when no state hooks are registered.
"""

from __future__ import annotations

from typing import Optional

import torch

from flyvis.network.engine import SynapseOperator, _node_major, sddmm_stacked

__all__ = ["fused_euler", "FusedStep", "step_rate"]


class _FusedEuler(torch.autograd.Function):
    # Every step works node-major on contiguous (n_nodes, batch) tensors, so
    # the CSR product W @ r needs no transposition. The movie input, the output
    # (saved for backward, no second copy of the voltages) and the output
    # gradient are read and written per step through transposed views. The
    # weight gradient's SDDMM needs node-major (n_nodes, steps * batch)
    # operands: see _ChunkedWeightGrad.

    @staticmethod
    def forward(ctx, v0, bias, rate, values, x, operator):
        matrix = operator.matrix
        batch, n_frames, n_nodes = x.shape
        out = _integrate(v0, bias, rate, matrix, x)
        ctx.operator = operator
        # the output itself is saved (no node-major copy of the voltages); the
        # drives are recovered from it in backward: D_t = (V_t+1 - V_t) / a
        ctx.save_for_backward(v0, rate, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        v0, rate, out = ctx.saved_tensors  # out (B, T, N)
        operator = ctx.operator
        needs_v0, needs_bias, needs_rate, needs_values, needs_x, _ = ctx.needs_input_grad
        batch, n_frames, n_nodes = out.shape
        rate_c = _per_node(rate, batch)
        keep = 1 - rate_c
        v0_nm = _node_major(v0)
        lam = grad_out.new_zeros(n_nodes, batch)  # dL/dV_t+1
        g = torch.empty_like(lam)  # g_t = dL/dD_t (= dL/ds_t = dL/dx_t)
        grad_r = torch.empty_like(lam)
        # per-node sums over steps, accumulated in the loop
        bias_acc = torch.zeros_like(lam) if needs_bias else None
        rate_acc = torch.zeros_like(lam) if needs_rate else None
        increment = torch.empty_like(lam) if needs_rate else None
        grad_x = grad_out.new_empty(batch, n_frames, n_nodes) if needs_x else None
        weight_grad = (
            _ChunkedWeightGrad(operator.matrix, out, v0_nm) if needs_values else None
        )
        for t in range(n_frames - 1, -1, -1):
            lam.add_(_step_view(grad_out, t))
            torch.mul(lam, rate_c, out=g)
            if needs_values:
                weight_grad.add(t, g)
            if needs_x:
                _step_view(grad_x, t).copy_(g)
            if needs_bias:
                bias_acc.add_(g)
            v = _step_view(out, t - 1) if t > 0 else v0_nm
            if needs_rate:
                # a * D_t = V_t+1 - V_t
                torch.sub(_step_view(out, t), v, out=increment)
                rate_acc.addcmul_(g, increment)
            # addmm with beta=0 writes the product straight into grad_r (its old
            # values are ignored); mm(..., out=) first zero-fills it: ~10 % slower
            torch.addmm(grad_r, operator.matrix_t, g, beta=0, out=grad_r)
            torch.addcmul(
                torch.ops.aten.threshold_backward(grad_r, v, 0), lam, keep, out=lam
            )
        grad_bias = bias_acc.sum(1) if needs_bias else None
        # sum_t,b lam_t+1 * D_t = sum_t,b g_t * D_t / a = sum_t,b g_t * (a D_t) / a^2
        grad_rate = rate_acc.sum(1) / rate.square() if needs_rate else None
        grad_values = weight_grad.result if needs_values else None
        return (
            (lam.t().contiguous() if needs_v0 else None),
            grad_bias,
            grad_rate,
            grad_values,
            grad_x,
            None,
        )


class _ChunkedWeightGrad:
    """Accumulates ``dL/dW_e = sum_t,b g_t[tgt(e), b] r_t[src(e), b]`` in chunks of steps.

    The SDDMM needs node-major ``(n_nodes, steps * batch)`` operands. Filling
    them for a chunk of steps at a time (about 40 columns: two 7 MB buffers
    for the default network, and an iteration as fast as with 80) bounds the
    memory to two chunk-sized buffers instead of two movie-sized ones. Steps
    are added in reverse order
    (as the backward pass produces them); chunks are aligned at the end of the
    movie, so only the last chunk added (starting at step 0) may be shorter.

    Args:
        matrix: CSR matrix of the forward pass (rows = targets).
        out: Voltages after each step ``(batch, frames, n_nodes)``.
        v0: Initial voltages ``(n_nodes, batch)``.
    """

    def __init__(self, matrix: torch.Tensor, out: torch.Tensor, v0: torch.Tensor):
        batch, n_frames, n_nodes = out.shape
        self.matrix, self.out, self.v0 = matrix, out, v0
        self.n_frames = n_frames
        self.steps = min(n_frames, -(-40 // batch))
        self._g = out.new_empty(n_nodes, self.steps, batch)
        self._r = out.new_empty(n_nodes, self.steps, batch)
        self.result = torch.zeros_like(matrix.values())

    def _chunk(self, t: int):
        end = self.n_frames - (self.n_frames - 1 - t) // self.steps * self.steps
        return max(0, end - self.steps), end

    def add(self, t: int, g: torch.Tensor) -> None:
        """Records the adjoint ``g`` ``(n_nodes, batch)`` of step ``t``."""
        start, end = self._chunk(t)
        n_nodes, _, batch = self._g.shape
        size = n_nodes * (end - start) * batch
        # a contiguous prefix of the buffer, also for a shorter chunk
        g_chunk = self._g.view(-1)[:size].view(n_nodes, end - start, batch)
        g_chunk[:, t - start].copy_(g)
        if t != start:
            return
        # the chunk is complete: r_t = relu(V_t), with V_0 the initial state
        r_chunk = self._r.view(-1)[:size].view(n_nodes, end - start, batch)
        first = 0
        if start == 0:
            torch.clamp(self.v0, min=0, out=r_chunk[:, 0])
            first = 1
        voltages = self.out[:, start + first - 1 : end - 1].permute(2, 1, 0)
        torch.clamp(voltages, min=0, out=r_chunk[:, first:])
        self.result += sddmm_stacked(
            self.matrix, g_chunk.view(n_nodes, -1).t(), r_chunk.view(n_nodes, -1).t()
        )


def _per_node(x: torch.Tensor, batch: int) -> torch.Tensor:
    """Per-node values ``(n_nodes,)`` repeated as a contiguous ``(n_nodes, batch)``.

    Element-wise ops between same-shaped contiguous tensors run as one flat
    vectorised loop; broadcasting a ``(n_nodes, 1)`` operand over a short batch
    axis makes them several times slower.
    """
    return x.unsqueeze(1).expand(-1, batch).contiguous()


def _step_view(x: torch.Tensor, t: int) -> torch.Tensor:
    """Frame ``t`` of a ``(batch, frames, n_nodes)`` movie as ``(n_nodes, batch)``.

    A view; for a batch of 1 it is the contiguous frame itself.
    """
    if x.shape[0] == 1:
        return x[0, t].unsqueeze(1)
    return x[:, t].t()


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

    Writes each step straight into the ``(batch, frames, n_nodes)`` output
    (through a transposed view), so the peak memory is the output plus a few
    node-level tensors.
    """
    batch, n_frames, n_nodes = x.shape
    step = FusedStep(bias, rate, matrix, batch)
    out = v0.new_empty(batch, n_frames, n_nodes)
    # fresh (n_nodes, batch) buffers: v0.t() of a batch of 1 is "contiguous" with
    # column-major strides, which sends the CSR product down a slow path
    v = _node_major(v0)
    v_next = torch.empty_like(v)
    for t in range(n_frames):
        step(v, _step_view(x, t), v_next)
        v, v_next = v_next, v
        _step_view(out, t).copy_(v)
    return out


class FusedStep:
    """One node-major Euler step without allocation (movies and closed loops).

    Holds the per-node rates and resting potentials expanded for the batch and
    two work buffers, so a step is one CSR product and four element-wise ops
    on contiguous ``(n_nodes, batch)`` tensors.

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
        self._d = torch.empty_like(self.bias)

    def __call__(
        self,
        v: torch.Tensor,
        x: torch.Tensor,
        out: torch.Tensor,
        drive: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Writes ``V + a * D`` with ``D = b - V + W relu(V) + x`` into ``out``.

        Args:
            v: Voltages ``(n_nodes, batch)``, contiguous.
            x: Input currents ``(n_nodes, batch)`` (any strides).
            out: Output buffer ``(n_nodes, batch)`` (not ``v``).
            drive: Optional buffer ``(n_nodes, batch)`` that receives ``D``.

        Returns:
            ``out``.
        """
        d = self._d if drive is None else drive
        torch.addmm(d, self.matrix, torch.clamp(v, min=0, out=self._r), beta=0, out=d)
        d.add_(self.bias).sub_(v).add_(x)
        return torch.addcmul(v, self.rate, d, out=out)


def step_rate(tau: torch.Tensor, dt: float) -> torch.Tensor:
    """Euler update fraction ``dt / max(tau, dt)`` per node (time constants in s)."""
    return dt / torch.clamp(tau, min=dt)
