"""Animations of hexagonal images: single sequences and stimulus/response panels.

Source: ``spec/visualization.md`` §5.2.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from flyvis.analysis.animations.animations import (
    Animation,
    AnimationCollector,
    n_decimals_for,
    panel_figure,
    to_numpy,
)
from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.plots import hex_scatter, set_hex_colors
from flyvis.utils.hex_utils import (
    get_hex_coords,
    get_hextent,
    get_num_hexals,
    sort_u_then_v_index,
)

__all__ = ["HexScatter", "StimulusResponse", "as_hex_sequence", "regular_coords"]

_NAN_FACE = (1.0, 1.0, 1.0, 1.0)
_NAN_EDGE = (0.8, 0.8, 0.8, 1.0)


def regular_coords(n_hexals: int):
    """Coordinates of a regular lattice with ``n_hexals`` hexals.

    Args:
        n_hexals: Number of hexals (``3e(e+1)+1``).

    Returns:
        Tuple ``(u, v)`` in canonical order.

    Raises:
        ValueError: If ``n_hexals`` is not a regular count.
    """
    extent = int(get_hextent(n_hexals))
    if get_num_hexals(extent) != n_hexals:
        raise ValueError(
            f"{n_hexals} hexals are not a regular lattice; pass u and v explicitly."
        )
    return get_hex_coords(extent)


def as_hex_sequence(array, n_channels: int | None = 1, name: str = "array") -> np.ndarray:
    """Converts ``(n_samples, n_frames, [n_channels,] n_hexals)`` data to a 4-D array.

    Args:
        array: Array or tensor (any device).
        n_channels: Required channel count (None: any).
        name: Name used in error messages.

    Returns:
        Array ``(n_samples, n_frames, n_channels, n_hexals)``.

    Raises:
        ValueError: For other shapes.
    """
    array = to_numpy(array)
    if array.ndim == 3 and n_channels == 1:
        array = array[:, :, None]
    if array.ndim != 4 or (n_channels is not None and array.shape[2] != n_channels):
        expected = "n_channels" if n_channels is None else n_channels
        raise ValueError(
            f"{name} must have shape (n_samples, n_frames, {expected}, n_hexals), "
            f"got {array.shape}"
        )
    return array


class HexScatter(Animation):
    """Animates a sequence of hexagonal images (one hexagon patch per hexal).

    The figure is drawn once with
    :func:`~flyvis.analysis.visualization.plots.hex_scatter`; each frame
    recolours ``ax.patches[i]``. Colour limits per sample: ``+-cranges[sample]``
    if given, else ``vmin``/``vmax``, else the sample's range over all frames.
    The colourbar is rebuilt when the limits change (5 ticks for diverging
    norms).

    Args:
        hexarray: Array or tensor ``(n_samples, n_frames, 1, n_hexals)`` (or
            without the channel axis).
        u: ``u`` coordinates (default: regular lattice inferred).
        v: ``v`` coordinates.
        cranges: Symmetric colour range per sample ``(n_samples,)``.
        vmin: Lower colour limit.
        vmax: Upper colour limit.
        fig: Existing figure.
        ax: Existing axis.
        batch_sample: Initial sample.
        cmap: Colormap (default ``binary_r``).
        edgecolor: Fixed hexagon edge colour.
        update_edge_color: Recolour edges with the faces.
        update: Redraw after each frame.
        label: Label template formatted with ``(sample, frame)``.
        labelxy: Label position (axes coordinates).
        fontsize: Font size.
        cbar: Show a colourbar.
        background_color: Axis (and new figure) background.
        midpoint: Centre of a diverging norm (e.g. 0).
        **kwargs: Passed to ``hex_scatter`` (e.g. ``figsize``, ``cbar_x_offset``).

    Example:
        >>> HexScatter(rendered, vmin=0, vmax=1).animate_in_notebook()
    """

    def __init__(
        self,
        hexarray,
        u=None,
        v=None,
        cranges=None,
        vmin: float | None = None,
        vmax: float | None = None,
        fig: Figure | None = None,
        ax: Axes | None = None,
        batch_sample: int = 0,
        cmap=plt.cm.binary_r,
        edgecolor=None,
        update_edge_color: bool = True,
        update: bool = False,
        label: str = "Sample: {}\nFrame: {}",
        labelxy=(0.1, 0.95),
        fontsize: float = 5,
        cbar: bool = True,
        background_color="none",
        midpoint: float | None = None,
        **kwargs,
    ):
        if "fill" in kwargs or "max_extent" in kwargs:
            raise ValueError("HexScatter does not support fill/max_extent; pad the data")
        values = as_hex_sequence(hexarray, 1, "hexarray")[:, :, 0]
        self.values = values
        self.n_samples, self.frames, n_hexals = values.shape
        if u is None or v is None:
            u, v = regular_coords(n_hexals)
        self.u, self.v = to_numpy(u).ravel(), to_numpy(v).ravel()
        if len(self.u) != n_hexals:
            raise ValueError(f"{len(self.u)} coordinates for {n_hexals} hexals")
        self._order = sort_u_then_v_index(self.u, self.v)
        self.cranges = None if cranges is None else to_numpy(cranges).ravel()
        self.vmin, self.vmax, self.midpoint = vmin, vmax, midpoint
        self.ax = ax
        self.cmap = cmap
        self.edgecolor = edgecolor
        self.update_edge_color = update_edge_color
        self.update = update
        self.label = label
        self.labelxy = labelxy
        self.fontsize = fontsize
        self.cbar = cbar
        self.background_color = background_color
        self.kwargs = kwargs
        self.alpha = kwargs.get("alpha", 1)
        self.batch_sample = batch_sample
        self.colorbar = None
        self.sm = None
        self._limits_shown = None
        super().__init__(fig=fig if fig is not None else getattr(ax, "figure", None))

    def _limits(self, sample: int) -> tuple[float, float]:
        if self.cranges is not None:
            c = float(self.cranges[sample % len(self.cranges)])
            c = c if c > 0 else 1.0
            return -c, c
        vmin, vmax = self.vmin, self.vmax
        if vmin is None or vmax is None:
            data = self.values[sample]
            finite = data[np.isfinite(data)]
            lo, hi = (
                (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            )
            vmin = lo if vmin is None else vmin
            vmax = hi if vmax is None else vmax
        if vmax <= vmin:
            vmin, vmax = vmin - 0.5, vmax + 0.5
        return float(vmin), float(vmax)

    def _frame_values(self, frame: int) -> np.ndarray:
        return self.values[self.batch_sample, frame][self._order].astype(float)

    def _add_colorbar(self) -> None:
        if self.colorbar is not None:
            self.colorbar.ax.remove()
        norm = self.sm.norm
        self.colorbar = plt_utils.add_colorbar_to_fig(
            self.fig,
            [self.ax],
            width=self.kwargs.get("cbar_width") or 0.03,
            height=self.kwargs.get("cbar_height") or 0.5,
            x_offset=self.kwargs.get("cbar_x_offset", 0.05),
            cmap=self.sm.cmap,
            norm=norm,
            label=self.kwargs.get("cbar_label", ""),
            fontsize=self.fontsize,
            tick_length=1,
            tick_width=0.25,
            n_ticks=5,
            n_decimals=n_decimals_for(max(abs(norm.vmin), abs(norm.vmax))),
        )

    def _update_norm(self) -> None:
        limits = self._limits(self.batch_sample)
        if limits == self._limits_shown:
            return
        self.sm, _ = plt_utils.get_scalarmapper(
            cmap=self.cmap, vmin=limits[0], vmax=limits[1], midpoint=self.midpoint
        )
        self._limits_shown = limits
        if self.cbar:
            self._add_colorbar()

    def init(self, frame: int = 0) -> None:
        """Draws ``frame`` of the current sample."""
        if frame < 0:
            frame += self.frames
        vmin, vmax = self._limits(self.batch_sample)
        self.sm, _ = plt_utils.get_scalarmapper(
            cmap=self.cmap, vmin=vmin, vmax=vmax, midpoint=self.midpoint
        )
        kwargs = {
            k: w
            for k, w in self.kwargs.items()
            if k not in ("cbar_width", "cbar_height", "cbar_x_offset", "cbar_label")
        }
        new_figure = self.fig is None
        self.fig, self.ax, (self.label_text, _) = hex_scatter(
            self.u[self._order],
            self.v[self._order],
            self._frame_values(frame),
            fig=self.fig,
            ax=self.ax,
            scalarmapper=self.sm,
            cmap=self.cmap,
            edgecolor=self.edgecolor,
            cbar=False,
            label=self.label.format(self.batch_sample, frame),
            labelxy=self.labelxy,
            fontsize=self.fontsize,
            **kwargs,
        )
        self.ax.set_facecolor(self.background_color)
        if new_figure:
            self.fig.patch.set_facecolor(self.background_color)
        self._limits_shown = (vmin, vmax)
        self.colorbar = None
        if self.cbar:
            self._add_colorbar()
        if self.update:
            self.update_figure()

    def animate(self, frame: int) -> None:
        """Recolours the hexagons to ``frame`` of the current sample."""
        if frame < 0:
            frame += self.frames
        self._update_norm()
        values = self._frame_values(frame)
        nan = ~np.isfinite(values)
        faces = np.array(self.sm.to_rgba(np.where(nan, 0.0, values)), dtype=float)
        faces[:, 3] *= self.alpha
        faces[nan] = _NAN_FACE
        edges = None
        if self.update_edge_color and self.edgecolor is None:
            edges = faces.copy()
            edges[nan] = _NAN_EDGE
        set_hex_colors(self.ax, faces, edges)
        if self.label:
            self.label_text.set_text(self.label.format(self.batch_sample, frame))
        if self.update:
            self.update_figure()


class StimulusResponse(AnimationCollector):
    """Stimulus next to the responses of one cell type (one panel per response).

    Responses are drawn with ``seismic`` around 0 with a symmetric range per
    sample: the maximal absolute response of that sample over all responses;
    the colourbar is on the last panel. A stimulus with one sample is repeated
    to the number of response samples.

    Args:
        stimulus: ``(n_samples or 1, n_frames, 1, n_hexals)``.
        responses: Array ``(n_samples, n_frames, 1, n_cells)`` or a list of them.
        batch_sample: Initial sample.
        figsize_scale: Factor applied to the figure size.
        fontsize: Font size.
        u: ``u`` coordinates of the cells (default: regular lattice inferred).
        v: ``v`` coordinates of the cells.
        max_figure_height_cm: Maximal figure height.
        panel_height_cm: Panel height.
        max_figure_width_cm: Maximal figure width.
        panel_width_cm: Panel width.

    Example:
        >>> anim = StimulusResponse(movie[None], responses["T4c"][:, :, None])
        >>> anim.animate_in_notebook(frames=np.arange(anim.frames)[::2])
    """

    def __init__(
        self,
        stimulus,
        responses,
        batch_sample: int = 0,
        figsize_scale: float = 1,
        fontsize: float = 5,
        u=None,
        v=None,
        max_figure_height_cm: float = 22,
        panel_height_cm: float = 3,
        max_figure_width_cm: float = 18,
        panel_width_cm: float = 3.6,
    ):
        stimulus = as_hex_sequence(stimulus, 1, "stimulus")
        if not isinstance(responses, (list, tuple)):
            responses = [responses]
        responses = [as_hex_sequence(r, 1, "responses") for r in responses]
        n_samples = max([stimulus.shape[0]] + [r.shape[0] for r in responses])
        n_frames = stimulus.shape[1]
        for r in responses:
            if r.shape[1] != n_frames:
                raise ValueError(
                    f"stimulus has {n_frames} frames but a response has {r.shape[1]}"
                )

        def expand(x):
            if x.shape[0] == n_samples:
                return x
            if x.shape[0] == 1:
                return np.broadcast_to(x, (n_samples, *x.shape[1:]))
            raise ValueError(f"cannot match {x.shape[0]} samples to {n_samples}")

        stimulus = expand(stimulus)
        responses = [expand(r) for r in responses]
        cranges = np.zeros(n_samples)
        for r in responses:
            absmax = np.nanmax(np.abs(r.reshape(n_samples, -1).astype(float)), axis=1)
            cranges = np.fmax(cranges, absmax)
        self.stimulus, self.responses, self.cranges = stimulus, responses, cranges
        self.frames, self.n_samples = n_frames, n_samples
        self.fig, self.axes = panel_figure(
            1 + len(responses),
            max_figure_height_cm,
            panel_height_cm,
            max_figure_width_cm,
            panel_width_cm,
            figsize_scale,
            fontsize,
        )
        self.animations = [
            HexScatter(
                stimulus,
                fig=self.fig,
                ax=self.axes[0],
                cmap=plt.cm.binary_r,
                cbar=False,
                fontsize=fontsize,
                labelxy=(0, 1),
                edgecolor=None,
            ),
        ]
        for i, r in enumerate(responses):
            self.animations.append(
                HexScatter(
                    r,
                    u=u,
                    v=v,
                    fig=self.fig,
                    ax=self.axes[i + 1],
                    cmap=plt.cm.seismic,
                    midpoint=0,
                    cranges=cranges,
                    cbar=i == len(responses) - 1,
                    label="",
                    fontsize=fontsize,
                )
            )
        super().__init__(fig=self.fig)
        self.batch_sample = batch_sample
