"""Cell-type ordering and indexing helpers.

Cell types are strings such as ``"R1"``, ``"T4a"`` or ``"CT1(Lo1)"``; connectome
files store them as byte strings, which every function here accepts too (they
are decoded to ``str``).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "order_node_type_list",
    "get_index_mapping_lists",
    "sort_by_mapping_lists",
    "nodes_list_sorting_on_off_unknown",
    "NodeIndexer",
    "CellTypeArray",
    "layout",
    "UnknownCellTypeError",
]

#: Default groups of :func:`order_node_type_list` (regexes matched at the start).
DEFAULT_GROUPS = [
    r"R\d",
    r"L\d",
    r"Lawf\d",
    r"A",
    r"C\d",
    r"CT\d.*",
    r"Mi\d{1,2}",
    r"T\d{1,2}.*",
    r"Tm.*\d{1,2}.*",
]


class UnknownCellTypeError(ValueError, AttributeError):
    """An unknown cell type was requested.

    Subclasses ``ValueError`` (the documented error for unknown keys) and
    ``AttributeError`` (so that ``hasattr``/``getattr(obj, name, default)`` work
    for attribute-style access).
    """


def _decode(value: Any) -> Any:
    """Decodes ``bytes``/``np.bytes_`` to ``str``; returns other values unchanged."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode()
    return value


def _to_str_list(values: Iterable) -> List[str]:
    """Converts an iterable of str/bytes (or a lazy array handle) to ``List[str]``."""
    if hasattr(values, "__getitem__") and not isinstance(values, (list, tuple, str)):
        try:
            values = values[:]
        except (TypeError, IndexError, KeyError, ValueError):
            pass
    return [str(_decode(v)) for v in np.asarray(values).reshape(-1).tolist()]


def unknown_type_error(
    key: Any, valid: Sequence[str], what: str = "cell type"
) -> UnknownCellTypeError:
    """Builds the error raised for an unknown cell type, with close matches.

    Args:
        key: The requested (unknown) key.
        valid: The valid names.
        what: Noun used in the message.

    Returns:
        An ``UnknownCellTypeError`` (a ``ValueError``) to be raised.
    """
    matches = difflib.get_close_matches(str(key), list(valid), n=5, cutoff=0.5)
    msg = f"Unknown {what} {key!r}."
    if matches:
        msg += f" Did you mean: {', '.join(matches)}?"
    else:
        shown = ", ".join(list(valid)[:70])
        msg += f" Valid names: {shown}."
    return UnknownCellTypeError(msg)


def _sort_key(node_type: str) -> str:
    """Sorting key: every digit run replaced by the first number, padded to 4."""
    numbers = re.findall(r"\d+", node_type)
    if not numbers:
        return node_type
    first = numbers[0].zfill(4)
    return re.sub(r"\d+", first, node_type)


def order_node_type_list(
    node_types: Optional[Sequence[str]],
    groups: Sequence[str] = DEFAULT_GROUPS,
) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """Orders cell types by anatomical group and number.

    Every type is assigned to every group whose regex matches at its start
    (``re.match``); types matching no group form a final group. Groups are
    emitted in order; inside a group types are sorted by a key in which each
    digit run is replaced by the type's first number zero-padded to 4 digits
    (so ``Mi9 < Mi10`` and ``TmY3 < TmY10``). For the 65 flyvis types the
    result equals the JSON order.

    Args:
        node_types: Cell type names (str or bytes), or ``None``.
        groups: Regular expressions defining the groups, in output order.

    Returns:
        Tuple ``(ordered_types, sort_index)`` of numpy arrays with
        ``ordered_types == np.asarray(node_types)[sort_index]``; ``(None,
        None)`` if ``node_types`` is ``None``.

    Raises:
        ValueError: If a type would be lost or duplicated (e.g. it matches
            several groups).
    """
    if node_types is None:
        return None, None
    original = np.asarray(node_types)
    names = _to_str_list(original)
    buckets: List[List[int]] = [[] for _ in range(len(groups) + 1)]
    for i, name in enumerate(names):
        matched = False
        for g, pattern in enumerate(groups):
            if re.match(pattern, name):
                buckets[g].append(i)
                matched = True
        if not matched:
            buckets[-1].append(i)
    sort_index: List[int] = []
    for bucket in buckets:
        sort_index.extend(sorted(bucket, key=lambda i: _sort_key(names[i])))
    if len(sort_index) != len(names) or sorted(sort_index) != list(range(len(names))):
        counts = np.bincount(np.asarray(sort_index, dtype=int), minlength=len(names))
        lost = [names[i] for i in np.flatnonzero(counts == 0)]
        dup = [names[i] for i in np.flatnonzero(counts > 1)]
        raise ValueError(
            f"Ordering node types failed: lost {lost}, duplicated {dup}. "
            "Check that every type matches at most one group."
        )
    index = np.asarray(sort_index, dtype=np.int64)
    return original[index], index


def get_index_mapping_lists(from_list: Sequence, to_list: Sequence) -> List[int]:
    """Positions of the elements of ``to_list`` in ``from_list``.

    Args:
        from_list: Source order.
        to_list: Target order (elements must occur in ``from_list``).

    Returns:
        ``[from_list.index(x) for x in to_list]``.
    """
    from_list = list(from_list)
    return [from_list.index(x) for x in to_list]


def sort_by_mapping_lists(
    from_list: Sequence, to_list: Sequence, tensor: Any, axis: int = 0
) -> Any:
    """Reorders ``tensor`` along ``axis`` from the order ``from_list`` to ``to_list``.

    Args:
        from_list: Order of the entries of ``tensor`` along ``axis``.
        to_list: Desired order.
        tensor: numpy array or torch tensor.
        axis: Axis to reorder.

    Returns:
        The reordered array (same type as ``tensor``).
    """
    index = get_index_mapping_lists(from_list, to_list)
    if hasattr(tensor, "index_select"):
        import torch

        idx = torch.as_tensor(index, dtype=torch.long, device=tensor.device)
        return tensor.index_select(axis, idx)
    return np.take(np.asarray(tensor), index, axis=axis)


def nodes_list_sorting_on_off_unknown(cell_types: Optional[Sequence[str]] = None):
    """Orders cell types ON (+1) first, then OFF (-1), then unknown polarity (0).

    Uses ``flyvis.utils.groundtruth_utils.polarity``; the order within each
    polarity class follows ``cell_types``.

    Args:
        cell_types: Types to order; defaults to all types in ``polarity``.

    Returns:
        The ordered list of types.
    """
    from flyvis.utils.groundtruth_utils import polarity

    if cell_types is None:
        cell_types = list(polarity.keys())
    cell_types = _to_str_list(cell_types)
    on = [t for t in cell_types if polarity.get(t, 0) == 1]
    off = [t for t in cell_types if polarity.get(t, 0) == -1]
    unknown = [t for t in cell_types if polarity.get(t, 0) not in (1, -1)]
    return on + off + unknown


class NodeIndexer(dict):
    """Maps cell types to their position in the list of unique cell types.

    ``indexer["T4a"]`` / ``indexer.T4a`` gives the position (0 ... 64 for the
    default connectome); a list key gives a list of positions.

    Args:
        connectome: Connectome with ``unique_cell_types`` and
            ``central_cells_index``.
        unique_cell_types: Alternatively, the list of types.

    Attributes:
        unique_cell_types: ``np.ndarray`` of ``str``.
        central_cells_index: Node index of the central cell of each type (from
            the connectome), else ``None``.

    Raises:
        ValueError: Unless exactly one of ``connectome`` and
            ``unique_cell_types`` is given.
    """

    def __init__(
        self, connectome: Any = None, unique_cell_types: Optional[Sequence] = None
    ):
        if (connectome is None) == (unique_cell_types is None):
            raise ValueError(
                "NodeIndexer needs exactly one of `connectome` and `unique_cell_types`."
            )
        if connectome is not None:
            types = _to_str_list(connectome.unique_cell_types)
            central = np.asarray(connectome.central_cells_index[:], dtype=np.int64)
        else:
            types = _to_str_list(unique_cell_types)
            central = None
        super().__init__((t, i) for i, t in enumerate(types))
        self.unique_cell_types = np.array(types, dtype=str)
        self.central_cells_index = central

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (list, tuple, np.ndarray)):
            return [self[k] for k in key]
        key = _decode(key)
        try:
            return dict.__getitem__(self, key)
        except (KeyError, TypeError):
            raise unknown_type_error(key, list(dict.keys(self))) from None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __dir__(self) -> List[str]:
        return list(dict.keys(self)) + ["unique_cell_types", "central_cells_index"]


class CellTypeArray:
    """Array whose axis ``dim`` enumerates cell types, with access by type name.

    ``cta.T4a`` / ``cta["T4a"]`` takes along ``dim`` keeping the axis (size 1),
    ``cta[["T4a", "T5a"]]`` gives size 2 along ``dim``. Assignment
    ``cta["T4a"] = x`` writes into the array, allocating a zero array the first
    time if none was given.

    Args:
        array: numpy array or torch tensor (or ``None`` to allocate on first
            assignment), ``array.shape[dim] == len(cell_types)``.
        connectome: Connectome providing ``unique_cell_types``.
        cell_types: Alternatively, the types along ``dim``.
        dim: The cell-type axis.
    """

    def __init__(
        self,
        array: Any,
        connectome: Any = None,
        cell_types: Optional[Sequence[str]] = None,
        dim: int = -1,
    ):
        if cell_types is None:
            if connectome is None:
                raise ValueError("CellTypeArray needs `connectome` or `cell_types`.")
            cell_types = connectome.unique_cell_types
        self.cell_types = np.array(_to_str_list(cell_types), dtype=str)
        self.node_indexer = NodeIndexer(unique_cell_types=self.cell_types)
        self.dim = dim
        self.array = None
        self._set_array(array)

    def _set_array(self, array: Any) -> None:
        if array is not None and array.shape[self.dim] != len(self.cell_types):
            raise ValueError(
                f"Axis {self.dim} of the array has length {array.shape[self.dim]}, "
                f"expected {len(self.cell_types)} cell types."
            )
        self.array = array

    @property
    def shape(self) -> Optional[Tuple[int, ...]]:
        """Shape of the wrapped array (``None`` if not allocated)."""
        return None if self.array is None else tuple(self.array.shape)

    def _positions(self, key: Any) -> List[int]:
        if isinstance(key, (list, tuple, np.ndarray)):
            return [self.node_indexer[k] for k in key]
        return [self.node_indexer[key]]

    def _take(self, positions: List[int]) -> Any:
        if self.array is None:
            raise RuntimeError("CellTypeArray has no array yet.")
        if hasattr(self.array, "index_select"):
            import torch

            idx = torch.as_tensor(positions, dtype=torch.long, device=self.array.device)
            return self.array.index_select(self.dim, idx)
        return np.take(self.array, positions, axis=self.dim)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return self._take(list(range(len(self.cell_types)))[key])
        return self._take(self._positions(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        positions = self._positions(key)
        if self.array is None:
            shape = list(np.shape(value))
            if not shape:
                shape = [1]
            shape[self.dim] = len(self.cell_types)
            if hasattr(value, "new_zeros"):
                self.array = value.new_zeros(shape)
            else:
                self.array = np.zeros(shape, dtype=np.asarray(value).dtype)
        dim = self.dim % self.array.ndim
        index = (slice(None),) * dim + (positions,)
        self.array[index] = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("array", "cell_types", "node_indexer", "dim"):
            raise AttributeError(name)
        return self[name]

    def __dir__(self) -> List[str]:
        return list(self.cell_types) + ["array", "shape", "keys", "values", "items"]

    def __len__(self) -> int:
        return len(self.cell_types)

    def __iter__(self):
        return iter(self.cell_types)

    def keys(self) -> List[str]:
        """The cell types along ``dim``."""
        return list(self.cell_types)

    def values(self) -> List[Any]:
        """The per-type slices (axis kept, size 1), in type order."""
        return [self[t] for t in self.cell_types]

    def items(self) -> List[Tuple[str, Any]]:
        """``(type, slice)`` pairs in type order."""
        return [(t, self[t]) for t in self.cell_types]

    def from_cell_types(self, cell_types: Sequence[str]) -> "CellTypeArray":
        """Returns a new ``CellTypeArray`` restricted to (and ordered by) ``cell_types``.

        Args:
            cell_types: Subset of the types.

        Returns:
            A new ``CellTypeArray`` over the selected types.
        """
        types = _to_str_list(cell_types)
        return CellTypeArray(self[types], cell_types=types, dim=self.dim)

    def __repr__(self) -> str:
        return (
            f"CellTypeArray(shape={self.shape}, dim={self.dim}, "
            f"cell_types=[{', '.join(self.cell_types)}])"
        )


def _build_layout() -> Dict[str, str]:
    retina = [f"R{i}" for i in range(1, 9)]
    intermediate = (
        "L1 L2 L3 L4 L5 Lawf1 Lawf2 Am C2 C3 CT1(Lo1) CT1(M10) Mi1 Mi2 Mi3 Mi4 Mi9 "
        "Mi10 Mi11 Mi12 Mi13 Mi14 Mi15"
    ).split()
    output = (
        "T1 T2 T2a T3 T4a T4b T4c T4d T5a T5b T5c T5d Tm1 Tm2 Tm3 Tm4 Tm5Y Tm5a Tm5b "
        "Tm5c Tm9 Tm16 Tm20 Tm28 Tm30 TmY3 TmY4 TmY5a TmY9 TmY10 TmY13 TmY14 TmY15 TmY18"
    ).split()
    result = dict.fromkeys(retina, "retina")
    result.update(dict.fromkeys(intermediate, "intermediate"))
    result.update(dict.fromkeys(output, "output"))
    return result


#: Cell type -> ``"retina"`` (R1-R8), ``"intermediate"`` (L1 ... Mi15) or
#: ``"output"`` (T1 ... TmY18), for the 65 types of the default connectome.
layout: Dict[str, str] = _build_layout()
