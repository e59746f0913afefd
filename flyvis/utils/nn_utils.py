"""Small helpers for ``torch.nn`` modules: parameter counts and simulation mode."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from torch import nn

__all__ = ["NumberOfParams", "n_params", "simulation"]


@dataclass
class NumberOfParams:
    """Number of scalar parameters of a module.

    Attributes:
        free: Number of elements of parameters with ``requires_grad=True``.
        fixed: Number of elements of parameters with ``requires_grad=False``.
    """

    free: int
    fixed: int


def n_params(module: nn.Module) -> NumberOfParams:
    """Counts the scalar parameters of a module.

    Every element of every parameter (``module.parameters()``) counts, also
    elements that are held constant otherwise (e.g. masked convolution taps);
    buffers (e.g. BatchNorm running statistics) do not count.

    Args:
        module: Any ``torch.nn.Module``.

    Returns:
        ``NumberOfParams(free, fixed)`` with the trainable
        (``requires_grad``) and the frozen element counts.
    """
    free = fixed = 0
    for param in module.parameters():
        if param.requires_grad:
            free += param.numel()
        else:
            fixed += param.numel()
    return NumberOfParams(free=free, fixed=fixed)


@contextmanager
def simulation(network: nn.Module) -> Iterator[nn.Module]:
    """Context manager that puts a module into simulation (inference) mode.

    Inside the context every submodule has ``training=False`` and every
    parameter ``requires_grad=False``. On exit (also after an exception) the
    previous ``training`` flag of every submodule and the previous
    ``requires_grad`` flag of every parameter are restored.

    Args:
        network: The module, e.g. a ``flyvis.Network``.

    Yields:
        The same module.
    """
    training = [(module, module.training) for module in network.modules()]
    grads = [(param, param.requires_grad) for param in network.parameters()]
    try:
        network.train(False)
        for param, _ in grads:
            param.requires_grad_(False)
        yield network
    finally:
        for module, flag in training:
            module.training = flag
        for param, flag in grads:
            param.requires_grad_(flag)
