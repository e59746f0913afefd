"""Moving bars and edges (``MovingBar``, ``MovingEdge``) on the hexagonal eye.

Units (as in flyvis 1.2.0 and Gruntman et al. 2018): bar widths, heights and
offsets are given in LEDs of 2.25° (``led_width = radians(2.25)``), speeds in
columns per second, one column being the inter-ommatidial angle of 5.8°
(``omm_width = radians(5.8)``). An offset of ``k`` LEDs places the bar's centre
``k * 2.25°`` along the motion direction from ``bar_loc_horizontal - 90°``
(90° = the centre of the field of view), i.e. ``k * 2.25 / 5.8`` columns.
Directions (``angles``, degrees) are counter-clockwise from rightward in the
eye frame: 0° moves towards larger ``x = 1.5 v`` of
:func:`~flyvis.utils.hex_utils.hex_to_pixel`, 90° upwards (towards ``-u``).
See :mod:`flyvis.datasets.rendering.hexeye` for the geometry and the analytic
renderer (hexagon-averaged coverage of the bar; no image rotation).

Deliberate differences from flyvis 1.2.0 (documented defects):

* The grey background is exactly ``bg_intensity`` (0.5) at every angle
  (flyvis' 8-bit image rotation turned it into ``127/255`` for angles that
  are not multiples of 360°). Bar sizes and positions are exact rather than
  truncated to whole pixels.
* Setting ``dt`` after construction re-samples the stimuli at the new time
  step (flyvis only logged "Cannot override dt" and kept the old value).
* Rendering is analytic and takes about a second for the default
  ``MovingEdge`` (flyvis: most of an hour and several GB); the per-speed
  sequences are built on demand per item instead of all at once.

Source: ``spec/datasets.md`` §7.
"""

import logging
import math
from itertools import product
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import pandas as pd
import torch
from datamate import Directory, Namespace

import flyvis
from flyvis.datasets.datasets import StimulusDataset
from flyvis.datasets.moving_bar_utils import (
    MovingBarAccessMixin,
    _plain,
    filter_post,
    filter_pre,
)
from flyvis.datasets.rendering.hexeye import render_bars
from flyvis.datasets.rendering.utils import pad
from flyvis.utils.directories import dynamic_root, reopen_by_path

__all__ = ["RenderedOffsets", "MovingBar", "MovingEdge", "filter_post", "filter_pre"]

logger = logging.getLogger(__name__)

#: Width of one LED of the Gruntman et al. (2018) display (radians).
LED_WIDTH = math.radians(2.25)
#: Inter-ommatidial angle = one column (radians).
OMM_WIDTH = math.radians(5.8)
#: Sample points per column along each axis used to average over a hexagon.
RENDER_PPO = 25
#: Default motion directions (degrees).
DEFAULT_ANGLES = list(range(0, 360, 30))  # copied by every user, never mutated
#: Default speeds (columns per second).
DEFAULT_SPEEDS = [2.4, 4.8, 9.7, 13, 19, 25]


@reopen_by_path
@dynamic_root("renderings")
class RenderedOffsets(Directory):
    """Config-keyed cache of rendered bar positions (datamate Directory).

    For every ``(angle, width, intensity)`` in product order the bar is
    rendered at every offset (analytic hexagon averaging, see
    :func:`flyvis.datasets.rendering.hexeye.render_bars`) on the 721-hexal
    eye. Stored as ``offsets.h5``: float64 ``(n_angles * n_widths *
    n_intensities, n_offsets, 721)``.

    Args:
        offsets: Bar positions in LEDs.
        angles: Motion directions in degrees.
        widths: Bar widths in LEDs.
        intensities: Bar intensities.
        led_width: LED width in radians.
        height: Bar height in radians.
        n_bars: Number of bars.
        bg_intensity: Background intensity.
        bar_loc_horizontal: Horizontal reference location in radians
            (``pi/2`` = centre of the field of view).
        ppo: Sample points per column used for the hexagon averages (not a
            flyvis parameter; distinguishes these renderings from flyvis').
    """

    def __init__(
        self,
        offsets: list = list(range(-10, 11)),  # noqa: B006 (not mutated)
        angles: list = DEFAULT_ANGLES,
        widths: list = [1, 2, 4],  # noqa: B006 (not mutated)
        intensities: list = [0, 1],  # noqa: B006 (not mutated)
        led_width: float = LED_WIDTH,
        height: float = LED_WIDTH * 9,
        n_bars: int = 1,
        bg_intensity: float = 0.5,
        bar_loc_horizontal: float = math.radians(90),
        ppo: int = RENDER_PPO,
    ):
        values = render_bars(
            angles=list(angles),
            widths=np.asarray(widths, dtype=float) * led_width,
            offsets=np.asarray(offsets, dtype=float) * led_width,
            height=height,
            intensities=list(intensities),
            bg_intensity=bg_intensity,
            bar_loc_horizontal=bar_loc_horizontal,
            n_bars=n_bars,
            ppo=ppo,
        )
        n_a, n_w, n_i, n_o, n_h = values.shape
        self.offsets = values.reshape(n_a * n_w * n_i, n_o, n_h)


class MovingBar(MovingBarAccessMixin, StimulusDataset):
    """Bars of light or darkness moving across the eye at constant speed.

    One sample per ``(angle, width, intensity, speed)`` (product order, speed
    fastest). The bar steps through the ``offsets`` (LED positions) in
    ``t_stim = len(offsets) * led_width / (speed * omm_width)`` seconds:
    frame ``j`` of the ``int(t_stim / dt)`` stimulus frames shows offset index
    ``int(linspace(0, n_offsets - 1, int(t_stim / dt))[j])``. The stimulus is
    preceded by ``t_pre`` s of grey (0.5), followed by ``t_post`` s of
    ``post_pad_mode`` padding, and NaN-padded at the end to the length of the
    slowest speed, ``int((t_stim_max + t_pre + t_post) / dt)`` frames, so that
    all samples have the same length.

    Args:
        widths: Bar widths in LEDs (2.25°).
        offsets: ``(start, stop)`` -> ``np.arange(start, stop)`` LED positions
            (21 by default), or an explicit sequence with unit spacing.
        intensities: Bar intensities (the background is 0.5).
        speeds: Speeds in columns (5.8°) per second.
        height: Bar height in LEDs.
        dt: Time step (s). Assigning a new value later re-samples.
        device: Device of the returned tensors (default ``flyvis.device``).
        bar_loc_horizontal: Horizontal reference location in radians
            (``radians(90)``: the bar at offset 0 is centred in the field).
        post_pad_mode: ``"value"`` (grey 0.5), ``"continue"`` (repeat the last
            stimulus frame) or ``"reflect"``.
        t_pre: Grey time before the stimulus (s).
        t_post: Padding time after the stimulus (s).
        build_stim_on_init: Render (or load) the bar positions now; otherwise
            on first use.
        shuffle_offsets: Randomly permute the stimulus frames (destroys the
            motion) with ``numpy.random.RandomState(seed)``.
        seed: Seed of the shuffle.
        angles: Motion directions in degrees, counter-clockwise from rightward
            (0° = +x, 90° = up in the ``hex_to_pixel`` frame).

    Attributes:
        arg_df: Columns ``angle, width, intensity, t_stim, speed``.
        arg_group_df: Unique ``(angle, width, intensity)`` groups.
        config: :class:`datamate.Namespace` of the arguments (``dt`` kept up
            to date), so ``type(self)(**config.to_dict())`` rebuilds it.
        t_stim: Stimulus duration per speed (s), array ``(n_speeds,)``.
        t_stim_max: Longest stimulus duration (s).
        n_frames: Frames of every sample, ``int((t_stim_max + t_pre + t_post) / dt)``.
    """

    augment = False

    def __init__(
        self,
        widths: Sequence[float] = (1, 2, 4),
        offsets: Sequence[int] = (-10, 11),
        intensities: Sequence[float] = (0, 1),
        speeds: List[float] = DEFAULT_SPEEDS,
        height: float = 9,
        dt: float = 1 / 200,
        device: Optional[Union[str, torch.device]] = None,
        bar_loc_horizontal: float = math.radians(90),
        post_pad_mode: str = "value",
        t_pre: float = 1.0,
        t_post: float = 1.0,
        build_stim_on_init: bool = True,
        shuffle_offsets: bool = False,
        seed: int = 0,
        angles: Sequence[float] = DEFAULT_ANGLES,
    ):
        if post_pad_mode not in ("value", "continue", "reflect"):
            raise ValueError(
                "post_pad_mode must be 'value', 'continue' or 'reflect', "
                f"got {post_pad_mode!r}."
            )
        offsets_arg = _plain(offsets)
        if len(offsets_arg) == 2:
            self.offsets = np.arange(*offsets_arg)
        else:
            self.offsets = np.asarray(offsets_arg)
            if len(self.offsets) > 1 and not np.allclose(np.diff(self.offsets), 1):
                raise ValueError(
                    "offsets must be a (start, stop) pair or a sequence with unit "
                    f"spacing, got {offsets_arg}."
                )
        if len(self.offsets) == 0:
            raise ValueError(f"offsets {offsets_arg} give no bar positions.")
        self.widths = _plain(list(widths))
        self.intensities = _plain(list(intensities))
        self.speeds = _plain(list(speeds))
        self.angles = _plain(list(angles))
        self.led_width = LED_WIDTH
        self.omm_width = OMM_WIDTH
        self.height = LED_WIDTH * height
        self.bar_loc_horizontal = float(bar_loc_horizontal)
        self.post_pad_mode = post_pad_mode
        self.shuffle_offsets = bool(shuffle_offsets)
        self.seed = seed
        self.device = (
            flyvis.select_device(device) if device is not None else flyvis.device
        )
        self._t_pre = float(t_pre)
        self._t_post = float(t_post)
        self._dt = float(dt)
        self.bg_intensity = 0.5

        self.config = Namespace(
            widths=self.widths,
            offsets=offsets_arg,
            intensities=self.intensities,
            speeds=self.speeds,
            height=_plain(height),
            bar_loc_horizontal=self.bar_loc_horizontal,
            shuffle_offsets=self.shuffle_offsets,
            post_pad_mode=post_pad_mode,
            t_pre=self._t_pre,
            t_post=self._t_post,
            dt=self._dt,
            angles=self.angles,
        )

        self.t_stim = np.array(
            [len(self.offsets) * LED_WIDTH / (s * OMM_WIDTH) for s in self.speeds]
        )
        self._t_stim_of = dict(zip(self.speeds, self.t_stim.tolist()))
        self.t_stim_max = float(np.max(self.t_stim))
        rows = [
            (angle, width, intensity, self._t_stim_of[speed], speed)
            for angle, width, intensity, speed in product(
                self.angles, self.widths, self.intensities, self.speeds
            )
        ]
        self.arg_df = pd.DataFrame(
            rows, columns=["angle", "width", "intensity", "t_stim", "speed"]
        )
        self.arg_group_df = (
            self.arg_df[["angle", "width", "intensity"]]
            .drop_duplicates()
            .reset_index(drop=True)
        )
        self._rendered: Optional[torch.Tensor] = None
        self.offsets_dir: Optional[RenderedOffsets] = None
        self._perms: Optional[Dict[float, np.ndarray]] = None
        self._sequences: Optional[Dict[float, torch.Tensor]] = None
        if build_stim_on_init:
            self._build()

    # ------------------------------------------------------------------
    # rendering and resampling

    def _rendered_config(self) -> Dict[str, Any]:
        return dict(
            angles=self.angles,
            widths=self.widths,
            intensities=self.intensities,
            offsets=_plain(self.offsets),
            led_width=self.led_width,
            height=self.height,
            n_bars=1,
            bg_intensity=self.bg_intensity,
            bar_loc_horizontal=self.bar_loc_horizontal,
            ppo=RENDER_PPO,
        )

    def _build(self) -> None:
        """Renders (or loads) the bar positions: ``(n_groups, n_offsets, 721)``."""
        self.offsets_dir = RenderedOffsets(self._rendered_config())
        self._rendered = torch.tensor(
            self.offsets_dir.offsets[:], dtype=torch.float32, device=self.device
        )

    @property
    def rendered(self) -> torch.Tensor:
        """Rendered bar positions ``(n_groups, n_offsets, hexals)`` (float32)."""
        if self._rendered is None:
            self._build()
        return self._rendered

    def _n_stim(self, speed: float) -> int:
        return int(self._t_stim_of[speed] / self.dt)

    def _permutations(self) -> Dict[float, np.ndarray]:
        """Frame permutations per speed and group (drawn in speed order)."""
        if self._perms is None:
            rs = np.random.RandomState(self.seed)
            n_groups = len(self.arg_group_df)
            self._perms = {
                speed: np.stack(
                    [rs.permutation(self._n_stim(speed)) for _ in range(n_groups)]
                )
                for speed in self.speeds
            }
        return self._perms

    def _resample(self, speed: float, groups: Optional[Sequence[int]] = None):
        """Sequences of the given groups at one speed, ``(G, n_frames, hexals)``.

        Args:
            speed: One of ``speeds``.
            groups: Row indices of ``arg_group_df`` (default: all).

        Returns:
            float32 tensor on ``device``.
        """
        t_stim = self._t_stim_of[speed]
        dt = self.dt
        stims = self.rendered
        if groups is not None:
            stims = stims[torch.as_tensor(list(groups), device=stims.device)]
        n_offsets = stims.shape[1]
        idx = torch.linspace(0, n_offsets - 1, int(t_stim / dt), dtype=torch.float32)
        stims = stims[:, idx.long().to(stims.device)]
        if self.shuffle_offsets:
            perms = self._permutations()[speed]
            if groups is not None:
                perms = perms[list(groups)]
            perms = torch.from_numpy(perms).to(stims.device)
            rows = torch.arange(stims.shape[0], device=stims.device)[:, None]
            stims = stims[rows, perms]
        stims = pad(stims, t_stim + self.t_pre, dt, fill=self.bg_intensity, mode="start")
        stims = pad(
            stims,
            t_stim + self.t_pre + self.t_post,
            dt,
            fill=self.bg_intensity,
            mode="end",
            pad_mode=self.post_pad_mode,
        )
        return pad(
            stims,
            self.t_stim_max + self.t_pre + self.t_post,
            dt,
            fill=float("nan"),
            mode="end",
        )

    @property
    def sequences(self) -> Dict[float, torch.Tensor]:
        """All sequences per speed, ``{speed: (n_groups, n_frames, hexals)}``.

        Built on first access (float32; 448 MB for the default
        ``MovingEdge``); items are computed on demand without it.
        """
        if self._sequences is None:
            self._sequences = {speed: self._resample(speed) for speed in self.speeds}
        return self._sequences

    # ------------------------------------------------------------------
    # timing

    @property
    def dt(self) -> float:
        """Time step (s); assigning a new value re-samples all stimuli."""
        return self._dt

    @dt.setter
    def dt(self, value: float) -> None:
        value = float(value)
        if value == getattr(self, "_dt", None):
            return
        logger.info(
            "MovingBar: re-sampling the stimuli at dt=%s (was %s).", value, self._dt
        )
        self._dt = value
        self.config.dt = value
        self._perms = None
        self._sequences = None

    @property
    def t_pre(self) -> float:
        """Grey time before the stimulus (s)."""
        return self._t_pre

    @property
    def t_post(self) -> float:
        """Padding time after the stimulus (s)."""
        return self._t_post

    @property
    def n_frames(self) -> int:
        """Frames of every sample (all speeds share this length)."""
        return int((self.t_stim_max + self.t_pre + self.t_post) / self.dt)

    @property
    def time(self) -> np.ndarray:
        """Time axis ``arange(-t_pre, t_stim_max + t_post - dt, dt)`` (s)."""
        return np.arange(-self.t_pre, self.t_stim_max + self.t_post - self.dt, self.dt)

    def time_to_center(self, speed: float) -> float:
        """Time from onset until the bar reaches offset 0 (s).

        Args:
            speed: Speed in columns per second.

        Returns:
            ``|offsets[0]| * led_width / (speed * omm_width)``.
        """
        return float(np.abs(self.offsets[0]) * self.led_width / (speed * self.omm_width))

    def _n_time_points(self) -> int:
        return (
            int(self.t_stim_max / self.dt)
            + int(self.t_post / self.dt)
            + int(self.t_pre / self.dt)
        )

    def get_time_with_origin_at_onset(self) -> np.ndarray:
        """Time axis with 0 at stimulus onset (s).

        Returns:
            ``linspace(-t_pre, t_stim_max + t_post, n)`` with ``n =
            int(t_stim_max/dt) + int(t_post/dt) + int(t_pre/dt)``.
        """
        return np.linspace(
            -self.t_pre, self.t_stim_max + self.t_post, self._n_time_points()
        )

    def get_time_with_origin_at_center(self, speed: float) -> np.ndarray:
        """Time axis with 0 when the bar passes the centre (s).

        Args:
            speed: Speed in columns per second.

        Returns:
            The onset time axis shifted by ``-time_to_center(speed)``.
        """
        return self.get_time_with_origin_at_onset() - self.time_to_center(speed)

    # ------------------------------------------------------------------
    # items and lookup

    def get_item(self, key: int) -> torch.Tensor:
        """Sample ``key`` as a float32 tensor ``(n_frames, hexals)`` on ``device``.

        Args:
            key: Row of ``arg_df``.

        Returns:
            The NaN-padded stimulus.
        """
        n_speeds = len(self.speeds)
        group, speed_index = divmod(int(key), n_speeds)
        return self._resample(self.speeds[speed_index], [group])[0]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__} dataset.\nConfig: {self.config}\n"
            f"Parametrization:\n{self.arg_df}"
        )


class MovingEdge(MovingBar):
    """Moving ON and OFF edges: a bar 80 LEDs (180°) wide with its leading side moving.

    ``widths=[80]`` and ``bar_loc_horizontal=0`` are fixed, so the bar covers
    everything behind its leading edge, which sweeps from ``offsets[0] *
    2.25°`` to ``(offsets[-1]) * 2.25°`` around the centre (-22.5° .. +22.5° by
    default) and crosses the central column ``time_to_center(speed)`` s after
    onset. Intensity 1 gives an ON edge (bright behind, grey ahead), 0 an OFF
    edge. ``height`` defaults to 9 LEDs as in flyvis (a 20° high edge); the
    analyses use ``height=80`` (full field).

    Args:
        offsets: ``(start, stop)`` LED positions of the edge.
        intensities: Edge intensities.
        speeds: Speeds in columns per second.
        height: Height in LEDs.
        dt: Time step (s).
        device: Device of the returned tensors.
        post_pad_mode: ``"continue"`` (default), ``"value"`` or ``"reflect"``.
        t_pre: Grey time before (s).
        t_post: Padding time after (s).
        build_stim_on_init: Render now (else on first use).
        shuffle_offsets: Shuffle the frames.
        seed: Seed of the shuffle.
        angles: Motion directions in degrees.
        **kwargs: Ignored (e.g. ``widths``, ``bar_loc_horizontal`` from a
            stored config).
    """

    def __init__(
        self,
        offsets: Sequence[int] = (-10, 11),
        intensities: Sequence[float] = (0, 1),
        speeds: List[float] = DEFAULT_SPEEDS,
        height: float = 9,
        dt: float = 1 / 200,
        device: Optional[Union[str, torch.device]] = None,
        post_pad_mode: str = "continue",
        t_pre: float = 1.0,
        t_post: float = 1.0,
        build_stim_on_init: bool = True,
        shuffle_offsets: bool = False,
        seed: int = 0,
        angles: Sequence[float] = DEFAULT_ANGLES,
        **kwargs,
    ):
        super().__init__(
            widths=[80],
            offsets=offsets,
            intensities=intensities,
            speeds=speeds,
            height=height,
            dt=dt,
            device=device,
            bar_loc_horizontal=math.radians(0),
            post_pad_mode=post_pad_mode,
            t_pre=t_pre,
            t_post=t_post,
            build_stim_on_init=build_stim_on_init,
            shuffle_offsets=shuffle_offsets,
            seed=seed,
            angles=angles,
        )
