"""Objectives (losses and metrics) for tasks on the hex lattice.

Both functions take an estimate and a ground truth of shape ``(samples,
frames, ndim, hexals)`` (e.g. optic flow ``(B, T, 2, 721)``) and return a
scalar tensor. Extra keyword arguments (e.g. a batch's ``loss_kwargs``) are
accepted and ignored.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

import torch

__all__ = ["l2norm", "epe"]


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


#: Objectives by name (the values of a task config's ``loss`` section).
OBJECTIVES: Dict[str, Callable[..., torch.Tensor]] = {"l2norm": l2norm, "epe": epe}


def get_objective(name: str) -> Callable[..., torch.Tensor]:
    """Looks an objective up by name.

    Args:
        name: ``"l2norm"`` or ``"epe"``.

    Returns:
        The objective function.

    Raises:
        ValueError: For an unknown name (the message lists the valid names).
    """
    try:
        return OBJECTIVES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown objective {name!r}. Valid objectives: {', '.join(OBJECTIVES)}."
        ) from None
