"""Tensor helpers of flyvis 1.2.0's ``flyvis.utils.tensor_utils`` (``spec/utilities.md`` §2).

:class:`RefTensor` and :class:`AutoDeref` are how flyvis 1.2.0 passed
parameters and states to its dynamics. This package's network does not use
them (its parameters are plain tensors, expanded once per forward pass by
``Network.prepare``); they are provided for code written against 1.2.0, with
the row-matching, scatter and selection helpers.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

__all__ = [
    "RefTensor",
    "AutoDeref",
    "detach",
    "clone",
    "to_numpy",
    "atleast_column_vector",
    "matrix_mask_by_sub",
    "where_equal_rows",
    "broadcast",
    "scatter_reduce",
    "scatter_mean",
    "scatter_add",
    "select_along_axes",
    "asymmetric_weighting",
]


class RefTensor:
    """A compact tensor plus an index into its last axis.

    Lets, e.g., 65 resting potentials be seen as 45,669 per-node values
    without materialising them until :meth:`deref` is called.

    Args:
        values: Compact values ``(..., n_values)``.
        indices: Integer positions into the last axis of ``values``
            ``(n_out,)``.
    """

    def __init__(self, values: torch.Tensor, indices: torch.Tensor):
        self.values = values
        self.indices = indices

    def deref(self) -> torch.Tensor:
        """Materialises the values.

        Returns:
            ``values.index_select(-1, indices)``, shape ``(..., n_out)``.
        """
        return self.values.index_select(-1, torch.as_tensor(self.indices).long())

    def clone(self) -> "RefTensor":
        """Copies the values.

        Returns:
            A RefTensor with cloned values and the same indices.
        """
        return RefTensor(self.values.clone(), self.indices)

    def detach(self) -> "RefTensor":
        """Detaches the values from autograd.

        Returns:
            A RefTensor with detached values and the same indices.
        """
        return RefTensor(self.values.detach(), self.indices)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return (
            f"RefTensor(values={tuple(self.values.shape)}, "
            f"indices={tuple(self.indices.shape)})"
        )


class AutoDeref(dict):
    """Attribute-style dict that dereferences :class:`RefTensor` values on read.

    ``d.x`` is ``d["x"]`` (also for assignment). Reading a RefTensor entry
    returns ``entry.deref()``, computed once and cached per key; assigning the
    key drops its cache entry.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        object.__setattr__(self, "_cache", {})

    def __getitem__(self, key: Any) -> Any:
        value = super().__getitem__(key)
        if not isinstance(value, RefTensor):
            return value
        cache = object.__getattribute__(self, "_cache")
        if key not in cache:
            cache[key] = value.deref()
        return cache[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        object.__getattribute__(self, "_cache").pop(key, None)
        super().__setitem__(key, value)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def get_as_reftensor(self, key: Any) -> Any:
        """Reads an entry without dereferencing it.

        Args:
            key: The key.

        Returns:
            The stored entry (a RefTensor stays a RefTensor).
        """
        return super().__getitem__(key)

    def clear_cache(self) -> "AutoDeref":
        """Empties the dereference cache.

        Returns:
            A recursive clone (see :func:`clone`).
        """
        object.__getattribute__(self, "_cache").clear()
        return clone(self)

    def detach(self) -> "AutoDeref":
        """Detaches every tensor, recursively.

        Returns:
            A detached copy (see :func:`detach`).
        """
        return detach(self)

    def __repr__(self) -> str:
        def short(value: Any) -> str:
            if isinstance(value, torch.Tensor):
                return f"Tensor{tuple(value.shape)}"
            return repr(value)

        lines = [f"  {k}: {short(dict.__getitem__(self, k))}" for k in self]
        return "AutoDeref(\n" + "\n".join(lines) + "\n)" if lines else "AutoDeref()"


def _recurse(obj: Any, op: str) -> Any:
    if isinstance(obj, Mapping):
        raw = obj.get_as_reftensor if isinstance(obj, AutoDeref) else obj.__getitem__
        return AutoDeref({k: _recurse(raw(k), op) for k in obj})
    if isinstance(obj, (list, tuple)):
        return [_recurse(v, op) for v in obj]
    if isinstance(obj, (torch.Tensor, RefTensor)):
        return getattr(obj, op)()
    return obj


def detach(obj: Any) -> Any:
    """Detaches tensors and RefTensors, recursively.

    Args:
        obj: A tensor, RefTensor, mapping, list or tuple of these, or anything
            else (scalars, strings, types), which is returned as is.

    Returns:
        The same structure with mappings as :class:`AutoDeref` and lists and
        tuples as lists.
    """
    return _recurse(obj, "detach")


def clone(obj: Any) -> Any:
    """Clones tensors and RefTensors, recursively.

    Args:
        obj: As for :func:`detach`.

    Returns:
        The same structure (containers as :func:`detach` returns them).
    """
    return _recurse(obj, "clone")


def to_numpy(array: Any) -> np.ndarray:
    """Converts to a numpy array.

    Args:
        array: numpy array, tensor (any device; detached and copied to the
            CPU) or list/tuple.

    Returns:
        The numpy array.

    Raises:
        ValueError: For any other type.
    """
    if isinstance(array, torch.Tensor):
        return array.detach().cpu().numpy()
    if isinstance(array, (np.ndarray, list, tuple)):
        return np.asarray(array)
    raise ValueError(f"cannot convert {type(array).__name__} to a numpy array.")


def atleast_column_vector(array: np.ndarray) -> np.ndarray:
    """Turns a 1-D array into a column.

    Args:
        array: Array-like.

    Returns:
        ``(n, 1)`` for a 1-D ``(n,)`` input; other arrays unchanged.
    """
    array = np.asarray(array)
    return array[:, None] if array.ndim == 1 else array


def _rows_as_bytes(matrix: np.ndarray, astype: str) -> np.ndarray:
    matrix = atleast_column_vector(np.asarray(matrix))
    return np.array([b"|".join(row) for row in matrix.astype(astype)])


def matrix_mask_by_sub(sub_matrix: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Boolean mask over the rows of ``matrix`` that occur in ``sub_matrix``.

    Args:
        sub_matrix: ``(m, k)`` rows to look for.
        matrix: ``(n, k)`` rows to test.

    Returns:
        ``(n,)`` bool.
    """
    return np.isin(_rows_as_bytes(matrix, "|S64"), _rows_as_bytes(sub_matrix, "|S64"))


def where_equal_rows(
    matrix1: np.ndarray,
    matrix2: np.ndarray,
    as_mask: bool = False,
    astype: str = "|S64",
) -> np.ndarray:
    """Index in ``matrix2`` of the row equal to each row of ``matrix1``.

    Rows are compared as byte strings (``astype``), in ``matrix1`` order.

    Args:
        matrix1: ``(m, k)`` rows to find.
        matrix2: ``(n, k)`` rows to search.
        as_mask: Return a ``(n,)`` bool mask over ``matrix2`` instead.
        astype: Byte-string dtype used for the comparison.

    Returns:
        ``(m,)`` integer indices, or the mask.

    Raises:
        ValueError: If a row of ``matrix1`` is not in ``matrix2``.
    """
    rows1 = _rows_as_bytes(matrix1, astype)
    rows2 = _rows_as_bytes(matrix2, astype)
    if as_mask:
        return np.isin(rows2, rows1)
    position = {row: i for i, row in reversed(list(enumerate(rows2)))}
    missing = [i for i, row in enumerate(rows1) if row not in position]
    if missing:
        raise ValueError(f"rows {missing[:10]} of matrix1 are not rows of matrix2.")
    return np.array([position[row] for row in rows1], dtype=np.int64)


def broadcast(src: torch.Tensor, other: torch.Tensor, dim: int) -> torch.Tensor:
    """Expands a 1-D index along one axis to the shape of another tensor.

    Args:
        src: ``(other.shape[dim],)`` (or already ``other``'s shape).
        other: Tensor whose shape to take.
        dim: The axis ``src`` runs along.

    Returns:
        A view of ``src`` expanded to ``other.shape``.
    """
    dim = dim % other.ndim
    if src.ndim == 1:
        shape = [1] * other.ndim
        shape[dim] = -1
        src = src.view(shape)
    return src.expand_as(other)


def scatter_reduce(
    src: torch.Tensor, index: torch.Tensor, dim: int = -1, mode: str = "mean"
) -> torch.Tensor:
    """Reduces ``src`` over equal ``index`` values along ``dim``.

    Args:
        src: Values, any shape.
        index: 1-D (broadcast along ``dim``) or same shape as ``src``; groups
            ``0 ... index.max()``.
        dim: Axis to reduce.
        mode: ``"mean"`` or ``"sum"``.

    Returns:
        ``src``'s shape with axis ``dim`` of length ``index.max() + 1``.

    Raises:
        ValueError: For another mode or a negative index.
    """
    if mode not in ("mean", "sum"):
        raise ValueError(f"mode must be 'mean' or 'sum', got {mode!r}.")
    if index.numel() and int(index.min()) < 0:
        raise ValueError("index must be non-negative (groups 0 ... n_groups - 1).")
    index = broadcast(index.long(), src, dim)
    shape = list(src.shape)
    shape[dim] = int(index.max()) + 1 if index.numel() else 0
    return src.new_zeros(shape).scatter_reduce(dim, index, src, mode, include_self=False)


def scatter_mean(src: torch.Tensor, index: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Mean of ``src`` over equal ``index`` values along ``dim``.

    Args:
        src: Values.
        index: Groups (see :func:`scatter_reduce`).
        dim: Axis to reduce.

    Returns:
        Group means; axis ``dim`` has length ``index.max() + 1``.
    """
    return scatter_reduce(src, index, dim, "mean")


def scatter_add(src: torch.Tensor, index: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Sum of ``src`` over equal ``index`` values along ``dim``.

    Args:
        src: Values.
        index: Groups (see :func:`scatter_reduce`).
        dim: Axis to reduce.

    Returns:
        Group sums; axis ``dim`` has length ``index.max() + 1``.
    """
    return scatter_reduce(src, index, dim, "sum")


def select_along_axes(
    array: Any, indices: Sequence[Any] | Any, dims: Sequence[int] | int
) -> Any:
    """Takes ``indices[i]`` along axis ``dims[i]`` for every ``i`` (axes kept).

    Args:
        array: numpy array or tensor.
        indices: One index (int or sequence) per axis, or one for a single axis.
        dims: The axes, or one axis.

    Returns:
        The selection, same type as ``array``; an int index keeps its axis
        with length 1.

    Raises:
        ValueError: If ``indices`` and ``dims`` differ in length.
    """
    if isinstance(dims, int):
        dims, indices = [dims], [indices]
    if len(indices) != len(dims):
        raise ValueError(
            f"one index per axis expected: {len(indices)} indices for {len(dims)} axes."
        )
    for index, dim in zip(indices, dims):
        index = np.atleast_1d(np.asarray(index))
        if isinstance(array, torch.Tensor):
            array = array.index_select(dim, torch.as_tensor(index, device=array.device))
        else:
            array = np.take(array, index, axis=dim)
    return array


def asymmetric_weighting(
    tensor: torch.Tensor | np.ndarray, gamma: float = 1.0, delta: float = 0.1
) -> torch.Tensor | np.ndarray:
    """Weights positive and negative parts differently.

    Args:
        tensor: Values, any shape (tensor or array).
        gamma: Weight of the positive part.
        delta: Weight of the negative part.

    Returns:
        ``gamma * relu(x) - delta * relu(-x)``, same type and shape.
    """
    if isinstance(tensor, torch.Tensor):
        return gamma * torch.relu(tensor) - delta * torch.relu(-tensor)
    tensor = np.asarray(tensor)
    return gamma * np.maximum(tensor, 0) - delta * np.maximum(-tensor, 0)
