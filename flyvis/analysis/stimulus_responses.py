"""Responses of trained networks to stimulus datasets, as labelled ``xr.Dataset``.

``spec/analysis.md`` §2. Every public function accepts a ``NetworkView`` or an
ensemble (a mapping name -> NetworkView such as ``Ensemble``, or a list of
NetworkViews) and returns::

    Dataset
      stimulus  (sample, frame, channel, hex_pixel)   float32
      responses (network_id, sample, frame, neuron)   float32
      coords: sample (+ one per arg_df column), frame, time (along frame),
              channel, hex_pixel, u_in, v_in (along hex_pixel), neuron,
              cell_type, u, v (along neuron), network_id, network_name,
              checkpoints (along network_id)
      attrs: config (dataset config), network_config (first model's config)

Results are cached per model and checkpoint on disk
(:mod:`flyvis.analysis.cache`); the key covers the network config, the
checkpoint file's content, the dataset class and config, ``t_pre``,
``t_fade_in`` and ``cell_index`` (not ``batch_size``).

Stimuli rendered on a larger hexagonal lattice than the network's input (e.g.
721-hexal moving edges for a small test network) are cropped to the network's
input lattice. NaN-padded sample tails (moving bars/edges of fast speeds) are
not simulated: responses there are NaN.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import xarray as xr

from flyvis.analysis import xarray_accessor  # noqa: F401  (registers .custom)
from flyvis.analysis.currents import moving_edge_currents
from flyvis.analysis.impulse_responses import (
    central_impulses_responses,
    spatial_impulses_responses,
)
from flyvis.analysis.naturalistic_responses import (
    naturalistic_stimuli_responses,
    photo_flow_naturalistic_dataset,
    sintel_available,
)
from flyvis.analysis.optimal_stimuli import optimal_stimulus_responses
from flyvis.analysis.response_simulation import (
    compute_responses,
    generic_responses,
    network_views,
)

__all__ = [
    "compute_responses",
    "generic_responses",
    "flash_responses",
    "moving_edge_responses",
    "moving_bar_responses",
    "naturalistic_stimuli_responses",
    "photo_flow_naturalistic_dataset",
    "sintel_available",
    "central_impulses_responses",
    "spatial_impulses_responses",
    "network_views",
    "moving_edge_currents",
    "optimal_stimulus_responses",
]


def _extent(views) -> int:
    try:
        return int(views[0].config.network.connectome.extent)
    except AttributeError:
        return 15


def flash_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    radius: Sequence[int] = (-1, 6),
    dt: float = 1 / 200,
    batch_size: int = 4,
) -> xr.Dataset:
    """Responses to full-field and disc flashes (``Flashes``), 1 s grey first.

    Default dataset: ``Flashes(dynamic_range=[0, 1], t_stim=1, t_pre=1,
    dt, radius, alternations=(0, 1, 0))`` rendered at the network's
    connectome extent: 4 samples x 600 frames, time -1 ... 2 s.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A ``Flashes`` instance to use instead.
        radius: Disc radii in columns (-1 = full field).
        dt: Time step (s).
        batch_size: Samples per simulation batch.

    Returns:
        The response Dataset (``baseline``, ``intensity``, ``radius`` along
        ``sample``).
    """
    from flyvis.datasets.flashes import Flashes

    views = network_views(network_view_or_ensemble)
    config = dict(
        boxfilter=dict(extent=_extent(views), kernel_size=13),
        dynamic_range=[0, 1],
        t_stim=1.0,
        t_pre=1.0,
        dt=dt,
        radius=list(radius),
        alternations=[0, 1, 0],
    )
    return generic_responses(views, dataset, config, Flashes, 1.0, 0.0, batch_size)


def moving_edge_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    speeds: Sequence[float] = (2.4, 4.8, 9.7, 13, 19, 25),
    offsets: Sequence[int] = (-10, 11),
    dt: float = 1 / 200,
    batch_size: int = 4,
    angles: Optional[Sequence[float]] = None,
) -> xr.Dataset:
    """Responses to full-height ON and OFF edges moving in 12 directions.

    Default dataset: ``MovingEdge(offsets, intensities=[0, 1], speeds,
    height=80, post_pad_mode="continue", dt, t_pre=1, t_post=1)``; 1 s grey
    steady state. 144 samples (angle x intensity x speed) of 1078 frames,
    NaN where a fast edge's sample has ended.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A ``MovingEdge`` instance to use instead.
        speeds: Speeds (columns/s).
        offsets: ``(start, stop)`` edge positions (LEDs of 2.25°).
        dt: Time step (s).
        batch_size: Samples per simulation batch.
        angles: Directions (degrees); default the dataset's 0, 30, ..., 330.

    Returns:
        The response Dataset (``angle``, ``width``, ``intensity``,
        ``t_stim``, ``speed`` along ``sample``).
    """
    from flyvis.datasets.moving_bar import MovingEdge

    config = dict(
        offsets=list(offsets),
        intensities=[0, 1],
        speeds=list(speeds),
        height=80,
        post_pad_mode="continue",
        dt=dt,
        t_pre=1.0,
        t_post=1.0,
    )
    if angles is not None:
        config["angles"] = list(angles)
    return generic_responses(
        network_view_or_ensemble, dataset, config, MovingEdge, 1.0, 0.0, batch_size
    )


def moving_bar_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    dt: float = 1 / 200,
    batch_size: int = 4,
) -> xr.Dataset:
    """Responses to moving bars of widths 1, 2, 4 LEDs (432 samples).

    Default dataset: ``MovingBar(widths=[1, 2, 4], offsets=(-10, 11),
    intensities=[0, 1], speeds=[2.4, 4.8, 9.7, 13, 19, 25], height=9,
    post_pad_mode="continue", dt, t_pre=1, t_post=1)``; 1 s grey.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A ``MovingBar`` instance to use instead.
        dt: Time step (s).
        batch_size: Samples per simulation batch.

    Returns:
        The response Dataset.
    """
    from flyvis.datasets.moving_bar import MovingBar

    config = dict(
        widths=[1, 2, 4],
        offsets=[-10, 11],
        intensities=[0, 1],
        speeds=[2.4, 4.8, 9.7, 13, 19, 25],
        height=9,
        post_pad_mode="continue",
        dt=dt,
        t_pre=1.0,
        t_post=1.0,
    )
    return generic_responses(
        network_view_or_ensemble, dataset, config, MovingBar, 1.0, 0.0, batch_size
    )
