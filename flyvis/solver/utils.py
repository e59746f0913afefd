"""Small helpers shared by the solver modules."""

from typing import Any, Dict

import torch
from datamate import Namespace

__all__ = ["get_optimizer_class"]


def get_optimizer_class(name: str) -> type:
    """The optimiser class ``torch.optim.<name>``.

    Args:
        name: Class name, e.g. ``"Adam"``, ``"SGD"``.

    Returns:
        The class.

    Raises:
        ValueError: If ``torch.optim`` has no optimiser of that name (the
            message lists the valid ones).
    """
    valid = sorted(
        n
        for n, obj in vars(torch.optim).items()
        if isinstance(obj, type)
        and issubclass(obj, torch.optim.Optimizer)
        and obj is not torch.optim.Optimizer
    )
    if name not in valid:
        raise ValueError(
            f"unknown optimizer {name!r}; valid optimizers: {', '.join(valid)}"
        )
    return getattr(torch.optim, name)


def _asdict(config: Any) -> Dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, Namespace):
        return config.to_dict()
    return dict(config)


def _device(module: Any) -> torch.device:
    device = getattr(module, "device", None)
    if device is not None:
        return torch.device(device)
    for p in module.parameters():
        return p.device
    return torch.device("cpu")
