"""Responses to naturalistic movies (Sintel, else the offline photo-flow movies).

Re-exported by :mod:`flyvis.analysis.stimulus_responses`; kept apart so that
:mod:`flyvis.analysis.optimal_stimuli` can use it without importing that module.

Source: ``spec/analysis.md`` §2.
"""

from __future__ import annotations

import logging
from typing import Any, Optional, Sequence

import xarray as xr

from flyvis.analysis.response_simulation import generic_responses

logger = logging.getLogger(__name__)

__all__ = [
    "sintel_available",
    "photo_flow_naturalistic_dataset",
    "naturalistic_stimuli_responses",
]


def sintel_available() -> bool:
    """Whether MPI-Sintel's training data lies at ``flyvis.sintel_dir``.

    Returns:
        True if ``training/final`` and ``training/flow`` exist there.
    """
    import flyvis

    root = flyvis.data_dir("sintel_dir").expanduser()
    return all((root / "training" / kind).is_dir() for kind in ("final", "flow"))


def photo_flow_naturalistic_dataset(dt: float = 1 / 100):
    """Naturalistic movies without Sintel: the offline real-photo flow movies.

    48 sequences of 19 source frames at 24 Hz (about 0.8 s, 80 frames at
    ``dt = 1/100``) on the 721-hexal eye, without augmentation, luminance only:
    the stand-in for ``AugmentedSintel`` when MPI-Sintel is not on disk.

    Args:
        dt: Time step in seconds.

    Returns:
        A ``MultiTaskPhotoFlow`` dataset (rendered once, cached on disk).
    """
    from flyvis.datasets.photo_flow import MultiTaskPhotoFlow

    logger.warning(
        "MPI-Sintel not found at flyvis.sintel_dir; naturalistic responses use the "
        "offline photo-flow movies instead (put Sintel there to use it)."
    )
    return MultiTaskPhotoFlow(
        tasks=["lum"],
        boxfilter=dict(extent=15, kernel_size=13),
        n_frames=19,
        dt=dt,
        augment=False,
        random_temporal_crop=False,
    )


def naturalistic_stimuli_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    dt: float = 1 / 100,
    batch_size: int = 4,
    indices: Optional[Sequence[int]] = None,
) -> xr.Dataset:
    """Responses to naturalistic movies, first frame faded in over 2 s.

    Default dataset: ``AugmentedSintel(tasks=["lum"], interpolate=False,
    boxfilter={extent 15, kernel_size 13}, temporal_split=True, dt,
    indices)`` (2268 samples x 80 frames) when MPI-Sintel is at
    ``flyvis.sintel_dir``; without it (and without ``indices``), our offline
    real-photo movies (:func:`photo_flow_naturalistic_dataset`). ``t_pre=0`` and
    ``t_fade_in=2`` s: the fade-in starts from the dynamics' initial state.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: Any dataset yielding ``{"lum": (frames, 1, hexals)}`` items
            and having a ``config``.
        dt: Time step (s).
        batch_size: Samples per simulation batch.
        indices: Subset of Sintel samples.

    Returns:
        The response Dataset.
    """
    from flyvis.datasets.sintel import AugmentedSintel

    if dataset is None and indices is None and not sintel_available():
        dataset = photo_flow_naturalistic_dataset(dt)
    config = dict(
        tasks=["lum"],
        interpolate=False,
        boxfilter=dict(extent=15, kernel_size=13),
        temporal_split=True,
        dt=dt,
        indices=None if indices is None else list(indices),
    )
    return generic_responses(
        network_view_or_ensemble, dataset, config, AugmentedSintel, 0.0, 2.0, batch_size
    )
