"""Plots of hexagonal images, flow fields, traces and distributions (matplotlib).

matplotlib is imported only here and in :mod:`flyvis.analysis.animations`.
Importing this package changes no global matplotlib state (no ``rcParams``,
no registered colormaps). The flyvis paper style is opt-in::

    from flyvis.analysis.visualization import plots, plt_utils

    with plt_utils.style():  # 5-pt fonts, 300 dpi, thin lines
        fig, ax, _ = plots.quick_hex_scatter(values)

Submodules: :mod:`~flyvis.analysis.visualization.plots`,
:mod:`~flyvis.analysis.visualization.plt_utils`,
:mod:`~flyvis.analysis.visualization.color_utils`,
:mod:`~flyvis.analysis.visualization.eye_plots`,
:mod:`~flyvis.analysis.visualization.connectome_view` (``ConnectomeView``,
``ReceptiveFields``, ``ProjectiveFields``) and
:mod:`~flyvis.analysis.visualization.network_fig` (``WholeNetworkFigure``);
the last two are imported on demand.
"""

from flyvis.analysis.visualization import color_utils, plots, plt_utils
from flyvis.analysis.visualization.plt_utils import FLYVIS_STYLE, style

__all__ = ["color_utils", "plots", "plt_utils", "FLYVIS_STYLE", "style"]
