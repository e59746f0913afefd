"""The network state (one voltage per node) and the check of integration steps.

Kept apart from :mod:`flyvis.network.network` so that the closed-loop stepper
(:mod:`flyvis.network.stepper`) and the network share them without importing
each other. ``flyvis.network.network.NetworkState`` is the same class.
"""

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Union

import numpy as np
import torch

__all__ = ["NetworkState", "StateLike"]


@dataclass
class NetworkState:
    """State of the network: one voltage per node.

    Attributes:
        v: Voltages ``(batch, n_nodes)``.
    """

    v: torch.Tensor

    @property
    def nodes(self) -> SimpleNamespace:
        """flyvis-style access: ``state.nodes.activity`` is the voltage."""
        return SimpleNamespace(activity=self.v)

    @property
    def batch_size(self) -> int:
        """Number of samples."""
        return self.v.shape[0]

    def detach(self) -> "NetworkState":
        """A copy detached from the autograd graph."""
        return NetworkState(self.v.detach())

    def to(self, device) -> "NetworkState":
        """The state on ``device``."""
        return NetworkState(self.v.to(device))


StateLike = Union[NetworkState, torch.Tensor, None]


def _check_dt(dt) -> float:
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise ValueError(
            f"dt must be a positive number of seconds, got {dt!r}."
        ) from None
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive number of seconds, got {dt}.")
    return dt
