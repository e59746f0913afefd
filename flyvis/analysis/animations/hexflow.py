"""Animation of flow fields on the hexagonal lattice.

Source: ``spec/visualization.md`` §5.2.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from flyvis.analysis.animations.animations import Animation, to_numpy
from flyvis.analysis.animations.hexscatter import as_hex_sequence, regular_coords
from flyvis.analysis.visualization.color_utils import cm_uniform_2d
from flyvis.analysis.visualization.flow_plots import _hex_flow_rgba
from flyvis.analysis.visualization.plots import hex_flow, set_hex_colors
from flyvis.utils.hex_utils import sort_u_then_v_index

__all__ = ["HexFlow"]


class HexFlow(Animation):
    """Animates a flow field: hue = direction, alpha = magnitude / frame maximum.

    Args:
        flow: Array or tensor ``(n_samples, n_frames, 2, n_hexals)``.
        fig: Existing figure.
        ax: Existing axis.
        batch_sample: Initial sample.
        cmap: Cyclic colormap (default ``cm_uniform_2d``).
        cwheel: Show a colour wheel legend.
        cwheelxy: Offsets of the colour wheel.
        label: Label template formatted with ``(sample, frame)``.
        labelxy: Label position (axes coordinates).
        update: Redraw after each frame.
        path: Output directory of exports.
        figsize: Size of a new figure in inches.
        fontsize: Font size.
        background_color: Axis (and new figure) background.
        u: ``u`` coordinates (default: regular lattice inferred).
        v: ``v`` coordinates.
        **kwargs: Passed to :func:`~flyvis.analysis.visualization.plots.hex_flow`.
    """

    def __init__(
        self,
        flow,
        fig: Figure | None = None,
        ax: Axes | None = None,
        batch_sample: int = 0,
        cmap=cm_uniform_2d,
        cwheel: bool = False,
        cwheelxy=(),
        label: str = "Sample: {}\nFrame: {}",
        labelxy=(0, 1),
        update: bool = False,
        path=None,
        figsize=(2, 2),
        fontsize: float = 5,
        background_color="none",
        u=None,
        v=None,
        **kwargs,
    ):
        flow = as_hex_sequence(flow, 2, "flow")
        self.flow = flow
        self.n_samples, self.frames, _, n_hexals = flow.shape
        if u is None or v is None:
            u, v = regular_coords(n_hexals)
        self.u, self.v = to_numpy(u).ravel(), to_numpy(v).ravel()
        self._order = sort_u_then_v_index(self.u, self.v)
        self.ax = ax
        self.cmap = cmap
        self.cwheel = cwheel
        self.cwheelxy = cwheelxy
        self.label = label
        self.labelxy = labelxy
        self.update = update
        self.figsize = figsize
        self.fontsize = fontsize
        self.background_color = background_color
        self.kwargs = kwargs
        self.batch_sample = batch_sample
        super().__init__(
            path=path, fig=fig if fig is not None else getattr(ax, "figure", None)
        )

    def _frame_flow(self, frame: int) -> np.ndarray:
        return self.flow[self.batch_sample, frame][:, self._order].astype(float)

    def init(self, frame: int = 0) -> None:
        """Draws ``frame`` of the current sample."""
        if frame < 0:
            frame += self.frames
        new_figure = self.fig is None
        self.fig, self.ax, (self.label_text, self.sm, self.cb, self.cs) = hex_flow(
            self.u[self._order],
            self.v[self._order],
            self._frame_flow(frame),
            fig=self.fig,
            ax=self.ax,
            figsize=self.figsize,
            cmap=self.cmap,
            cwheel=self.cwheel,
            cwheelxy=self.cwheelxy,
            label=self.label.format(self.batch_sample, frame),
            labelxy=self.labelxy,
            fontsize=self.fontsize,
            **self.kwargs,
        )
        self.ax.set_facecolor(self.background_color)
        if new_figure:
            self.fig.patch.set_facecolor(self.background_color)
        if self.update:
            self.update_figure()

    def animate(self, frame: int) -> None:
        """Recolours the hexagons to ``frame`` of the current sample."""
        if frame < 0:
            frame += self.frames
        flow = self._frame_flow(frame)
        theta = np.arctan2(flow[1], flow[0])
        r = np.hypot(flow[0], flow[1])
        rgba = _hex_flow_rgba(self.sm, theta, r)
        edges = rgba if self.kwargs.get("edgecolor") is None else None
        set_hex_colors(self.ax, rgba, edges)
        if self.label:
            self.label_text.set_text(self.label.format(self.batch_sample, frame))
        if self.update:
            self.update_figure()
