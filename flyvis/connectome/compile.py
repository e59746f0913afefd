"""Compilation of an average-filter connectome (JSON) onto the hex lattice.

The connectome is described per cell type (placement pattern on the lattice)
and per connected pair of cell types (an average, spatially invariant
receptive field: synapse counts at column offsets ``(du, dv)``, target minus
source). Tiling these filters over a lattice of a given extent yields the node
table (one row per cell) and the edge table (one row per synapse set between
two cells). Source: Lappalainen et al., Nature 2024 (FIB-25/FIB-19 data,
``fib25-fib19_v2.2.json``); algorithm as in flyvis 1.2.0
(``spec/connectome.md`` §4).

Everything here is pure numpy and independent of storage; the cached
``ConnectomeFromAvgFilters`` directory (``connectome.py``) writes its output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from flyvis.utils.hex_utils import get_hex_coords

__all__ = [
    "ConnectomeSpec",
    "CompiledConnectome",
    "load_connectome_json",
    "fill_hull",
    "compile_connectome",
    "convex_hull",
]

_REQUIRED_NODE_KEYS = ("name", "pattern")
_REQUIRED_EDGE_KEYS = ("src", "tar", "offsets", "alpha", "lambda_mult")


@dataclass
class ConnectomeSpec:
    """Parsed connectome JSON.

    Attributes:
        nodes: One dict per cell type, in file order (``name``, ``pattern``).
        edges: One dict per connected type pair, in file order (``src``,
            ``tar``, ``offsets`` = ``[[[du, dv], n_syn], ...]``, ``alpha`` = sign,
            ``lambda_mult``).
        input_units: Names of the input (photoreceptor) cell types.
        output_units: Names of the output cell types.
    """

    nodes: List[dict]
    edges: List[dict]
    input_units: List[str]
    output_units: List[str]

    @property
    def cell_types(self) -> List[str]:
        """Cell type names in file order."""
        return [n["name"] for n in self.nodes]


def load_connectome_json(path: str | Path) -> ConnectomeSpec:
    """Reads and validates a connectome JSON file.

    Args:
        path: Path of the JSON file (format: ``spec/connectome.md`` §2).

    Returns:
        The parsed :class:`ConnectomeSpec`.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If required keys are missing or names are inconsistent.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"connectome file not found: {path}")
    with open(path) as f:
        data = json.load(f)
    for key in ("nodes", "edges", "input_units", "output_units"):
        if key not in data:
            raise ValueError(f"{path}: connectome JSON lacks the top-level key {key!r}.")
    names = set()
    for i, node in enumerate(data["nodes"]):
        missing = [k for k in _REQUIRED_NODE_KEYS if k not in node]
        if missing:
            raise ValueError(f"{path}: node {i} lacks keys {missing}.")
        if node["name"] in names:
            raise ValueError(f"{path}: duplicate cell type {node['name']!r}.")
        names.add(node["name"])
    for i, edge in enumerate(data["edges"]):
        missing = [k for k in _REQUIRED_EDGE_KEYS if k not in edge]
        if missing:
            raise ValueError(f"{path}: edge {i} lacks keys {missing}.")
        for end in ("src", "tar"):
            if edge[end] not in names:
                raise ValueError(
                    f"{path}: edge {i} refers to unknown cell type {edge[end]!r}."
                )
    for key in ("input_units", "output_units"):
        unknown = [t for t in data[key] if t not in names]
        if unknown:
            raise ValueError(f"{path}: {key} lists unknown cell types {unknown}.")
    return ConnectomeSpec(
        nodes=data["nodes"],
        edges=data["edges"],
        input_units=list(data["input_units"]),
        output_units=list(data["output_units"]),
    )


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> int:
    return int((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Exact convex hull of integer points (Andrew's monotone chain).

    Args:
        points: Integer array ``(n, 2)``.

    Returns:
        Hull vertices ``(m, 2)`` in counter-clockwise order, collinear points
        excluded.
    """
    pts = sorted({(int(p[0]), int(p[1])) for p in points})
    if len(pts) <= 2:
        return np.array(pts)
    arr = [np.array(p) for p in pts]
    lower: list = []
    for p in arr:
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(arr):
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


def _accept_fill_point(hull: np.ndarray, point: np.ndarray) -> bool:
    """Point-in-hull test with flyvis's boundary convention.

    Interior points and points on the hull boundary are accepted, except
    points on a horizontal edge (constant ``dv``) at the hull's minimum ``dv``:
    this reproduces the boundary behaviour of the polygon test used by
    flyvis 1.2.0 (``spec/connectome.md`` §4.2), without its floating point.
    """
    if len(hull) < 3:
        return False
    min_dv = hull[:, 1].min()
    for i in range(len(hull)):
        a, b = hull[i], hull[(i + 1) % len(hull)]
        c = _cross(a, b, point)
        if c < 0:
            return False
        if c == 0:
            on_segment = min(a[0], b[0]) <= point[0] <= max(a[0], b[0]) and min(
                a[1], b[1]
            ) <= point[1] <= max(a[1], b[1])
            if on_segment and a[1] == b[1] == min_dv:
                return False
    return True


def fill_hull(offsets: Sequence, n_syn_fill: float) -> list:
    """Fills gaps inside a receptive field with a constant synapse count.

    Applied when ``n_syn_fill > 0`` and the field has at least 3 offsets:
    every integer point of the bounding box (du-major, then dv) that lies in
    the convex hull of the listed offsets and is not listed is appended as
    ``[[du, dv], n_syn_fill]``.

    Args:
        offsets: ``[[[du, dv], n_syn], ...]`` as in the JSON.
        n_syn_fill: Synapse count for filled offsets (0 disables filling).

    Returns:
        The original offsets followed by the filled ones.
    """
    offsets = [[[int(o[0][0]), int(o[0][1])], o[1]] for o in offsets]
    if not n_syn_fill or len(offsets) < 3:
        return offsets
    points = np.array([o[0] for o in offsets])
    hull = convex_hull(points)
    listed = {tuple(p) for p in points.tolist()}
    filled = []
    for du in range(points[:, 0].min(), points[:, 0].max() + 1):
        for dv in range(points[:, 1].min(), points[:, 1].max() + 1):
            if (du, dv) in listed:
                continue
            if _accept_fill_point(hull, np.array([du, dv])):
                filled.append([[du, dv], n_syn_fill])
    return offsets + filled


def _pattern_strides(pattern: Sequence) -> Tuple[str, int, int]:
    kind = pattern[0]
    if kind == "stride":
        su, sv = pattern[1]
        return kind, int(su), int(sv)
    if kind == "tile":
        return kind, int(pattern[1]), int(pattern[1])
    if kind == "single":
        return kind, 1, 1
    raise ValueError(
        f"unknown node pattern {pattern!r}; expected stride, tile or single."
    )


@dataclass
class CompiledConnectome:
    """Node and edge tables of a connectome tiled over the lattice.

    All arrays are numpy; strings are ``str``. Node axis length N, edge axis
    length E (45,669 and 1,513,231 for the default connectome at extent 15).

    Attributes:
        cell_types: Cell type names in file order (65).
        input_cell_types: Input types (R1-R8).
        output_cell_types: Output types (34).
        intermediate_cell_types: Remaining types, in file order.
        node_type_index: ``(N,)`` int: index into ``cell_types``.
        node_u: ``(N,)`` int: lattice coordinate u.
        node_v: ``(N,)`` int: lattice coordinate v.
        edge_source_index: ``(E,)`` int: presynaptic node.
        edge_target_index: ``(E,)`` int: postsynaptic node.
        edge_sign: ``(E,)`` float: +1 excitatory, -1 inhibitory.
        edge_n_syn: ``(E,)`` float: average synapse count of the offset.
        edge_n_syn_certainty: ``(E,)`` float: ``lambda_mult`` of the pair.
        edge_du: ``(E,)`` int: target u minus source u.
        edge_dv: ``(E,)`` int: target v minus source v.
        extent: Lattice extent.
    """

    cell_types: List[str]
    input_cell_types: List[str]
    output_cell_types: List[str]
    intermediate_cell_types: List[str]
    node_type_index: np.ndarray
    node_u: np.ndarray
    node_v: np.ndarray
    edge_source_index: np.ndarray
    edge_target_index: np.ndarray
    edge_sign: np.ndarray
    edge_n_syn: np.ndarray
    edge_n_syn_certainty: np.ndarray
    edge_du: np.ndarray
    edge_dv: np.ndarray
    extent: int

    @property
    def n_nodes(self) -> int:
        """Number of cells."""
        return len(self.node_type_index)

    @property
    def n_edges(self) -> int:
        """Number of synapse sets."""
        return len(self.edge_source_index)

    @property
    def central_cells_index(self) -> np.ndarray:
        """Node index of the cell at (0, 0) of every type, in type order."""
        central = np.flatnonzero((self.node_u == 0) & (self.node_v == 0))
        return central[np.argsort(self.node_type_index[central], kind="stable")]


def compile_connectome(
    spec: ConnectomeSpec, extent: int = 15, n_syn_fill: float = 1
) -> CompiledConnectome:
    """Tiles the average filters of ``spec`` over a lattice of ``extent``.

    Nodes: for every type in file order, the hexals of its pattern in
    canonical order (type-major node index). Edges: for every JSON edge in file
    order, every offset (listed, then hull-filled), every source node of the
    source type in node order, the target of the target type at ``(u + du,
    v + dv)`` if it exists (targets outside the lattice or off the target's
    stride sub-lattice are dropped).

    Args:
        spec: Parsed connectome JSON.
        extent: Lattice radius in columns (>= 0).
        n_syn_fill: Synapse count of hull-filled offsets (0: no filling).

    Returns:
        The node and edge tables.

    Raises:
        ValueError: For a negative extent or an unknown node pattern.
    """
    if int(extent) != extent or extent < 0:
        raise ValueError(f"extent must be a non-negative integer, got {extent!r}.")
    extent = int(extent)
    types = spec.cell_types
    type_index = {t: i for i, t in enumerate(types)}
    width = 2 * extent + 1

    node_type, node_u, node_v = [], [], []
    lookup: Dict[int, np.ndarray] = {}
    start = 0
    for i, node in enumerate(spec.nodes):
        kind, su, sv = _pattern_strides(node["pattern"])
        u, v = get_hex_coords(0 if kind == "single" else extent)
        keep = (u % su == 0) & (v % sv == 0)
        u, v = u[keep], v[keep]
        table = np.full((width, width), -1, dtype=np.int64)
        table[u + extent, v + extent] = np.arange(start, start + len(u))
        lookup[i] = table
        node_type.append(np.full(len(u), i, dtype=np.int64))
        node_u.append(u)
        node_v.append(v)
        start += len(u)
    node_type = np.concatenate(node_type)
    node_u = np.concatenate(node_u)
    node_v = np.concatenate(node_v)
    nodes_of_type = {i: np.flatnonzero(node_type == i) for i in range(len(types))}

    cols: Dict[str, list] = {
        k: [] for k in ("src", "tar", "sign", "n_syn", "cert", "du", "dv")
    }
    for edge in spec.edges:
        s, t = type_index[edge["src"]], type_index[edge["tar"]]
        src = nodes_of_type[s]
        su, sv = node_u[src], node_v[src]
        table = lookup[t]
        for (du, dv), n_syn in fill_hull(edge["offsets"], n_syn_fill):
            tu, tv = su + du, sv + dv
            inside = (np.abs(tu) <= extent) & (np.abs(tv) <= extent)
            target = np.full(len(src), -1, dtype=np.int64)
            target[inside] = table[tu[inside] + extent, tv[inside] + extent]
            found = target >= 0
            n = int(found.sum())
            if n == 0:
                continue
            cols["src"].append(src[found])
            cols["tar"].append(target[found])
            cols["sign"].append(np.full(n, float(edge["alpha"])))
            cols["n_syn"].append(np.full(n, float(n_syn)))
            cols["cert"].append(np.full(n, float(edge["lambda_mult"])))
            cols["du"].append(np.full(n, du, dtype=np.int64))
            cols["dv"].append(np.full(n, dv, dtype=np.int64))

    def cat(key, dtype):
        return (
            np.concatenate(cols[key]).astype(dtype) if cols[key] else np.zeros(0, dtype)
        )

    inputs = [t for t in types if t in set(spec.input_units)]
    outputs = list(spec.output_units)
    intermediates = [t for t in types if t not in set(inputs) | set(outputs)]
    return CompiledConnectome(
        cell_types=list(types),
        input_cell_types=list(spec.input_units),
        output_cell_types=outputs,
        intermediate_cell_types=intermediates,
        node_type_index=node_type,
        node_u=node_u,
        node_v=node_v,
        edge_source_index=cat("src", np.int64),
        edge_target_index=cat("tar", np.int64),
        edge_sign=cat("sign", np.float32),
        edge_n_syn=cat("n_syn", np.float32),
        edge_n_syn_certainty=cat("cert", np.float32),
        edge_du=cat("du", np.int64),
        edge_dv=cat("dv", np.int64),
        extent=extent,
    )
