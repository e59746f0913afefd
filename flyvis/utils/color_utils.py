"""Colour constants of the flyvis paper figures (no matplotlib import).

The constants are plain hex strings so that the core of flyvis can use them
without importing matplotlib. The colormap helpers (``color_to_cmap``,
``single_color_cmap``, ``get_alpha_colormap``, ``adapt_color_alpha``,
``truncate_colormap``, ``cmap_iter``, ``cm_uniform_2d``), which flyvis 1.2.0
also offers here, live in :mod:`flyvis.analysis.visualization.color_utils`
(the core never imports the analysis layer; see ``docs/differences.md``).

Source: ``spec/visualization.md`` §1.
"""

from __future__ import annotations

__all__ = [
    "ON",
    "OFF",
    "ON_FR",
    "OFF_FR",
    "ON_OSI",
    "OFF_OSI",
    "PD",
    "ND",
    "INH",
    "EXC",
]

#: ON pathway (red).
ON = "#af0019"
#: OFF pathway (cyan/blue).
OFF = "#00b2b2"
#: ON flash responses (yellow).
ON_FR = "#c1b933"
#: OFF flash responses (violet).
OFF_FR = "#b140cc"
#: ON orientation selectivity.
ON_OSI = "#B74F0D"
#: OFF orientation selectivity.
OFF_OSI = "#0089B9"
#: Preferred direction.
PD = "#1b9e77"
#: Null direction.
ND = "#e7298a"
#: Inhibitory (hyperpolarizing) synapses.
INH = "#0000ff"
#: Excitatory (depolarizing) synapses.
EXC = "#FF0000"
