"""Utilities: hex lattice, activity views, configs, checkpoints (loaded lazily)."""

import importlib
from typing import Any

_SUBMODULES = {
    "hex_utils",
    "activity_utils",
    "nodes_edges_utils",
    "dataset_utils",
    "chkpt_utils",
    "config_utils",
    "class_utils",
    "nn_utils",
    "directories",
    "color_utils",
    "groundtruth_utils",
    "compute_cloud_utils",
    "names",
    "checks",
    "tensor_utils",
    "type_utils",
    "logging_utils",
}

# flyvis 1.2.0 modules this package does not provide (docs/differences.md)
_NOT_PROVIDED = {
    "cache_utils": "context_aware_cache",
    "df_utils": "DataFrame filters",
    "log_utils": "cluster log parsing",
    "xarray_utils": "the .custom accessor is flyvis.analysis.xarray_accessor",
    "xarray_joblib_backend": "joblib HDF5 backend",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"flyvis.utils.{name}")
    if name in _NOT_PROVIDED:
        raise AttributeError(
            f"flyvis.utils.{name} of flyvis 1.2.0 ({_NOT_PROVIDED[name]}) is not "
            "part of this package; see docs/differences.md."
        )
    raise AttributeError(f"module 'flyvis.utils' has no attribute {name!r}")
