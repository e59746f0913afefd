"""Whole-network figure: one small axis per cell type, connected as a graph.

:class:`WholeNetworkFigure` lays out the cell types of a connectome in
columns by region (retina, intermediate, output; optionally a video, a
rendering, a motion decoder and decoded motion), creates one axis per node
(:func:`network_layout_axes`) and draws the cell-type graph between them
(grey curved arrows, self-loops as small arcs), boxes around the retina and
the decoder, and cell-type and region labels. Content (hex images, traces) is
drawn into ``ax_dict[name]`` by the caller, e.g.
:meth:`~flyvis.analysis.visualization.connectome_view.ConnectomeView.network_layout`.

Source: ``spec/visualization.md`` §4.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

__all__ = [
    "WholeNetworkFigure",
    "network_layout_axes",
    "REGION_ORDER",
]

#: Left-to-right order of the regions (layout labels).
REGION_ORDER = (
    "cartesian",
    "hexagonal",
    "retina",
    "intermediate",
    "output",
    "decoder",
    "motion",
)

_REGION_TITLES = {
    "cartesian": "video",
    "hexagonal": "rendering",
    "retina": "retina",
    "intermediate": "lamina, medulla\nintrinsic cells",
    "output": "T-shaped, transmedullary\ncells (outputs)",
    "decoder": "decoder",
    "motion": "motion",
}


def _decode(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def _network_graph_node_pos(
    layout: Dict[str, str], region_spacing: float = 2, types_per_column: int = 8
) -> Dict[str, Tuple[float, float]]:
    """Grid positions of the nodes: regions left to right, columns top down.

    Args:
        layout: Node name -> region label (see :data:`REGION_ORDER`).
        region_spacing: Empty columns between regions.
        types_per_column: Nodes per column inside a region.

    Returns:
        Node name -> ``(x, y)`` in grid units (x grows right, y grows up; the
        first node of a column is on top).
    """
    regions = [r for r in REGION_ORDER if r in layout.values()]
    regions += sorted({r for r in layout.values()} - set(regions))
    pos = {}
    x0 = 0.0
    for region in regions:
        names = [n for n, r in layout.items() if r == region]
        n_columns = int(np.ceil(len(names) / types_per_column))
        n_rows = min(len(names), types_per_column)
        for i, name in enumerate(names):
            column, row = divmod(i, types_per_column)
            # centre short columns vertically
            pos[name] = (x0 + column, (types_per_column - n_rows) / 2 + n_rows - 1 - row)
        x0 += n_columns + region_spacing
    return pos


def network_layout_axes(
    layout: Dict[str, str],
    cell_types: Sequence[str] | None = None,
    fig: Figure | None = None,
    figsize=(16, 10),
    types_per_column: int = 8,
    region_spacing: float = 2,
    wspace: float = 0,
    hspace: float = 0,
    as_dict: bool = False,
    pos: Dict[str, Tuple[float, float]] | None = None,
):
    """Creates one square axis per node at its graph position.

    Args:
        layout: Node name -> region label.
        cell_types: Restrict to these nodes (default: all of ``layout``).
        fig: Existing figure (default: a new one of ``figsize``).
        figsize: Size of a new figure in inches.
        types_per_column: Nodes per column inside a region.
        region_spacing: Empty grid columns between regions.
        wspace: Horizontal gap between axes, as a fraction of a grid cell.
        hspace: Vertical gap between axes, as a fraction of a grid cell.
        as_dict: Return a dict name -> axis instead of a list.
        pos: Precomputed grid positions (default
            ``_network_graph_node_pos(layout, ...)``).

    Returns:
        ``(fig, axes, pos)``: ``axes`` a list (node order of ``layout``) or a
        dict; ``pos`` maps names to the axis centres in figure coordinates.

    Raises:
        ValueError: If ``cell_types`` names nodes missing from ``layout``.
    """
    if cell_types is not None:
        missing = [t for t in cell_types if t not in layout]
        if missing:
            raise ValueError(f"nodes not in the layout: {missing}")
        layout = {t: layout[t] for t in cell_types}
    grid = pos or _network_graph_node_pos(layout, region_spacing, types_per_column)
    fig = fig or plt.figure(figsize=figsize)
    xy = np.array([grid[name] for name in layout], dtype=float)
    n_x = xy[:, 0].max() - xy[:, 0].min() + 1
    n_y = xy[:, 1].max() - xy[:, 1].min() + 1
    margin, top = 0.03, 0.1  # room for region labels above
    cell_w = (1 - 2 * margin) / n_x
    cell_h = (1 - margin - top) / n_y
    # square axes: the smaller of cell width/height in inches
    fw, fh = fig.get_size_inches()
    side_in = min(cell_w * fw * (1 - wspace), cell_h * fh * (1 - hspace))
    width, height = side_in / fw, side_in / fh
    axes, centres = {}, {}
    for name, (x, y) in zip(layout, xy):
        cx = margin + (x - xy[:, 0].min() + 0.5) * cell_w
        cy = margin + (y - xy[:, 1].min() + 0.5) * cell_h
        ax = fig.add_axes((cx - width / 2, cy - height / 2, width, height), label=name)
        ax.set_axis_off()
        ax.patch.set_alpha(0)
        axes[name] = ax
        centres[name] = (cx, cy)
    return fig, (axes if as_dict else list(axes.values())), centres


class WholeNetworkFigure:
    """Figure of the whole network as a graph of cell types.

    Args:
        connectome: Connectome directory (``layout``, ``edges.source_type``,
            ``edges.target_type``) or a ``ConnectomeView``.
        video: Add a cartesian video node on the left.
        rendering: Add a hexagonal rendering node.
        motion_decoder: Add a decoder node after the outputs.
        decoded_motion: Add a decoded-motion node.
        pixel_accurate_motion: Add a pixel-accurate (target) motion node.

    Attributes:
        layout: Node name -> region label, in drawing order.
        cell_types: The connectome's cell types (layout order).
        edges: Unique ``(source type, target type)`` pairs.
        fig: The figure (after :meth:`init_figure`).
        ax_dict: Node name -> axis (after :meth:`init_figure`).

    Example:
        >>> wnf = WholeNetworkFigure(connectome, video=True, motion_decoder=True)
        >>> fig = wnf.init_figure(figsize=[15, 6])
        >>> wnf.ax_dict["T4a"].plot(...)
    """

    def __init__(
        self,
        connectome,
        video: bool = False,
        rendering: bool = False,
        motion_decoder: bool = False,
        decoded_motion: bool = False,
        pixel_accurate_motion: bool = False,
    ):
        if hasattr(type(connectome), "receptive_fields_df"):  # a ConnectomeView
            connectome = connectome.dir
        self.connectome = connectome
        rows = np.asarray(connectome.layout[:])
        self.cell_types = [_decode(t) for t in rows[:, 0]]
        layout: Dict[str, str] = {}
        if video:
            layout["video"] = "cartesian"
        if rendering:
            layout["rendering"] = "hexagonal"
        layout.update({_decode(t): _decode(r) for t, r in rows})
        if motion_decoder:
            layout["motion decoder"] = "decoder"
        if decoded_motion:
            layout["decoded motion"] = "motion"
        if pixel_accurate_motion:
            layout["pixel-accurate motion"] = "motion"
        self.layout = layout
        self.video = video
        self.rendering = rendering
        self.motion_decoder = motion_decoder
        self.decoded_motion = decoded_motion
        self.pixel_accurate_motion = pixel_accurate_motion
        self.edges = self._type_edges(connectome)
        self.fig: Figure | None = None
        self.ax_dict: Dict[str, Axes] = {}

    @staticmethod
    def _type_edges(connectome) -> List[Tuple[str, str]]:
        edges = connectome.edges
        if "source_type_index" in edges and "target_type_index" in edges:
            names = [_decode(t) for t in np.asarray(connectome.unique_cell_types[:])]
            src = np.asarray(edges.source_type_index[:], dtype=np.int64)
            tar = np.asarray(edges.target_type_index[:], dtype=np.int64)
            pairs = np.unique(src * len(names) + tar)
            return [(names[p // len(names)], names[p % len(names)]) for p in pairs]
        src = np.asarray(edges.source_type[:])
        tar = np.asarray(edges.target_type[:])
        pairs = np.unique(np.stack([src, tar], axis=1), axis=0)
        return [(_decode(s), _decode(t)) for s, t in pairs]

    def init_figure(
        self,
        figsize=(15, 6),
        fontsize: float = 6,
        decoder_box: bool = True,
        cell_type_labels: bool = True,
        neuropil_labels: bool = True,
        network_layout_axes_kwargs: dict | None = None,
        add_graph_kwargs: dict | None = None,
        fig: Figure | None = None,
    ) -> Figure:
        """Creates the node axes and draws graph, boxes and labels.

        Args:
            figsize: Figure size in inches.
            fontsize: Label font size.
            decoder_box: Box the output types and connect them to the decoder.
            cell_type_labels: Write each cell type's name above its axis.
            neuropil_labels: Write the region names above the columns.
            network_layout_axes_kwargs: Passed to :func:`network_layout_axes`.
            add_graph_kwargs: Passed to :meth:`add_graph` (``edge_color``,
                ``width``, ``rad``, ``alpha``).
            fig: Existing figure.

        Returns:
            The figure; ``self.ax_dict`` maps node names to axes.
        """
        kwargs = dict(network_layout_axes_kwargs or {})
        kwargs.setdefault("figsize", figsize)
        fig, ax_dict, centres = network_layout_axes(
            self.layout, fig=fig, as_dict=True, **kwargs
        )
        self.fig, self.ax_dict, self.centres = fig, ax_dict, centres
        self.graph_ax = fig.add_axes((0, 0, 1, 1), label="graph", zorder=-1)
        self.graph_ax.set_axis_off()
        self.graph_ax.set_xlim(0, 1)
        self.graph_ax.set_ylim(0, 1)
        self.add_graph(**(add_graph_kwargs or {}))
        self._add_boxes(decoder_box)
        if cell_type_labels:
            for name, ax in ax_dict.items():
                ax.set_title(name, fontsize=fontsize, pad=1)
        if neuropil_labels:
            self._add_region_labels(fontsize)
        return fig

    def _node_size(self) -> Tuple[float, float]:
        bbox = next(iter(self.ax_dict.values())).get_position()
        return bbox.width, bbox.height

    def add_graph(
        self,
        edge_color="#c5c5c5",
        width: float = 0.25,
        rad: float = -0.2,
        alpha: float = 1,
    ) -> List:
        """Draws the cell-type graph (curved edges, self-loops as arcs).

        Args:
            edge_color: Colour of all edges.
            width: Line width in points.
            rad: Curvature of the arcs (``arc3`` connection style).
            alpha: Edge transparency.

        Returns:
            The drawn artists: a ``LineCollection`` of all type-to-type edges
            (quadratic Bezier curves, as matplotlib's ``arc3``), then the
            black arrows of the input and decoder chains.
        """
        w, h = self._node_size()
        t = np.linspace(0, 1, 17)[:, None]
        loop = np.linspace(0, np.pi, 17)
        curves = []
        for source, target in self.edges:
            if source not in self.centres or target not in self.centres:
                continue
            p0 = np.asarray(self.centres[source])
            if source == target:  # self-loop: half ellipse above the node
                curves.append(
                    p0 + np.stack([w / 4 * np.cos(loop), h / 2 + h / 4 * np.sin(loop)], 1)
                )
                continue
            p2 = np.asarray(self.centres[target])
            dx, dy = p2 - p0
            # quadratic Bezier with matplotlib's "arc3" control point
            p1 = (p0 + p2) / 2 + rad * np.array([dy, -dx])
            curves.append((1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2)
        collection = LineCollection(
            curves, colors=edge_color, linewidths=width, alpha=alpha, zorder=0
        )
        self.graph_ax.add_collection(collection)
        patches = [collection]
        # input and decoder chains
        chain = [n for n in ("video", "rendering") if n in self.centres]
        retina = [n for n, r in self.layout.items() if r == "retina"]
        outputs = [n for n, r in self.layout.items() if r == "output"]
        if retina:
            chain.append(retina[len(retina) // 2])
        if "motion decoder" in self.centres:
            for start, end in ((outputs[len(outputs) // 2], "motion decoder"),) + tuple(
                ("motion decoder", n)
                for n in ("decoded motion", "pixel-accurate motion")
                if n in self.centres
            ):
                patches.append(self._arrow(start, end))
        for start, end in zip(chain[:-1], chain[1:]):
            patches.append(self._arrow(start, end))
        return patches

    def _arrow(self, start: str, end: str) -> FancyArrowPatch:
        w, _ = self._node_size()
        (x0, y0), (x1, y1) = self.centres[start], self.centres[end]
        arrow = FancyArrowPatch(
            (x0 + w / 2, y0),
            (x1 - w / 2, y1),
            arrowstyle="-|>",
            mutation_scale=6,
            color="k",
            lw=0.5,
        )
        self.graph_ax.add_patch(arrow)
        return arrow

    def _region_bbox(self, region: str):
        names = [n for n, r in self.layout.items() if r == region]
        if not names:
            return None
        w, h = self._node_size()
        xy = np.array([self.centres[n] for n in names])
        x0, y0 = xy.min(0) - (w * 0.7, h * 0.75)
        x1, y1 = xy.max(0) + (w * 0.7, h * 0.85)
        return x0, y0, x1, y1

    def _add_boxes(self, decoder_box: bool) -> None:
        regions = ["retina"] + (["output"] if decoder_box else [])
        for region in regions:
            box = self._region_bbox(region)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            self.graph_ax.add_patch(
                Rectangle(
                    (x0, y0),
                    x1 - x0,
                    y1 - y0,
                    fill=False,
                    edgecolor="#8c8c8c",
                    lw=0.5,
                    linestyle="--",
                )
            )

    def _add_region_labels(self, fontsize: float) -> None:
        for region in dict.fromkeys(self.layout.values()):
            box = self._region_bbox(region)
            x0, _, x1, y1 = box
            self.graph_ax.text(
                (x0 + x1) / 2,
                min(y1 + 0.01, 0.995),
                _REGION_TITLES.get(region, region),
                ha="center",
                va="bottom",
                fontsize=fontsize,
                fontweight="bold",
            )
