"""Illustrations of the fly eye models (matplotlib).

Source: ``spec/rendering.md`` §1.4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from flyvis.datasets.rendering.eye import BoxEye

__all__ = ["illustrate_box_eye"]

#: Colours of the illustration (flyvis 1.2.0).
PIXEL_COLOR = "#34ebd6"
RECEPTOR_COLOR = "#00008B"


def illustrate_box_eye(eye: BoxEye, figsize=(2, 2), fontsize: int = 5) -> Figure:
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
