"""Input currents of stimulus responses (``spec/analysis.md`` §10), flyvis 1.2.0 module path.

Re-exports :mod:`flyvis.analysis.currents`.
"""

from flyvis.analysis.currents import (  # noqa: F401
    DEFAULT_TARGET_TYPES,
    ExperimentData,
    TargetData,
    central_input_edges,
    compute_currents,
    edge_currents,
    moving_edge_currents,
    stimulus_responses_currents,
)

__all__ = [
    "DEFAULT_TARGET_TYPES",
    "ExperimentData",
    "TargetData",
    "central_input_edges",
    "compute_currents",
    "edge_currents",
    "moving_edge_currents",
    "stimulus_responses_currents",
]
