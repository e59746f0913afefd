"""Cell-type views of activity arrays.

Network activity is stored with the **node axis last** (45 669 nodes for the
default connectome); any leading axes (samples, frames, ...) are kept. The
views below index that axis by cell type:

* :class:`LayerActivity` -- all cells of a type (``la.T4a`` -> ``(..., 721)``).
* :class:`CentralActivity` -- the central cell (``u = v = 0``) of each type
  (``ca.T4a`` -> ``(...)``).
* :class:`SourceCurrentView` -- currents of the edges from one source type
  onto the central cell of a target type.

Numpy arrays and torch tensors are supported (autograd flows through torch
indexing). Everything read from the connectome (type lists, node indices) is
read once at construction; torch index tensors are cached per device.

Reference handling (``keepref``): flyvis 1.2.0 meant ``keepref=False`` to hold
only a weak reference to the activity and failed when combined with
``use_central=True``. Here every view keeps an ordinary reference to the
current array, so views of temporary arrays stay valid and every combination
of ``keepref`` and ``use_central`` works; ``keepref=False`` means that no
*derived* copies are cached (the central reduction is recomputed on every
``.central`` access), ``keepref=True`` caches it until the next ``update``.
Call ``update(None)`` to release the array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Hashable, Iterator, List, Optional, Sequence

import numpy as np
import torch

from flyvis.utils.nodes_edges_utils import (
    NodeIndexer,
    _decode,
    _to_str_list,
    unknown_type_error,
)

__all__ = ["CentralActivity", "LayerActivity", "SourceCurrentView"]

_MAX_CACHED_INDICES = 512


@dataclass
class _ConnectomeIndex:
    """Everything the views need from a connectome, read once."""

    unique_cell_types: np.ndarray
    input_cell_types: np.ndarray
    output_cell_types: np.ndarray
    layer_index: Dict[str, np.ndarray]
    central_cells_index: Optional[np.ndarray]
    n_nodes: int

    @classmethod
    def from_connectome(cls, connectome: Any) -> "_ConnectomeIndex":
        if connectome is None:
            raise ValueError("A connectome is required to index activity by cell type.")
        types = _to_str_list(connectome.unique_cell_types)
        inputs = _to_str_list(connectome.input_cell_types)
        outputs = _to_str_list(connectome.output_cell_types)
        nodes = connectome.nodes
        layer_dir = nodes.layer_index
        layer_index = {}
        for t in types:
            layer_index[t] = np.asarray(layer_dir[t][:], dtype=np.int64).reshape(-1)
        try:
            central = np.asarray(connectome.central_cells_index[:], dtype=np.int64)
        except (AttributeError, KeyError, FileNotFoundError):
            central = None
        n_nodes = len(nodes.index[:])
        for t in [*inputs, *outputs]:
            if t not in layer_index:
                raise ValueError(f"Input/output type {t!r} is not a unique cell type.")
        return cls(
            unique_cell_types=np.array(types, dtype=str),
            input_cell_types=np.array(inputs, dtype=str),
            output_cell_types=np.array(outputs, dtype=str),
            layer_index=layer_index,
            central_cells_index=central,
            n_nodes=int(n_nodes),
        )


def _stack_indices(
    layer_index: Dict[str, np.ndarray], types: Sequence[str], what: str
) -> np.ndarray:
    """Stacks per-type node indices to ``(len(types), n)``; sizes must agree."""
    if len(types) == 0:
        return np.zeros((0, 0), dtype=np.int64)
    sizes = {t: len(layer_index[t]) for t in types}
    if len(set(sizes.values())) != 1:
        raise ValueError(
            f"Cannot stack the {what} types: they have different numbers of cells "
            f"({sizes})."
        )
    return np.stack([layer_index[t] for t in types])


def _describe(activity: Any) -> str:
    if activity is None:
        return "None"
    return f"{type(activity).__name__}{tuple(activity.shape)}"


class CellTypeActivity(dict):
    """Base class: a dict from cell type to an index into the last axis.

    Subclasses define what the index of a type is (all its nodes, or the
    position of its central cell). Item or attribute access by type name
    returns ``activity[..., index]``.
    """

    def __init__(self, meta: _ConnectomeIndex, keepref: bool = False):
        super().__init__()
        self._meta = meta
        self.keepref = keepref
        self.unique_cell_types = meta.unique_cell_types
        self.input_cell_types = meta.input_cell_types
        self.output_cell_types = meta.output_cell_types
        self._activity = None
        self._torch_index: Dict[Hashable, torch.Tensor] = {}

    # identity semantics: dict equality would compare index arrays elementwise
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    # ------------------------------------------------------------------ data
    @property
    def activity(self) -> Any:
        """The current array (``None`` if none was given)."""
        return self._activity

    def _expected_lengths(self) -> List[int]:
        raise NotImplementedError

    def _prepare(self, activity: Any) -> Any:
        """Validates (and possibly converts) a new activity array."""
        if activity is None:
            return None
        if not isinstance(activity, torch.Tensor) and not hasattr(activity, "shape"):
            activity = np.asarray(activity)
        shape = tuple(activity.shape)
        expected = self._expected_lengths()
        if len(shape) == 0 or shape[-1] not in expected:
            lengths = " or ".join(str(n) for n in expected)
            raise ValueError(
                f"{type(self).__name__} expects arrays whose last axis has length "
                f"{lengths} (nodes), got shape {shape}."
            )
        return activity

    def update(self, activity: Any) -> None:
        """Replaces the viewed array.

        Args:
            activity: New array with the node axis last, or ``None``.

        Raises:
            ValueError: If the last axis has the wrong length.
        """
        self._activity = self._prepare(activity)

    def _require_activity(self) -> Any:
        if self._activity is None:
            raise RuntimeError(
                f"{type(self).__name__} has no activity; pass an array to the "
                "constructor or call update(activity)."
            )
        return self._activity

    # -------------------------------------------------------------- indexing
    def _index_of(self, cell_type: str) -> Any:
        """Index (array or int) of a type into the last axis."""
        key = _decode(cell_type)
        try:
            return dict.__getitem__(self, key)
        except (KeyError, TypeError):
            raise unknown_type_error(key, list(dict.keys(self))) from None

    def _take(self, index: Any, cache_key: Optional[Hashable] = None) -> Any:
        """``activity[..., index]`` for numpy arrays and torch tensors."""
        activity = self._require_activity()
        index_np = np.asarray(index, dtype=np.int64)
        if isinstance(activity, torch.Tensor):
            key = (cache_key, activity.device)
            idx = self._torch_index.get(key) if cache_key is not None else None
            if idx is None:
                idx = torch.from_numpy(index_np.reshape(-1)).to(activity.device)
                if cache_key is not None:
                    if len(self._torch_index) >= _MAX_CACHED_INDICES:
                        self._torch_index.clear()
                    self._torch_index[key] = idx
            out = activity.index_select(-1, idx)
            return out.reshape(*activity.shape[:-1], *index_np.shape)
        return np.take(activity, index_np, axis=-1)

    def _stacked(self, types: Sequence[str]) -> Any:
        types = [str(_decode(t)) for t in types]
        indices = [self._index_of(t) for t in types]
        sizes = {t: np.size(i) for t, i in zip(types, indices)}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"Cannot stack cell types of different sizes: {sizes}.")
        return self._take(np.stack([np.asarray(i) for i in indices]), ("list", *types))

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return self._require_activity()[..., key]
        if isinstance(key, (list, tuple)) or (
            isinstance(key, np.ndarray) and key.dtype.kind in "USO"
        ):
            return self._stacked(list(key))
        if isinstance(key, (str, bytes, np.str_, np.bytes_)):
            name = str(_decode(key))
            return self._take(self._index_of(name), name)
        raise ValueError(key)

    def __getattr__(self, name: str) -> Any:
        # only called when normal attribute lookup fails
        if name.startswith("_"):
            raise AttributeError(name)
        if dict.__contains__(self, name):
            return self[name]
        if hasattr(type(self), name):
            # a property raised AttributeError: re-raise its own error
            return object.__getattribute__(self, name)
        raise unknown_type_error(name, list(dict.keys(self)))

    def get(self, key: Any, default: Any = None) -> Any:
        """Activity of a type, or ``default`` for unknown types."""
        try:
            return self[key]
        except ValueError:
            return default

    @property
    def input(self) -> Any:
        """Activity of the input types (R1-R8), stacked on axis -2."""
        return self._take(self._io_index("input"), "input")

    @property
    def output(self) -> Any:
        """Activity of the output types (T1 ... TmY18), stacked on axis -2."""
        return self._take(self._io_index("output"), "output")

    def _io_index(self, which: str) -> np.ndarray:
        raise NotImplementedError

    # ---------------------------------------------------------- dict protocol
    def __iter__(self) -> Iterator[str]:
        return iter(dict.keys(self))

    def __dir__(self) -> List[str]:
        public = [
            "activity",
            "input",
            "output",
            "update",
            "connectome",
            "unique_cell_types",
            "input_cell_types",
            "output_cell_types",
            "keepref",
        ]
        return list(dict.keys(self)) + public

    def __repr__(self) -> str:
        types = ", ".join(dict.keys(self))
        return (
            f"{type(self).__name__}(activity={_describe(self._activity)}, "
            f"cell_types[{len(self)}]=[{types}])"
        )


class LayerActivity(CellTypeActivity):
    """View of an activity array by cell type ("layer" = all cells of a type).

    ``la.T4a`` / ``la["T4a"]`` -> ``activity[..., layer_index["T4a"]]`` of shape
    ``(..., 721)`` (``(..., 123)`` for ``Lawf1``); ``la[["L1", "L2"]]`` ->
    ``(..., 2, 721)``; ``la.input`` -> ``(..., 8, 721)``; ``la.output`` ->
    ``(..., 34, 721)``; ``la[:]`` -> the whole array; ``la.central`` -> a
    :class:`CentralActivity` of the same array. Iteration and ``len`` run over
    the cell types.

    Args:
        activity: numpy array or torch tensor with the node axis last, shape
            ``(..., n_nodes)``; ``None`` for an indexer filled later by
            :meth:`update`.
        connectome: Connectome (e.g. ``ConnectomeFromAvgFilters``) providing
            ``unique_cell_types``, ``input_cell_types``, ``output_cell_types``,
            ``central_cells_index``, ``nodes.index`` and
            ``nodes.layer_index[<type>]``.
        keepref: Cache the central reduction between updates (see module
            docstring; a reference to ``activity`` is always kept).
        use_central: Provide the ``central`` view.

    Attributes:
        connectome: The connectome.
        unique_cell_types: ``np.ndarray`` of the type names.
        input_cell_types: Input types (R1-R8).
        output_cell_types: Output types (34 for the default connectome).
        input_indices: Node indices of the input types ``(8, 721)``.
        output_indices: Node indices of the output types ``(34, 721)``.
        n_nodes: Number of nodes (length of the last axis).

    Raises:
        ValueError: For an array whose last axis is not ``n_nodes`` long, or
            (on access) an unknown cell type, with close matches suggested.
    """

    def __init__(
        self,
        activity: Any,
        connectome: Any,
        keepref: bool = False,
        use_central: bool = True,
    ):
        meta = _ConnectomeIndex.from_connectome(connectome)
        self._init_from_meta(meta, connectome, activity, keepref, use_central)

    @classmethod
    def _from_meta(
        cls,
        meta: _ConnectomeIndex,
        connectome: Any,
        activity: Any = None,
        keepref: bool = False,
        use_central: bool = True,
    ) -> "LayerActivity":
        self = cls.__new__(cls)
        self._init_from_meta(meta, connectome, activity, keepref, use_central)
        return self

    def _init_from_meta(self, meta, connectome, activity, keepref, use_central) -> None:
        CellTypeActivity.__init__(self, meta, keepref=keepref)
        dict.update(self, meta.layer_index)
        self.connectome = connectome
        self.use_central = use_central
        self.n_nodes = meta.n_nodes
        self.input_indices = _stack_indices(
            meta.layer_index, list(meta.input_cell_types), "input"
        )
        self.output_indices = _stack_indices(
            meta.layer_index, list(meta.output_cell_types), "output"
        )
        self._central: Optional[CentralActivity] = None
        self.update(activity)

    def _expected_lengths(self) -> List[int]:
        return [self.n_nodes]

    def _io_index(self, which: str) -> np.ndarray:
        return self.input_indices if which == "input" else self.output_indices

    def update(self, activity: Any) -> None:
        """Replaces the viewed array (and invalidates the central view).

        Args:
            activity: Array ``(..., n_nodes)`` or ``None``.

        Raises:
            ValueError: If the last axis is not ``n_nodes`` long.
        """
        super().update(activity)
        self._central = None

    @property
    def central(self) -> "CentralActivity":
        """:class:`CentralActivity` of the current array (if ``use_central``)."""
        if not self.use_central:
            raise AttributeError(
                "The central view is disabled (LayerActivity(..., use_central=False))."
            )
        if self._central is not None:
            return self._central
        central = CentralActivity._from_meta(
            self._meta, self.connectome, self._activity, keepref=True
        )
        if self.keepref:
            self._central = central
        return central

    def __dir__(self) -> List[str]:
        extra = ["n_nodes", "input_indices", "output_indices", "use_central"]
        if self.use_central:
            extra.append("central")
        return super().__dir__() + extra


class CentralActivity(CellTypeActivity):
    """View of the central cell (``u = v = 0``) of each cell type.

    An array whose last axis is ``n_nodes`` long is first reduced with
    ``central_cells_index`` to ``(..., n_types)`` (65 for the default
    connectome) and the reduced copy is kept; an array whose last axis is
    already ``n_types`` long is used as is.

    ``ca.T4a`` -> ``(...)`` (last axis removed); ``ca[["T4a", "T5a"]]`` ->
    ``(..., 2)``; ``ca.input`` -> ``(..., 8, 1)``; ``ca.output`` ->
    ``(..., 34, 1)``.

    Args:
        activity: Array ``(..., n_nodes)`` or ``(..., n_types)``, or ``None``.
        connectome: Connectome as for :class:`LayerActivity`.
        keepref: Accepted for compatibility (a reference is always kept).

    Attributes:
        index: :class:`~flyvis.utils.nodes_edges_utils.NodeIndexer` type ->
            position.
        central_cells_index: Node index of each type's central cell.

    Raises:
        ValueError: For arrays with another last-axis length, or (on access)
            unknown cell types.
    """

    def __init__(self, activity: Any, connectome: Any, keepref: bool = False):
        meta = _ConnectomeIndex.from_connectome(connectome)
        self._init_from_meta(meta, connectome, activity, keepref)

    @classmethod
    def _from_meta(
        cls, meta: _ConnectomeIndex, connectome: Any, activity: Any, keepref: bool
    ) -> "CentralActivity":
        self = cls.__new__(cls)
        self._init_from_meta(meta, connectome, activity, keepref)
        return self

    def _init_from_meta(self, meta, connectome, activity, keepref) -> None:
        CellTypeActivity.__init__(self, meta, keepref=keepref)
        if meta.central_cells_index is None:
            raise ValueError("The connectome has no `central_cells_index`.")
        types = list(meta.unique_cell_types)
        dict.update(self, {t: i for i, t in enumerate(types)})
        self.connectome = connectome
        self.central_cells_index = meta.central_cells_index
        self.n_nodes = meta.n_nodes
        self.index = NodeIndexer(unique_cell_types=types)
        self.index.central_cells_index = meta.central_cells_index
        self._input_pos = np.array([[types.index(t)] for t in meta.input_cell_types])
        self._output_pos = np.array([[types.index(t)] for t in meta.output_cell_types])
        self.update(activity)

    def _expected_lengths(self) -> List[int]:
        return [len(self.unique_cell_types), self.n_nodes]

    def _io_index(self, which: str) -> np.ndarray:
        pos = self._input_pos if which == "input" else self._output_pos
        return pos.reshape(-1, 1)

    def update(self, activity: Any) -> None:
        """Replaces the viewed array, reducing it to the central cells if needed.

        Args:
            activity: Array ``(..., n_nodes)`` or ``(..., n_types)``, or ``None``.

        Raises:
            ValueError: For another last-axis length.
        """
        activity = self._prepare(activity)
        if activity is not None and activity.shape[-1] != len(self.unique_cell_types):
            self._activity = activity
            activity = self._take(self.central_cells_index, "__central__")
            self.keepref = True
        self._activity = activity


class SourceCurrentView:
    """View of edge currents by source type, for one target type.

    ``view.Mi1`` -> ``currents[..., rfs["Mi1"].index]``: the currents of the
    edges from ``Mi1`` cells onto the central cell of ``rfs.target_type``.

    Args:
        rfs: Receptive fields of the target type (``ReceptiveFields``) with
            ``target_type``, ``source_types`` and per-source-type edge tables
            whose ``index`` holds edge indices.
        currents: Array with the edge axis last, e.g. ``(frames, n_edges)``.
    """

    def __init__(self, rfs: Any, currents: Any):
        self.target_type = rfs.target_type
        self.source_types = _to_str_list(rfs.source_types)
        self.rfs = rfs
        self.currents = currents

    def _edge_index(self, source_type: str) -> np.ndarray:
        if source_type not in self.source_types:
            raise unknown_type_error(source_type, self.source_types, "source type")
        return np.asarray(self.rfs[source_type].index, dtype=np.int64)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (bytes, np.bytes_)):
            key = _decode(key)
        if not isinstance(key, str):
            raise ValueError(key)
        index = self._edge_index(key)
        if isinstance(self.currents, torch.Tensor):
            return self.currents.index_select(
                -1, torch.from_numpy(index).to(self.currents.device)
            )
        return np.take(self.currents, index, axis=-1)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in (
            "rfs",
            "currents",
            "source_types",
            "target_type",
        ):
            raise AttributeError(name)
        return self[name]

    def __dir__(self) -> List[str]:
        return list(self.source_types) + ["target_type", "source_types", "rfs", "update"]

    def update(self, currents: Any) -> None:
        """Replaces the viewed currents.

        Args:
            currents: Array with the edge axis last.
        """
        self.currents = currents

    def __repr__(self) -> str:
        return (
            f"SourceCurrentView(target_type={self.target_type!r}, "
            f"currents={_describe(self.currents)}, "
            f"source_types=[{', '.join(self.source_types)}])"
        )
