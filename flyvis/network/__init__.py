"""Network: parameters, dynamics, synaptic engine, ``Network``, ``Stimulus``.

Trained-network directories and views (``NetworkDir``, ``NetworkView``, ...)
are loaded lazily on first access. ``NetworkView``, ``Ensemble`` and
``EnsembleView`` resolve to the analysis layer's classes
(:mod:`flyvis.analysis.views`, :mod:`flyvis.analysis.ensemble_view`): a
compatibility shim for flyvis 1.2.0's import paths; the modules of this package
never import :mod:`flyvis.analysis` themselves.
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
    RestingPotentialAtGrey,
    SynapseCount,
    SynapseCountNormalized,
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
    "SynapseCountNormalized",
    "RestingPotentialAtGrey",
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
    "CheckpointedNetwork": "flyvis.network.network_view",
    # Compatibility shim: the views users expect (with flyvis 1.2.0's analysis
    # methods and plots) are subclasses in the analysis layer. Resolving them
    # here, lazily, is the only place the core refers to flyvis.analysis.
    "NetworkView": "flyvis.analysis.views",
    "Ensemble": "flyvis.analysis.views",
    "EnsembleView": "flyvis.analysis.ensemble_view",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'flyvis.network' has no attribute {name!r}")
