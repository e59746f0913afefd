"""T4/T5 direction matching against the known preferred directions."""

import numpy as np
import pytest
import xarray as xr

from flyvis.analysis import reference_tables
from flyvis.analysis.moving_bar_responses import (
    direction_selectivity_index,
    preferred_direction,
)
from flyvis.analysis.validation import (
    motion_detector_tuning,
    t4t5_direction_match,
    validation_report,
)

DT = 0.01
ANGLES = np.arange(0, 360, 30)
TYPES = reference_tables.motion_tuning  # T4a-d, T5a-d


def _edges(tuning):
    """Moving-edge responses of the 8 motion detectors and one untuned Mi1.

    ``tuning[cell_type] = (theta0 degrees, contrast it responds to, modulation b)``:
    response ``1 + b cos(theta - theta0)`` to edges of that contrast, 0.2 to the
    other contrast (untuned).
    """
    rows = [(ang, inten) for ang in ANGLES for inten in (0, 1)]
    angle, intensity = map(np.array, zip(*rows))
    speed = np.full(len(rows), 19.0)
    t_stim = 21 * 2.25 / (speed * 5.8)
    n_frames = 300
    time = np.arange(n_frames) * DT - 1.0
    types = [*TYPES, "Mi1"]
    resp = np.zeros((1, len(rows), n_frames, len(types)))
    for j, cell_type in enumerate(types):
        theta0, contrast, b = tuning.get(cell_type, (0.0, 1, 0.0))
        value = np.where(
            intensity == contrast, 1 + b * np.cos(np.radians(angle - theta0)), 0.2
        )
        for i in range(len(rows)):
            inside = (time >= 0) & (time <= t_stim[i])
            resp[0, i, inside, j] = value[i]
    return xr.Dataset(
        {"responses": (("network_id", "sample", "frame", "neuron"), resp)},
        coords=dict(
            sample=np.arange(len(rows)),
            angle=("sample", angle),
            width=("sample", np.full(len(rows), 80)),
            intensity=("sample", intensity),
            speed=("sample", speed),
            t_stim=("sample", t_stim),
            time=("frame", time),
            cell_type=("neuron", types),
        ),
        attrs={"config": {"offsets": [-10, 11], "dt": DT, "t_pre": 1.0}},
    )


def _fly_like(b=0.9):
    return {
        t: (
            reference_tables.preferred_directions[t],
            reference_tables.known_preferred_contrasts[t],
            b,
        )
        for t in TYPES
    }


def _match(tuning, **kwargs):
    ds = _edges(tuning)
    dsis, pds = direction_selectivity_index(ds), preferred_direction(ds)
    return motion_detector_tuning(dsis, pds, **kwargs), t4t5_direction_match(
        dsis, pds, **kwargs
    )


def test_fly_like_tuning_matches_all_eight():
    tuning, count = _match(_fly_like())
    assert count.values.tolist() == [8]
    assert tuning["cell_type"].values.tolist() == TYPES
    np.testing.assert_allclose(
        tuning["pd"].values[0], [180, 0, 90, 270, 180, 0, 90, 270], atol=1e-6
    )
    np.testing.assert_allclose(tuning["angle_error"].values[0], 0, atol=1e-6)
    # DSI of 1 + b cos over 12 angles: 6 b / 12 (the other contrast 0.2 is smaller)
    np.testing.assert_allclose(tuning["dsi"].values[0], 0.9 / 2, rtol=1e-6)


def test_each_kind_of_mismatch_costs_one_type():
    tuning = _fly_like()
    tuning["T4c"] = (0.0, 1, 0.9)  # 90 deg off
    tuning["T5a"] = (180.0, 1, 0.9)  # right direction, wrong (ON) contrast
    tuning["T4d"] = (270.0, 1, 0.2)  # right direction, DSI 0.1 < 0.2
    tuning["T5d"] = (310.0, 0, 0.9)  # 40 deg off: still within 45
    table, count = _match(tuning)
    assert count.values.tolist() == [5]
    matched = dict(zip(TYPES, table["match"].values[0].tolist()))
    assert matched == {
        "T4a": True, "T4b": True, "T4c": False, "T4d": False,
        "T5a": False, "T5b": True, "T5c": True, "T5d": True,
    }  # fmt: skip
    np.testing.assert_allclose(table["angle_error"].values[0][TYPES.index("T4c")], 90)
    np.testing.assert_allclose(table["angle_error"].values[0][TYPES.index("T5d")], 40)
    # a tighter angle or a higher threshold changes the count
    assert _match(tuning, max_angle=30.0)[1].values.tolist() == [4]
    assert _match(_fly_like(0.9), dsi_threshold=0.5)[1].values.tolist() == [0]


def test_untuned_network_matches_none():
    assert _match({})[1].values.tolist() == [0]


def test_validation_report_adds_the_match():
    ds = _edges(_fly_like())
    report = validation_report(
        dsis=direction_selectivity_index(ds), pds=preferred_direction(ds)
    )
    assert report["t4t5_direction_match"].values.tolist() == [8]
    assert report.attrs["max_angle"] == 45.0


def test_errors():
    ds = _edges(_fly_like())
    dsis, pds = direction_selectivity_index(ds), preferred_direction(ds)
    with pytest.raises(ValueError, match="motion detector types"):
        t4t5_direction_match(dsis.isel(neuron=[0, 1]), pds.isel(neuron=[0, 1]))
    with pytest.raises(ValueError, match="both edge contrasts"):
        t4t5_direction_match(dsis.isel(intensity=[1]), pds.isel(intensity=[1]))
    with pytest.raises(ValueError, match="dsi_threshold"):
        t4t5_direction_match(dsis, pds, dsi_threshold=1.5)
    with pytest.raises(ValueError, match="max_angle"):
        t4t5_direction_match(dsis, pds, max_angle=0)


def _flashes(types):
    """Full-field ON/OFF flashes: every known type answers with its known polarity."""
    n_frames = int(3 / DT)
    time = np.arange(n_frames) * DT - 1.0
    resp = np.zeros((1, 2, n_frames, len(types)))
    during = (time >= 0) & (time < 1)
    for j, t in enumerate(types):
        sign = reference_tables.polarity.get(t, 0)
        resp[0, 0, during, j] = 1.0 if sign < 0 else 0.2  # OFF flash
        resp[0, 1, during, j] = 1.0 if sign > 0 else 0.2  # ON flash
    return xr.Dataset(
        {"responses": (("network_id", "sample", "frame", "neuron"), resp)},
        coords=dict(
            sample=[0, 1],
            intensity=("sample", [0.0, 1.0]),
            radius=("sample", [-1, -1]),
            baseline=("sample", [0.5, 0.5]),
            time=("frame", time),
            cell_type=("neuron", types),
            network_name=("network_id", ["flow/0000/000"]),
        ),
        attrs={
            "config": {"dt": DT, "t_stim": 1.0, "t_pre": 1.0, "alternations": [0, 1, 0]}
        },
    )


def test_validate_models_reports_the_match(monkeypatch):
    """validate_models wires stored flash and edge responses into the report."""
    from flyvis.analysis import stimulus_responses, validation

    tuning = _fly_like()
    tuning["T4b"] = (180.0, 1, 0.9)  # points the wrong way
    edges = _edges(tuning)
    calls = []

    def fake_edges(view, **kwargs):
        calls.append(("edges", view, kwargs))
        return edges

    def fake_flashes(view, **kwargs):
        calls.append(("flashes", view, kwargs))
        return _flashes([*TYPES, "Mi1"])

    monkeypatch.setattr(stimulus_responses, "moving_edge_responses", fake_edges)
    monkeypatch.setattr(stimulus_responses, "flash_responses", fake_flashes)
    report = validation.validate_models("a view", edge_kwargs={"dt": 0.01})
    assert report["t4t5_direction_match"].values.tolist() == [7]
    assert report["polarity_accuracy"].values.tolist() == [1.0]
    assert report["network_name"].values.tolist() == ["flow/0000/000"]
    assert ("edges", "a view", {"dt": 0.01}) in calls
