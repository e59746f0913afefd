"""FRI, DSI, preferred direction and validation scores on synthetic responses."""

import numpy as np
import pytest
import xarray as xr

from flyvis.analysis import reference_tables
from flyvis.analysis.flash_responses import flash_response_index, fri_correlation_to_known
from flyvis.analysis.moving_bar_responses import (
    angular_distance_to_known,
    angular_tuning,
    direction_selectivity_index,
    dsi_correlation_to_known,
    peak_responses,
    preferred_direction,
    simple_angle_distance,
    time_window,
)
from flyvis.analysis.validation import ds_accuracy, polarity_accuracy, validation_report

DT = 0.01


def _flash_dataset(on_peak, off_peak, baseline=0.0, alternations=(0, 1, 0)):
    """2 networks x 2 neurons: ON/OFF full-field flashes; t_pre = t_stim = 1 s."""
    n_frames = int(3 / DT)
    time = np.arange(n_frames) * DT - 1.0
    resp = np.full((2, 2, n_frames, 2), baseline, dtype=float)
    during = (time >= 0) & (time < 1)
    for s, peaks in enumerate([off_peak, on_peak]):  # sample 0 OFF, 1 ON
        resp[:, s, during, :] = np.asarray(peaks)[:, None, :]
    # a large value outside the flash window must not count
    resp[:, :, -1, :] = 100.0
    return xr.Dataset(
        {"responses": (("network_id", "sample", "frame", "neuron"), resp)},
        coords=dict(
            sample=[0, 1],
            intensity=("sample", [0.0, 1.0]),
            radius=("sample", [-1, -1]),
            baseline=("sample", [0.5, 0.5]),
            time=("frame", time),
            cell_type=("neuron", ["Mi1", "Tm1"]),
        ),
        attrs={
            "config": {"dt": DT, "t_stim": 1.0, "t_pre": 1.0, "alternations": [0, 1, 0]}
        }
        if alternations == (0, 1, 0)
        else {"config": {"dt": DT, "t_stim": 1.0, "alternations": list(alternations)}},
    )


def test_fri_known_values():
    on = np.array([[3.0, 1.0], [2.0, 2.0]])
    off = np.array([[1.0, 3.0], [2.0, 0.0]])
    ds = _flash_dataset(on, off)
    fri = flash_response_index(ds, radius=-1, nonnegative=False)
    assert fri.dims == ("network_id", "sample", "neuron")
    assert fri.sizes["sample"] == 1 and "sample" not in fri.coords
    expected = (on - off) / (on + off)
    np.testing.assert_allclose(fri.values[:, 0], expected)
    assert list(fri.cell_type.values) == ["Mi1", "Tm1"]


def test_fri_nonnegative_shift():
    on = np.array([[-1.0, 1.0], [1.0, 1.0]])
    off = np.array([[-3.0, 1.0], [1.0, 1.0]])
    ds = _flash_dataset(on, off, baseline=-5.0)
    fri = flash_response_index(ds, radius=-1, nonnegative=True)
    # min over window and samples is the baseline -5 -> shift by 5: on 4, off 2
    np.testing.assert_allclose(fri.values[0, 0, 0], (4 - 2) / (4 + 2))
    assert np.all(np.abs(fri.values) <= 1)


def test_fri_rejects_other_alternations_and_radius():
    ds = _flash_dataset(np.ones((2, 2)), np.ones((2, 2)), alternations=(0, 1))
    with pytest.raises(ValueError, match="alternations"):
        flash_response_index(ds, radius=-1)
    ds = _flash_dataset(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="radius"):
        flash_response_index(ds, radius=3)


def test_fri_correlation_and_polarity_accuracy():
    types = reference_tables.known_polarity_types + ["Am", "T2"]
    signs = np.array([reference_tables.polarity[t] for t in types], float)
    good = 0.5 * signs
    bad = -0.5 * signs
    bad[-1] = 0.3
    fris = xr.DataArray(
        np.stack([good, bad])[:, None, :],
        dims=("network_id", "sample", "neuron"),
        coords={"cell_type": ("neuron", types)},
    )
    corr = fri_correlation_to_known(fris)
    np.testing.assert_allclose(corr.values, [1.0, -1.0])
    acc = polarity_accuracy(fris)
    np.testing.assert_allclose(acc.values, [1.0, 0.0])


def test_time_window_covers_stimulus_period():
    t_start, t_end = time_window(19, -22.5 / 5.8, 22.5 / 5.8, -10, 11)
    assert t_start == pytest.approx(0.0)
    assert t_end == pytest.approx(21 * 2.25 / (19 * 5.8))
    with pytest.raises(ValueError):
        time_window(19, -10, 10)
    with pytest.raises(ValueError):
        time_window(0)


ANGLES = np.arange(0, 360, 30)


def _edge_dataset(a, b, theta0_deg, speeds=(10.0, 20.0), widths=(80,), off_scale=0.0):
    """Neuron 0: cosine tuning a + b cos(theta - theta0) (ON), off_scale * that (OFF).
    Neuron 1: untuned (constant 1 for both contrasts)."""
    rows = [
        (ang, w, inten, s)
        for ang in ANGLES
        for w in widths
        for inten in (0, 1)
        for s in speeds
    ]
    angle, width, intensity, speed = map(np.array, zip(*rows))
    t_stim = 21 * 2.25 / (speed * 5.8)
    n_frames = 300
    time = np.arange(n_frames) * DT - 1.0
    resp = np.zeros((1, len(rows), n_frames, 2))
    tuned = a + b * np.cos(np.radians(angle - theta0_deg))
    tuned = np.where(intensity == 1, tuned, off_scale * tuned)
    for i in range(len(rows)):
        inside = (time >= 0) & (time <= t_stim[i])
        resp[0, i, inside, 0] = tuned[i]
        resp[0, i, inside, 1] = 1.0
        resp[0, i, ~inside, :] = 50.0  # outside the window: ignored
    return xr.Dataset(
        {"responses": (("network_id", "sample", "frame", "neuron"), resp)},
        coords=dict(
            sample=np.arange(len(rows)),
            angle=("sample", angle),
            width=("sample", width),
            intensity=("sample", intensity),
            speed=("sample", speed),
            t_stim=("sample", t_stim),
            time=("frame", time),
            cell_type=("neuron", ["T4c", "Mi1"]),
        ),
        attrs={"config": {"offsets": [-10, 11], "dt": DT, "t_pre": 1.0}},
    )


@pytest.mark.parametrize("theta0", [0.0, 56.0, 90.0, 200.0])
def test_dsi_and_preferred_direction_of_cosine_tuning(theta0):
    a, b = 2.0, 1.0
    ds = _edge_dataset(a, b, theta0)
    peak = peak_responses(ds)
    assert peak.dims == ("network_id", "sample", "neuron")
    assert float(peak.max()) < 50  # the window excludes frames outside the stimulus
    dsi = direction_selectivity_index(ds)
    assert dsi.dims == ("network_id", "neuron", "intensity")
    # |sum (a + b cos) e^{i theta}| = 6 b over 12 angles; sum |r| = 12 a
    expected = 6 * b / (12 * a)
    np.testing.assert_allclose(dsi.sel(intensity=1).values[0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(dsi.sel(intensity=0).values[0, 0], 0.0, atol=1e-9)
    np.testing.assert_allclose(dsi.values[0, 1], 0.0, atol=1e-9)  # untuned cell
    pd = preferred_direction(ds)
    got = float(pd.sel(intensity=1).values[0, 0])
    assert simple_angle_distance(got, np.radians(theta0)) < 1e-6
    assert -np.pi <= got <= np.pi


def test_dsi_normalised_by_max_over_contrasts():
    ds = _edge_dataset(2.0, 1.0, 90.0, off_scale=0.5)
    dsi = direction_selectivity_index(ds)
    on = float(dsi.sel(intensity=1).values[0, 0])
    off = float(dsi.sel(intensity=0).values[0, 0])
    assert off == pytest.approx(0.5 * on)
    not_averaged = direction_selectivity_index(ds, average=False)
    assert set(not_averaged.dims) == {
        "network_id",
        "neuron",
        "intensity",
        "width",
        "speed",
    }


def test_angular_tuning_and_distance_to_known():
    ds = _edge_dataset(2.0, 1.0, 90.0)
    peak = peak_responses(ds)
    tuning = angular_tuning(peak, "T4c", 1)
    assert tuning.dims == ("network_id", "angle")
    assert float(tuning["angle"][int(tuning.argmax("angle")[0])]) == 90
    mean_tuning = angular_tuning(peak, "T4c", 1, average_models=True)
    assert mean_tuning.dims == ("angle",)
    pd = preferred_direction(ds)
    dist = angular_distance_to_known(pd)
    np.testing.assert_allclose(dist.values, 0.0, atol=1e-6)  # T4c prefers 90°


def test_simple_angle_distance():
    assert simple_angle_distance(0.1, 2 * np.pi - 0.1) == pytest.approx(0.2)
    assert simple_angle_distance(0, np.pi, upper=1) == pytest.approx(1.0)


def _dsis(values):
    types = reference_tables.known_dsi_types
    return xr.DataArray(
        np.asarray(values, float)[None, :, None].repeat(2, axis=2),
        dims=("network_id", "neuron", "intensity"),
        coords={"cell_type": ("neuron", types), "intensity": [0, 1]},
    )


def test_dsi_correlation_and_ds_accuracy():
    perfect = [0.05] * 10 + [0.7] * 8
    dsis = _dsis(perfect)
    np.testing.assert_allclose(dsi_correlation_to_known(dsis).values, [1.0])
    np.testing.assert_allclose(ds_accuracy(dsis).values, [1.0])
    half = [0.05] * 10 + [0.7] * 4 + [0.1] * 4
    np.testing.assert_allclose(ds_accuracy(_dsis(half)).values, [14 / 18])
    with pytest.raises(ValueError, match="size 2"):
        dsi_correlation_to_known(_dsis(perfect).isel(intensity=[0]))


def test_validation_report():
    fris = xr.DataArray(
        np.array(
            [reference_tables.polarity[t] for t in reference_tables.CELL_TYPES], float
        )[None, None]
        * 0.4,
        dims=("network_id", "sample", "neuron"),
        coords={"cell_type": ("neuron", reference_tables.CELL_TYPES)},
    )
    report = validation_report(fris, _dsis([0.05] * 10 + [0.7] * 8))
    assert set(report.data_vars) == {
        "polarity_accuracy",
        "fri_correlation",
        "ds_accuracy",
        "dsi_correlation",
    }
    assert report.polarity_accuracy.values.tolist() == [1.0]
    assert report.ds_accuracy.values.tolist() == [1.0]
    assert report.attrs["n_known_polarity"] == 32
    assert report.attrs["n_known_ds"] == 18
    with pytest.raises(ValueError):
        validation_report()


def test_reference_tables():
    assert len(reference_tables.CELL_TYPES) == 65
    assert len(reference_tables.known_polarity_types) == 32
    assert len(reference_tables.known_dsi_types) == 18
    assert (
        reference_tables.polarity["T4c"] == 1 and reference_tables.polarity["T5c"] == -1
    )
    assert reference_tables.polarity["Am"] == 0
