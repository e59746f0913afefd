"""Matplotlib helpers: figure set-up, norms, colourbars, colour wheel, grids.

Nothing in this module changes matplotlib's global ``rcParams``. The paper
style of flyvis (tiny 1x1 inch panels, 5-pt fonts, 300 dpi) is available as
the dict :data:`FLYVIS_STYLE` and as the context manager :func:`style`::

    with plt_utils.style():
        fig, ax = plt_utils.init_plot()

Source: ``spec/visualization.md`` §1-2.
"""

from __future__ import annotations

from flyvis.analysis.visualization.color_utils import truncate_colormap
from flyvis.analysis.visualization.plt_utils_colorbars import (
    add_colorbar_to_fig,
    add_colorwheel_2d,
    get_lims,
    get_norm,
    get_scalarmapper,
    standalone_legend,
)
from flyvis.analysis.visualization.plt_utils_layout import (
    FLYVIS_STYLE,
    boldify_labels,
    closest_divisors,
    color_label,
    color_labels,
    extend_arg,
    get_axis_grid,
    init_plot,
    rm_spines,
    set_spine_tick_params,
    style,
    to_numpy,
    trim_axis,
    width_n_height,
)
from flyvis.analysis.visualization.plt_utils_stats import (
    MARKERS,
    add_cluster_marker,
    avg_pool,
    check_markers,
    display_pvalues,
    display_significance_value,
    get_marker,
    scatter_on_violins_with_best,
)

__all__ = [
    "FLYVIS_STYLE",
    "style",
    "init_plot",
    "rm_spines",
    "trim_axis",
    "set_spine_tick_params",
    "color_labels",
    "color_label",
    "boldify_labels",
    "get_norm",
    "get_scalarmapper",
    "get_lims",
    "add_colorbar_to_fig",
    "add_colorwheel_2d",
    "truncate_colormap",
    "width_n_height",
    "closest_divisors",
    "get_axis_grid",
    "MARKERS",
    "check_markers",
    "get_marker",
    "add_cluster_marker",
    "avg_pool",
    "display_significance_value",
    "display_pvalues",
    "standalone_legend",
    "extend_arg",
    "scatter_on_violins_with_best",
    "to_numpy",
]
