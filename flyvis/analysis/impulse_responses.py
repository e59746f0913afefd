"""Responses to brief impulses of light (``spec/analysis.md`` §2.3).

Re-exported by :mod:`flyvis.analysis.stimulus_responses` (and as methods of
``NetworkView`` and ``Ensemble``).
"""

from __future__ import annotations

from typing import Any, Sequence

import xarray as xr

from flyvis.analysis.response_simulation import generic_responses

__all__ = ["central_impulses_responses", "spatial_impulses_responses"]


def _impulse_config(durations, bg_intensity: float, dt: float, intensity: float):
    """Dataset config shared by the impulse stimuli (flyvis' values)."""
    return dict(
        impulse_durations=list(durations),
        dot_column_radius=0,
        bg_intensity=bg_intensity,
        t_stim=2,
        dt=dt,
        n_ommatidia=721,
        t_pre=1.0,
        t_post=0,
        intensity=intensity,
        mode="impulse",
    )


def central_impulses_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    intensity: float = 1,
    bg_intensity: float = 0.5,
    impulse_durations: Sequence[float] = (5e-3, 20e-3, 50e-3, 100e-3, 200e-3, 300e-3),
    dt: float = 1 / 200,
    batch_size: int = 4,
) -> xr.Dataset:
    """Responses to brief central-column impulses (12 samples), 4 s grey first.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A ``CentralImpulses`` instance to use instead.
        intensity: Impulse intensity.
        bg_intensity: Background intensity.
        impulse_durations: Durations (s).
        dt: Time step (s).
        batch_size: Samples per simulation batch.

    Returns:
        The response Dataset.
    """
    from flyvis.datasets.dots import CentralImpulses

    config = _impulse_config(impulse_durations, bg_intensity, dt, intensity)
    return generic_responses(
        network_view_or_ensemble, dataset, config, CentralImpulses, 4.0, 0.0, batch_size
    )


def spatial_impulses_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    intensity: float = 1,
    bg_intensity: float = 0.5,
    impulse_durations: Sequence[float] = (5e-3, 20e-3),
    max_extent: int = 4,
    dt: float = 1 / 200,
    batch_size: int = 4,
) -> xr.Dataset:
    """Responses to impulses at every column within ``max_extent``, 4 s grey first.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A ``SpatialImpulses`` instance to use instead.
        intensity: Impulse intensity.
        bg_intensity: Background intensity.
        impulse_durations: Durations (s).
        max_extent: Largest column distance from the centre.
        dt: Time step (s).
        batch_size: Samples per simulation batch.

    Returns:
        The response Dataset.
    """
    from flyvis.datasets.dots import SpatialImpulses

    config = _impulse_config(impulse_durations, bg_intensity, dt, intensity)
    config["max_extent"] = max_extent
    return generic_responses(
        network_view_or_ensemble, dataset, config, SpatialImpulses, 4.0, 0.0, batch_size
    )
