"""The shipped ensemble: found without a data root, ranked, read-only, user copy wins."""

import shutil

import numpy as np
import pytest
import torch
from tiny_ensemble import train_tiny_ensemble

import flyvis
from flyvis.network import directories
from flyvis.network.shipping import (
    DROPPED_KEYS,
    kept_checkpoints,
    model_task_errors,
    ship_ensemble,
)


@pytest.fixture(scope="module")
def trained(flyvis_root, tmp_path_factory):
    """A tiny trained 3-model ensemble, moved out of the results directory."""
    mp = pytest.MonkeyPatch()
    mp.setattr(flyvis, "results_dir", tmp_path_factory.mktemp("results"))
    try:
        path = train_tiny_ensemble(
            flyvis_root / "renderings", "0077", n_models=3, n_iters=4
        )
    finally:
        mp.undo()
    store = tmp_path_factory.mktemp("trained") / "0077"
    shutil.move(str(path), store)
    return store


@pytest.fixture
def shipped(trained, tmp_path, monkeypatch):
    """The tiny ensemble shipped into a fake package data directory."""
    package_results = tmp_path / "package" / "results"
    monkeypatch.setattr(directories, "shipped_results_dir", lambda: package_results)
    ship_ensemble(trained, package_results / "flow" / "0000", max_megabytes=10)
    return package_results / "flow" / "0000"


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    root = tmp_path / "empty_root"
    monkeypatch.setenv("FLYVIS_ROOT_DIR", str(root))
    return root


def test_ship_ranks_models_and_drops_training_state(trained, shipped):
    ranked = model_task_errors(trained)
    shipped_ranked = model_task_errors(shipped)
    assert [p.name for _, p in shipped_ranked] == ["000", "001", "002"]
    np.testing.assert_allclose([e for e, _ in shipped_ranked], [e for e, _ in ranked])
    assert [e for e, _ in ranked] == sorted(e for e, _ in ranked)
    for (_, source), (_, target) in zip(ranked, shipped_ranked):
        # same curves, same network parameters, no optimiser state
        for rel in ("loss.h5", "validation/epe.h5", "chkpt_index.h5"):
            np.testing.assert_array_equal(
                directories_read(source / rel), directories_read(target / rel)
            )
        chkpts = sorted((source / "chkpts").glob("chkpt_*"))
        assert [c.name for c in chkpts] == sorted(
            c.name for c in (target / "chkpts").iterdir()
        )
        a = torch.load(chkpts[-1], weights_only=False)
        b = torch.load(target / "chkpts" / chkpts[-1].name, weights_only=False)
        assert not set(DROPPED_KEYS) & set(b)
        for key, value in a["network"].items():
            torch.testing.assert_close(value, b["network"][key])
        assert "__cache__" not in {p.name for p in target.iterdir()}
    meta = (shipped / "000" / "_meta.yaml").read_text()
    assert "network_name: flow/0000/000" in meta


def directories_read(path):
    import h5py

    with h5py.File(path, "r") as f:
        return f[next(iter(f.keys()))][()]


def test_too_large_is_refused_and_keeps_the_old_copy(trained, shipped):
    before = sorted(p.relative_to(shipped) for p in shipped.rglob("*"))
    with pytest.raises(ValueError, match="MB"):
        ship_ensemble(trained, shipped, max_megabytes=0.01)
    assert sorted(p.relative_to(shipped) for p in shipped.rglob("*")) == before
    assert not [p for p in shipped.parent.iterdir() if p.name.startswith(".")]


def test_found_with_an_empty_data_root(shipped, empty_root):
    from flyvis.network import EnsembleView, NetworkView

    ensemble = EnsembleView("flow/0000")
    assert len(ensemble) == 3
    assert all(directories.is_shipped(v.dir.path) for v in ensemble.values())
    errors = ensemble.task_error().values
    assert list(errors) == sorted(errors)  # 000 is the best model
    view = NetworkView("flow/0000/000")
    assert view.dir.path == shipped / "000"
    network = view.init_network()
    assert len(network.connectome.nodes.type[:]) == 1203  # the tiny extent-2 network
    # loading created no results directory (only the compiled connectome cache)
    assert not (empty_root / "results").exists()


def test_analysis_cache_of_shipped_models_goes_under_the_data_root(shipped, empty_root):
    from flyvis.analysis.cache import cache_path, clear_cache

    def some_function():
        pass

    path = cache_path(shipped / "001", some_function, {"a": 1})
    assert empty_root in path.parents
    assert shipped not in path.parents
    path.mkdir(parents=True)
    assert clear_cache(shipped / "001") == 1
    assert not path.exists()
    assert directories.writable_model_dir(empty_root / "x") == empty_root / "x"


def test_users_own_ensemble_takes_precedence(trained, shipped, empty_root):
    from flyvis.network import EnsembleView, NetworkView

    own = flyvis.data_dir("results_dir") / "flow" / "0000"
    shutil.copytree(trained, own)
    ensemble = EnsembleView("flow/0000")
    assert {v.dir.path.parent for v in ensemble.values()} == {own}
    assert NetworkView("flow/0000/000").dir.path == own / "000"
    # an explicit root_dir is used as given
    with pytest.raises(ValueError, match="NetworkDir not found"):
        NetworkView("flow/0000/000", root_dir=empty_root / "nowhere")


def test_unknown_name_error_names_the_users_results_dir(shipped, empty_root):
    from flyvis.network import NetworkView

    with pytest.raises(ValueError, match=str(empty_root)):
        NetworkView("flow/0042/000")


def test_max_checkpoints_keeps_best_first_and_last(trained, tmp_path, empty_root):
    model = model_task_errors(trained)[0][1]
    all_numbers = kept_checkpoints(model)
    assert len(all_numbers) >= 3
    # make a middle checkpoint the best one: it must be kept
    import h5py

    epe_file = model / "validation" / "epe.h5"
    with h5py.File(epe_file, "r") as f:
        original = f["data"][()]
    lowered = np.array(original, dtype=float).reshape(-1)
    lowered[1] = lowered.min() - 1.0
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    with h5py.File(copy / "validation" / "epe.h5", "w") as f:
        f.create_dataset("data", data=lowered)
    assert kept_checkpoints(copy, 2) == sorted({all_numbers[0], all_numbers[-1], 1})
    assert kept_checkpoints(copy, len(all_numbers)) == all_numbers
    with pytest.raises(ValueError, match="max_checkpoints must be >= 2"):
        kept_checkpoints(copy, 1)

    # shipped with 2 checkpoints per model: fewer files, same curves, and the
    # best checkpoint (by validation EPE) still loads
    dest = tmp_path / "package" / "flow" / "0000"
    ship_ensemble(trained, dest, max_checkpoints=2)
    from flyvis.network import NetworkView

    for shipped_model in sorted(p for p in dest.iterdir() if p.name.isdigit()):
        files = sorted((shipped_model / "chkpts").iterdir())
        assert len(files) == 2
        view = NetworkView(shipped_model)
        assert view.init_network() is not None
        best = int(np.nanargmin(directories_read(shipped_model / "validation/epe.h5")))
        assert f"chkpt_{best:05d}" in {f.name for f in files}
