"""Stimulus and training datasets.

The base classes (:mod:`flyvis.datasets.datasets`) are imported eagerly; every
other public name is loaded lazily on first access, so importing this package
stays cheap (no matplotlib, no rendering, no photo loading).

Public names: ``SequenceDataset``, ``StimulusDataset``, ``MultiTaskDataset``
(base classes), ``MultiTaskPhotoFlow``, ``RenderedPhotoFlow`` (real-photo
optic flow, the offline default training data), ``MultiTaskSintel``,
``RenderedSintel``, ``AugmentedSintel`` (Sintel), ``Flashes``,
``RenderedFlashes``, ``MovingBar``, ``MovingEdge``, ``RenderedOffsets``,
``Dots``, ``CentralImpulses``, ``SpatialImpulses``, ``MovingGratings``
(synthetic stimuli), ``read_video`` (real videos, optional imageio-ffmpeg) and the
eyes ``BoxEye``, ``HexEye``. The ``augmentation`` subpackage is imported
explicitly (``flyvis.datasets.augmentation.temporal`` ...).
"""

from __future__ import annotations

import importlib
from typing import Any

from flyvis.datasets.datasets import MultiTaskDataset, SequenceDataset, StimulusDataset

# name -> module that defines it (imported on first access)
_LAZY = {
    "MultiTaskPhotoFlow": "flyvis.datasets.photo_flow",
    "RenderedPhotoFlow": "flyvis.datasets.photo_flow",
    "MotionRanges": "flyvis.datasets.photo_flow",
    "MultiTaskSintel": "flyvis.datasets.sintel",
    "RenderedSintel": "flyvis.datasets.sintel",
    "AugmentedSintel": "flyvis.datasets.sintel",
    "Flashes": "flyvis.datasets.flashes",
    "RenderedFlashes": "flyvis.datasets.flashes",
    "render_flash": "flyvis.datasets.flashes",
    "MovingBar": "flyvis.datasets.moving_bar",
    "MovingEdge": "flyvis.datasets.moving_bar",
    "RenderedOffsets": "flyvis.datasets.moving_bar",
    "Dots": "flyvis.datasets.dots",
    "CentralImpulses": "flyvis.datasets.dots",
    "SpatialImpulses": "flyvis.datasets.dots",
    "filter_post": "flyvis.datasets.moving_bar",
    "filter_pre": "flyvis.datasets.moving_bar",
    "MovingGratings": "flyvis.datasets.gratings",
    "read_video": "flyvis.datasets.video",
    "BoxEye": "flyvis.datasets.rendering",
    "HexEye": "flyvis.datasets.rendering",
}

__all__ = ["SequenceDataset", "StimulusDataset", "MultiTaskDataset", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'flyvis.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
