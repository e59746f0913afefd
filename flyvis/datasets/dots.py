"""Dot and impulse stimuli rendered directly on the hexals (no eye model).

``Dots`` flashes a disc of hexals (``dot_column_radius`` columns around a
lattice position) at every position within ``max_extent`` of the centre,
either sustained or as a brief impulse on a grey background.
``CentralImpulses`` and ``SpatialImpulses`` wrap it to sweep impulse
durations at the centre only or at all positions within ``max_extent``.

Source: ``spec/datasets.md`` §8.
"""

from __future__ import annotations

from itertools import product
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch
from datamate import Namespace

import flyvis
from flyvis.datasets.datasets import StimulusDataset
from flyvis.datasets.rendering.utils import pad
from flyvis.utils.hex_utils import get_hex_coords, get_hextent, hex_distance

__all__ = ["Dots", "CentralImpulses", "SpatialImpulses"]


def _device(device) -> torch.device:
    return flyvis.device if device is None else flyvis.select_device(device)


class Dots(StimulusDataset):
    """Sustained or impulse dots at every lattice position within ``max_extent``.

    Args:
        dot_column_radius: Radius of the dot in columns (0: a single hexal).
        max_extent: Positions are all ``(u, v)`` with ``|u|, |v|, |u + v| <=
            max_extent`` (canonical order).
        bg_intensity: Grey background.
        t_stim: Stimulus period (s).
        dt: Time step (s).
        t_impulse: Impulse duration (s); ``None`` means ``dt`` (one frame).
        n_ommatidia: Number of hexals of the eye (721).
        t_pre: Grey time before the stimulus (s).
        t_post: Grey time after the stimulus (s).
        intensity: Intensity of the bright dot; the dark dot has ``2 *
            bg_intensity - intensity``.
        mode: ``"sustained"`` (dot for the whole ``t_stim``) or ``"impulse"``
            (dot for ``t_impulse``, then grey until ``t_stim``).
        device: Device of the returned tensors (default ``flyvis.device``).

    Attributes:
        arg_df: Columns ``u, v, offset, coordinate_index, intensity`` (positions
            slowest, intensities ``[2 bg - intensity, intensity]`` fastest);
            ``offset`` is a running position counter, ``coordinate_index`` the
            int64 array of hexal indices of the dot.
        config: :class:`datamate.Namespace` of the arguments (without device).

    Raises:
        ValueError: If ``dot_column_radius > max_extent`` or ``mode`` is unknown.
    """

    augment = False

    def __init__(
        self,
        dot_column_radius: int = 0,
        max_extent: int = 15,
        bg_intensity: float = 0.5,
        t_stim: float = 5,
        dt: float = 1 / 200,
        t_impulse: Optional[float] = None,
        n_ommatidia: int = 721,
        t_pre: float = 2.0,
        t_post: float = 0,
        intensity: float = 1,
        mode: str = "sustained",
        device: Optional[Union[str, torch.device]] = None,
    ):
        if dot_column_radius > max_extent:
            raise ValueError(
                f"dot_column_radius ({dot_column_radius}) must not exceed "
                f"max_extent ({max_extent})."
            )
        if mode not in ("sustained", "impulse"):
            raise ValueError(f"mode must be 'sustained' or 'impulse', got {mode!r}.")
        self.dot_column_radius = dot_column_radius
        self.max_extent = max_extent
        self.bg_intensity = bg_intensity
        self.t_stim = t_stim
        self.dt = dt
        self._t_impulse = t_impulse
        self.n_ommatidia = n_ommatidia
        self.t_pre = t_pre
        self.t_post = t_post
        self.intensity = intensity
        self.mode = mode
        self.device = _device(device)
        self.config = Namespace(
            dot_column_radius=dot_column_radius,
            max_extent=max_extent,
            bg_intensity=bg_intensity,
            t_stim=t_stim,
            dt=dt,
            t_impulse=t_impulse,
            n_ommatidia=n_ommatidia,
            t_pre=t_pre,
            t_post=t_post,
            intensity=intensity,
            mode=mode,
        )
        u_all, v_all = get_hex_coords(get_hextent(n_ommatidia))
        self.u, self.v = get_hex_coords(max_extent)
        self.offsets = np.arange(len(self.u))
        self.coordinate_index = [
            np.flatnonzero(hex_distance(u_all, v_all, u, v) <= dot_column_radius)
            for u, v in zip(self.u, self.v)
        ]
        self.intensities = [2 * bg_intensity - intensity, intensity]
        rows = [
            (int(self.u[p]), int(self.v[p]), int(p), self.coordinate_index[p], i)
            for p, i in product(self.offsets, self.intensities)
        ]
        self.arg_df = pd.DataFrame(
            rows, columns=["u", "v", "offset", "coordinate_index", "intensity"]
        )

    @property
    def t_impulse(self) -> float:
        """Impulse duration (s); ``dt`` unless set."""
        return self.dt if self._t_impulse is None else self._t_impulse

    @t_impulse.setter
    def t_impulse(self, value: Optional[float]) -> None:
        self._t_impulse = value

    def get_item(self, key: int) -> torch.Tensor:
        """Dot sequence ``key``: float32 ``(frames, hexals)`` on ``device``.

        Frames: ``int((t_stim + t_pre + t_post) / dt)``: grey pre-padding, the
        dot (sustained for ``int(t_stim / dt)`` frames, or ``int(t_impulse /
        dt)`` frames followed by grey up to ``int(t_stim / dt)``), grey
        post-padding.

        Args:
            key: Row of ``arg_df``.

        Returns:
            The sequence.
        """
        row = self.arg_df.iloc[key]
        frame = torch.full((self.n_ommatidia,), float(self.bg_intensity))
        frame[torch.as_tensor(row.coordinate_index, dtype=torch.long)] = float(
            row.intensity
        )
        n_stim = int(self.t_stim / self.dt)
        if self.mode == "sustained":
            stim = frame[None].repeat(n_stim, 1)
        else:
            if self.t_impulse == self.dt:
                n_impulse = 1
            else:
                n_impulse = int(self.t_impulse / self.dt)
            stim = frame[None].repeat(n_impulse, 1)
            stim = pad(stim, self.t_stim, self.dt, fill=self.bg_intensity, mode="end")
        stim = pad(
            stim, self.t_stim + self.t_pre, self.dt, fill=self.bg_intensity, mode="start"
        )
        stim = pad(
            stim,
            self.t_stim + self.t_pre + self.t_post,
            self.dt,
            fill=self.bg_intensity,
            mode="end",
        )
        return stim.to(self.device)

    def get_stimulus_index(self, u: int, v: int, intensity: float) -> int:  # type: ignore[override]
        """Row index of the dot at ``(u, v)`` with ``intensity``.

        Args:
            u: Lattice coordinate u.
            v: Lattice coordinate v.
            intensity: Dot intensity.

        Returns:
            The ``arg_df`` row index.
        """
        return StimulusDataset.get_stimulus_index(
            self, dict(u=u, v=v, intensity=intensity)
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__} dataset.\nConfig: {self.config}\n{self.arg_df}"


class _Impulses(StimulusDataset):
    """Dots rows x impulse durations (shared by Central/SpatialImpulses)."""

    augment = False

    def _setup(self, impulse_durations: List[float], dots: Dots) -> None:
        self.dots = dots
        self.impulse_durations = list(impulse_durations)
        self.config = Namespace(
            **dots.config.to_dict(), impulse_durations=self.impulse_durations
        )
        rows = [
            (*row, duration)
            for row in dots.arg_df.itertuples(index=False)
            for duration in self.impulse_durations
        ]
        self.arg_df = pd.DataFrame(rows, columns=[*dots.arg_df.columns, "t_impulse"])

    @property
    def dt(self) -> float:
        """Time step (s) (of the wrapped :class:`Dots`)."""
        return self.dots.dt

    @dt.setter
    def dt(self, value: float) -> None:
        self.dots.dt = value
        self.dots.config.dt = value
        self.config.dt = value

    @property
    def t_pre(self) -> float:
        """Grey time before the stimulus (s)."""
        return self.dots.t_pre

    @property
    def t_post(self) -> float:
        """Grey time after the stimulus (s)."""
        return self.dots.t_post

    def get_item(self, key: int) -> torch.Tensor:
        """Impulse sequence ``key``: float32 ``(frames, hexals)``.

        Args:
            key: Row of ``arg_df``.

        Returns:
            The dot sequence with the row's impulse duration.
        """
        dots_key, duration_index = divmod(int(key), len(self.impulse_durations))
        self.dots.t_impulse = self.impulse_durations[duration_index]
        return self.dots[dots_key]

    def __repr__(self) -> str:
        return f"{type(self).__name__} dataset.\nConfig: {self.config}\n{self.arg_df}"


class CentralImpulses(_Impulses):
    """Impulses of several durations at the central hexal (or disc).

    Args:
        impulse_durations: Impulse durations (s).
        dot_column_radius: Dot radius in columns.
        bg_intensity: Grey background.
        t_stim: Stimulus period (s).
        dt: Time step (s).
        n_ommatidia: Number of hexals.
        t_pre: Grey time before (s).
        t_post: Grey time after (s).
        intensity: Bright intensity (the dark one is ``2 bg - intensity``).
        mode: ``"impulse"`` or ``"sustained"``.
        device: Device of the returned tensors.
        **kwargs: Ignored (``max_extent``, ``t_impulse`` of a stored config).

    Attributes:
        arg_df: :class:`Dots` rows x durations, columns ``u, v, offset,
            coordinate_index, intensity, t_impulse`` (12 rows by default).
        config: The Dots config plus ``impulse_durations``.
    """

    def __init__(
        self,
        impulse_durations: Sequence[float] = (5e-3, 20e-3, 50e-3, 100e-3, 200e-3, 300e-3),
        dot_column_radius: int = 0,
        bg_intensity: float = 0.5,
        t_stim: float = 5,
        dt: float = 0.005,
        n_ommatidia: int = 721,
        t_pre: float = 2.0,
        t_post: float = 0,
        intensity: float = 1,
        mode: str = "impulse",
        device: Optional[Union[str, torch.device]] = None,
        **kwargs: Any,
    ):
        dots = Dots(
            dot_column_radius=dot_column_radius,
            max_extent=dot_column_radius,
            bg_intensity=bg_intensity,
            t_stim=t_stim,
            dt=dt,
            n_ommatidia=n_ommatidia,
            t_pre=t_pre,
            t_post=t_post,
            intensity=intensity,
            mode=mode,
            device=device,
        )
        self._setup(impulse_durations, dots)


class SpatialImpulses(_Impulses):
    """Impulses at every position within ``max_extent`` of the centre.

    Args:
        impulse_durations: Impulse durations (s).
        max_extent: Radius of the set of positions (4 -> 61 positions).
        dot_column_radius: Dot radius in columns.
        bg_intensity: Grey background.
        t_stim: Stimulus period (s).
        dt: Time step (s).
        n_ommatidia: Number of hexals.
        t_pre: Grey time before (s).
        t_post: Grey time after (s).
        intensity: Bright intensity.
        mode: ``"impulse"`` or ``"sustained"``.
        device: Device of the returned tensors.
        **kwargs: Ignored (e.g. ``t_impulse`` of a stored config).

    Attributes:
        arg_df: 61 positions x 2 intensities x 2 durations = 244 rows by default.
        config: The Dots config plus ``impulse_durations``.
    """

    def __init__(
        self,
        impulse_durations: Sequence[float] = (5e-3, 20e-3),
        max_extent: int = 4,
        dot_column_radius: int = 0,
        bg_intensity: float = 0.5,
        t_stim: float = 5,
        dt: float = 0.005,
        n_ommatidia: int = 721,
        t_pre: float = 2.0,
        t_post: float = 0,
        intensity: float = 1,
        mode: str = "impulse",
        device: Optional[Union[str, torch.device]] = None,
        **kwargs: Any,
    ):
        dots = Dots(
            dot_column_radius=dot_column_radius,
            max_extent=max_extent,
            bg_intensity=bg_intensity,
            t_stim=t_stim,
            dt=dt,
            n_ommatidia=n_ommatidia,
            t_pre=t_pre,
            t_post=t_post,
            intensity=intensity,
            mode=mode,
            device=device,
        )
        self._setup(impulse_durations, dots)
