"""Default configuration of ``Network`` (the flyvis 1.2.0 defaults).

Identical to the packaged Hydra group ``flyvis/config/network`` (a test checks
that they agree); constructors use this dict so that building a network needs
no Hydra composition.
"""

from typing import Any, Dict

__all__ = ["DEFAULT_NETWORK_CONFIG"]

#: Default network config; identical to the packaged Hydra group
#: ``flyvis/config/network`` (a test checks that they agree).
DEFAULT_NETWORK_CONFIG: Dict[str, Any] = {
    "connectome": {
        "type": "ConnectomeFromAvgFilters",
        "file": "fib25-fib19_v2.2.json",
        "extent": 15,
        "n_syn_fill": 1,
    },
    "dynamics": {"type": "PPNeuronIGRSynapses", "activation": {"type": "relu"}},
    "node_config": {
        "bias": {
            "type": "RestingPotential",
            "groupby": ["type"],
            "initial_dist": "Normal",
            "mode": "sample",
            "requires_grad": True,
            "seed": 0,
            "mean": 0.5,
            "std": 0.05,
            "symmetric": [],
            "penalize": {"activity": True},
        },
        "time_const": {
            "type": "TimeConstant",
            "groupby": ["type"],
            "initial_dist": "Value",
            "value": 0.05,
            "requires_grad": True,
        },
    },
    "edge_config": {
        "sign": {
            "type": "SynapseSign",
            "form": "value",
            "requires_grad": False,
            "initial_dist": "Value",
            "groupby": ["source_type", "target_type"],
        },
        "syn_count": {
            "type": "SynapseCount",
            "initial_dist": "Lognormal",
            "mode": "mean",
            "requires_grad": False,
            "std": 1.0,
            "groupby": ["source_type", "target_type", "dv", "du"],
            "penalize": {"function": "weight_decay", "kwargs": {"lambda": 0}},
        },
        "syn_strength": {
            "type": "SynapseCountScaling",
            "initial_dist": "Value",
            "requires_grad": True,
            "scale": 0.01,
            "clamp": "non_negative",
            "groupby": ["source_type", "target_type"],
            "penalize": {"function": "weight_decay", "kwargs": {"lambda": 0}},
        },
    },
    "stimulus_config": {"type": "Stimulus", "init_buffer": False},
}
