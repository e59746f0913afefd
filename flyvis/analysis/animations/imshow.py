"""Animation of cartesian image sequences.

Source: ``spec/visualization.md`` §5.2.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from flyvis.analysis.animations.animations import Animation, to_numpy
from flyvis.analysis.visualization import plt_utils

__all__ = ["Imshow"]


class Imshow(Animation):
    """Shows image sequences frame by frame with ``imshow``.

    Unless ``vmin``/``vmax`` are given, the colour limits are the range of the
    shown sample over all its frames.

    Args:
        images: Array or tensor ``(n_samples, n_frames, height, width)`` (or
            ``(..., 3|4)`` for RGB(A)).
        fig: Existing figure.
        ax: Existing axis.
        update: Redraw after each frame.
        figsize: Size of a new figure in inches.
        sleep: Unused pause between frames (flyvis compatibility).
        **kwargs: Passed to ``ax.imshow`` (e.g. ``cmap``, ``vmin``, ``vmax``).

    Example:
        >>> Imshow(sequences, cmap=plt.cm.binary_r).animate_in_notebook(samples=[0, 1])
    """

    def __init__(
        self,
        images,
        fig: Figure | None = None,
        ax: Axes | None = None,
        update: bool = True,
        figsize=(1, 1),
        sleep: float = 0.01,
        **kwargs,
    ):
        images = to_numpy(images)
        if images.ndim == 3:
            images = images[None]
        if images.ndim not in (4, 5):
            raise ValueError(
                f"expected images (n_samples, n_frames, height, width), got {images.shape}"
            )
        self.images = images
        self.n_samples, self.frames = images.shape[:2]
        self.ax = ax
        self.figsize = figsize
        self.sleep = sleep
        self.kwargs = kwargs
        self.update = update
        self.img = None
        self._clim_sample = None
        super().__init__(fig=fig if fig is not None else getattr(ax, "figure", None))

    def _set_clim(self) -> None:
        if "vmin" in self.kwargs and "vmax" in self.kwargs or self.images.ndim == 5:
            return
        if self._clim_sample == self.batch_sample:
            return
        sample = self.images[self.batch_sample]
        finite = sample[np.isfinite(sample)] if sample.dtype.kind == "f" else sample
        lo = self.kwargs.get("vmin", finite.min() if finite.size else 0)
        hi = self.kwargs.get("vmax", finite.max() if finite.size else 1)
        if hi <= lo:
            hi = lo + 1
        self.img.set_clim(lo, hi)
        self._clim_sample = self.batch_sample

    def init(self, frame: int = 0) -> None:
        """Draws ``frame`` of the current sample on a full-bleed axis."""
        self.fig, self.ax = plt_utils.init_plot(
            self.figsize,
            fig=self.fig,
            ax=self.ax,
            position=[0, 0, 1, 1],
            set_axis_off=True,
        )
        self.img = self.ax.imshow(self.images[self.batch_sample, frame], **self.kwargs)
        self._clim_sample = None
        self._set_clim()
        if self.update:
            self.update_figure()

    def animate(self, frame: int) -> None:
        """Shows ``frame`` of the current sample."""
        self.img.set_data(self.images[self.batch_sample, frame])
        self._set_clim()
        if self.update:
            self.update_figure()
