"""Network: parameters, dynamics, synaptic engine, ``Network``, ``Stimulus``.

Trained-network directories and views (``NetworkDir``, ``NetworkView``, ...)
are loaded lazily on first access.
"""

import importlib
from typing import Any

from flyvis.network.dynamics import NetworkDynamics, PPNeuronIGRSynapses
from flyvis.network.initialization import (
    InitialDistribution,
    Lognormal,
    Normal,
    Parameter,
    RestingPotential,
    SynapseCount,
    SynapseCountScaling,
    SynapseSign,
    TimeConstant,
    Value,
)
from flyvis.network.network import IntegrationWarning, Network, NetworkState
from flyvis.network.stimulus import Stimulus

__all__ = [
    "Network",
    "NetworkState",
    "IntegrationWarning",
    "NetworkDynamics",
    "PPNeuronIGRSynapses",
    "Parameter",
    "RestingPotential",
    "TimeConstant",
    "SynapseSign",
    "SynapseCount",
    "SynapseCountScaling",
    "InitialDistribution",
    "Value",
    "Normal",
    "Lognormal",
    "Stimulus",
    "NetworkDir",
    "EnsembleDir",
    "NetworkView",
    "CheckpointedNetwork",
    "Ensemble",
    "EnsembleView",
]

_LAZY = {
    "NetworkDir": "flyvis.network.directories",
    "EnsembleDir": "flyvis.network.directories",
    "NetworkView": "flyvis.network.network_view",
    "CheckpointedNetwork": "flyvis.network.network_view",
    "Ensemble": "flyvis.network.ensemble",
    "EnsembleView": "flyvis.network.ensemble_view",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'flyvis.network' has no attribute {name!r}")
