"""Connectome: JSON loading and compilation onto the hex lattice, cached on disk."""

from flyvis.connectome.compile import (
    CompiledConnectome,
    ConnectomeSpec,
    compile_connectome,
    fill_hull,
    load_connectome_json,
)
from flyvis.connectome.connectome import (
    AVAILABLE_CONNECTOMES,
    DEFAULT_CONNECTOME_FILE,
    Connectome,
    ConnectomeFromAvgFilters,
    connectome_arrays,
    init_connectome,
    is_connectome_protocol,
    register_connectome,
    resolve_connectome_file,
)

__all__ = [
    "AVAILABLE_CONNECTOMES",
    "DEFAULT_CONNECTOME_FILE",
    "CompiledConnectome",
    "Connectome",
    "ConnectomeFromAvgFilters",
    "ConnectomeSpec",
    "compile_connectome",
    "connectome_arrays",
    "fill_hull",
    "init_connectome",
    "is_connectome_protocol",
    "load_connectome_json",
    "register_connectome",
    "resolve_connectome_file",
    "ConnectomeView",
    "ReceptiveFields",
    "ProjectiveFields",
    "get_avgfilt_connectome",
]

# Views with plotting methods live in flyvis.analysis.visualization (the core
# never imports matplotlib); they are re-exported here lazily, as in flyvis.
_VIEW_NAMES = (
    "ConnectomeView",
    "ReceptiveFields",
    "ProjectiveFields",
    "get_avgfilt_connectome",
)


def __getattr__(name):
    if name in _VIEW_NAMES:
        from flyvis.analysis.visualization import connectome_view

        return getattr(connectome_view, name)
    raise AttributeError(f"module 'flyvis.connectome' has no attribute {name!r}")
