"""Response datasets of tiny trained networks: dims/coords, disk cache, accessor."""

import functools
import types

import numpy as np
import pytest
import torch
import xarray as xr
from tiny_ensemble import train_tiny_ensemble

import flyvis
from flyvis.analysis import (
    cache,
    naturalistic_responses,
    response_simulation,
    stimulus_responses,
)
from flyvis.analysis.xarray_accessor import where

DT = 1 / 50


@pytest.fixture(scope="module")
def results(tmp_path_factory, flyvis_root):
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("results")
    mp.setattr(flyvis, "results_dir", path)
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def views(results, flyvis_root):
    from flyvis.network import NetworkView

    train_tiny_ensemble(flyvis_root / "renderings", "0000", n_models=1, n_iters=2)
    view = NetworkView("flow/0000/000", device="cpu")
    return [view, view]  # one trained model twice keeps the test fast


class FakeEnsemble(dict):
    """Duck-typed Ensemble: name -> NetworkView with ``names``."""

    @property
    def names(self):
        return list(self)


@pytest.fixture(scope="module")
def flashes(views):
    # dt = 1/50 keeps the test fast; the defaults give 600 frames at 1/200
    return stimulus_responses.flash_responses(
        FakeEnsemble((f"m{i}", v) for i, v in enumerate(views)), dt=DT
    )


def test_flash_responses_dims_and_coords(flashes, views):
    ds = flashes
    assert ds["stimulus"].dims == ("sample", "frame", "channel", "hex_pixel")
    assert ds["responses"].dims == ("network_id", "sample", "frame", "neuron")
    assert dict(ds["responses"].sizes) == dict(
        network_id=2, sample=4, frame=150, neuron=65
    )
    assert ds.sizes["hex_pixel"] == 19  # extent-2 input lattice
    np.testing.assert_allclose(ds["time"].values[[0, -1]], [-1.0, 2.0 - DT])
    assert ds["intensity"].values.tolist() == [0, 0, 1, 1]
    assert ds["radius"].values.tolist() == [-1, 6, -1, 6]
    assert ds["cell_type"].values[37] == "T4c" and len(set(ds["cell_type"].values)) == 65
    assert (ds["u"].values == 0).all() and (ds["v"].values == 0).all()
    assert ds["network_name"].values.tolist() == ["flow/0000/000", "flow/0000/000"]
    assert all("chkpts/chkpt_" in c for c in ds["checkpoints"].values)
    assert ds.attrs["config"]["alternations"] == [0, 1, 0]
    assert "connectome" in ds.attrs["network_config"]["network"]
    assert np.isfinite(ds["responses"].values).all()
    # the ON flash response differs from the OFF flash response
    r = ds["responses"].values
    assert not np.allclose(r[0, 0], r[0, 2])
    # grey before the flash: responses are at steady state
    pre = ds["responses"].isel(frame=slice(0, 40)).values
    assert np.abs(pre - pre[:, :, :1]).max() < 1e-4


def test_single_view_equals_ensemble_member(flashes, views):
    single = stimulus_responses.flash_responses(views[1], dt=DT)
    assert single.sizes["network_id"] == 1
    np.testing.assert_allclose(
        single["responses"].values[0], flashes["responses"].values[1], rtol=1e-6
    )


def test_cache_hit_and_invalidation(views, monkeypatch, tmp_path):
    calls = []
    original = response_simulation.compute_responses

    @functools.wraps(original)
    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(response_simulation, "compute_responses", counting)
    view = views[0]
    kwargs = dict(radius=(-1,), dt=DT)
    first = stimulus_responses.flash_responses(view, **kwargs)
    assert len(calls) == 1
    files = list((view.dir.path / "__cache__").rglob("output.h5"))
    assert files
    second = stimulus_responses.flash_responses(view, batch_size=1, **kwargs)
    assert len(calls) == 1  # cached (batch_size is not part of the key)
    xr.testing.assert_identical(first, second)

    # rewrite the best checkpoint with perturbed parameters -> recomputed
    path = view.get_checkpoint("best")
    state = torch.load(path, weights_only=False)
    state["network"]["nodes_bias"] = state["network"]["nodes_bias"] + 0.5
    torch.save(state, path)
    third = stimulus_responses.flash_responses(view, **kwargs)
    assert len(calls) == 2
    assert not np.allclose(third["responses"].values, first["responses"].values)

    assert cache.clear_cache(view) == 1
    assert not (view.dir.path / "__cache__").exists()
    stimulus_responses.flash_responses(view, **kwargs)
    assert len(calls) == 3

    # an ensemble (which has a directory of its own) clears its models' caches
    class WithDir(FakeEnsemble):
        dir = types.SimpleNamespace(path=view.dir.path.parent)

    assert cache.clear_cache(WithDir(m=view)) == 1
    assert not (view.dir.path / "__cache__").exists()


@pytest.mark.slow
def test_moving_edges_nan_tails(views):
    ds = stimulus_responses.moving_edge_responses(
        views[1], speeds=(13, 25), angles=(0, 90), dt=1 / 50
    )
    assert ds.sizes["sample"] == 8
    assert set(np.unique(ds["speed"].values)) == {13, 25}
    stim_nan = np.isnan(ds["stimulus"].values).any(axis=(2, 3))  # (sample, frame)
    resp_nan = np.isnan(ds["responses"].values[0]).any(axis=-1)
    np.testing.assert_array_equal(stim_nan, resp_nan)
    fast = ds["speed"].values == 25
    assert resp_nan[fast].any() and not resp_nan[~fast].any()
    assert ds.attrs["config"]["height"] == 80


def test_bad_inputs(views):
    with pytest.raises(TypeError, match="NetworkView"):
        stimulus_responses.flash_responses(42)
    with pytest.raises(ValueError, match="no networks"):
        stimulus_responses.flash_responses([])


def test_dataset_roundtrip(tmp_path):
    ds = xr.Dataset(
        {"a": (("x", "y"), np.arange(6.0).reshape(2, 3)), "b": ("x", [True, False])},
        coords={"x": [0, 1], "name": ("x", ["p", "q"]), "y": [0.1, 0.2, 0.3]},
        attrs={"config": {"k": [1, 2]}},
    )
    path = cache.write_dataset(ds, tmp_path / "out.h5")
    back = cache.read_dataset(path)
    xr.testing.assert_identical(ds, back)
    assert list(tmp_path.iterdir()) == [path]  # no temporary left behind


# ------------------------------------------------------------------ accessor
def _toy():
    return xr.DataArray(
        np.arange(24.0).reshape(2, 3, 4),
        dims=("sample", "neuron", "frame"),
        coords=dict(
            angle=("sample", [0, 90]),
            cell_type=("neuron", ["T4a", "T4b", "Mi1"]),
            time=("frame", [-0.5, 0.0, 0.5, 1.0]),
        ),
    )


def test_where_conditions():
    da = _toy()
    sel = da.custom.where(cell_type="T4b", angle=90)
    assert sel.shape == (1, 1, 4)
    np.testing.assert_array_equal(sel.values[0, 0], da.values[1, 1])
    assert da.custom.where(cell_type=["T4a", "Mi1"]).cell_type.values.tolist() == [
        "T4a",
        "Mi1",
    ]
    assert da.custom.where(time=">-0.5,<1.0").time.values.tolist() == [0.0, 0.5]
    assert da.custom.where(time=">=0,<=1.0").time.values.tolist() == [0.0, 0.5, 1.0]
    assert da.custom.where(time="!=0.0").sizes["frame"] == 3
    assert da.custom.where(time=0.5 + 1e-9).sizes["frame"] == 1  # isclose
    assert da.custom.where(angle=[0, ">45"]).sizes["sample"] == 2
    assert da.custom.where(angle=45).sizes["sample"] == 0
    ds = da.to_dataset(name="responses")
    assert ds.custom.where(cell_type="Mi1")["responses"].shape == (2, 1, 4)
    with pytest.raises(ValueError, match="unknown coordinate"):
        da.custom.where(colour="red")
    with pytest.raises(ValueError, match="number"):
        where(da, time=">abc")


def test_plot_traces():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    da = _toy()
    fig, ax = plt.subplots()
    out = da.custom.plot_traces(
        x="time",
        legend_labels=["angle"],
        plot_kwargs=dict(ax=ax, color="k"),
        cell_type="T4a",
    )
    assert out is ax
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), da.values[1, 0])
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), da.time.values)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "angle: 0",
        "angle: 90",
    ]
    fig2, ax2 = plt.subplots()
    da.to_dataset(name="responses").custom.plot_traces(
        x="time", key="responses", plot_kwargs=dict(ax=ax2, add_legend=False)
    )
    assert len(ax2.lines) == 6 and ax2.get_legend() is None
    with pytest.raises(ValueError, match="unknown coordinate"):
        da.custom.plot_traces(x="speed")
    plt.close("all")


def test_naturalistic_responses_without_sintel_use_photo_flow(
    views, flyvis_root, monkeypatch, tmp_path
):
    from flyvis.datasets.photo_flow import MultiTaskPhotoFlow

    monkeypatch.setattr(flyvis, "sintel_dir", tmp_path / "no_sintel")
    assert not stimulus_responses.sintel_available()
    made = []

    def tiny(dt=1 / 100):
        made.append(dt)
        return MultiTaskPhotoFlow(
            tasks=["lum"],
            boxfilter=dict(extent=2, kernel_size=13),
            n_sequences=2,
            n_frames=3,
            n_source_frames=4,
            frame_size=(80, 80),
            dt=dt,
            augment=False,
            random_temporal_crop=False,
            root=flyvis_root / "renderings",
        )

    monkeypatch.setattr(naturalistic_responses, "photo_flow_naturalistic_dataset", tiny)
    ds = stimulus_responses.naturalistic_stimuli_responses(views[0], dt=1 / 50)
    assert made == [1 / 50]
    assert ds["responses"].sizes["sample"] == 2
    assert ds.attrs["config"]["tasks"] == ["lum"]
    # with Sintel on disk, the Sintel dataset is used (here: a missing scene list)
    (tmp_path / "sintel" / "training" / "final").mkdir(parents=True)
    (tmp_path / "sintel" / "training" / "flow").mkdir(parents=True)
    monkeypatch.setattr(flyvis, "sintel_dir", tmp_path / "sintel")
    assert stimulus_responses.sintel_available()


def test_central_impulses_responses(views):
    ds = stimulus_responses.central_impulses_responses(
        views[0], impulse_durations=(0.02, 0.1), dt=DT
    )
    responses = ds["responses"]
    assert responses.dims == ("network_id", "sample", "frame", "neuron")
    # ON and OFF impulses for each duration
    assert responses.sizes["sample"] == 4 and responses.sizes["neuron"] == 65
    assert np.isfinite(responses.values).all()
    r1 = responses.custom.where(cell_type="R1")
    assert float(r1.max() - r1.min()) > 0  # the photoreceptor responds to the flash


def test_spatial_impulses_responses(views):
    ds = stimulus_responses.spatial_impulses_responses(
        views[0], impulse_durations=(0.02,), max_extent=1, dt=DT
    )
    # ON and OFF impulses at the 7 columns within distance 1
    assert ds["responses"].sizes["sample"] == 14
    assert np.isfinite(ds["responses"].values).all()
