"""Receptive and projective fields of one representative cell, as edge tables.

:class:`ReceptiveFields` maps each presynaptic cell type to the edges onto one
cell of a target type; :class:`ProjectiveFields` maps each postsynaptic type to
the edges leaving one cell of a source type. The representative cell is the
one minimising ``|u| + |v|`` (the central cell for full lattices). DataFrame
indices are global edge indices, usable to slice edge-level arrays such as
currents.

Source: ``spec/connectome.md`` §7.1.
"""

from __future__ import annotations

from typing import Dict, List

import numpy as np
import pandas as pd

from flyvis.utils.hex_utils import get_extent

__all__ = ["ReceptiveFields", "ProjectiveFields", "edges_dataframe"]

_EDGE_COLUMNS = (
    "source_index",
    "target_index",
    "source_u",
    "source_v",
    "target_u",
    "target_v",
    "du",
    "dv",
    "n_syn",
    "sign",
)


def _decode(array) -> np.ndarray:
    array = np.asarray(array)
    return array.astype(str) if array.dtype.kind == "S" else array


def edges_dataframe(connectome, cell_types) -> pd.DataFrame:
    """Loads a connectome's edge table as a DataFrame with categorical type columns.

    Args:
        connectome: Connectome directory with an ``edges`` sub-directory.
        cell_types: The connectome's unique cell types (str), used as categories.

    Returns:
        DataFrame ``(n_edges, 12)`` with ``source_type``/``target_type``
        (categorical str) and the integer/float columns ``source_index``,
        ``target_index``, ``source_u``, ``source_v``, ``target_u``,
        ``target_v``, ``du``, ``dv``, ``n_syn``, ``sign``; index = edge index.
    """
    edges = connectome.edges
    cell_types = list(cell_types)
    lookup = {t: i for i, t in enumerate(cell_types)}
    columns = {}
    for which in ("source", "target"):
        key = f"{which}_type_index"
        if key in edges:
            codes = np.asarray(edges[key][:], dtype=np.int64)
        else:
            names = _decode(edges[f"{which}_type"][:])
            uniq, inverse = np.unique(names, return_inverse=True)
            codes = np.array([lookup[t] for t in uniq], dtype=np.int64)[inverse]
        columns[f"{which}_type"] = pd.Categorical.from_codes(codes, cell_types)
    for key in _EDGE_COLUMNS:
        columns[key] = np.asarray(edges[key][:])
    return pd.DataFrame(columns)


def _representative(df: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Edges of the cell (``prefix`` = "target"/"source") closest to the centre."""
    if df.empty:
        return df
    distance = df[f"{prefix}_u"].abs().to_numpy() + df[f"{prefix}_v"].abs().to_numpy()
    cell = df[f"{prefix}_index"].to_numpy()[np.argmin(distance)]
    return df[df[f"{prefix}_index"].to_numpy() == cell]


class _Fields(dict):
    """Dict of partner cell type -> edge DataFrame with attribute access."""

    _partner_column = ""

    def _fill(self, df: pd.DataFrame) -> None:
        partners = pd.unique(df[self._partner_column].astype(str))
        self._partners = [str(p) for p in partners]
        for partner in self._partners:
            self[partner] = df[df[self._partner_column].astype(str) == partner]
        self.extents = {
            partner: int(get_extent(part.du.to_numpy(), part.dv.to_numpy()))
            for partner, part in self.items()
        }
        self.max_extent = max(self.extents.values()) if self.extents else 0

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, key):
        try:
            return dict.__getitem__(self, key)
        except KeyError:
            from flyvis.utils.nodes_edges_utils import unknown_type_error

            raise unknown_type_error(
                key, list(self.keys()), what=f"partner type of {self._name()}"
            ) from None

    def _name(self) -> str:  # pragma: no cover - overridden
        return ""

    def sum(self) -> Dict[str, float]:
        """Total synapse count per partner type.

        Returns:
            Dict partner type -> ``Σ n_syn`` over the representative cell's edges.
        """
        return {p: float(df.n_syn.sum()) for p, df in self.items()}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._name()!r}, {len(self)} partner types, "
            f"max_extent={self.max_extent})"
        )


class ReceptiveFields(_Fields):
    """Presynaptic type -> edges onto one representative cell of ``target_type``.

    Args:
        target_type: Postsynaptic cell type.
        edges_df: Edge table (see :func:`edges_dataframe`); rows of other
            target types are ignored.

    Attributes:
        target_type: The target type.
        source_types: Presynaptic types, in order of first appearance.
        extents: Dict source type -> hex extent of its offsets.
        max_extent: Largest extent.

    Example:
        >>> rfs = ReceptiveFields("T4a", edges_df)
        >>> rfs["Mi1"][["du", "dv", "n_syn"]]
    """

    _partner_column = "source_type"

    def __init__(self, target_type: str, edges_df: pd.DataFrame):
        super().__init__()
        self.target_type = target_type
        df = edges_df[edges_df.target_type.astype(str).to_numpy() == target_type]
        self._fill(_representative(df, "target"))

    @property
    def source_types(self) -> List[str]:
        """Presynaptic types in order of first appearance."""
        return list(self._partners)

    def _name(self) -> str:
        return self.target_type


class ProjectiveFields(_Fields):
    """Postsynaptic type -> edges from one representative cell of ``source_type``.

    Args:
        source_type: Presynaptic cell type.
        edges_df: Edge table (see :func:`edges_dataframe`).

    Attributes:
        source_type: The source type.
        target_types: Postsynaptic types, in order of first appearance.
        extents: Dict target type -> hex extent of its offsets.
        max_extent: Largest extent.
    """

    _partner_column = "target_type"

    def __init__(self, source_type: str, edges_df: pd.DataFrame):
        super().__init__()
        self.source_type = source_type
        df = edges_df[edges_df.source_type.astype(str).to_numpy() == source_type]
        self._fill(_representative(df, "source"))

    @property
    def target_types(self) -> List[str]:
        """Postsynaptic types in order of first appearance."""
        return list(self._partners)

    def _name(self) -> str:
        return self.source_type
