"""Full-field and disc flashes (``Flashes``), rendered directly on the hexals.

A flash stimulus alternates grey (the baseline, 0.5) and a flash of
``intensity`` on a disc of hexals around the centre (``radius`` in columns,
``-1`` = the whole field). The default dataset has four samples (OFF and ON
flashes, full field and radius 6) of 1 s grey, 1 s flash, 1 s grey at
``dt = 1/200`` (600 frames).

Deliberate difference from flyvis 1.2.0: assigning ``Flashes.dt`` re-renders
the flashes at the new time step (flyvis only stored the value, so the
samples kept the old frame count).

Source: ``spec/datasets.md`` §6.
"""

import logging
from itertools import product
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from datamate import Directory

from flyvis.datasets.datasets import SequenceDataset
from flyvis.datasets.rendering.utils import resample
from flyvis.utils.directories import dynamic_root, reopen_by_path
from flyvis.utils.hex_utils import (
    get_hex_coords,
    get_hextent,
    get_num_hexals,
    hex_distance,
)

__all__ = ["RenderedFlashes", "Flashes", "render_flash"]

logger = logging.getLogger(__name__)


def render_flash(
    n_ommatidia: int,
    intensity: float,
    baseline: float,
    t_stim: float,
    t_pre: float,
    dt: float,
    alternations: Sequence[int],
    radius: int,
) -> np.ndarray:
    """Renders one flash sequence on the hexagonal lattice.

    The flash frame is ``baseline`` everywhere except the hexals within hex
    distance ``radius`` of the centre (all hexals for ``radius == -1``),
    which are ``intensity`` (radius 6 -> 127 hexals). ``on`` is that frame
    repeated ``int(t_stim / dt)`` times, ``off`` the baseline frame repeated
    ``int(t_pre / dt)`` times; the sequence concatenates ``off`` for every 0
    and ``on`` for every 1 in ``alternations``.

    Args:
        n_ommatidia: Number of hexals (721 for extent 15).
        intensity: Flash intensity.
        baseline: Grey level.
        t_stim: Flash duration (s).
        t_pre: Duration of each grey period (s).
        dt: Time step (s).
        alternations: Sequence of 0 (grey) and 1 (flash) periods.
        radius: Disc radius in columns, or -1 for the whole field.

    Returns:
        float32 array ``(frames, n_ommatidia)``.
    """
    extent = get_hextent(n_ommatidia)
    u, v = get_hex_coords(extent)
    frame = np.full((1, n_ommatidia), baseline, dtype=np.float32)
    if radius == -1:
        frame[:] = intensity
    else:
        frame[0, hex_distance(u, v) <= radius] = intensity
    on = resample(frame, t_stim, dt)
    off = resample(np.full((1, n_ommatidia), baseline, dtype=np.float32), t_pre, dt)
    parts = [on if a else off for a in alternations]
    return np.concatenate(parts, axis=0) if parts else np.zeros((0, n_ommatidia))


def _flash_params(dynamic_range: Sequence[float], radius: Sequence[int]):
    """``(baseline, intensity, radius)`` rows in flyvis order."""
    baseline = sum(dynamic_range) / 2
    baselines = 2 * (baseline,)
    pairs = list(zip(baselines, list(dynamic_range)))  # first two intensities only
    return [(b, i, r) for (b, i), r in product(pairs, radius)]


@reopen_by_path
@dynamic_root("renderings")
class RenderedFlashes(Directory):
    """Config-keyed cache of flash sequences (datamate Directory).

    Stores ``flashes.h5``: float32 ``(n_samples, frames, hexals)`` for the
    samples ``product([(baseline, i) for i in dynamic_range[:2]], radius)``
    (intensity slowest, radius fastest), ``baseline = sum(dynamic_range) / 2``.

    Args:
        boxfilter: ``BoxEye`` arguments; only ``extent`` is used (number of
            hexals).
        dynamic_range: Flash intensities (only the first two are used).
        t_stim: Flash duration (s).
        t_pre: Duration of each grey period (s).
        dt: Time step (s).
        radius: Disc radii (columns), -1 = full field.
        alternations: Grey (0) / flash (1) periods.
    """

    def __init__(
        self,
        boxfilter: dict = dict(extent=15, kernel_size=13),  # noqa: B006 (not mutated)
        dynamic_range: list = [0, 1],  # noqa: B006 (not mutated)
        t_stim: float = 1.0,
        t_pre: float = 1.0,
        dt: float = 1 / 200,
        radius: list = [-1, 6],  # noqa: B006 (not mutated)
        alternations: list = (0, 1, 0),
    ):
        n_ommatidia = get_num_hexals(boxfilter["extent"])
        self.flashes = np.array(
            [
                render_flash(n_ommatidia, i, b, t_stim, t_pre, dt, alternations, r)
                for b, i, r in _flash_params(dynamic_range, radius)
            ],
            dtype=np.float32,
        )


class Flashes(SequenceDataset):
    """Flash stimuli for flash response indices (ON/OFF polarity).

    Args:
        boxfilter: ``BoxEye`` arguments (``extent`` sets the number of hexals).
        dynamic_range: Flash intensities (only the first two are used; the
            grey baseline is ``sum(dynamic_range) / 2``).
        t_stim: Flash duration (s).
        t_pre: Duration of each grey period (s).
        dt: Time step (s); assigning a new value re-renders.
        radius: Disc radii in columns (-1 = full field).
        alternations: Grey (0) / flash (1) periods; must start with 0.

    Attributes:
        arg_df: Columns ``baseline, intensity, radius``; default rows
            ``(0.5, 0, -1), (0.5, 0, 6), (0.5, 1, -1), (0.5, 1, 6)``.
        config: The cache directory's config (includes ``"type":
            "RenderedFlashes"``).
        flashes_dir: The :class:`RenderedFlashes` directory.
        baseline: Grey level (0.5).
        t_post: 0.0.

    Raises:
        AssertionError: If ``alternations[0] != 0``.
    """

    augment = False
    t_post = 0.0

    def __init__(
        self,
        boxfilter: dict = dict(extent=15, kernel_size=13),  # noqa: B006 (not mutated)
        dynamic_range: Sequence[float] = (0, 1),
        t_stim: float = 1.0,
        t_pre: float = 1.0,
        dt: float = 1 / 200,
        radius: Sequence[int] = (-1, 6),
        alternations: Sequence[int] = (0, 1, 0),
    ):
        assert alternations[0] == 0, "First alternation must be 0 (grey)."
        self._dir_config = dict(
            boxfilter=dict(boxfilter),
            dynamic_range=list(dynamic_range),
            t_stim=float(t_stim),
            t_pre=float(t_pre),
            dt=float(dt),
            radius=list(radius),
            alternations=list(alternations),
        )
        params = _flash_params(dynamic_range, radius)
        self.baseline = sum(dynamic_range) / 2
        self.arg_df = pd.DataFrame(params, columns=["baseline", "intensity", "radius"])
        self._dt = float(dt)
        self._load()

    def _load(self) -> None:
        self.flashes_dir = RenderedFlashes(self._dir_config)
        self.config = self.flashes_dir.config
        self._flashes = torch.tensor(self.flashes_dir.flashes[:], dtype=torch.float32)

    @property
    def dt(self) -> float:
        """Time step (s); assigning a new value re-renders the flashes."""
        return self._dt

    @dt.setter
    def dt(self, value: float) -> None:
        value = float(value)
        if value == self._dt:
            return
        logger.info("Flashes: re-rendering at dt=%s (was %s).", value, self._dt)
        self._dt = value
        self._dir_config["dt"] = value
        self._load()

    @property
    def t_pre(self) -> float:
        """Duration of each grey period (s)."""
        return self.config.t_pre

    @property
    def t_stim(self) -> float:
        """Flash duration (s)."""
        return self.config.t_stim

    def get_item(self, key: int) -> torch.Tensor:
        """Flash sequence ``key``: float32 tensor ``(frames, hexals)`` (CPU).

        Args:
            key: Row of ``arg_df``.

        Returns:
            The sequence (600 frames for the defaults).
        """
        return self._flashes[key]

    def __repr__(self) -> str:
        return f"Flashes dataset. Parametrization: \n{self.arg_df}"
