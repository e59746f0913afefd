"""Cheap input checks shared by the core (no flyvis 1.2.0 counterpart)."""

from __future__ import annotations

import torch

__all__ = ["all_finite"]


def all_finite(x: torch.Tensor) -> bool:
    """Whether every entry of ``x`` is finite (no NaN, no +-inf).

    The sum is checked first: it is finite unless an entry is NaN/inf or the
    sum overflows, and only then is every entry tested. For a large finite
    tensor this is ~20x faster than ``torch.isfinite(x).all()`` (no boolean
    temporary): 3 ms instead of 58 ms for 24 M float32 values on 2 CPU cores.

    Args:
        x: Tensor of any shape and dtype; integer and boolean tensors are
            always finite. Gradients are not tracked.

    Returns:
        ``True`` if all entries are finite (also for an empty tensor).
    """
    if not (x.is_floating_point() or x.is_complex()):
        return True
    x = x.detach()
    return bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())
