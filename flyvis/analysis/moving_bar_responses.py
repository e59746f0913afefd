"""Direction selectivity of moving bar/edge responses, and its plots.

flyvis 1.2.0's module: the computations (peak responses, DSI, preferred
direction, angular tuning; :mod:`flyvis.analysis.direction_selectivity`) and
thin wrappers of the plots in :mod:`flyvis.analysis.visualization.tuning_plots`
(matplotlib is imported on the first plot).

Source: ``spec/analysis.md`` §4.
"""

from __future__ import annotations

from flyvis.analysis.direction_selectivity import (  # noqa: F401  (re-exported)
    LED_WIDTH,
    OMM_WIDTH,
    angular_distance_to_known,
    angular_distances,
    angular_tuning,
    direction_selectivity_index,
    dsi_correlation_to_known,
    get_time_masks,
    mask_between_seconds,
    peak_responses,
    peak_responses_angular,
    preferred_direction,
    simple_angle_distance,
    time_window,
)
from flyvis.analysis.direction_selectivity import __all__ as _computations

__all__ = [
    *_computations,
    "plot_angular_tuning",
    "plot_T4_tuning",
    "plot_T5_tuning",
    "dsi_violins",
    "dsi_violins_on_and_off",
]


def _tuning_plot(name: str):
    """A thin wrapper importing ``tuning_plots.<name>`` (matplotlib) on first call."""

    def plot(*args, **kwargs):
        from flyvis.analysis.visualization import tuning_plots

        return getattr(tuning_plots, name)(*args, **kwargs)

    plot.__name__ = plot.__qualname__ = name
    plot.__doc__ = (
        f"See :func:`flyvis.analysis.visualization.tuning_plots.{name}`.\n\n"
        f"Args:\n    *args: Passed to ``{name}``.\n    **kwargs: Passed to ``{name}``.\n\n"
        f"Returns:\n    What ``{name}`` returns (matplotlib figure and axes)."
    )
    return plot


plot_angular_tuning = _tuning_plot("plot_angular_tuning")
plot_T4_tuning = _tuning_plot("plot_T4_tuning")
plot_T5_tuning = _tuning_plot("plot_T5_tuning")
dsi_violins = _tuning_plot("dsi_violins")
dsi_violins_on_and_off = _tuning_plot("dsi_violins_on_and_off")
