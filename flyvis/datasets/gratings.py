"""Drifting square- and sine-wave gratings on the hexagonal eye.

flyvis 1.2.0 has no gratings dataset (only ``HexEye.render_grating*``
building blocks); this one follows the conventions of
:class:`~flyvis.datasets.moving_bar.MovingBar`:

* Luminance ``L = bg * (1 + contrast * w(phase))`` with ``w`` a square wave
  (``+1``/``-1`` half periods) or a sine, i.e. Michelson contrast
  ``contrast`` around the mean ``bg`` (0.5: contrast 1 spans 0..1).
* The pattern varies along the direction ``angle`` (degrees,
  counter-clockwise from rightward in the eye frame, as for moving bars) and
  drifts along it at ``speed = period * temporal_frequency`` degrees per
  second: ``w(2 pi ((x . d) / period - temporal_frequency * t) + phase)``.
* Spatial periods are in degrees (one column = 5.8°); each hexal is the
  average over its hexagon (analytic, :mod:`flyvis.datasets.rendering.hexeye`).
* ``t_pre`` s of grey (``bg``) precede and ``t_post`` s of grey follow the
  ``t_stim`` s of drift.
"""

from __future__ import annotations

from itertools import product
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd
import torch
from datamate import Namespace

import flyvis
from flyvis.datasets.datasets import StimulusDataset
from flyvis.datasets.rendering.hexeye import OMM_WIDTH_DEG, render_gratings, strip_profile
from flyvis.datasets.rendering.utils import pad
from flyvis.utils.hex_utils import get_hextent

__all__ = ["MovingGratings"]


class MovingGratings(StimulusDataset):
    """Drifting gratings: one sample per ``(angle, period, temporal_frequency, contrast)``.

    Args:
        angles: Drift directions in degrees (0 = rightward, 90 = upward).
        periods: Spatial periods in degrees.
        temporal_frequencies: Temporal frequencies in Hz (cycles per second
            passing a point); the drift speed is ``period * frequency`` °/s.
        contrasts: Michelson contrasts (0..1).
        waveform: ``"square"`` or ``"sine"``.
        t_stim: Drift duration (s).
        t_pre: Grey time before (s).
        t_post: Grey time after (s).
        dt: Time step (s).
        bg_intensity: Mean luminance.
        phase: Spatial phase at onset in degrees of the waveform.
        n_ommatidia: Number of hexals (721).
        ppo: Sample points per column for the hexagon averages.
        device: Device of the returned tensors (default ``flyvis.device``).

    Attributes:
        arg_df: Columns ``angle, period, temporal_frequency, contrast, speed``
            (product order, contrast fastest; ``speed`` in °/s).
        config: :class:`datamate.Namespace` of the arguments.
        n_frames: ``int((t_stim + t_pre + t_post) / dt)`` frames per sample.
    """

    augment = False

    def __init__(
        self,
        angles: Sequence[float] = tuple(range(0, 360, 30)),
        periods: Sequence[float] = (30.0,),
        temporal_frequencies: Sequence[float] = (1.0,),
        contrasts: Sequence[float] = (1.0,),
        waveform: str = "square",
        t_stim: float = 2.0,
        t_pre: float = 1.0,
        t_post: float = 0.0,
        dt: float = 1 / 200,
        bg_intensity: float = 0.5,
        phase: float = 0.0,
        n_ommatidia: int = 721,
        ppo: int = 25,
        device: Optional[Union[str, torch.device]] = None,
    ):
        if waveform not in ("square", "sine"):
            raise ValueError(f"waveform must be 'square' or 'sine', got {waveform!r}.")
        self.angles = list(angles)
        self.periods = list(periods)
        self.temporal_frequencies = list(temporal_frequencies)
        self.contrasts = list(contrasts)
        self.waveform = waveform
        self.t_stim = float(t_stim)
        self.t_pre = float(t_pre)
        self.t_post = float(t_post)
        self.dt = float(dt)
        self.bg_intensity = float(bg_intensity)
        self.phase = float(phase)
        self.n_ommatidia = int(n_ommatidia)
        self.extent = get_hextent(self.n_ommatidia)
        self.ppo = int(ppo)
        self.device = flyvis.device if device is None else flyvis.select_device(device)
        self.config = Namespace(
            angles=self.angles,
            periods=self.periods,
            temporal_frequencies=self.temporal_frequencies,
            contrasts=self.contrasts,
            waveform=waveform,
            t_stim=self.t_stim,
            t_pre=self.t_pre,
            t_post=self.t_post,
            dt=self.dt,
            bg_intensity=self.bg_intensity,
            phase=self.phase,
            n_ommatidia=self.n_ommatidia,
            ppo=self.ppo,
        )
        rows = [
            (a, p, f, c, p * f)
            for a, p, f, c in product(
                self.angles, self.periods, self.temporal_frequencies, self.contrasts
            )
        ]
        self.arg_df = pd.DataFrame(
            rows, columns=["angle", "period", "temporal_frequency", "contrast", "speed"]
        )
        self._profiles: Dict[Tuple[float, float], np.ndarray] = {}

    @property
    def n_frames(self) -> int:
        """Frames per sample."""
        return int((self.t_stim + self.t_pre + self.t_post) / self.dt)

    @property
    def time(self) -> np.ndarray:
        """Time of every frame relative to onset (s), ``(n_frames,)``."""
        return np.arange(self.n_frames) * self.dt - self.t_pre

    def _profile(self, angle: float, period: float) -> np.ndarray:
        key = (float(angle), float(period))
        if key not in self._profiles:
            self._profiles[key] = strip_profile(
                angle, period / OMM_WIDTH_DEG, self.waveform, self.ppo
            )
        return self._profiles[key]

    def get_item(self, key: int) -> torch.Tensor:
        """Grating sequence ``key``: float32 ``(n_frames, hexals)`` on ``device``.

        Args:
            key: Row of ``arg_df``.

        Returns:
            The sequence (grey, drift, grey).
        """
        row = self.arg_df.iloc[key]
        n_stim = int(self.t_stim / self.dt)
        t = np.arange(n_stim) * self.dt
        phases = self.phase / 360.0 - row.temporal_frequency * t  # in periods
        w = render_gratings(
            row.angle,
            row.period / OMM_WIDTH_DEG,
            phases,
            self.waveform,
            extent=self.extent,
            ppo=self.ppo,
            profile=self._profile(row.angle, row.period),
        )
        lum = self.bg_intensity * (1 + row.contrast * w)
        stim = torch.as_tensor(lum, dtype=torch.float32)
        stim = pad(stim, self.t_stim + self.t_pre, self.dt, self.bg_intensity, "start")
        stim = pad(
            stim,
            self.t_stim + self.t_pre + self.t_post,
            self.dt,
            self.bg_intensity,
            "end",
        )
        return stim.to(self.device)

    def get(
        self, angle: float, period: float, temporal_frequency: float, contrast: float
    ) -> torch.Tensor:
        """The sample of a parameter combination.

        Args:
            angle: Direction (degrees).
            period: Spatial period (degrees).
            temporal_frequency: Temporal frequency (Hz).
            contrast: Michelson contrast.

        Returns:
            float32 tensor ``(n_frames, hexals)``.
        """
        key = self.get_stimulus_index(
            dict(
                angle=angle,
                period=period,
                temporal_frequency=temporal_frequency,
                contrast=contrast,
            )
        )
        return self[key]

    @staticmethod
    def period_in_columns(period_deg: float) -> float:
        """Converts a spatial period from degrees to columns (5.8° each).

        Args:
            period_deg: Period in degrees.

        Returns:
            Period in columns.
        """
        return period_deg / OMM_WIDTH_DEG

    @staticmethod
    def period_in_degrees(period_columns: float) -> float:
        """Converts a spatial period from columns to degrees.

        Args:
            period_columns: Period in columns.

        Returns:
            Period in degrees.
        """
        return period_columns * OMM_WIDTH_DEG

    def __repr__(self) -> str:
        return f"MovingGratings dataset.\nConfig: {self.config}\n{self.arg_df}"
