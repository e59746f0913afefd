"""Animations of traces drawn up to the current frame.

Source: ``spec/visualization.md`` §5.2.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from flyvis.analysis.animations.animations import Animation, to_numpy
from flyvis.analysis.visualization import plt_utils

__all__ = ["Trace", "MultiTrace"]


class _TraceBase(Animation):
    """Shared logic: ``self.trace`` is ``(n_samples, n_frames, n_traces)``."""

    def _setup(
        self,
        trace,
        dt,
        fig,
        ax,
        update,
        colors,
        title,
        batch_sample,
        dynamic_ax_lims,
        ylims,
        ylabel,
        contour,
        label,
        labelxy,
        fontsize,
        figsize,
        legend=None,
        path=None,
    ):
        self.trace = trace
        self.n_samples, self.frames, self.n_traces = trace.shape
        self.dt = dt
        self.times = np.arange(self.frames) * dt
        self.ax = ax
        self.update = update
        self.colors = colors
        self.title = title
        self.dynamic_ax_lims = dynamic_ax_lims
        self.ylims = ylims
        self.ylabel = ylabel
        self.contour = None if contour is None else to_numpy(contour).astype(float)
        self.label = label
        self.labelxy = labelxy
        self.fontsize = fontsize
        self.figsize = figsize
        self.legend = legend
        self.batch_sample = batch_sample
        super().__init__(
            path=path, fig=fig if fig is not None else getattr(ax, "figure", None)
        )

    def _ylims(self):
        if self.ylims is not None:
            ylims = np.asarray(self.ylims, dtype=float)
            return tuple(ylims[self.batch_sample]) if ylims.ndim == 2 else tuple(ylims)
        data = self.trace[self.batch_sample] if self.dynamic_ax_lims else self.trace
        return plt_utils.get_lims(data, 0.1)

    def _contour(self):
        if self.contour is None:
            return None
        return self.contour[self.batch_sample] if self.contour.ndim == 2 else self.contour

    def init(self, frame: int = 0) -> None:
        """Draws the traces up to ``frame``."""
        self.fig, self.ax = plt_utils.init_plot(
            self.figsize, self.title, self.fontsize, ax=self.ax, fig=self.fig
        )
        colors = self.colors
        if colors is None or isinstance(colors, str):
            colors = [colors] * self.n_traces
        legend = list(self.legend) if self.legend is not None else [None] * self.n_traces
        self.lines = [
            self.ax.plot(
                self.times[: frame + 1],
                self.trace[self.batch_sample, : frame + 1, i],
                color=colors[i % len(colors)],
                label=legend[i],
            )[0]
            for i in range(self.n_traces)
        ]
        self.ax.set_xlim(self.times[0], max(self.times[-1], self.times[0] + self.dt))
        self.ax.set_ylim(*self._ylims())
        contour = self._contour()
        self.contour_mesh = None
        if contour is not None:
            y0, y1 = self.ax.get_ylim()
            edges = np.append(self.times, self.times[-1] + self.dt) - self.dt / 2
            self.contour_mesh = self.ax.pcolormesh(
                edges,
                [y0, y1],
                contour[None, : self.frames],
                cmap="binary_r",
                alpha=0.3,
                zorder=0,
                shading="flat",
            )
        self.ax.set_xlabel("time", fontsize=self.fontsize)
        self.ax.set_ylabel(self.ylabel, fontsize=self.fontsize)
        if self.legend is not None:
            self.ax.legend(fontsize=self.fontsize, frameon=False)
        self.label_text = self.ax.text(
            *self.labelxy,
            self.label.format(self.batch_sample, frame),
            transform=self.ax.transAxes,
            fontsize=self.fontsize,
            va="top",
            ha="left",
        )
        if self.update:
            self.update_figure()

    def animate(self, frame: int) -> None:
        """Extends the traces to ``frame``."""
        if frame < 0:
            frame += self.frames
        for i, line in enumerate(self.lines):
            line.set_data(
                self.times[: frame + 1], self.trace[self.batch_sample, : frame + 1, i]
            )
        if self.dynamic_ax_lims:
            self.ax.set_ylim(*self._ylims())
        if self.label:
            self.label_text.set_text(self.label.format(self.batch_sample, frame))
        if self.update:
            self.update_figure()


class Trace(_TraceBase):
    """Animates one trace per sample, drawn up to the current frame.

    Args:
        trace: Array or tensor ``(n_samples, n_frames)``.
        dt: Time step (x axis = frame * dt).
        fig: Existing figure.
        ax: Existing axis.
        update: Redraw after each frame.
        color: Line colour.
        title: Title.
        batch_sample: Initial sample.
        dynamic_ax_lims: y limits from the shown sample (else all samples).
        ylims: Fixed y limits ``(lo, hi)`` or one pair per sample.
        ylabel: y label.
        contour: Stimulus ``(n_frames,)`` or ``(n_samples, n_frames)`` drawn behind.
        label: Label template formatted with ``(sample, frame)``.
        labelxy: Label position (axes coordinates).
        fontsize: Font size.
        figsize: Size of a new figure.
    """

    def __init__(
        self,
        trace,
        dt: float = 1,
        fig: Figure | None = None,
        ax: Axes | None = None,
        update: bool = False,
        color=None,
        title: str = "",
        batch_sample: int = 0,
        dynamic_ax_lims: bool = True,
        ylims=None,
        ylabel: str = "",
        contour=None,
        label: str = "Sample: {}\nFrame: {}",
        labelxy=(0.1, 0.95),
        fontsize: float = 5,
        figsize=(2, 2),
    ):
        trace = to_numpy(trace).astype(float)
        if trace.ndim == 1:
            trace = trace[None]
        if trace.ndim != 2:
            raise ValueError(
                f"trace must have shape (n_samples, n_frames), got {trace.shape}"
            )
        self._setup(
            trace[..., None],
            dt,
            fig,
            ax,
            update,
            color,
            title,
            batch_sample,
            dynamic_ax_lims,
            ylims,
            ylabel,
            contour,
            label,
            labelxy,
            fontsize,
            figsize,
        )


class MultiTrace(_TraceBase):
    """Animates several traces per sample, drawn up to the current frame.

    Args:
        trace: Array or tensor ``(n_samples, n_frames, n_traces)``.
        dt: Time step.
        fig: Existing figure.
        ax: Existing axis.
        update: Redraw after each frame.
        legend: One label per trace.
        colors: One colour per trace.
        title: Title.
        batch_sample: Initial sample.
        dynamic_ax_lims: y limits from the shown sample (else all samples).
        ylims: Fixed y limits ``(lo, hi)`` or one pair per sample.
        ylabel: y label.
        contour: Stimulus ``(n_frames,)`` or ``(n_samples, n_frames)`` drawn behind.
        label: Label template formatted with ``(sample, frame)``.
        labelxy: Label position (axes coordinates).
        fontsize: Font size.
        path: Output directory of exports.
        figsize: Size of a new figure.
    """

    def __init__(
        self,
        trace,
        dt: float = 1,
        fig: Figure | None = None,
        ax: Axes | None = None,
        update: bool = False,
        legend=None,
        colors=None,
        title: str = "",
        batch_sample: int = 0,
        dynamic_ax_lims: bool = True,
        ylims=None,
        ylabel: str = "",
        contour=None,
        label: str = "Sample: {}\nFrame: {}",
        labelxy=(0.1, 0.95),
        fontsize: float = 5,
        path=None,
        figsize=(2, 2),
    ):
        trace = to_numpy(trace).astype(float)
        if trace.ndim == 2:
            trace = trace[None]
        if trace.ndim != 3:
            raise ValueError(
                f"trace must have shape (n_samples, n_frames, n_traces), got {trace.shape}"
            )
        self._setup(
            trace,
            dt,
            fig,
            ax,
            update,
            colors,
            title,
            batch_sample,
            dynamic_ax_lims,
            ylims,
            ylabel,
            contour,
            label,
            labelxy,
            fontsize,
            figsize,
            legend=legend,
            path=path,
        )
