"""Plot functions: hexagonal images, flow fields, traces and distributions.

Every function accepts ``fig``/``ax`` to draw into existing axes, returns the
matplotlib objects it created and never calls ``plt.show()``. Inputs may be
numpy arrays or torch tensors (on any device).

Hexagonal images draw one ``RegularPolygon`` per hexal, added in canonical
(u-then-v) order so that ``ax.patches[i]`` is hexal ``i``; animations and
:func:`set_hex_colors` recolour them in place.

Source: ``spec/visualization.md`` §3.
"""

from flyvis.analysis.visualization.distribution_plots import (  # noqa: F401
    ViolinData,
    get_violin_x_locations,
    heatmap,
    violin_groups,
    violins,
)
from flyvis.analysis.visualization.flow_plots import (  # noqa: F401
    flow_arrows,
    flow_colors,
    flow_to_rgba,
    hex_flow,
    plot_flow,
    quick_hex_flow,
)
from flyvis.analysis.visualization.hex_plots import (  # noqa: F401
    SignError,
    hex_cs,
    hex_scatter,
    kernel,
    quick_hex_scatter,
    set_hex_colors,
)
from flyvis.analysis.visualization.trace_plots import (  # noqa: F401
    grouped_traces,
    histogram,
    loss_curves,
    polar,
    traces,
)

__all__ = [
    "SignError",
    "hex_scatter",
    "quick_hex_scatter",
    "kernel",
    "hex_cs",
    "set_hex_colors",
    "hex_flow",
    "quick_hex_flow",
    "flow_to_rgba",
    "flow_colors",
    "plot_flow",
    "flow_arrows",
    "traces",
    "grouped_traces",
    "loss_curves",
    "histogram",
    "polar",
    "violin_groups",
    "get_violin_x_locations",
    "ViolinData",
    "violins",
    "heatmap",
]
