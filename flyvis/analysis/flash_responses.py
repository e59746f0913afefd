"""Flash response index (FRI): ON/OFF polarity of cell types (``spec/analysis.md`` §3).

Source: Lappalainen et al., Nature 2024 (Methods, "Flash response index").
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import xarray as xr

from flyvis.analysis import reference_tables
from flyvis.analysis.correlation import pearson_along
from flyvis.analysis.xarray_accessor import where

__all__ = [
    "flash_response_index",
    "fri_correlation_to_known",
    "pearson_along",
    "plot_fris",
]


def _sample_coords(da: xr.DataArray):
    return [c for c in da.coords if "sample" in da[c].dims]


def flash_response_index(
    self: xr.Dataset,
    radius: float,
    on_intensity: float = 1.0,
    off_intensity: float = 0.0,
    nonnegative: bool = True,
) -> xr.DataArray:
    """Flash response index ``(on - off) / (on + off)`` of every network and cell.

    ``r`` = responses from one step before flash onset to the flash end
    (``-dt <= time <= t_stim``) to the flashes of ``radius``; if
    ``nonnegative``, ``r += |min over frame and sample of r|`` (per network
    and cell); ``on``/``off`` = peak of ``r`` over time for the ON/OFF flash.

    Args:
        self: Output of ``flash_responses`` (``responses (network_id, sample,
            frame, neuron)``, ``intensity`` and ``radius`` along ``sample``,
            ``time`` along ``frame``, ``attrs["config"]`` of the Flashes).
        radius: Flash radius in columns (-1 = full field).
        on_intensity: Intensity of the ON flash.
        off_intensity: Intensity of the OFF flash.
        nonnegative: Shift responses to be non-negative first.

    Returns:
        DataArray ``(network_id, sample=1, neuron)`` in -1 ... 1 (positive =
        ON-preferring), ``cell_type`` along ``neuron``; the ``sample``
        coordinate is dropped.

    Raises:
        ValueError: If the dataset is not from (0, 1, 0)-alternating flashes,
            or ``radius``/intensities are missing.
    """
    config: Dict[str, Any] = dict(self.attrs.get("config", {}))
    if tuple(config.get("alternations", ())) != (0, 1, 0):
        raise ValueError(
            "flash_response_index needs flash responses with alternations (0, 1, 0), "
            f"got {config.get('alternations')!r}."
        )
    dt, t_stim = float(config["dt"]), float(config["t_stim"])
    responses = self["responses"]
    available = np.unique(responses["radius"].values)
    if not np.any(np.isclose(available, radius)):
        raise ValueError(
            f"radius {radius} not in the flash responses ({available.tolist()})."
        )
    time = responses["time"].values
    window = (time >= -dt - 1e-9) & (time <= t_stim + 1e-9)
    r = where(responses.isel(frame=np.flatnonzero(window)), radius=radius)
    if nonnegative:
        r = r + np.abs(r.min(dim=("frame", "sample")))

    def peak(intensity):
        sel = where(r, intensity=intensity)
        if sel.sizes["sample"] == 0:
            raise ValueError(f"no flash of intensity {intensity} at radius {radius}.")
        out = sel.max(dim="frame")
        return (
            out.drop_vars(_sample_coords(out))
            .assign_coords(sample=np.arange(out.sizes["sample"]))
            .drop_vars("sample")
        )

    on, off = peak(on_intensity), peak(off_intensity)
    fri = (on - off) / (on + off + 1e-16)
    fri = fri.dropna(dim="sample", how="any")
    fri.name = "fri"
    return fri.transpose("network_id", "sample", "neuron")


def fri_correlation_to_known(
    fris: xr.DataArray, polarity: Optional[Dict[str, int]] = None
) -> xr.DataArray:
    """Pearson correlation between FRIs and the known polarities, per network.

    Only the 32 cell types with known polarity (+1 ON, -1 OFF,
    :data:`flyvis.analysis.reference_tables.polarity`) are used.

    Args:
        fris: Output of :func:`flash_response_index` (``cell_type`` along
            ``neuron``).
        polarity: Cell type -> +1/-1/0 (default: the reference table).

    Returns:
        DataArray ``(network_id,)`` (plus any other non-``neuron`` dims of
        length > 1).

    Raises:
        ValueError: If no cell type with known polarity is present.
    """
    polarity = reference_tables.polarity if polarity is None else polarity
    types = [str(t) for t in fris["cell_type"].values]
    known = [i for i, t in enumerate(types) if polarity.get(t, 0) != 0]
    if not known:
        raise ValueError("none of the cell types in fris has a known polarity.")
    sel = fris.isel(neuron=known)
    target = xr.DataArray(
        np.array([polarity[types[i]] for i in known], dtype=float), dims=["neuron"]
    )
    corr = pearson_along(sel.drop_vars(_neuron_coords(sel)), target, "neuron")
    if "sample" in corr.dims and corr.sizes["sample"] == 1:
        corr = corr.squeeze("sample", drop=True)
    return corr


def _neuron_coords(da: xr.DataArray):
    return [c for c in da.coords if "neuron" in da[c].dims]


def plot_fris(fris, cell_types, **kwargs):
    """FRI violins per cell type (see :func:`flyvis.analysis.visualization.tuning_plots.plot_fris`).

    Args:
        fris: FRIs ``(n_types, n_groups, n_models)`` or ``(n_models, ..., n_types)``.
        cell_types: The cell types.
        **kwargs: Passed on (``scatter_best_index``, ``known_first``, ...).

    Returns:
        ``(fig, ax)``.
    """
    from flyvis.analysis.visualization.tuning_plots import plot_fris as _plot

    return _plot(fris, cell_types, **kwargs)
