"""The synaptic-input engine: ``s_i = sum_{e: target(e) = i} w_e * r_{source(e)}``.

The sum over the 1,513,231 edges of the default network is a sparse
matrix-vector product whose matrix (the per-edge weights ``w``) changes only
when parameters change, once per forward pass, while the presynaptic
activations ``r = f(V)`` change every integration step. Two implementations
share one interface (:meth:`SynapticEngine.prepare` once per forward, then the
returned :class:`SynapseOperator` once per step):

* ``"sparse"`` (default): a CSR matrix built from ``w`` once per forward; each
  step is one SpMM. A custom autograd backward keeps only node-level tensors
  per step (the step's input ``r`` and output gradient ``g``, shape
  ``(batch, n_nodes)``) and computes the gradient of every edge weight once
  per backward pass with one sampled dense-dense product (SDDMM) over all
  steps: ``dL/dw_e = sum_{t,b} g_t[b, target(e)] * r_t[b, source(e)]``.
  Autograd then reduces it onto the shared parameters (segment sums over
  edges). No per-edge, per-step tensor is ever materialised.
* ``"reference"``: plain gather/scatter (``index_select`` / ``index_add``) as
  in flyvis 1.2.0, kept for tests; autograd stores ``(batch, n_edges)``
  tensors for every step.

Both run unchanged on CPU and CUDA (``torch.sparse``; no compiled extension).
Edge order does not matter: the CSR layout is sorted by (target, source).
"""

from __future__ import annotations

import warnings
from typing import Dict, List, Tuple

import torch

__all__ = ["SynapticEngine", "SynapseOperator", "ENGINES", "sddmm", "sddmm_stacked"]

#: Valid engine names.
ENGINES = ("sparse", "reference")


class _Tape:
    """Node-level tensors recorded by the step backward passes of one forward."""

    def __init__(self, matrix: torch.Tensor, matrix_t: torch.Tensor, collect: bool):
        self.matrix = matrix
        self.matrix_t = matrix_t
        self.collect = collect
        self.grads: List[torch.Tensor] = []
        self.inputs: List[torch.Tensor] = []

    def weight_grad(self) -> torch.Tensor:
        """SDDMM over all recorded steps; returns the gradient in CSR order."""
        grad = sddmm(self.matrix, self.grads, self.inputs)
        self.grads, self.inputs = [], []
        return grad


def sddmm(matrix: torch.Tensor, adjoints: List[torch.Tensor], inputs: List[torch.Tensor]):
    """Per-edge weight gradient ``sum_k adjoint_k[target] * input_k[source]``.

    One sampled dense-dense product on the sparsity pattern of ``matrix``.

    Args:
        matrix: CSR matrix ``(n_nodes, n_nodes)`` (rows = targets).
        adjoints: Gradients of the synaptic input, each ``(batch, n_nodes)``.
        inputs: Presynaptic activations of the same steps, each ``(batch, n_nodes)``.

    Returns:
        The gradient of every stored value, in CSR order ``(n_edges,)``.
    """
    if not adjoints:
        return torch.zeros_like(matrix.values())
    return sddmm_stacked(matrix, torch.cat(adjoints, 0), torch.cat(inputs, 0))


def sddmm_stacked(matrix: torch.Tensor, adjoint: torch.Tensor, inputs: torch.Tensor):
    """:func:`sddmm` for steps stacked along the first axis.

    Args:
        matrix: CSR matrix ``(n_nodes, n_nodes)`` (rows = targets).
        adjoint: Gradients of the synaptic input ``(K, n_nodes)`` (K = steps x
            samples, any order).
        inputs: Presynaptic activations ``(K, n_nodes)`` in the same order.

    Returns:
        ``sum_k adjoint[k, target(e)] * inputs[k, source(e)]`` for every stored
        value, in CSR order ``(n_edges,)``.
    """
    pattern = _csr(
        matrix.crow_indices(),
        matrix.col_indices(),
        torch.zeros_like(matrix.values()),
        matrix.shape,
    )
    # the transposed view is used as is (no copy; as fast as a contiguous one)
    return torch.sparse.sampled_addmm(pattern, adjoint.t(), inputs, beta=0.0).values()


class _WeightToken(torch.autograd.Function):
    """Ties the per-edge weights to the steps; its backward runs after theirs.

    Every step takes the 0-d token as input, so autograd calls this backward
    only once all step backward passes of this graph are done; it then turns
    the recorded node-level tensors into the per-edge weight gradient.
    """

    @staticmethod
    def forward(ctx, values: torch.Tensor, tape: _Tape) -> torch.Tensor:
        ctx.tape = tape
        return values.new_zeros(())

    @staticmethod
    def backward(ctx, grad_token: torch.Tensor):
        return ctx.tape.weight_grad(), None


class _SparseStep(torch.autograd.Function):
    """One SpMM step ``s = r @ W^T`` with a node-level backward."""

    @staticmethod
    def forward(ctx, token: torch.Tensor, r: torch.Tensor, tape: _Tape) -> torch.Tensor:
        ctx.tape = tape
        ctx.save_for_backward(r)
        return torch.mm(tape.matrix, _node_major(r)).t()

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        (r,) = ctx.saved_tensors
        tape = ctx.tape
        g = g.contiguous()
        if tape.collect:
            tape.grads.append(g)
            tape.inputs.append(r.detach())
        grad_r = None
        if ctx.needs_input_grad[1]:
            grad_r = torch.mm(tape.matrix_t, _node_major(g)).t()
        grad_token = g.new_zeros(()) if ctx.needs_input_grad[0] else None
        return grad_token, grad_r, None


class SynapseOperator:
    """Synaptic input for a fixed set of weights (valid for one forward pass).

    Call it with presynaptic activations ``r`` of shape ``(batch, n_nodes)``
    (already passed through the activation function) to get the summed
    synaptic input per target node, shape ``(batch, n_nodes)``.
    """

    def __init__(
        self, engine: "SynapticEngine", weight: torch.Tensor, grouped: bool = False
    ):
        self.engine = engine
        self.grouped = grouped
        self._weight = None if grouped else weight
        self._group_weight = weight if grouped else None
        if engine.name == "sparse":
            if grouped:
                # one gather from the groups straight into CSR order
                values = weight.index_select(0, engine.group_csr)
                values_t = weight.detach().index_select(0, engine.group_csr_t)
            else:
                # int64 for the index_add of the backward pass (int32: slow path)
                values = weight.index_select(0, engine.perm.long())
                values_t = values.detach().index_select(0, engine.perm_t)
            self._collect = values.requires_grad and torch.is_grad_enabled()
            matrix = _csr(engine.crow, engine.col, values.detach(), engine.n_nodes)
            matrix_t = _csr(engine.crow_t, engine.col_t, values_t, engine.n_nodes)
            self.values, self.matrix, self.matrix_t = values, matrix, matrix_t
            self._tape = _Tape(matrix, matrix_t, self._collect)
            self._token = (
                _WeightToken.apply(values, self._tape)
                if self._collect
                else values.new_zeros(())
            )

    @property
    def weight(self) -> torch.Tensor:
        """Per-edge weights ``(n_edges,)`` in edge-table order."""
        if self._weight is None:
            self._weight = self._group_weight.index_select(
                0, self.engine.edge_group.long()
            )
        return self._weight

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        """Summed synaptic input ``(batch, n_nodes)`` for activations ``r``."""
        engine = self.engine
        if engine.name == "reference":
            per_edge = r.index_select(-1, engine.source) * self.weight
            out = r.new_zeros(r.shape[:-1] + (engine.n_nodes,))
            return out.index_add(-1, engine.target, per_edge)
        if torch.is_grad_enabled() and (r.requires_grad or self._collect):
            return _SparseStep.apply(self._token, r, self._tape)
        return torch.mm(self._tape.matrix, _node_major(r)).t()

    def currents(self, r: torch.Tensor) -> torch.Tensor:
        """Per-edge currents ``w_e * r_source(e)``, shape ``(batch, n_edges)``."""
        return r.index_select(-1, self.engine.source) * self.weight


class SynapticEngine(torch.nn.Module):
    """Graph structure of the network's synapses and the chosen implementation.

    Args:
        source_index: ``(n_edges,)`` presynaptic node of every edge.
        target_index: ``(n_edges,)`` postsynaptic node of every edge.
        n_nodes: Number of nodes.
        name: ``"sparse"`` (default, fast) or ``"reference"`` (gather/scatter).

    Raises:
        ValueError: For an unknown engine name or indices out of range.
    """

    def __init__(
        self,
        source_index: torch.Tensor,
        target_index: torch.Tensor,
        n_nodes: int,
        name: str = "sparse",
    ):
        super().__init__()
        if name not in ENGINES:
            raise ValueError(
                f"unknown engine {name!r}; valid engines: {', '.join(ENGINES)}."
            )
        source_index = torch.as_tensor(source_index, dtype=torch.long)
        target_index = torch.as_tensor(target_index, dtype=torch.long)
        if source_index.shape != target_index.shape or source_index.ndim != 1:
            raise ValueError("source_index and target_index must be 1-D of equal length.")
        if len(source_index) and (
            int(torch.max(source_index.max(), target_index.max())) >= n_nodes
            or int(torch.min(source_index.min(), target_index.min())) < 0
        ):
            raise ValueError(f"edge indices must lie in [0, {n_nodes}).")
        self.name = name
        self.n_nodes = int(n_nodes)
        perm, crow, col = _csr_layout(target_index, source_index, n_nodes)
        _, crow_t, col_t = _csr_layout(source_index, target_index, n_nodes)
        # int32 indices halve the memory of the graph (torch.sparse and
        # index_select accept them); int64 only where counts could overflow
        index_dtype = torch.int32 if len(source_index) < 2**31 - 1 else torch.long
        # the reference gather/scatter keeps int64 source/target indices:
        # torch's index_add with int32 indices takes a slow path (13x slower)
        if name == "reference":
            self.register_buffer("_source", source_index, persistent=False)
            self.register_buffer("_target", target_index, persistent=False)
        # the sparse engine keeps only the two CSR layouts and the permutation
        # from edge-table to CSR order (the edge-table source/target indices and
        # the transposed permutation are derived from them when first asked for:
        # 17 MB less for the default network in training, which never asks)
        for key, value in {
            "perm": perm,
            "crow": crow,
            "col": col,
            "crow_t": crow_t,
            "col_t": col_t,
        }.items():
            self.register_buffer(key, value.to(index_dtype), persistent=False)
        # index arrays derived from the layout when first asked for (see source)
        self._derived_cache: Dict[Tuple[str, torch.device], torch.Tensor] = {}

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.col)

    @property
    def source(self) -> torch.Tensor:
        """Presynaptic node of every edge ``(n_edges,)``, edge-table order.

        ``torch.long`` for the reference engine (a stored buffer); for the
        sparse engine ``int32``, derived from the CSR layout on first use (per
        device) and cached, so that training, which never asks, does not hold it.
        """
        if self.name == "reference":
            return self._source
        return self._derived("source", lambda: self._to_edge_order(self.col))

    @property
    def target(self) -> torch.Tensor:
        """Postsynaptic node of every edge ``(n_edges,)``, edge-table order.

        Stored (``torch.long``) for the reference engine, derived from the CSR
        row pointers for the sparse engine (see :attr:`source`).
        """
        if self.name == "reference":
            return self._target
        return self._derived(
            "target", lambda: self._to_edge_order(self._csr_rows().to(self.col.dtype))
        )

    @property
    def perm_t(self) -> torch.Tensor:
        """CSR-order position of every edge of the transposed layout ``(n_edges,)``.

        Derived on first use per device (only ungrouped weights need it in
        every forward pass) and cached.
        """

        def compute():
            # the transposed layout sorts the CSR-order edges by (source, target)
            perm_t, _, _ = _csr_layout(self.col.long(), self._csr_rows(), self.n_nodes)
            return perm_t.to(self.col.dtype)

        return self._derived("perm_t", compute)

    def _csr_rows(self) -> torch.Tensor:
        """Row (target node) of every edge in CSR order, ``torch.long``."""
        rows = torch.arange(self.n_nodes, device=self.col.device)
        return torch.repeat_interleave(rows, self.crow.diff().long())

    def _to_edge_order(self, csr_values: torch.Tensor) -> torch.Tensor:
        """Per-edge values in CSR order rearranged into edge-table order."""
        out = torch.empty_like(csr_values)
        out[self.perm.long()] = csr_values
        return out

    def _derived(self, name: str, compute) -> torch.Tensor:
        """Index array ``name`` derived from the CSR layout, cached per device."""
        key = (name, self.col.device)
        if key not in self._derived_cache:
            self._derived_cache[key] = compute()
        return self._derived_cache[key]

    def set_edge_groups(self, edge_group: torch.Tensor) -> None:
        """Declares groups of edges that always share their weight.

        After this, :meth:`prepare` accepts one weight per group
        (``grouped=True``) and gathers it straight into the CSR order: one
        ``(n_edges,)`` gather per forward pass instead of expanding every
        parameter to the edges, and a segment sum onto the groups in backward.

        Args:
            edge_group: ``(n_edges,)`` integer group of every edge (edge-table
                order), groups numbered ``0 ... n_groups - 1``.

        Raises:
            ValueError: For a wrong shape or group numbers that are not
                ``0 ... n_groups - 1``.
        """
        edge_group = torch.as_tensor(
            edge_group, dtype=torch.long, device=self.perm.device
        )
        if edge_group.shape != (self.n_edges,):
            raise ValueError(
                f"edge_group must have shape ({self.n_edges},), got "
                f"{tuple(edge_group.shape)}."
            )
        n_groups = int(edge_group.max()) + 1 if len(edge_group) else 0
        if len(edge_group) and (
            int(edge_group.min()) < 0 or len(torch.unique(edge_group)) != n_groups
        ):
            raise ValueError("edge groups must be numbered 0 ... n_groups - 1.")
        self.n_groups = n_groups
        small = torch.int32 if n_groups < 2**31 - 1 else torch.long
        group_csr = edge_group.index_select(0, self.perm.long()).to(small)
        # int32: the backward of the gather (a 1-D index_add onto the groups)
        # is as fast as with int64 indices
        self.register_buffer("group_csr", group_csr, persistent=False)
        self.register_buffer(
            "group_csr_t",
            group_csr.index_select(0, self.perm_t.long()).to(small),
            persistent=False,
        )
        # only needed again for ungrouped weights
        self._derived_cache.pop(("perm_t", self.col.device), None)
        self.register_buffer("edge_group", edge_group.to(small), persistent=False)

    @property
    def has_edge_groups(self) -> bool:
        """Whether :meth:`set_edge_groups` was called."""
        return "group_csr" in self._buffers

    def prepare(self, weight: torch.Tensor, grouped: bool = False) -> SynapseOperator:
        """Builds the operator for the weights (once per forward).

        Args:
            weight: Per-edge weights ``(n_edges,)`` in edge-table order, or
                with ``grouped`` one weight per edge group ``(n_groups,)``
                (:meth:`set_edge_groups`).
            grouped: Whether ``weight`` holds one value per edge group.

        Returns:
            The operator to call once per integration step.

        Raises:
            ValueError: If ``weight`` has the wrong shape, or ``grouped`` is
                set without edge groups.
        """
        if grouped:
            if not self.has_edge_groups:
                raise ValueError("grouped weights need set_edge_groups() first.")
            if weight.shape != (self.n_groups,):
                raise ValueError(
                    f"grouped weight must have shape ({self.n_groups},), got "
                    f"{tuple(weight.shape)}."
                )
            return SynapseOperator(self, weight, grouped=True)
        if weight.shape != (self.n_edges,):
            raise ValueError(
                f"weight must have shape ({self.n_edges},), got {tuple(weight.shape)}."
            )
        return SynapseOperator(self, weight)

    def extra_repr(self) -> str:
        """Summary shown by ``repr``."""
        return f"name={self.name!r}, n_nodes={self.n_nodes}, n_edges={self.n_edges}"


def _node_major(x: torch.Tensor) -> torch.Tensor:
    """``x.t()`` as a row-major ``(n_nodes, batch)`` copy.

    ``x.t().contiguous()`` is not enough: for a batch of 1 it returns a view
    with column-major strides, which sends the CSR product down a path about
    3x slower.
    """
    return x.new_empty(x.shape[::-1]).copy_(x.t())


def _csr(crow, col, values, shape) -> torch.Tensor:
    """A CSR matrix (``shape`` int: square) without invariant checks."""
    shape = (shape, shape) if isinstance(shape, int) else tuple(shape)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        return torch.sparse_csr_tensor(crow, col, values, shape, check_invariants=False)


def _csr_layout(
    rows: torch.Tensor, cols: torch.Tensor, n: int
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Permutation sorting edges by (row, col), CSR row pointers and column indices."""
    key = rows * n + cols
    perm = torch.argsort(key, stable=True)
    crow = torch.zeros(n + 1, dtype=torch.long)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=n), 0)
    return perm, crow, cols[perm].contiguous()
