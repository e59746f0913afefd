"""Utilities: hex lattice, activity views, configs, checkpoints (loaded lazily)."""

import importlib
from typing import Any

_SUBMODULES = {
    "hex_utils",
    "activity_utils",
    "tensor_utils",
    "nodes_edges_utils",
    "dataset_utils",
    "chkpt_utils",
    "config_utils",
    "class_utils",
    "nn_utils",
    "type_utils",
    "logging_utils",
    "directories",
    "color_utils",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"flyvis.utils.{name}")
    raise AttributeError(f"module 'flyvis.utils' has no attribute {name!r}")
