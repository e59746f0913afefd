"""Rendering of cartesian movies onto the hexagonal photoreceptor array.

Exports :class:`~flyvis.datasets.rendering.eye.BoxEye` (the eye model used for
training and all datasets); helpers live in
:mod:`flyvis.datasets.rendering.utils`. Source: ``spec/rendering.md``.
"""

from flyvis.datasets.rendering.eye import BoxEye

__all__ = ["BoxEye"]
