"""Inspection and plots of a compiled connectome (``ConnectomeView``).

``ConnectomeView(connectome)`` wraps a ``ConnectomeFromAvgFilters`` directory
and plots the type-by-type connectivity matrix, receptive and projective
fields of a cell-type pair, the lattice positions of each type and the whole
network as a graph of cell types. ``flyvis.connectome.ConnectomeView`` is a
lazy alias of this class (the core package never imports matplotlib).

Edge "weight" in plots = ``sign * n_syn``.

Source: ``spec/connectome.md`` §7, ``spec/visualization.md`` §3.1, §4.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.connectome_field_plots import FieldPlotsMixin
from flyvis.analysis.visualization.connectome_fields import (
    ProjectiveFields,
    ReceptiveFields,
    edges_dataframe,
)
from flyvis.analysis.visualization.distribution_plots import heatmap
from flyvis.analysis.visualization.hex_plots import hex_scatter
from flyvis.analysis.visualization.network_fig import WholeNetworkFigure
from flyvis.utils.nodes_edges_utils import (
    NodeIndexer,
    order_node_type_list,
    unknown_type_error,
)

__all__ = [
    "ConnectomeView",
    "ReceptiveFields",
    "ProjectiveFields",
    "get_avgfilt_connectome",
    "DEFAULT_GROUPS",
]

#: Regular expressions grouping the cell types for sorting.
DEFAULT_GROUPS = (
    r"R\d",
    r"L\d",
    r"Lawf\d",
    r"A",
    r"C\d",
    r"CT\d.*",
    r"Mi\d{1,2}",
    r"T\d{1,2}.*",
    r"Tm.*\d{1,2}.*",
)


def _decode_all(array) -> List[str]:
    return [t.decode() if isinstance(t, bytes) else str(t) for t in np.asarray(array)]


class ConnectomeView(FieldPlotsMixin):
    """Inspection and plotting methods for a compiled connectome.

    Args:
        connectome: A ``ConnectomeFromAvgFilters`` directory (or any directory
            with the same ``nodes``/``edges`` tables, ``unique_cell_types``,
            ``layout`` and ``central_cells_index``).
        groups: Regular expressions ordering the cell types
            (``order_node_type_list``).

    Attributes:
        dir: The connectome.
        edges: Its edge sub-directory.
        nodes: Its node sub-directory.
        cell_types_unsorted: Cell types in connectome order.
        cell_types_sorted: Cell types ordered by ``groups``.
        cell_types_sort_index: ``cell_types_sorted = cell_types_unsorted[index]``.
        layout: Dict cell type -> layout label (``retina``/``intermediate``/``output``).
        node_indexer: ``NodeIndexer`` of the connectome.

    Example:
        >>> view = ConnectomeView(ConnectomeFromAvgFilters())
        >>> fig = view.receptive_field("Mi9", "T4a")
    """

    def __init__(self, connectome, groups: Sequence[str] = DEFAULT_GROUPS):
        self.dir = connectome
        self.edges = connectome.edges
        self.nodes = connectome.nodes
        self.groups = list(groups)
        self.cell_types_unsorted = _decode_all(connectome.unique_cell_types[:])
        ordered, index = order_node_type_list(self.cell_types_unsorted, self.groups)
        self.cell_types_sorted = [str(t) for t in ordered]
        self.cell_types_sort_index = index
        self.layout = {
            t: label
            for t, label in zip(*map(_decode_all, np.asarray(connectome.layout[:]).T))
        }
        self.node_indexer = NodeIndexer(connectome)
        self._edges_df: pd.DataFrame | None = None

    def __repr__(self) -> str:
        path = getattr(self.dir, "path", None)
        return f"ConnectomeView({path or type(self.dir).__name__})"

    # -- tables --------------------------------------------------------------------

    @property
    def edges_df(self) -> pd.DataFrame:
        """The edge table with categorical type columns (loaded once, cached)."""
        if self._edges_df is None:
            self._edges_df = edges_dataframe(self.dir, self.cell_types_unsorted)
        return self._edges_df

    def _check(self, cell_type) -> str:
        name = cell_type.decode() if isinstance(cell_type, bytes) else str(cell_type)
        if name not in self.node_indexer:
            raise unknown_type_error(name, self.cell_types_sorted)
        return name

    def get_uv(self, cell_type: str) -> Tuple[np.ndarray, np.ndarray]:
        """Lattice coordinates of all cells of a type.

        Args:
            cell_type: Cell type name.

        Returns:
            ``(u, v)`` int arrays ``(n_cells,)`` in node order.

        Raises:
            ValueError: For an unknown type (close matches suggested).
        """
        cell_type = self._check(cell_type)
        index = np.asarray(self.nodes.layer_index[cell_type][:], dtype=np.int64)
        return (
            np.asarray(self.nodes.u[:])[index].astype(int),
            np.asarray(self.nodes.v[:])[index].astype(int),
        )

    def sources_list(self, cell_type: str) -> List[str]:
        """Presynaptic types of ``cell_type``, sorted.

        Args:
            cell_type: Postsynaptic type.

        Returns:
            Sorted unique source type names.
        """
        cell_type = self._check(cell_type)
        df = self.edges_df
        mask = df.target_type.astype(str).to_numpy() == cell_type
        return sorted(pd.unique(df.source_type[mask].astype(str)))

    def targets_list(self, cell_type: str) -> List[str]:
        """Postsynaptic types of ``cell_type``, sorted.

        Args:
            cell_type: Presynaptic type.

        Returns:
            Sorted unique target type names.
        """
        cell_type = self._check(cell_type)
        df = self.edges_df
        mask = df.source_type.astype(str).to_numpy() == cell_type
        return sorted(pd.unique(df.target_type[mask].astype(str)))

    def receptive_fields_df(self, target_type: str) -> ReceptiveFields:
        """Edges onto one representative cell of ``target_type`` per source type.

        Args:
            target_type: Postsynaptic type.

        Returns:
            :class:`ReceptiveFields`.
        """
        return ReceptiveFields(self._check(target_type), self.edges_df)

    def projective_fields_df(self, source_type: str) -> ProjectiveFields:
        """Edges from one representative cell of ``source_type`` per target type.

        Args:
            source_type: Presynaptic type.

        Returns:
            :class:`ProjectiveFields`.
        """
        return ProjectiveFields(self._check(source_type), self.edges_df)

    def receptive_fields_sum(self, target_type: str) -> Dict[str, float]:
        """Total synapse count onto one ``target_type`` cell per source type.

        Args:
            target_type: Postsynaptic type.

        Returns:
            Dict source type -> ``Σ n_syn`` (e.g. ``T4a``: Mi1 68.0, Mi9 28.16).
        """
        return self.receptive_fields_df(target_type).sum()

    def projective_fields_sum(self, source_type: str) -> Dict[str, float]:
        """Total synapse count from one ``source_type`` cell per target type.

        flyvis 1.2.0 returns None here (a known defect); this returns the sums.

        Args:
            source_type: Presynaptic type.

        Returns:
            Dict target type -> ``Σ n_syn``.
        """
        return self.projective_fields_df(source_type).sum()

    # -- connectivity matrix -------------------------------------------------------

    def _central_matrix(self, mode: str, only_sign, cell_types) -> np.ndarray:
        df = self.edges_df
        central = (df.target_u.to_numpy() == 0) & (df.target_v.to_numpy() == 0)
        sign = df.sign.to_numpy()[central]
        if mode == "n_syn":
            values = sign * df.n_syn.to_numpy()[central]
        elif mode == "count":
            values = sign.copy()
        else:
            raise ValueError(f"mode must be 'n_syn' or 'count', got {mode!r}")
        if only_sign == "+":
            values = np.where(sign > 0, values, 0)
        elif only_sign == "-":
            values = np.where(sign < 0, values, 0)
        elif only_sign is not None:
            raise ValueError(f"only_sign must be None, '+' or '-', got {only_sign!r}")
        n = len(self.cell_types_unsorted)
        matrix = np.zeros((n, n))
        np.add.at(
            matrix,
            (
                df.source_type.cat.codes.to_numpy()[central],
                df.target_type.cat.codes.to_numpy()[central],
            ),
            values,
        )
        order = self.node_indexer[list(cell_types)]
        return matrix[np.ix_(order, order)]

    def connectivity_matrix(
        self,
        mode: str = "n_syn",
        only_sign: str | None = None,
        cell_types: Sequence[str] | None = None,
        no_symlog: bool = False,
        min_number: float | None = None,
        cmap=None,
        size_scale=None,
        title: str | None = None,
        cbar_label: str | None = None,
        **kwargs,
    ) -> Figure:
        """Type-by-type connectivity onto the central cells (rows source, columns target).

        Args:
            mode: ``"n_syn"`` (sum of ``sign * n_syn``, symlog colours) or
                ``"count"`` (signed number of input cells, midpoint 0).
            only_sign: ``"+"`` or ``"-"`` keeps only that sign.
            cell_types: Types to show, in order (default ``cell_types_sorted``).
            no_symlog: Linear colour scale in ``"n_syn"`` mode.
            min_number: Mask entries with ``|value| <= min_number``.
            cmap: Colormap (default ``seismic``).
            size_scale: Marker area scale (default: ``"auto"``).
            title: Title (default by mode).
            cbar_label: Colourbar label (default by mode).
            **kwargs: Passed to :func:`~flyvis.analysis.visualization.plots.heatmap`.

        Returns:
            The figure.

        Raises:
            ValueError: For an unknown mode, sign or cell type.
        """
        if cell_types is None:  # (an array has no truth value)
            cell_types = self.cell_types_sorted
        cell_types = [self._check(t) for t in cell_types]
        matrix = self._central_matrix(mode, only_sign, cell_types)
        if min_number is not None:
            matrix = np.where(np.abs(matrix) <= min_number, np.nan, matrix)
        if mode == "n_syn":
            title = title or "Connectivity between identified cell types"
            cbar_label = cbar_label or r"$\pm\sum_{pre} N_\mathrm{syn.}^{pre, post}$"
            norm_kwargs = {"symlog": None if no_symlog else 1e-5, "midpoint": 0}
            if not no_symlog:
                norm_kwargs.pop("midpoint")
        else:
            title = title or "Number of Input Neurons"
            cbar_label = cbar_label or "number of input neurons"
            norm_kwargs = {"midpoint": 0}
        kwargs.setdefault("figsize", (10, 10))
        fig, ax, _, _ = heatmap(
            matrix,
            cell_types,
            size_scale=size_scale or "auto",
            cmap=cmap or plt.cm.seismic,
            title=title,
            cbar_label=cbar_label,
            **norm_kwargs,
            **kwargs,
        )
        ax.set_xlabel("postsynaptic")
        ax.set_ylabel("presynaptic")
        return fig

    # -- lattice layouts -----------------------------------------------------------

    def hex_layout(
        self,
        cell_type: str,
        max_extent: int | None = 5,
        edgecolor="none",
        edgewidth: float = 0.5,
        alpha: float = 1,
        fill: bool = False,
        cmap=None,
        fig: Figure | None = None,
        ax=None,
        **kwargs,
    ):
        """Hexagons at the lattice positions occupied by ``cell_type``.

        Args:
            cell_type: Cell type name.
            max_extent: Crop to this extent (None: all cells).
            edgecolor: Hexagon edge colour.
            edgewidth: Edge width.
            alpha: Transparency.
            fill: Show unoccupied positions of the regular hexagon in white.
            cmap: Colormap; occupied hexals get its top colour (default dark grey).
            fig: Existing figure.
            ax: Existing axis.
            **kwargs: Passed to :func:`~flyvis.analysis.visualization.plots.hex_scatter`.

        Returns:
            ``(fig, ax)``.
        """
        u, v = self.get_uv(cell_type)
        values = np.ones(len(u))
        if fill:
            extent = (
                max_extent
                if max_extent is not None
                else int(np.max((np.abs(u) + np.abs(v) + np.abs(u + v)) // 2))
            )
            from flyvis.utils.hex_utils import get_hex_coords

            uu, vv = get_hex_coords(extent)
            occupied = {(a, b) for a, b in zip(u, v)}
            values = np.array([float((a, b) in occupied) for a, b in zip(uu, vv)])
            u, v = uu, vv
        cmap = cmap or ListedColormap(["white", "#4d4d4d"])
        kwargs.setdefault("cbar", False)
        fig, ax, _ = hex_scatter(
            u,
            v,
            values,
            max_extent=max_extent,
            edgecolor=edgecolor,
            edgewidth=edgewidth,
            alpha=alpha,
            cmap=cmap,
            vmin=0,
            vmax=1,
            fig=fig,
            ax=ax,
            **kwargs,
        )
        return fig, ax

    def hex_layout_all(
        self,
        cell_types: Sequence[str] | None = None,
        max_extent: int | None = 5,
        edgecolor="none",
        edgewidth: float = 0.5,
        alpha: float = 1,
        fill: bool = False,
        cmap=None,
        fig: Figure | None = None,
        axes=None,
        fontsize: float = 5,
        **kwargs,
    ):
        """:meth:`hex_layout` of several types on a grid of axes.

        Args:
            cell_types: Types (default ``cell_types_sorted``).
            max_extent: Crop extent.
            edgecolor: Hexagon edge colour.
            edgewidth: Edge width.
            alpha: Transparency.
            fill: Show unoccupied positions.
            cmap: Colormap.
            fig: Existing figure (with ``axes``).
            axes: Existing axes, one per type.
            fontsize: Title size.
            **kwargs: Passed to :meth:`hex_layout`.

        Returns:
            ``(fig, axes)``.
        """
        if cell_types is None:  # (an array has no truth value)
            cell_types = self.cell_types_sorted
        cell_types = [self._check(t) for t in cell_types]
        if axes is None:
            fig, axes, _ = plt_utils.get_axis_grid(
                cell_types, scale=1, fontsize=fontsize, alpha=0
            )
        for cell_type, ax in zip(cell_types, axes):
            self.hex_layout(
                cell_type,
                max_extent=max_extent,
                edgecolor=edgecolor,
                edgewidth=edgewidth,
                alpha=alpha,
                fill=fill,
                cmap=cmap,
                fig=fig,
                ax=ax,
                title=cell_type,
                fontsize=fontsize,
                **kwargs,
            )
        return fig, axes

    def network_layout(self, max_extent: int = 5, **kwargs) -> Figure:
        """Whole-network figure with each type's lattice positions in its node.

        Args:
            max_extent: Crop extent of the hex panels.
            **kwargs: Passed to
                :meth:`~flyvis.analysis.visualization.network_fig.WholeNetworkFigure.init_figure`.

        Returns:
            The figure.
        """
        figure = WholeNetworkFigure(self.dir)
        fig = figure.init_figure(**kwargs)
        for cell_type, ax in figure.ax_dict.items():
            self.hex_layout(cell_type, max_extent=max_extent, fig=fig, ax=ax, fill=True)
        self.network_figure = figure
        return fig

    network_fig = network_layout


def get_avgfilt_connectome(config) -> ConnectomeView:
    """``ConnectomeView`` of ``ConnectomeFromAvgFilters(**config)``.

    The default ``connectome_getter`` of ``NetworkView``.

    Args:
        config: Mapping with ``file``, ``extent``, ``n_syn_fill`` (a ``type``
            key is ignored).

    Returns:
        The view.
    """
    from flyvis.connectome import ConnectomeFromAvgFilters

    config = {k: v for k, v in dict(config).items() if k != "type"}
    return ConnectomeView(ConnectomeFromAvgFilters(**config))
