"""Direction selectivity of moving bar/edge responses (``spec/analysis.md`` §4).

The computations of :mod:`flyvis.analysis.moving_bar_responses` (which
re-exports them next to its plot functions); the plots in
:mod:`flyvis.analysis.visualization.tuning_plots` use this module.

Angles: degrees in the datasets, 0 = rightward motion, counter-clockwise
positive (90 = upward). Geometry: one LED is 2.25°, one column 5.8°.

Source: Lappalainen et al., Nature 2024 (Methods, "Direction selectivity
index"); Mazurek et al. 2014 (DSI as the normalised vector sum).
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np
import xarray as xr

from flyvis.analysis import reference_tables
from flyvis.analysis.correlation import pearson_along
from flyvis.analysis.xarray_accessor import where

__all__ = [
    "LED_WIDTH",
    "OMM_WIDTH",
    "time_window",
    "mask_between_seconds",
    "get_time_masks",
    "peak_responses",
    "peak_responses_angular",
    "direction_selectivity_index",
    "preferred_direction",
    "dsi_correlation_to_known",
    "angular_tuning",
    "simple_angle_distance",
    "angular_distances",
    "angular_distance_to_known",
]

LED_WIDTH = 2.25  # degrees
OMM_WIDTH = 5.8  # degrees
_STIM_DIMS = ["angle", "width", "intensity", "speed"]


def time_window(
    speed: float,
    from_column: float = -1.5,
    to_column: float = 1.5,
    start: float = -10,
    end: float = 11,
) -> Tuple[float, float]:
    """Time (s after onset) a bar moving at ``speed`` spends between two columns.

    Args:
        speed: Columns per second (> 0).
        from_column: First column (relative to the centre).
        to_column: Last column; one LED is added for symmetry.
        start: First bar offset (LEDs).
        end: Stop offset (LEDs).

    Returns:
        ``(t_start, t_end)`` in seconds.

    Raises:
        ValueError: If ``speed <= 0`` or the columns lie outside the bar's path.
    """
    if speed <= 0:
        raise ValueError(f"speed must be > 0 columns/s, got {speed}.")
    start_c = start * LED_WIDTH / OMM_WIDTH
    end_c = end * LED_WIDTH / OMM_WIDTH
    to_column = to_column + LED_WIDTH / OMM_WIDTH
    if abs(start_c) < abs(from_column) - 1e-9 or abs(end_c) < abs(to_column) - 1e-9:
        raise ValueError(
            f"columns {from_column}..{to_column} lie outside the bar path "
            f"{start_c:.3f}..{end_c:.3f}."
        )
    t_start = (abs(start_c) - abs(from_column)) / speed
    return t_start, t_start + (to_column - from_column) / speed


def mask_between_seconds(
    t_start: float,
    t_end: float,
    time: Optional[np.ndarray] = None,
    t_pre: Optional[float] = None,
    t_stim: Optional[float] = None,
    t_post: Optional[float] = None,
    dt: Optional[float] = None,
) -> np.ndarray:
    """Boolean mask ``t_start <= time <= t_end``.

    Args:
        t_start: Start (s).
        t_end: End (s).
        time: Time points (s); else ``arange(-t_pre, t_stim + t_post, dt)``.
        t_pre: Pre-stimulus time (s).
        t_stim: Stimulus time (s).
        t_post: Post-stimulus time (s).
        dt: Time step (s).

    Returns:
        Boolean array like ``time``.
    """
    if time is None:
        if None in (t_pre, t_stim, t_post, dt):
            raise ValueError("give time, or all of t_pre, t_stim, t_post and dt.")
        time = np.arange(-t_pre, t_stim + t_post - dt / 2, dt)
    time = np.asarray(time)
    return (time >= t_start - 1e-9) & (time <= t_end + 1e-9)


def get_time_masks(
    dataset: xr.Dataset, from_column: float = -1.5, to_column: float = 1.5
) -> xr.DataArray:
    """Per sample, the frames while the bar travels between two columns.

    Args:
        dataset: Moving bar/edge responses (``speed`` along ``sample``,
            ``time`` along ``frame``, ``attrs["config"]["offsets"]``).
        from_column: First column.
        to_column: Last column.

    Returns:
        Boolean DataArray ``(sample, frame)``.
    """
    start, end = dataset.attrs["config"]["offsets"][:2]
    time = dataset["time"].values
    speeds = dataset["speed"].values
    masks = np.stack(
        [
            mask_between_seconds(
                *time_window(s, from_column, to_column, start, end), time
            )
            for s in speeds
        ]
    )
    return xr.DataArray(masks, dims=("sample", "frame"))


def peak_responses(
    dataset: xr.Dataset,
    norm: Optional[Union[xr.DataArray, np.ndarray, float]] = None,
    from_degree: Optional[float] = None,
    to_degree: Optional[float] = None,
) -> xr.DataArray:
    """Peak rectified response while the bar crosses ``from_degree..to_degree``.

    Args:
        dataset: Moving bar/edge responses.
        norm: Divide the rectified responses by this (broadcast).
        from_degree: Default ``offsets[0] * 2.25`` (-22.5°).
        to_degree: Default ``(offsets[1] - 1) * 2.25`` (+22.5°); with the
            defaults the window is the whole stimulus period.

    Returns:
        DataArray ``(network_id, sample, neuron)`` >= 0.
    """
    offsets = dataset.attrs["config"]["offsets"]
    from_degree = offsets[0] * LED_WIDTH if from_degree is None else from_degree
    to_degree = (offsets[1] - 1) * LED_WIDTH if to_degree is None else to_degree
    masks = get_time_masks(dataset, from_degree / OMM_WIDTH, to_degree / OMM_WIDTH)
    responses = dataset["responses"].where(masks, 0.0).clip(min=0)
    if norm is not None:
        responses = responses / norm
    return responses.max(dim="frame").transpose("network_id", "sample", "neuron")


def peak_responses_angular(dataset: xr.Dataset, **kwargs) -> xr.DataArray:
    """Peak responses as complex vectors ``peak * exp(i * radians(angle))``.

    Args:
        dataset: Moving bar/edge responses.
        **kwargs: Passed to :func:`peak_responses`.

    Returns:
        Complex DataArray ``(network_id, sample, neuron)``.
    """
    peak = peak_responses(dataset, **kwargs)
    return peak * np.exp(1j * np.radians(peak["angle"]))


def _unstack(peak: xr.DataArray) -> xr.DataArray:
    """``sample`` -> dims ``(angle, width, intensity, speed)`` (appended)."""
    missing = [d for d in _STIM_DIMS if d not in peak.coords]
    if missing:
        raise ValueError(f"responses lack the stimulus coordinates {missing}.")
    extra = [c for c in peak.coords if "sample" in peak[c].dims and c not in _STIM_DIMS]
    peak = peak.drop_vars(extra).set_index(sample=_STIM_DIMS).unstack("sample")
    return peak


def direction_selectivity_index(
    dataset: xr.Dataset,
    average: bool = True,
    norm=None,
    from_degree: Optional[float] = None,
    to_degree: Optional[float] = None,
) -> xr.DataArray:
    """Direction selectivity index per network, cell and contrast.

    ``DSI = |sum_theta r(theta) e^{i theta}| / (max_intensity sum_theta |r(theta)| + 1e-15)``
    per width, speed and intensity, with ``r`` the peak responses
    (:func:`peak_responses`); the denominator is the max over both contrasts.

    Args:
        dataset: Moving bar/edge responses (or a peak-response DataArray
            ``(network_id, sample, neuron)``).
        average: Mean over ``width`` and ``speed``.
        norm: See :func:`peak_responses`.
        from_degree: See :func:`peak_responses`.
        to_degree: See :func:`peak_responses`.

    Returns:
        DataArray ``(network_id, neuron, intensity)`` (plus ``width, speed`` if
        not averaged) with values in 0 ... 1.
    """
    peak = (
        dataset
        if isinstance(dataset, xr.DataArray)
        else peak_responses(dataset, norm, from_degree, to_degree)
    )
    r = _unstack(peak)
    vector = (r * np.exp(1j * np.radians(r["angle"]))).sum("angle")
    denominator = np.abs(r).sum("angle").max("intensity")
    dsi = np.abs(vector) / (denominator + 1e-15)
    if average:
        dsi = dsi.mean(["width", "speed"])
    dims = ["network_id", "neuron", "intensity"]
    return dsi.transpose(*dims, ...).rename("dsi")


def preferred_direction(
    dataset: xr.Dataset,
    average: bool = True,
    norm=None,
    from_degree: Optional[float] = None,
    to_degree: Optional[float] = None,
) -> xr.DataArray:
    """Preferred direction: angle of the vector sum of the peak responses.

    Args:
        dataset: Moving bar/edge responses (or peak responses).
        average: Sum over ``width`` and ``speed`` too (else per width/speed).
        norm: See :func:`peak_responses`.
        from_degree: See :func:`peak_responses`.
        to_degree: See :func:`peak_responses`.

    Returns:
        DataArray ``(network_id, neuron, intensity)`` in radians (-pi ... pi],
        0 = rightward, counter-clockwise positive.
    """
    peak = (
        dataset
        if isinstance(dataset, xr.DataArray)
        else peak_responses(dataset, norm, from_degree, to_degree)
    )
    r = _unstack(peak)
    vector = (r * np.exp(1j * np.radians(r["angle"]))).sum("angle")
    if average:
        vector = vector.sum(["width", "speed"])
    angle = xr.apply_ufunc(np.angle, vector)
    return angle.transpose("network_id", "neuron", "intensity", ...).rename("pd")


def dsi_correlation_to_known(
    dsis: xr.DataArray, max_aggregate_dims: Sequence[str] = ("intensity",)
) -> xr.DataArray:
    """Pearson correlation of DSIs with known direction selectivity, per network.

    Uses the 18 ``known_dsi_types`` (1 for T4a-d/T5a-d, 0 for the 10 non-DS
    types), after the max over ``max_aggregate_dims``.

    Args:
        dsis: Output of :func:`direction_selectivity_index` (``cell_type``
            along ``neuron``, ``intensity`` of size 2).
        max_aggregate_dims: Dimensions to take the max over.

    Returns:
        DataArray ``(network_id,)``.

    Raises:
        ValueError: If ``intensity`` is not of size 2 or no known type is present.
    """
    if dsis.sizes.get("intensity") != 2:
        raise ValueError(
            f"dsis need an intensity dimension of size 2, got {dict(dsis.sizes)}."
        )
    types = [str(t) for t in dsis["cell_type"].values]
    known = [i for i, t in enumerate(types) if t in reference_tables.known_dsi_types]
    if not known:
        raise ValueError("none of the known direction-selectivity types is present.")
    sel = dsis.isel(neuron=known).max(list(max_aggregate_dims))
    target = xr.DataArray(
        [1.0 if types[i] in reference_tables.motion_tuning else 0.0 for i in known],
        dims=["neuron"],
    )
    sel = sel.drop_vars([c for c in sel.coords if "neuron" in sel[c].dims])
    return pearson_along(sel, target, "neuron")


def angular_tuning(
    peak_responses_da: xr.DataArray,
    cell_type: str,
    intensity: float,
    weighted_average: Optional[np.ndarray] = None,
    average_models: bool = False,
    model_reduction: Union[str, Callable] = "mean",
) -> xr.DataArray:
    """Angular tuning curve: peak responses per angle, mean over speed and width.

    Args:
        peak_responses_da: Output of :func:`peak_responses`.
        cell_type: Cell type.
        intensity: 1 (ON) or 0 (OFF).
        weighted_average: Weights over ``network_id`` (if ``average_models``).
        average_models: Reduce over ``network_id``.
        model_reduction: DataArray method name or ``f(da, "network_id")``.

    Returns:
        DataArray ``(network_id, angle)`` (``(angle,)`` if averaged), not
        normalised.

    Raises:
        ValueError: If the cell type or intensity is absent.
    """
    r = where(_unstack(peak_responses_da), cell_type=cell_type, intensity=intensity)
    if r.sizes["neuron"] == 0 or r.sizes["intensity"] == 0:
        raise ValueError(f"no responses of {cell_type!r} at intensity {intensity}.")
    r = r.mean(["speed", "width"]).squeeze(["neuron", "intensity"], drop=True)
    if average_models:
        if weighted_average is not None:
            w = xr.DataArray(np.asarray(weighted_average, float), dims=["network_id"])
            r = (r * w).sum("network_id") / w.sum()
        elif callable(model_reduction):
            r = model_reduction(r, "network_id")
        else:
            r = getattr(r, model_reduction)(dim="network_id")
    return r


def simple_angle_distance(a, b, upper: float = np.pi):
    """Absolute angular distance in ``[0, upper]`` (``upper`` = pi means radians).

    Args:
        a: Angles (radians).
        b: Angles (radians).
        upper: Value the maximal distance (pi) is scaled to.

    Returns:
        ``min(|a - b| mod 2pi, 2pi - ...) * upper / pi``.
    """
    a = np.mod(np.asarray(a, float), 2 * np.pi)
    b = np.mod(np.asarray(b, float), 2 * np.pi)
    d = np.abs(a - b)
    d = np.where(d > np.pi, 2 * np.pi - d, d)
    return d / np.pi * upper


def angular_distances(x: xr.DataArray, y, upper: float = np.pi) -> xr.DataArray:
    """:func:`simple_angle_distance` of DataArrays (broadcast along ``neuron``)."""
    return xr.apply_ufunc(simple_angle_distance, x, y, kwargs={"upper": upper})


def angular_distance_to_known(pds: xr.DataArray) -> xr.DataArray:
    """Distance of preferred directions to the known ones (T4 ON, T5 OFF).

    Args:
        pds: Output of :func:`preferred_direction`.

    Returns:
        DataArray ``(network_id, neuron)`` for T4a-d (intensity 1) and
        T5a-d (intensity 0), radians in 0 ... pi.
    """
    parts = []
    for family, intensity in (("T4", 1), ("T5", 0)):
        types = [f"{family}{s}" for s in "abcd"]
        sel = where(pds, cell_type=types, intensity=intensity).squeeze(
            "intensity", drop=True
        )
        known = [
            np.radians(reference_tables.preferred_directions[str(t)])
            for t in sel["cell_type"].values
        ]
        parts.append(angular_distances(sel, xr.DataArray(known, dims=["neuron"])))
    return xr.concat(parts, dim="neuron")
