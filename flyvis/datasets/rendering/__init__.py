"""Rendering of cartesian movies onto the hexagonal photoreceptor array.

Exports :class:`~flyvis.datasets.rendering.eye.BoxEye` (the eye model used for
training and all datasets); helpers live in
:mod:`flyvis.datasets.rendering.utils`. Source: ``spec/rendering.md``.
"""

from typing import Any

from flyvis.datasets.rendering.eye import BoxEye

__all__ = ["BoxEye", "HexEye"]


def __getattr__(name: str) -> Any:
    if name == "HexEye":  # loaded lazily: HexEye is slower to import and rarely used
        from flyvis.datasets.rendering.hexeye import HexEye

        return HexEye
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
