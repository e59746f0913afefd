"""Objectives (losses and metrics) for tasks on the hex lattice.

Both functions take an estimate and a ground truth of shape ``(samples,
frames, ndim, hexals)`` (e.g. optic flow ``(B, T, 2, 721)``) and return a
scalar tensor. Extra keyword arguments (e.g. a batch's ``loss_kwargs``) are
accepted and ignored.

Self-supervised flow objectives (no ground truth; ``y_gt`` is ignored and may
be ``None``) work on the hexagonal lattice itself. The decoded flow
``(samples, frames, 2, hexals)`` must live on the same regular lattice as the
network input ``lum`` ``(samples, frames, 1, hexals)``, passed as keyword
argument ``lum`` (the solver does this). Flow vectors are Cartesian ``(x, y)``
in the frame of ``hex_utils.hex_to_pixel(u, v, mode="default")`` (x right,
y as there) in units of the distance between neighbouring hexals per frame,
times ``flow_scale``.

* ``photometric``: brightness constancy. Frame ``t`` (``lum[:, t]`` is image
  ``t + 1``, ``flow[:, t]`` the motion that produced it, as the datasets
  define them) is compared with frame ``t - 1`` sampled at ``x - flow_t(x)``,
  i.e. the previous frame warped forward by the predicted flow. Sampling is
  piecewise-linear (barycentric) interpolation on the triangles of the hex
  lattice, exact for linear luminance and differentiable in the flow; points
  whose source falls outside the lattice are excluded. Robust penalty:
  ``sqrt(r**2 + eps**2) - eps`` (zero for a zero residual).
* ``smoothness1`` / ``smoothness2``: the same penalty on first differences of
  the flow between neighbouring hexals along the three lattice axes, or on
  second differences ``f(i+d) - 2 f(i) + f(i-d)``; a constant field has zero
  first- and second-order, a linear field zero second-order smoothness loss.
* ``magnitude``: mean L1 norm ``|f_x| + |f_y|`` (prefers small flow).

A task's ``loss`` entry is an objective name or a mapping ``{name: weight}``
(or ``{name: {weight: w, **kwargs}}``) summed, e.g.
``task.loss.flow={photometric:1.0,smoothness1:0.1,magnitude:0.001}``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Mapping, Optional

import numpy as np
import torch

__all__ = [
    "l2norm",
    "epe",
    "photometric",
    "smoothness1",
    "smoothness2",
    "magnitude",
    "combined",
    "get_objective",
]


def _check(y_est: Any, y_gt: Any, name: str):
    y_est = y_est if isinstance(y_est, torch.Tensor) else torch.as_tensor(y_est)
    y_gt = y_gt if isinstance(y_gt, torch.Tensor) else torch.as_tensor(y_gt)
    if y_est.shape != y_gt.shape:
        raise ValueError(
            f"{name}: estimate and ground truth must have the same shape, got "
            f"{tuple(y_est.shape)} and {tuple(y_gt.shape)}."
        )
    if y_est.ndim != 4:
        raise ValueError(
            f"{name}: expected tensors of shape (samples, frames, ndim, hexals), got "
            f"{tuple(y_est.shape)}."
        )
    return y_est, y_gt


def _as_float(x: torch.Tensor) -> torch.Tensor:
    return x if x.is_floating_point() or x.is_complex() else x.float()


def l2norm(y_est: torch.Tensor, y_gt: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Per-sample Euclidean norm of the error, averaged over samples.

    ``mean_s sqrt(sum_{t,c,h} (y_est - y_gt)[s, t, c, h] ** 2)``; the default
    training loss.

    Args:
        y_est: Estimate ``(samples, frames, ndim, hexals)``.
        y_gt: Ground truth of the same shape.
        **kwargs: Ignored.

    Returns:
        Scalar tensor.

    Raises:
        ValueError: If the shapes differ or are not 4-D.
    """
    y_est, y_gt = _check(y_est, y_gt, "l2norm")
    diff = _as_float(y_est - y_gt)
    return torch.linalg.vector_norm(diff.reshape(diff.shape[0], -1), dim=1).mean()


def epe(y_est: torch.Tensor, y_gt: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Average end-point error (the conventional optic-flow metric).

    ``mean_{s,t,h} sqrt(sum_c (y_est - y_gt)[s, t, c, h] ** 2)``; the "task
    error" used to rank models.

    Args:
        y_est: Estimate ``(samples, frames, ndim, hexals)``.
        y_gt: Ground truth of the same shape.
        **kwargs: Ignored.

    Returns:
        Scalar tensor.

    Raises:
        ValueError: If the shapes differ or are not 4-D.
    """
    y_est, y_gt = _check(y_est, y_gt, "epe")
    diff = _as_float(y_est - y_gt)
    return torch.linalg.vector_norm(diff, dim=2).mean()


_EPS = 1e-3
_NEIGHBOUR_STEPS = ((1, 0), (0, 1), (1, -1))
_lattice_cache: Dict[int, Any] = {}


def _charbonnier(x: torch.Tensor, eps: float = _EPS) -> torch.Tensor:
    return torch.sqrt(x * x + eps * eps) - eps


def _lattice(n_hexals: int):
    """(u, v, dense index table, extent) of the regular lattice with ``n_hexals``."""
    if n_hexals not in _lattice_cache:
        from flyvis.utils.hex_utils import get_hex_coords, get_hextent

        extent = get_hextent(n_hexals)
        u, v = get_hex_coords(extent)
        table = -np.ones((2 * extent + 3, 2 * extent + 3), dtype=np.int64)
        table[u + extent + 1, v + extent + 1] = np.arange(len(u))
        _lattice_cache[n_hexals] = (
            torch.as_tensor(u, dtype=torch.long),
            torch.as_tensor(v, dtype=torch.long),
            torch.as_tensor(table),
            extent,
        )
    return _lattice_cache[n_hexals]


def _check_flow(flow: Any, name: str) -> torch.Tensor:
    flow = flow if isinstance(flow, torch.Tensor) else torch.as_tensor(flow)
    if flow.ndim != 4 or flow.shape[2] != 2:
        raise ValueError(
            f"{name}: expected a flow of shape (samples, frames, 2, hexals), got "
            f"{tuple(flow.shape)}."
        )
    return _as_float(flow)


def _lookup(table: torch.Tensor, extent: int, u: torch.Tensor, v: torch.Tensor):
    """Lattice indices of integer coordinates (−1 outside)."""
    size = table.shape[0]
    iu, iv = u + extent + 1, v + extent + 1
    inside = (iu >= 0) & (iu < size) & (iv >= 0) & (iv < size)
    index = table[iu.clamp(0, size - 1), iv.clamp(0, size - 1)]
    return torch.where(inside, index, torch.full_like(index, -1))


def hex_sample(values: torch.Tensor, du: torch.Tensor, dv: torch.Tensor):
    """Samples lattice values at ``(u + du, v + dv)`` by barycentric interpolation.

    Args:
        values: ``(..., hexals)`` values on a regular lattice.
        du: Axial ``u`` offsets ``(..., hexals)`` (any real numbers).
        dv: Axial ``v`` offsets of the same shape.

    Returns:
        ``(sampled, valid)``: interpolated values and a boolean mask that is
        False where the sample point lies outside the lattice.
    """
    n = values.shape[-1]
    u, v, table, extent = _lattice(n)
    device = values.device
    u, v, table = u.to(device), v.to(device), table.to(device)
    qu, qv = u + du, v + dv
    u0, v0 = torch.floor(qu), torch.floor(qv)
    a, b = qu - u0, qv - v0
    u0, v0 = u0.long(), v0.long()
    lower = (a + b) < 1
    # lower triangle (u0,v0),(u0+1,v0),(u0,v0+1); upper (u0+1,v0+1),(u0,v0+1),(u0+1,v0)
    corners = [
        (
            torch.where(lower, u0, u0 + 1),
            torch.where(lower, v0, v0 + 1),
            torch.where(lower, 1 - a - b, a + b - 1),
        ),
        (u0 + 1, v0, torch.where(lower, a, 1 - b)),
        (u0, v0 + 1, torch.where(lower, b, 1 - a)),
    ]
    sampled = torch.zeros_like(qu, dtype=values.dtype)
    valid = torch.ones_like(lower)
    expanded = values.expand(qu.shape) if values.shape != qu.shape else values
    for cu, cv, weight in corners:
        index = _lookup(table, extent, cu, cv)
        valid = valid & ((index >= 0) | (weight == 0))
        sampled = sampled + weight * torch.gather(expanded, -1, index.clamp(min=0))
    return sampled, valid


def _cartesian_to_axial(flow: torch.Tensor, flow_scale: float):
    """Axial offsets ``(du, dv)`` of Cartesian displacements (neighbour spacing 1)."""
    dx, dy = flow[:, :, 0] * flow_scale, flow[:, :, 1] * flow_scale
    # hex_to_pixel default: x = 1.5 v, y = -sqrt(3) (u + v / 2), spacing sqrt(3)
    dv = 2.0 * dx / math.sqrt(3.0)
    du = -dy - dv / 2.0
    return du, dv


def photometric(
    y_est: torch.Tensor,
    y_gt: Any = None,
    lum: Optional[torch.Tensor] = None,
    flow_scale: float = 1.0,
    **kwargs: Any,
) -> torch.Tensor:
    """Photometric (brightness-constancy) error of a decoded flow (see module doc).

    Args:
        y_est: Flow ``(samples, frames, 2, hexals)``.
        y_gt: Ignored (self-supervised).
        lum: Input luminance ``(samples, frames, 1, hexals)`` on the same lattice.
        flow_scale: Lattice spacings per frame of one flow unit.
        **kwargs: Ignored.

    Returns:
        Scalar tensor: mean robust residual over valid hexals and frames 1..T−1.

    Raises:
        ValueError: If ``lum`` is missing or its shape does not match the flow.
    """
    flow = _check_flow(y_est, "photometric")
    if lum is None:
        raise ValueError("photometric: needs the input frames as keyword argument lum=")
    lum = _as_float(lum if isinstance(lum, torch.Tensor) else torch.as_tensor(lum))
    if lum.ndim == 3:
        lum = lum.unsqueeze(2)
    if lum.shape[:2] != flow.shape[:2] or lum.shape[-1] != flow.shape[-1]:
        raise ValueError(
            f"photometric: lum {tuple(lum.shape)} must be (samples, frames, 1, hexals) "
            f"matching the flow {tuple(flow.shape)}."
        )
    if flow.shape[1] < 2:
        raise ValueError("photometric: needs at least 2 frames")
    du, dv = _cartesian_to_axial(flow[:, 1:], flow_scale)
    previous = lum[:, :-1, 0].to(flow.dtype)
    warped, valid = hex_sample(previous, -du, -dv)
    residual = _charbonnier(lum[:, 1:, 0].to(flow.dtype) - warped)
    valid = valid.to(flow.dtype)
    return (residual * valid).sum() / valid.sum().clamp(min=1.0)


def _difference_loss(flow: torch.Tensor, order: int) -> torch.Tensor:
    n = flow.shape[-1]
    u, v, table, extent = _lattice(n)
    device = flow.device
    u, v, table = u.to(device), v.to(device), table.to(device)
    total, count = flow.new_zeros(()), 0
    for su, sv in _NEIGHBOUR_STEPS:
        forward = _lookup(table, extent, u + su, v + sv)
        if order == 1:
            mask = forward >= 0
            diff = flow[..., forward[mask]] - flow[..., mask]
        else:
            backward = _lookup(table, extent, u - su, v - sv)
            mask = (forward >= 0) & (backward >= 0)
            diff = (
                flow[..., forward[mask]] - 2 * flow[..., mask] + flow[..., backward[mask]]
            )
        if diff.numel():
            total = total + _charbonnier(diff).sum(dim=2).sum()
            count += diff.shape[0] * diff.shape[1] * diff.shape[-1]
    return total / max(count, 1)


def smoothness1(y_est: torch.Tensor, y_gt: Any = None, **kwargs: Any) -> torch.Tensor:
    """First-order smoothness: robust differences between neighbouring hexals.

    Args:
        y_est: Flow ``(samples, frames, 2, hexals)`` on a regular lattice.
        y_gt: Ignored.
        **kwargs: Ignored.

    Returns:
        Scalar tensor (0 for a spatially constant field).
    """
    return _difference_loss(_check_flow(y_est, "smoothness1"), 1)


def smoothness2(y_est: torch.Tensor, y_gt: Any = None, **kwargs: Any) -> torch.Tensor:
    """Second-order smoothness: robust second differences along the lattice axes.

    Args:
        y_est: Flow ``(samples, frames, 2, hexals)`` on a regular lattice.
        y_gt: Ignored.
        **kwargs: Ignored.

    Returns:
        Scalar tensor (0 for a constant or linear field).
    """
    return _difference_loss(_check_flow(y_est, "smoothness2"), 2)


def magnitude(y_est: torch.Tensor, y_gt: Any = None, **kwargs: Any) -> torch.Tensor:
    """Mean L1 magnitude ``|f_x| + |f_y|`` of the flow.

    Args:
        y_est: Flow ``(samples, frames, 2, hexals)``.
        y_gt: Ignored.
        **kwargs: Ignored.

    Returns:
        Scalar tensor.
    """
    return _check_flow(y_est, "magnitude").abs().sum(dim=2).mean()


def combined(terms: Mapping[str, Any]) -> Callable[..., torch.Tensor]:
    """A weighted sum of objectives.

    Args:
        terms: ``{name: weight}`` or ``{name: {"weight": w, **kwargs}}``.

    Returns:
        ``fn(y_est, y_gt, **kwargs) = sum_k w_k * objective_k(y_est, y_gt, **kwargs_k, **kwargs)``.

    Raises:
        ValueError: For unknown names, an empty mapping or non-numeric weights.
    """
    parts = []
    for name, spec in dict(terms).items():
        fn = get_objective(name)
        options = dict(spec) if isinstance(spec, Mapping) else {"weight": spec}
        try:
            weight = float(options.pop("weight", 1.0))
        except (TypeError, ValueError):
            raise ValueError(
                f"objective {name!r}: weight must be a number, got {spec!r}"
            ) from None
        parts.append((name, fn, weight, options))
    if not parts:
        raise ValueError("a combined objective needs at least one {name: weight} entry")

    def objective(y_est, y_gt=None, **kwargs):
        return sum(w * fn(y_est, y_gt, **{**kwargs, **opts}) for _, fn, w, opts in parts)

    objective.__name__ = "+".join(f"{w:g}*{name}" for name, _, w, _ in parts)
    return objective


#: Objectives by name (the values of a task config's ``loss`` section).
OBJECTIVES: Dict[str, Callable[..., torch.Tensor]] = {
    "l2norm": l2norm,
    "epe": epe,
    "photometric": photometric,
    "smoothness1": smoothness1,
    "smoothness2": smoothness2,
    "magnitude": magnitude,
}


def get_objective(name: Any) -> Callable[..., torch.Tensor]:
    """Looks an objective up by name (or builds a weighted sum from a mapping).

    Args:
        name: An objective name (``"l2norm"``, ``"epe"``, ``"photometric"``,
            ``"smoothness1"``, ``"smoothness2"``, ``"magnitude"``) or a mapping
            ``{name: weight}`` (see :func:`combined`).

    Returns:
        The objective function.

    Raises:
        ValueError: For an unknown name (the message lists the valid names).
    """
    if isinstance(name, Mapping) or hasattr(name, "to_dict"):
        return combined(name.to_dict() if hasattr(name, "to_dict") else name)
    try:
        return OBJECTIVES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown objective {name!r}. Valid objectives: {', '.join(OBJECTIVES)}, "
            "or a mapping {name: weight}."
        ) from None
