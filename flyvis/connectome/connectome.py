"""Connectomes as cached, config-keyed datamate directories.

``ConnectomeFromAvgFilters(file, extent, n_syn_fill)`` compiles the average
filter connectome onto the hex lattice (``compile.py``) once per config and
stores node and edge tables in flyvis 1.2.0's on-disk layout under
``<root_dir>/connectome/ConnectomeFromAvgFilters_<i:04x>/``
(``spec/connectome.md`` §3). Later constructions with the same config reuse
the stored directory.

Beyond flyvis's layout the directory also holds integer type codes
(``nodes/type_index``, ``edges/source_type_index``,
``edges/target_type_index``) so that networks can be built without decoding
1.5 million byte strings; directories without them (written by flyvis 1.2.0)
still work.
"""

import importlib.resources
import logging
from pathlib import Path
from typing import Any, Dict, Protocol, Tuple, runtime_checkable

import numpy as np
from datamate import Directory

from flyvis.connectome.compile import compile_connectome, load_connectome_json
from flyvis.utils.directories import dynamic_root, reopen_by_path

__all__ = [
    "ConnectomeFromAvgFilters",
    "Connectome",
    "AVAILABLE_CONNECTOMES",
    "register_connectome",
    "is_connectome_protocol",
    "init_connectome",
    "resolve_connectome_file",
    "DEFAULT_CONNECTOME_FILE",
    "connectome_arrays",
]

logger = logging.getLogger(__name__)

#: Name of the bundled FIB-25/FIB-19 average-filter connectome.
DEFAULT_CONNECTOME_FILE = "fib25-fib19_v2.2.json"

AVAILABLE_CONNECTOMES: Dict[str, type] = {}


def register_connectome(cls=None):
    """Registers a connectome class under its name (usable as a decorator).

    Args:
        cls: The class to register.

    Returns:
        The class, unchanged.
    """

    def wrap(c):
        AVAILABLE_CONNECTOMES[c.__name__] = c
        return c

    return wrap if cls is None else wrap(cls)


@runtime_checkable
class Connectome(Protocol):
    """What a connectome needs to drive a ``Network``: node and edge tables.

    Attributes ``nodes.index``, ``edges.source_index`` and
    ``edges.target_index`` (arrays or array files); parameters may need more
    columns (``type``, ``source_type``, ``n_syn``, ``sign``, ``du``, ...).
    """

    nodes: Any
    edges: Any


def is_connectome_protocol(obj) -> Tuple[bool, str]:
    """Checks that ``obj`` has the node and edge index tables of a connectome.

    Args:
        obj: Candidate connectome.

    Returns:
        ``(ok, message)``: message names the first missing attribute.
    """
    for group, key in (
        ("nodes", "index"),
        ("edges", "source_index"),
        ("edges", "target_index"),
    ):
        try:
            part = getattr(obj, group)
            value = part[key] if isinstance(part, dict) else getattr(part, key)
            np.asarray(value[:] if hasattr(value, "__getitem__") else value)
        except (AttributeError, KeyError, TypeError) as error:
            return False, f"connectome lacks {group}.{key}: {error}"
    return True, "ok"


def resolve_connectome_file(file: str | Path) -> Path:
    """Finds a connectome JSON file.

    Resolution order: an existing path; a file of that name bundled with
    ``flyvis.connectome``; ``<root_dir>/connectome/<file>``.

    Args:
        file: File name or path.

    Returns:
        The absolute path.

    Raises:
        FileNotFoundError: If none exists; the message lists the places searched.
    """
    import flyvis

    candidates = [Path(file).expanduser()]
    bundled = importlib.resources.files("flyvis.connectome") / str(file)
    candidates.append(Path(str(bundled)))
    candidates.append(flyvis.get_root_dir() / "connectome" / str(file))
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise FileNotFoundError(
        f"connectome file {str(file)!r} not found; looked at: "
        + ", ".join(str(p) for p in candidates)
        + f". The bundled connectome is {DEFAULT_CONNECTOME_FILE!r}."
    )


@register_connectome
@reopen_by_path
@dynamic_root("connectome")
class ConnectomeFromAvgFilters(Directory):
    """Connectome compiled from average convolutional filters onto the lattice.

    A datamate ``Directory`` keyed by its config ``{type, file, extent,
    n_syn_fill}``: the first construction compiles and stores the tables, later
    ones find and reuse them. Construct with keyword arguments, one config
    dict, or a path of an existing directory.

    Contents (single-dataset HDF5 files, strings as ``|S`` bytes):
    ``unique_cell_types``, ``input_cell_types``, ``output_cell_types``,
    ``intermediate_cell_types``, ``layout``, ``central_cells_index``;
    ``nodes/{index, type, type_index, u, v, role, layer_index/<type>}``;
    ``edges/{source_index, target_index, sign, n_syn, n_syn_certainty,
    source_type, target_type, source_type_index, target_type_index,
    source_u, source_v, target_u, target_v, du, dv}``.

    Args:
        file: Connectome JSON: a path, a bundled file name, or a file under
            ``<root_dir>/connectome``.
        extent: Lattice radius in columns (15: 721 hexals per cell type).
        n_syn_fill: Synapse count for the gaps filled inside each receptive
            field's convex hull (0: no filling).

    Raises:
        FileNotFoundError: If the JSON file cannot be found.
        ValueError: For an invalid file or extent.

    Source: Lappalainen et al., Nature 2024; FIB-25/FIB-19 connectome
    (Takemura et al. 2013, 2015, 2017; Shinomiya et al. 2019).
    """

    def __init__(
        self, file: str = DEFAULT_CONNECTOME_FILE, extent: int = 15, n_syn_fill: int = 1
    ):
        spec = load_connectome_json(resolve_connectome_file(file))
        c = compile_connectome(spec, extent=extent, n_syn_fill=n_syn_fill)
        types = np.array(c.cell_types, dtype="S")
        role_of = {t: "intermediate" for t in c.cell_types}
        role_of.update({t: "input" for t in c.input_cell_types})
        role_of.update({t: "output" for t in c.output_cell_types})
        layout_label = {
            "input": "retina",
            "intermediate": "intermediate",
            "output": "output",
        }

        self.unique_cell_types = types
        self.input_cell_types = np.array(c.input_cell_types, dtype="S")
        self.output_cell_types = np.array(c.output_cell_types, dtype="S")
        self.intermediate_cell_types = np.array(c.intermediate_cell_types, dtype="S")
        ordered = c.input_cell_types + c.intermediate_cell_types + c.output_cell_types
        self.layout = np.array(
            [[t, layout_label[role_of[t]]] for t in ordered], dtype="S12"
        )
        self.central_cells_index = c.central_cells_index.astype(np.int64)

        node_roles = np.array([role_of[t] for t in c.cell_types], dtype="S12")
        self.nodes = {
            "index": np.arange(c.n_nodes, dtype=np.int64),
            "type": types[c.node_type_index],
            "type_index": c.node_type_index.astype(np.int16),
            "u": c.node_u.astype(np.int32),
            "v": c.node_v.astype(np.int32),
            "role": node_roles[c.node_type_index],
            "layer_index": {
                t: np.flatnonzero(c.node_type_index == i).astype(np.int64)
                for i, t in enumerate(c.cell_types)
            },
        }
        src, tar = c.edge_source_index, c.edge_target_index
        src_type, tar_type = c.node_type_index[src], c.node_type_index[tar]
        self.edges = {
            "source_index": src.astype(np.int64),
            "target_index": tar.astype(np.int64),
            "sign": c.edge_sign.astype(np.float32),
            "n_syn": c.edge_n_syn.astype(np.float32),
            "n_syn_certainty": c.edge_n_syn_certainty.astype(np.float32),
            "source_type": types[src_type],
            "target_type": types[tar_type],
            "source_type_index": src_type.astype(np.int16),
            "target_type_index": tar_type.astype(np.int16),
            "source_u": c.node_u[src].astype(np.int32),
            "source_v": c.node_v[src].astype(np.int32),
            "target_u": c.node_u[tar].astype(np.int32),
            "target_v": c.node_v[tar].astype(np.int32),
            "du": c.edge_du.astype(np.int32),
            "dv": c.edge_dv.astype(np.int32),
        }
        logger.info(
            "Compiled connectome %s (extent %s): %s nodes, %s edges.",
            file,
            extent,
            c.n_nodes,
            c.n_edges,
        )


def init_connectome(**kwargs) -> Any:
    """Instantiates a registered connectome class named by the ``type`` key.

    Args:
        **kwargs: ``type`` (a name in ``AVAILABLE_CONNECTOMES``) and the
            constructor arguments.

    Returns:
        The connectome.

    Raises:
        ValueError: If ``type`` is missing or unknown (valid names listed), or
            the result lacks the node/edge index tables.
    """
    kwargs = dict(kwargs)
    name = kwargs.pop("type", None)
    if name is None:
        raise ValueError(
            f"the connectome config has no 'type' (given keys: {sorted(kwargs)}); a "
            "given config replaces the default one, so give it whole, e.g. "
            "dict(type='ConnectomeFromAvgFilters', file='fib25-fib19_v2.2.json', "
            "extent=4, n_syn_fill=1)."
        )
    if name not in AVAILABLE_CONNECTOMES:
        raise ValueError(
            f"unknown connectome type {name!r}; valid types: "
            f"{', '.join(sorted(AVAILABLE_CONNECTOMES))}."
        )
    connectome = AVAILABLE_CONNECTOMES[name](**kwargs)
    ok, message = is_connectome_protocol(connectome)
    if not ok:
        raise ValueError(message)
    return connectome


def _decode(array: np.ndarray) -> np.ndarray:
    return array.astype(str) if array.dtype.kind == "S" else array


def connectome_arrays(connectome) -> Dict[str, np.ndarray]:
    """Loads the node and edge columns a network needs, as numpy arrays.

    Integer type codes are read when stored, else derived from the type names
    (directories written by flyvis 1.2.0).

    Args:
        connectome: A connectome directory (or any object with the same
            attributes).

    Returns:
        Dict with ``cell_types`` (str, type order), ``node_type_index``,
        ``node_u``, ``node_v``, ``source_index``, ``target_index``,
        ``source_type_index``, ``target_type_index``, ``du``, ``dv``,
        ``n_syn``, ``sign`` (int64 / float32 arrays).
    """
    nodes, edges = connectome.nodes, connectome.edges
    cell_types = _decode(np.asarray(connectome.unique_cell_types[:]))
    lookup = {t: i for i, t in enumerate(cell_types)}

    def codes(group, name, names_key):
        if name in group:
            return np.asarray(group[name][:], dtype=np.int64)
        names = _decode(np.asarray(group[names_key][:]))
        uniq, inverse = np.unique(names, return_inverse=True)
        return np.array([lookup[t] for t in uniq], dtype=np.int64)[inverse]

    return {
        "cell_types": cell_types,
        "node_type_index": codes(nodes, "type_index", "type"),
        "node_u": np.asarray(nodes.u[:], dtype=np.int64),
        "node_v": np.asarray(nodes.v[:], dtype=np.int64),
        "source_index": np.asarray(edges.source_index[:], dtype=np.int64),
        "target_index": np.asarray(edges.target_index[:], dtype=np.int64),
        "source_type_index": codes(edges, "source_type_index", "source_type"),
        "target_type_index": codes(edges, "target_type_index", "target_type"),
        "du": np.asarray(edges.du[:], dtype=np.int64),
        "dv": np.asarray(edges.dv[:], dtype=np.int64),
        "n_syn": np.asarray(edges.n_syn[:], dtype=np.float32),
        "sign": np.asarray(edges.sign[:], dtype=np.float32),
    }
