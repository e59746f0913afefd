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
]
