"""Small helpers shared by the solver modules."""

from typing import Any, Dict, Mapping

import torch
from datamate import Namespace
from torch import nn

__all__ = ["get_optimizer_class", "init_optimizer"]


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


def init_optimizer(
    optim: Mapping[str, Any], network: nn.Module, decoder: Mapping[str, nn.Module]
) -> torch.optim.Optimizer:
    """The solver's optimiser: group 0 = network, groups 1.. = one per decoder.

    ``optim.lr_scale`` (optional, not in flyvis 1.2.0) maps network
    parameter names (e.g. ``edges_syn_strength``) to factors of the
    network's learning rate: each such parameter gets its own group after
    the decoder groups, with ``lr = lr_net * factor`` (kept so by the
    scheduler). Adam's steps are about ``lr`` in size whatever the
    gradient's scale, so this sets each parameter's step relative to its
    typical value (synapse strengths ~0.005, resting potentials ~0.5).

    Args:
        optim: The ``optim`` config (``type``, ``optim_net``, ``optim_dec``,
            optional ``lr_scale``).
        network: The network.
        decoder: Decoders by task.

    Returns:
        The ``torch.optim`` optimiser.

    Raises:
        ValueError: For an ``lr_scale`` key that is not a trainable
            network parameter, or a factor that is not a positive number.
    """
    optim = _asdict(optim)
    optim_class = get_optimizer_class(optim.get("type", "Adam") or "Adam")
    net_kwargs = _asdict(optim.get("optim_net"))
    lr_scale = dict(_asdict(optim.get("lr_scale") or {}))
    named = dict(network.named_parameters())
    trainable = [n for n, p in named.items() if p.requires_grad]
    for name, factor in lr_scale.items():
        if name not in trainable:
            raise ValueError(
                f"optim.lr_scale: {name!r} is not a trainable network parameter; "
                f"choose from {trainable}."
            )
        if not isinstance(factor, (int, float)) or not factor > 0:
            raise ValueError(
                f"optim.lr_scale.{name} must be a positive number, got {factor!r}."
            )
    groups = [
        {
            "params": [p for n, p in named.items() if n not in lr_scale],
            **net_kwargs,
        }
    ]
    for module in decoder.values():
        groups.append(
            {"params": list(module.parameters()), **_asdict(optim.get("optim_dec"))}
        )
    for name, factor in lr_scale.items():
        group = {"params": [named[name]], **net_kwargs, "lr_scale": float(factor)}
        if "lr" in group:
            group["lr"] = group["lr"] * float(factor)
        groups.append(group)
    return optim_class(groups)
