"""Plots of stimuli: the moving bar/edge cartoon.

Source: flyvis 1.2.0 ``MovingBar.stimulus_cartoon`` (spec ``datasets.md``).
"""

import math
from typing import Any

from flyvis.analysis.visualization.plots import quick_hex_scatter

__all__ = ["stimulus_cartoon"]


def stimulus_cartoon(
    dataset: Any,
    angle: float,
    width: float,
    intensity: float,
    speed: float,
    time_after_stimulus_onset: float = 0.5,
    fig=None,
    ax=None,
    figsize=(1, 1),
    fontsize: float = 5,
    arrow_color: str = "#ff7f0e",
    **kwargs,
):
    """Plots one frame of a moving bar/edge with an arrow in the motion direction.

    flyvis 1.2.0 offers this as the method ``MovingBar.stimulus_cartoon``; the
    core datasets never import matplotlib, so here it is a function.

    Args:
        dataset: A ``MovingBar`` or ``MovingEdge`` dataset.
        angle: Direction (degrees).
        width: Width (LEDs).
        intensity: Intensity.
        speed: Speed (columns/s).
        time_after_stimulus_onset: Time of the shown frame (s); clipped
            to the stimulus.
        fig: Existing figure.
        ax: Existing axis.
        figsize: Figure size (inches).
        fontsize: Font size.
        arrow_color: Colour of the arrow.
        **kwargs: Passed to :func:`flyvis.analysis.visualization.plots.quick_hex_scatter`.

    Returns:
        ``(fig, ax)``.
    """
    stim = dataset.get(angle, width, intensity, speed).cpu().numpy()
    n_pre = int(dataset.t_pre / dataset.dt)
    n_stim = dataset._n_stim(speed)
    frame = n_pre + min(int(time_after_stimulus_onset / dataset.dt), max(n_stim - 1, 0))
    kwargs.setdefault("vmin", 0)
    kwargs.setdefault("vmax", 1)
    kwargs.setdefault("cbar", False)
    fig, ax, _ = quick_hex_scatter(
        stim[frame], fig=fig, ax=ax, figsize=figsize, fontsize=fontsize, **kwargs
    )
    # direction in the hex_to_pixel frame (eye frame scaled by (1.5, sqrt(3)))
    a = math.radians(angle)
    dx, dy = 1.5 * math.cos(a), math.sqrt(3) * math.sin(a)
    norm = math.hypot(dx, dy)
    length = 12.0
    dx, dy = dx / norm * length, dy / norm * length
    ax.annotate(
        "",
        xy=(dx / 2, dy / 2),
        xytext=(-dx / 2, -dy / 2),
        arrowprops=dict(arrowstyle="-|>", color=arrow_color, lw=1),
    )
    return fig, ax
