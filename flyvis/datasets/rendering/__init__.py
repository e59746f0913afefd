"""Rendering of cartesian movies onto the hexagonal photoreceptor array.

Exports ``BoxEye`` (the eye model used for training and all datasets) and
``HexEye``: the classes of :mod:`flyvis.datasets.rendering.eye` and
:mod:`~flyvis.datasets.rendering.hexeye` with the ``illustrate`` plot added by
:mod:`flyvis.analysis.visualization.eye_plots`; helpers live in
:mod:`flyvis.datasets.rendering.utils`. Source: ``spec/rendering.md``.
"""

import importlib
from typing import Any

__all__ = ["BoxEye", "HexEye"]

# Compatibility shim: flyvis 1.2.0's eyes have an ``illustrate`` method
# (matplotlib), so the classes exported here are the analysis layer's
# subclasses, resolved lazily. Core modules import the eyes from
# ``flyvis.datasets.rendering.eye`` / ``.hexeye`` and never come through here.
_LAZY = {
    "BoxEye": "flyvis.analysis.visualization.eye_plots",
    "HexEye": "flyvis.analysis.visualization.eye_plots",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
