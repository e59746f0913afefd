"""Scoring networks against known ON/OFF polarity and direction selectivity.

A validation report compares the flash response indices (FRI) of the 32
cell types with known polarity and the direction selectivity indices (DSI)
of the 18 types with known direction selectivity
(:mod:`flyvis.analysis.reference_tables`) with the literature, per network:

* ``polarity_accuracy``: fraction of known types whose FRI sign matches.
* ``fri_correlation``: Pearson correlation of FRIs and the ±1 polarities.
* ``ds_accuracy``: fraction of the 18 types classified correctly as
  direction selective (max DSI over contrasts > ``dsi_threshold``) or not.
* ``dsi_correlation``: Pearson correlation of max DSIs with 1 (T4/T5) / 0.
* ``t4t5_direction_match``: how many of T4a-d/T5a-d are direction selective
  (DSI > ``dsi_threshold``) for their polarity's edges (ON for T4, OFF for T5)
  with a preferred direction within ``max_angle`` (45°) of the known one
  (a: front-to-back, b: back-to-front, c: upward, d: downward), 0 ... 8.

The task-loss validation of checkpoints (``validate``,
``validate_all_checkpoints``, ``spec/analysis.md`` §9) lives with the solver
(:mod:`flyvis.solver.validation`) and is re-exported here under the flyvis
1.2.0 module path.
Source: Lappalainen et al., Nature 2024 (Fig. 2, Extended Data Fig. 3).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import xarray as xr

from flyvis.analysis import reference_tables
from flyvis.analysis.flash_responses import fri_correlation_to_known
from flyvis.analysis.moving_bar_responses import (
    angular_distance_to_known,
    dsi_correlation_to_known,
)

__all__ = [
    "polarity_accuracy",
    "ds_accuracy",
    "validation_report",
    "motion_detector_tuning",
    "t4t5_direction_match",
    "validate_models",
    "validate",
    "validate_all_checkpoints",
]


def _types(da: xr.DataArray):
    return [str(t) for t in da["cell_type"].values]


def polarity_accuracy(fris: xr.DataArray) -> xr.DataArray:
    """Fraction of known-polarity types whose FRI has the known sign.

    Args:
        fris: ``flash_response_index`` output (``cell_type`` along ``neuron``).

    Returns:
        DataArray ``(network_id,)`` in 0 ... 1.

    Raises:
        ValueError: If no type with known polarity is present.
    """
    types = _types(fris)
    known = [i for i, t in enumerate(types) if reference_tables.polarity.get(t, 0) != 0]
    if not known:
        raise ValueError("none of the cell types in fris has a known polarity.")
    values = fris.isel(neuron=known)
    if "sample" in values.dims:
        values = values.isel(sample=0, drop=True)
    expected = xr.DataArray(
        [reference_tables.polarity[types[i]] for i in known], dims=["neuron"]
    )
    values = values.drop_vars([c for c in values.coords if "neuron" in values[c].dims])
    return (np.sign(values) == expected).mean("neuron").rename("polarity_accuracy")


def ds_accuracy(dsis: xr.DataArray, dsi_threshold: float = 0.2) -> xr.DataArray:
    """Fraction of the 18 known types correctly called direction selective or not.

    Args:
        dsis: ``direction_selectivity_index`` output ``(network_id, neuron,
            intensity)``.
        dsi_threshold: A type counts as direction selective if its max DSI
            over contrasts exceeds this.

    Returns:
        DataArray ``(network_id,)`` in 0 ... 1.

    Raises:
        ValueError: If no known type is present or the threshold is not in (0, 1).
    """
    if not 0 < dsi_threshold < 1:
        raise ValueError(f"dsi_threshold must lie in (0, 1), got {dsi_threshold}.")
    types = _types(dsis)
    known = [i for i, t in enumerate(types) if t in reference_tables.known_dsi_types]
    if not known:
        raise ValueError("none of the known direction-selectivity types is present.")
    values = dsis.isel(neuron=known)
    if "intensity" in values.dims:
        values = values.max("intensity")
    expected = xr.DataArray(
        [types[i] in reference_tables.motion_tuning for i in known], dims=["neuron"]
    )
    values = values.drop_vars([c for c in values.coords if "neuron" in values[c].dims])
    return ((values > dsi_threshold) == expected).mean("neuron").rename("ds_accuracy")


def motion_detector_tuning(
    dsis: xr.DataArray,
    pds: xr.DataArray,
    dsi_threshold: float = 0.2,
    max_angle: float = 45.0,
) -> xr.Dataset:
    """Direction tuning of T4a-d (ON edges) and T5a-d (OFF edges) vs the literature.

    Args:
        dsis: ``direction_selectivity_index`` output ``(network_id, neuron,
            intensity)`` containing the eight T4/T5 types and both contrasts
            (intensity 0 = OFF, 1 = ON).
        pds: ``preferred_direction`` output of the same shape (radians).
        dsi_threshold: Minimal DSI of a matching type, in (0, 1).
        max_angle: Maximal distance (degrees, in (0, 180]) between the preferred
            direction and the known one (``reference_tables.preferred_directions``:
            T4a/T5a 180°, b 0°, c 90°, d 270°; 0° = rightward, 90° = upward).

    Returns:
        Dataset ``(network_id, neuron=8)`` with ``dsi`` (at the type's
        preferred contrast), ``pd`` and ``known_pd`` (degrees, 0 ... 360),
        ``angle_error`` (degrees, 0 ... 180) and boolean ``match``; coordinate
        ``cell_type`` (T4a-d, T5a-d).

    Raises:
        ValueError: If a threshold is out of range or a T4/T5 type or a contrast
            is missing.

    Source: Lappalainen et al., Nature 2024 (Fig. 3); Maisak et al., Nature 2013.
    """
    if not 0 < dsi_threshold < 1:
        raise ValueError(f"dsi_threshold must lie in (0, 1), got {dsi_threshold}.")
    if not 0 < max_angle <= 180:
        raise ValueError(f"max_angle must lie in (0, 180] degrees, got {max_angle}.")
    missing = [
        t for t in reference_tables.motion_tuning if t not in set(_types(dsis))
    ] + [t for t in reference_tables.motion_tuning if t not in set(_types(pds))]
    if missing:
        raise ValueError(f"the responses lack the motion detector types {missing}.")
    for name, da in (("dsis", dsis), ("pds", pds)):
        values = set(np.asarray(da["intensity"].values, float).tolist())
        if not {0.0, 1.0} <= values:
            raise ValueError(
                f"{name} needs both edge contrasts (intensity 0 and 1), has {values}."
            )
    types_d, types_p = _types(dsis), _types(pds)
    dsi_parts, pd_parts = [], []
    for cell_type in reference_tables.motion_tuning:
        contrast = reference_tables.known_preferred_contrasts[cell_type]
        d = dsis.isel(neuron=types_d.index(cell_type)).sel(intensity=contrast)
        p = pds.isel(neuron=types_p.index(cell_type)).sel(intensity=contrast)
        dsi_parts.append(np.asarray(d.values, float).reshape(-1))
        pd_parts.append(np.asarray(p.values, float).reshape(-1))
    dsi = np.stack(dsi_parts, axis=-1)  # (network_id, 8)
    pd = np.stack(pd_parts, axis=-1)
    known = np.array(
        [
            reference_tables.preferred_directions[t]
            for t in reference_tables.motion_tuning
        ],
        float,
    )
    error = angular_distance_to_known(pds).values  # (network_id, 8) radians
    error = np.degrees(np.asarray(error, float).reshape(dsi.shape))
    match = (dsi > dsi_threshold) & (error <= max_angle)
    pd = np.mod(np.degrees(pd), 360.0)
    pd[pd >= 360.0 - 1e-9] = 0.0  # -0.0 ... -1e-12 degrees is 0, not 360
    dims = ["network_id", "neuron"]
    coords = {"cell_type": ("neuron", list(reference_tables.motion_tuning))}
    if "network_id" in dsis.coords:
        coords["network_id"] = dsis["network_id"].values
    return xr.Dataset(
        {
            "dsi": (dims, dsi),
            "pd": (dims, pd),
            "known_pd": ("neuron", known),
            "angle_error": (dims, error),
            "match": (dims, match),
        },
        coords=coords,
        attrs={"dsi_threshold": dsi_threshold, "max_angle": max_angle},
    )


def t4t5_direction_match(
    dsis: xr.DataArray,
    pds: xr.DataArray,
    dsi_threshold: float = 0.2,
    max_angle: float = 45.0,
) -> xr.DataArray:
    """Number of T4a-d/T5a-d types tuned like the fly's, per network (0 ... 8).

    A type matches if its DSI for edges of its polarity (ON for T4, OFF for T5)
    exceeds ``dsi_threshold`` and its preferred direction lies within
    ``max_angle`` degrees of the known one. See :func:`motion_detector_tuning`.

    Args:
        dsis: ``direction_selectivity_index`` output ``(network_id, neuron, intensity)``.
        pds: ``preferred_direction`` output of the same shape (radians).
        dsi_threshold: Minimal DSI, in (0, 1).
        max_angle: Maximal preferred-direction error (degrees).

    Returns:
        Integer DataArray ``(network_id,)``.

    Raises:
        ValueError: As :func:`motion_detector_tuning`.
    """
    tuning = motion_detector_tuning(dsis, pds, dsi_threshold, max_angle)
    return tuning["match"].sum("neuron").astype(int).rename("t4t5_direction_match")


def validation_report(
    fris: Optional[xr.DataArray] = None,
    dsis: Optional[xr.DataArray] = None,
    dsi_threshold: float = 0.2,
    pds: Optional[xr.DataArray] = None,
    max_angle: float = 45.0,
) -> xr.Dataset:
    """Per-network scores against the reference tables.

    Args:
        fris: Flash response indices (or None to skip polarity scores).
        dsis: Direction selectivity indices (or None to skip DS scores).
        dsi_threshold: See :func:`ds_accuracy`.
        pds: Preferred directions (``preferred_direction`` output) of the same
            responses as ``dsis``; with both, ``t4t5_direction_match`` is added.
        max_angle: See :func:`t4t5_direction_match`.

    Returns:
        Dataset over ``network_id`` with ``polarity_accuracy``,
        ``fri_correlation`` (if ``fris``), ``ds_accuracy``,
        ``dsi_correlation`` (if ``dsis``) and ``t4t5_direction_match`` (if
        ``dsis`` and ``pds``); ``attrs`` hold the numbers of known types used.

    Raises:
        ValueError: If neither input is given.
    """
    if fris is None and dsis is None:
        raise ValueError("give fris and/or dsis to validate.")
    variables, attrs = {}, {}
    if fris is not None:
        variables["polarity_accuracy"] = polarity_accuracy(fris)
        variables["fri_correlation"] = fri_correlation_to_known(fris)
        attrs["n_known_polarity"] = int(
            sum(reference_tables.polarity.get(t, 0) != 0 for t in _types(fris))
        )
    if dsis is not None:
        variables["ds_accuracy"] = ds_accuracy(dsis, dsi_threshold)
        variables["dsi_correlation"] = dsi_correlation_to_known(dsis)
        attrs["n_known_ds"] = int(
            sum(t in reference_tables.known_dsi_types for t in _types(dsis))
        )
        attrs["dsi_threshold"] = dsi_threshold
        if pds is not None:
            match = t4t5_direction_match(dsis, pds, dsi_threshold, max_angle)
            if "network_id" in variables["ds_accuracy"].dims:
                match = match.assign_coords(
                    network_id=variables["ds_accuracy"]["network_id"].values
                )
            variables["t4t5_direction_match"] = match
            attrs["max_angle"] = max_angle
    return xr.Dataset(variables, attrs=attrs)


def validate_models(
    network_view_or_ensemble: Any,
    radius: float = -1,
    dsi_threshold: float = 0.2,
    flash_kwargs: Optional[dict] = None,
    edge_kwargs: Optional[dict] = None,
    max_angle: float = 45.0,
) -> xr.Dataset:
    """Simulates flashes and moving edges (cached) and returns the validation report.

    Args:
        network_view_or_ensemble: NetworkView or ensemble.
        radius: Flash radius for the FRI (-1 = full field).
        dsi_threshold: See :func:`ds_accuracy`.
        max_angle: See :func:`t4t5_direction_match`.
        flash_kwargs: Extra arguments of ``flash_responses``.
        edge_kwargs: Extra arguments of ``moving_edge_responses``.

    Returns:
        The :func:`validation_report` Dataset.
    """
    from flyvis.analysis.flash_responses import flash_response_index
    from flyvis.analysis.moving_bar_responses import (
        direction_selectivity_index,
        preferred_direction,
    )
    from flyvis.analysis.stimulus_responses import flash_responses, moving_edge_responses

    flashes = flash_responses(network_view_or_ensemble, **(flash_kwargs or {}))
    edges = moving_edge_responses(network_view_or_ensemble, **(edge_kwargs or {}))
    report = validation_report(
        flash_response_index(flashes, radius=radius),
        direction_selectivity_index(edges),
        dsi_threshold,
        pds=preferred_direction(edges),
        max_angle=max_angle,
    )
    return report.assign_coords(network_name=flashes["network_name"])


def validate(*args: Any, **kwargs: Any):
    """Task losses of a network and decoders on a dataloader (no grad).

    Forwards to :func:`flyvis.solver.validation.validate` (imported on first
    call; ``spec/analysis.md`` §9).

    Args:
        *args: ``network, decoder, dataloader, loss_fns, dt, t_pre=0.0, loss_kwargs={}``.
        **kwargs: The same by name.

    Returns:
        ``(val_loss (len(loss_fns),), {"loss_<task>": [...]})``.
    """
    from flyvis.solver.validation import validate as _validate

    return _validate(*args, **kwargs)


def validate_all_checkpoints(*args: Any, **kwargs: Any):
    """Validation losses of every checkpoint of a model, stored per loss function.

    Forwards to :func:`flyvis.solver.validation.validate_all_checkpoints`
    (imported on first call; ``spec/analysis.md`` §9).

    Args:
        *args: ``network_view, loss_fns=None, dt=1/50, t_pre=0.5,
            validation_subdir="validation"``.
        **kwargs: The same by name.

    Returns:
        ``(n_checkpoints, n_fns)`` losses.
    """
    from flyvis.solver.validation import validate_all_checkpoints as _validate_all

    return _validate_all(*args, **kwargs)
