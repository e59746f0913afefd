"""Helpers of :mod:`flyvis.datasets.moving_bar`: response windows and parameter queries.

:func:`filter_post` and :func:`filter_pre` cut the post-/pre-stimulus windows
out of responses; :class:`MovingBarAccessMixin` gives
:class:`~flyvis.datasets.moving_bar.MovingBar` its parameter look-ups
(``get``, ``mask``, ``stimulus``, ...). Both are re-exported by
:mod:`flyvis.datasets.moving_bar`, which keeps the dataset classes.

Source: ``spec/datasets.md`` §7.
"""

# NB: no ``from __future__ import annotations``: the mixin's annotations stay
# evaluated, as they were in :mod:`flyvis.datasets.moving_bar`.

from typing import Any, Iterable, Tuple

import numpy as np
import torch

__all__ = ["filter_post", "filter_pre", "MovingBarAccessMixin"]


def _plain(value: Any) -> Any:
    """Converts numpy scalars/arrays and tuples to plain Python (YAML-safe)."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def filter_post(resp, t_post: float, dt: float, axis: int = 0):
    """Removes the post-stimulus window from a (NaN-padded) response.

    The window is the ``int(t_post / dt)`` frames before the first frame that
    contains a NaN (the NaN padding that aligns all speeds), or the last
    ``int(t_post / dt)`` frames if there is no NaN. The NaN padding is removed
    as well.

    Args:
        resp: Array or tensor with frames along ``axis``.
        t_post: Post-stimulus time (s).
        dt: Time step (s).
        axis: Frame axis.

    Returns:
        The response up to the end of the stimulus (a view/slice of ``resp``).
    """
    n_post = int(t_post / dt)
    values = resp.detach().cpu().numpy() if isinstance(resp, torch.Tensor) else resp
    isnan = np.isnan(np.asarray(values, dtype=float))
    isnan = np.moveaxis(isnan, axis, 0).reshape(isnan.shape[axis], -1).any(axis=1)
    end = int(np.argmax(isnan)) if isnan.any() else isnan.shape[0]
    stop = max(end - n_post, 0)
    index = [slice(None)] * resp.ndim
    index[axis] = slice(0, stop)
    return resp[tuple(index)]


def filter_pre(resp, t_pre: float, dt: float, axis: int = 0):
    """Drops the first ``int(t_pre / dt)`` frames (the pre-stimulus grey).

    Args:
        resp: Array or tensor with frames along ``axis``.
        t_pre: Pre-stimulus time (s).
        dt: Time step (s).
        axis: Frame axis.

    Returns:
        The response from stimulus onset on.
    """
    index = [slice(None)] * resp.ndim
    index[axis] = slice(int(t_pre / dt), None)
    return resp[tuple(index)]


def _is_iterable(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, (str, bytes))


class MovingBarAccessMixin:
    """Parameter look-ups of :class:`~flyvis.datasets.moving_bar.MovingBar`.

    Relies on the dataset's ``arg_df``, ``get_stimulus_index``, parameter
    lists (``angles``, ``widths``, ``intensities``, ``speeds``), ``t_pre``,
    ``t_post``, ``dt`` and ``_n_stim``.
    """

    def _key(self, angle: float, width: float, intensity: float, speed: float) -> int:
        return self.get_stimulus_index(
            dict(angle=angle, width=width, intensity=intensity, speed=speed)
        )

    def get_sequence_id_from_arguments(
        self, angle: float, width: float, intensity: float, speed: float
    ) -> int:
        """Row index of a parameter combination.

        Args:
            angle: Direction (degrees).
            width: Width (LEDs).
            intensity: Intensity.
            speed: Speed (columns/s).

        Returns:
            The ``arg_df`` row index.
        """
        return self._key(angle, width, intensity, speed)

    def get(self, angle: float, width: float, intensity: float, speed: float):
        """The sample of a parameter combination, ``(n_frames, hexals)``.

        Args:
            angle: Direction (degrees).
            width: Width (LEDs).
            intensity: Intensity.
            speed: Speed (columns/s).

        Returns:
            float32 tensor.
        """
        return self[self._key(angle, width, intensity, speed)]

    def mask(
        self,
        angle=None,
        width=None,
        intensity=None,
        speed=None,
        t_stim=None,
    ) -> np.ndarray:
        """Boolean row mask of ``arg_df``.

        Each argument is ``None`` (any), a value or an iterable of values (OR
        within a parameter); parameters are combined with AND.

        Args:
            angle: Direction(s) in degrees.
            width: Width(s) in LEDs.
            intensity: Intensity(ies).
            speed: Speed(s) in columns/s.
            t_stim: Stimulus duration(s) in s.

        Returns:
            Boolean array ``(len(arg_df),)``.

        Raises:
            ValueError: If a requested value does not occur in ``arg_df``.
        """
        mask = np.ones(len(self.arg_df), dtype=bool)
        for column, value in (
            ("angle", angle),
            ("width", width),
            ("intensity", intensity),
            ("speed", speed),
            ("t_stim", t_stim),
        ):
            if value is None:
                continue
            values = list(value) if _is_iterable(value) else [value]
            available = self.arg_df[column].to_numpy()
            column_mask = np.zeros(len(self.arg_df), dtype=bool)
            for v in values:
                hit = np.isclose(available, v)
                if not hit.any():
                    raise ValueError(
                        f"{column}={v} is not a parameter of this dataset "
                        f"(available: {sorted(set(available.tolist()))})."
                    )
                column_mask |= hit
            mask &= column_mask
        return mask

    def stimulus(
        self,
        angle: float,
        width: float,
        intensity: float,
        speed: float,
        pre_stim: bool = True,
        post_stim: bool = True,
    ) -> np.ndarray:
        """Stimulus trace of the central hexal.

        Args:
            angle: Direction (degrees).
            width: Width (LEDs).
            intensity: Intensity.
            speed: Speed (columns/s).
            pre_stim: Keep the pre-stimulus grey.
            post_stim: Keep the post-stimulus padding (and the NaN tail).

        Returns:
            float array ``(frames,)``.
        """
        stim = self.get(angle, width, intensity, speed).cpu().numpy()
        trace = stim[:, stim.shape[-1] // 2]
        if not post_stim:
            trace = filter_post(trace, self.t_post, self.dt)
        if not pre_stim:
            trace = filter_pre(trace, self.t_pre, self.dt)
        return trace

    def stimulus_parameters(
        self, angle=None, width=None, intensity=None, speed=None
    ) -> Tuple[list, list, list, list]:
        """The parameter values, all or the given ones.

        Args:
            angle: Direction(s) or None for all.
            width: Width(s) or None for all.
            intensity: Intensity(ies) or None for all.
            speed: Speed(s) or None for all.

        Returns:
            ``(angles, widths, intensities, speeds)`` as lists.
        """

        def as_list(value, default):
            if value is None:
                return list(default)
            return list(value) if _is_iterable(value) else [value]

        return (
            as_list(angle, self.angles),
            as_list(width, self.widths),
            as_list(intensity, self.intensities),
            as_list(speed, self.speeds),
        )

    def sample_shape(
        self, angle=None, width=None, intensity=None, speed=None
    ) -> Tuple[int, int, int, int]:
        """Number of values per parameter.

        Args:
            angle: Direction(s) or None for all.
            width: Width(s) or None for all.
            intensity: Intensity(ies) or None for all.
            speed: Speed(s) or None for all.

        Returns:
            ``(n_angles, n_widths, n_intensities, n_speeds)``.
        """
        params = self.stimulus_parameters(angle, width, intensity, speed)
        return tuple(len(p) for p in params)
