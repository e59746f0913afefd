"""Illustrations of the fly eye models (matplotlib), and the eyes users import.

``BoxEye`` and ``HexEye`` here are the core eye models
(:mod:`flyvis.datasets.rendering.eye`, :mod:`flyvis.datasets.rendering.hexeye`)
with flyvis 1.2.0's ``illustrate`` method; ``flyvis.BoxEye`` and
``flyvis.datasets.rendering.BoxEye``/``HexEye`` resolve to them (the core
never imports matplotlib or this layer).

Source: ``spec/rendering.md`` §1.4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from flyvis.analysis.visualization.plt_utils import init_plot
from flyvis.datasets.rendering import eye as _eye
from flyvis.datasets.rendering import hexeye as _hexeye
from flyvis.datasets.rendering.hexeye import is_inside_hex

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["BoxEye", "HexEye", "illustrate_box_eye", "illustrate_hex_eye"]

#: Colours of the illustration (flyvis 1.2.0).
PIXEL_COLOR = "#34ebd6"
RECEPTOR_COLOR = "#00008B"


def illustrate_box_eye(eye: _eye.BoxEye, figsize=(2, 2), fontsize: int = 5) -> Figure:
    """Draws the pixel grid, receptor centres and receptor boxes of a BoxEye.

    All pixel positions of a ``min_frame_size`` grid centred at 0 are drawn as
    tiny cyan dots, receptor centres as small dark blue dots, and for each
    receptor the outline of its ``d x d`` box (corners at 45, 135, 225, 315
    degrees at radius ``sqrt(2) * d / 2``) in black, line width 0.25. The x
    axis is the pixel column, the y axis the pixel row plotted upwards, so the
    picture is vertically mirrored relative to image row order. Axis limits
    are +/- half the frame size; spines are removed. Global matplotlib
    settings are not changed.

    Source: ``spec/rendering.md`` §1.4.

    Args:
        eye: The :class:`~flyvis.datasets.rendering.eye.BoxEye` to draw.
        figsize: Figure size in inches ``(width, height)``.
        fontsize: Font size of the tick labels in points.

    Returns:
        The matplotlib figure (created with pyplot; close it when done).
    """
    centers = eye.receptor_centers.cpu().numpy().astype(float)
    rows, cols = centers[:, 0], centers[:, 1]
    mh, mw = (int(m) for m in eye.min_frame_size)
    d = eye.kernel_size

    fig, ax = plt.subplots(figsize=figsize)
    # pixel grid centred at 0
    px_x = np.arange(mw) - (mw - 1) / 2
    px_y = np.arange(mh) - (mh - 1) / 2
    gx, gy = np.meshgrid(px_x, px_y)
    ax.scatter(gx.ravel(), gy.ravel(), s=0.01, c=PIXEL_COLOR, linewidths=0, marker=".")
    # receptor boxes: square through the corners at 45, 135, 225, 315 degrees
    angles = np.radians([45, 135, 225, 315, 45])
    radius = np.sqrt(2) * d / 2
    box_x = cols[:, None] + radius * np.cos(angles)[None]
    box_y = rows[:, None] + radius * np.sin(angles)[None]
    boxes = LineCollection(np.stack([box_x, box_y], axis=-1), colors="k", linewidths=0.25)
    ax.add_collection(boxes)
    # receptor centres
    ax.scatter(cols, rows, s=0.5, c=RECEPTOR_COLOR, linewidths=0, marker="o")

    ax.set_xlim(-mw / 2, mw / 2)
    ax.set_ylim(-mh / 2, mh / 2)
    ax.set_aspect("equal")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(labelsize=fontsize, width=0.25, length=2)
    return fig


def illustrate_hex_eye(eye: _hexeye.HexEye, figsize=(5, 5), fontsize: int = 5) -> tuple:
    """Draws a HexEye's ommatidium centres (red), pixels (cyan) and hexagon outlines.

    Args:
        eye: The ``HexEye``.
        figsize: Figure size in inches.
        fontsize: Font size.

    Returns:
        ``(fig, ax)``.
    """
    fig, ax = init_plot(figsize=figsize, fontsize=fontsize)
    h, w = eye.monitor_height_px, eye.monitor_width_px
    rows, cols = np.divmod(np.arange(h * w), w)
    ax.scatter(cols, rows, s=0.05, c="#34ebd6", lw=0)
    ax.scatter(eye.x_centers, eye.y_centers, s=0.5, c="r", lw=0)
    vertices, _ = is_inside_hex(
        [], [], eye.x_centers, eye.y_centers, eye.dist_to_edge, device="cpu"
    )
    vertices = vertices.numpy()
    for i in range(eye.n_ommatidia):
        ax.plot(vertices[:, 0, i], vertices[:, 1, i], c="k", lw=0.25)
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=fontsize)
    return fig, ax


class BoxEye(_eye.BoxEye):
    """:class:`flyvis.datasets.rendering.eye.BoxEye` with :meth:`illustrate`.

    Takes the same arguments; see the core class for rendering.
    """

    def illustrate(self, figsize=(2, 2), fontsize: int = 5) -> Figure:
        """Draws the pixel grid, receptor centres and receptor boxes.

        Source: ``spec/rendering.md`` §1.4; see :func:`illustrate_box_eye`.

        Args:
            figsize: Figure size in inches.
            fontsize: Font size of the tick labels in points.

        Returns:
            The matplotlib figure.
        """
        return illustrate_box_eye(self, figsize=figsize, fontsize=fontsize)


class HexEye(_hexeye.HexEye):
    """:class:`flyvis.datasets.rendering.hexeye.HexEye` with :meth:`illustrate`.

    Takes the same arguments; see the core class for rendering.
    """

    def illustrate(self, figsize=(5, 5), fontsize: int = 5) -> tuple:
        """Draws ommatidium centres (red), pixels (cyan) and hexagon outlines.

        Args:
            figsize: Figure size in inches.
            fontsize: Font size.

        Returns:
            ``(fig, ax)``; see :func:`illustrate_hex_eye`.
        """
        return illustrate_hex_eye(self, figsize=figsize, fontsize=fontsize)
