"""Ensemble, EnsembleView and NetworkView on a tiny ensemble trained here."""

import hashlib
import io
import pickle
import shutil
import time
import types
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import yaml
from tiny_ensemble import train_tiny_ensemble

import flyvis
from flyvis.network import Ensemble, EnsembleView, NetworkView
from flyvis.network.directories import EnsembleDir
from flyvis.network.network import IntegrationWarning

# task error (min epe) per model: 2.5, 1.0, 1.8 -> ranking [1, 2, 0]
EPE = {0: [3.0, 2.5, 2.8], 1: [3.0, 1.0, 1.5], 2: [3.0, 2.0, 1.8]}
TASK_ERROR = np.array([2.5, 1.0, 1.8])


def _write_h5(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f["data"] = np.asarray(data)


def _tree_hash(root):
    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def results(tmp_path_factory, flyvis_root):
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("results")
    mp.setattr(flyvis, "results_dir", path)
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def ensemble_dir(results, flyvis_root):
    path = train_tiny_ensemble(flyvis_root / "renderings", "0000", n_models=3, n_iters=4)
    for i, values in EPE.items():
        n_chkpts = len(list((path / f"{i:03}" / "chkpts").glob("chkpt_*")))
        assert n_chkpts == len(values)
        _write_h5(path / f"{i:03}" / "validation" / "epe.h5", values)
    return path


@pytest.fixture(scope="module")
def ensemble(ensemble_dir):
    return EnsembleView("flow/0000")


@pytest.fixture()
def copy_dir(ensemble_dir, tmp_path):
    """A writable copy of the ensemble (flow/0000 layout) in a temp results dir."""
    target = tmp_path / "results" / "flow" / "0000"
    shutil.copytree(ensemble_dir, target)
    return target


@pytest.fixture(scope="module")
def movie(ensemble):
    n_hexals = ensemble[0].init_network()._n_hexals()
    generator = torch.Generator().manual_seed(0)
    return 0.5 + 0.4 * (torch.rand(2, 5, 1, n_hexals, generator=generator) - 0.5)


# ------------------------------------------------------------------ loading
def test_loading_and_names(ensemble, ensemble_dir):
    names = ["flow/0000/000", "flow/0000/001", "flow/0000/002"]
    assert ensemble.names == names and ensemble.keys() == names
    assert list(ensemble) == names and len(ensemble) == 3
    assert ensemble.name == "flow/0000"
    assert repr(ensemble) == f"EnsembleView({ensemble_dir})"
    assert all(isinstance(v, NetworkView) for v in ensemble.values())
    assert [n for n, _ in ensemble.items()] == names
    assert set(names) <= set(dir(ensemble))
    assert ensemble.connectome is not None and "T4c" in ensemble.cell_types
    # every path type of spec §3.1 resolves to the same models
    for path in (
        ensemble_dir,
        EnsembleDir(ensemble_dir),
        ["flow/0000"],
        names,
        [ensemble_dir / "000", ensemble_dir / "001", ensemble_dir / "002"],
    ):
        assert Ensemble(path).names == names
    with pytest.raises(TypeError, match="Unsupported path type"):
        Ensemble(3.0)
    with pytest.raises(ValueError, match="Unsupported ensemble element"):
        Ensemble([1, 2])


def test_lazy_reexports():
    import flyvis.network as network

    assert flyvis.Ensemble is Ensemble and flyvis.EnsembleView is EnsembleView
    assert flyvis.NetworkView is NetworkView is network.NetworkView
    assert issubclass(EnsembleView, Ensemble) and issubclass(Ensemble, dict)


def test_access(ensemble):
    assert ensemble[0].name == "flow/0000/000"
    assert ensemble[-1].name == "flow/0000/002"
    assert ensemble["flow/0000/001"] is ensemble[1]
    sub = ensemble[1:]
    assert isinstance(sub, EnsembleView) and sub.names == [
        "flow/0000/001",
        "flow/0000/002",
    ]
    assert ensemble[np.array([2, 0])].names == ["flow/0000/002", "flow/0000/000"]
    assert ensemble[np.array([True, False, True])].names == [
        "flow/0000/000",
        "flow/0000/002",
    ]
    assert ensemble[[1]].names == ["flow/0000/001"]
    assert ensemble[ensemble.argsort()[:2]].names == ["flow/0000/001", "flow/0000/002"]
    with pytest.raises(ValueError, match="flow/0000/001"):
        ensemble["flow/0000/01"]
    with pytest.raises(IndexError):
        ensemble[3]
    with pytest.raises(ValueError):
        ensemble[1.5]


def test_sub_ensemble_keeps_checkpoint_options(ensemble_dir):
    kwargs = {"validation_subdir": "validation", "loss_file_name": "loss"}
    full = Ensemble("flow/0000", best_checkpoint_fn_kwargs=kwargs)
    for sub in (full[1:], full[[0, 2]], full[np.array([True, True, False])]):
        assert sub.validation_file() == ("validation", "loss")
        assert all(v.best_checkpoint_fn_kwargs == kwargs for v in sub.values())
        np.testing.assert_allclose(
            sub.min_validation_losses(),
            full.min_validation_losses()[[full.names.index(n) for n in sub.names]],
        )
    view = EnsembleView(full)
    assert view.validation_file() == ("validation", "loss") and view.names == full.names


# ------------------------------------------------------- ranking, contexts
def test_sorting_and_task_error(ensemble, ensemble_dir):
    assert ensemble.validation_losses().shape == (3, 3)
    np.testing.assert_allclose(ensemble.min_validation_losses(), TASK_ERROR)
    np.testing.assert_array_equal(ensemble.argsort(), [1, 2, 0])
    np.testing.assert_array_equal(ensemble.zorder(), [1, 3, 2])
    # the best checkpoint follows epe: model 000 -> checkpoint 1, 002 -> checkpoint 2
    assert ensemble[0].get_checkpoint().name == "chkpt_00001"
    assert ensemble[2].get_checkpoint().name == "chkpt_00002"
    error = ensemble.task_error()
    np.testing.assert_allclose(error.values, TASK_ERROR)
    assert error.colors.shape == (3, 4)
    brightness = error.colors[:, :3].sum(axis=1)
    assert brightness[1] < brightness[2] < brightness[0]  # best = darkest
    assert brightness[0] < 2.99  # truncated: the worst is not white
    sorted_ensemble = Ensemble(ensemble_dir, try_sort=True)
    assert sorted_ensemble.names == ["flow/0000/001", "flow/0000/002", "flow/0000/000"]
    np.testing.assert_allclose(sorted_ensemble.min_validation_losses(), [1.0, 1.8, 2.5])


def test_contexts_restore_state(ensemble):
    names = list(ensemble.names)
    with ensemble.rank_by_validation_error():
        assert ensemble.names == [names[i] for i in (1, 2, 0)]
        assert ensemble[0].name == "flow/0000/001"
    with ensemble.rank_by_validation_error(reverse=True):
        assert ensemble.names == [names[i] for i in (0, 2, 1)]
    assert ensemble.names == names
    with ensemble.ratio(best=0.34):
        assert ensemble.names == ["flow/0000/001"] and ensemble.in_context
        np.testing.assert_array_equal(ensemble.model_index, [1])
        with pytest.raises(ValueError, match="not available in context"):
            ensemble.clustering("T4c")
    with ensemble.ratio(best=0.34, worst=0.34):
        assert ensemble.names == ["flow/0000/001", "flow/0000/000"]
    with ensemble.select_items([0, 2]):
        assert ensemble.names == [names[0], names[2]] and len(ensemble) == 2
        np.testing.assert_allclose(ensemble.min_validation_losses(), TASK_ERROR[[0, 2]])
    with ensemble.select_items(["flow/0000/002"]):
        np.testing.assert_array_equal(ensemble.model_index, [2])
    with ensemble.select_items(slice(1, None)):
        assert ensemble.names == names[1:]
    with ensemble.select_items(None):
        assert ensemble.names == names
    with pytest.raises(RuntimeError), ensemble.select_items([1]):
        raise RuntimeError("restored also on error")
    assert ensemble.names == names and not ensemble.in_context
    np.testing.assert_array_equal(ensemble.model_index, [0, 1, 2])
    with pytest.raises(ValueError, match="best \\+ worst"):
        with ensemble.ratio(best=0.7, worst=0.5):
            pass


# --------------------------------------------------------------- simulation
def test_simulate_loop_and_batched_identical(ensemble, movie):
    looped = np.array(list(ensemble.simulate(movie, 1 / 50)))
    batched = np.array(list(ensemble.simulate(movie, 1 / 50, batched=True)))
    n_cells = ensemble[0].init_network().n_nodes
    assert looped.shape == (3, 2, 5, n_cells)
    np.testing.assert_allclose(batched, looped, atol=1e-6)
    # the models differ, and the result is model 001's own simulation
    assert np.abs(looped[0] - looped[1]).max() > 1e-6
    network = ensemble[1].init_network()
    state = network.fade_in_state(1.0, 1 / 50, movie[:, 0])
    expected = network.simulate(movie, 1 / 50, initial_state=state).numpy()
    np.testing.assert_allclose(looped[1], expected, atol=1e-6)
    no_fade = np.array(list(ensemble.simulate(movie, 1 / 50, fade_in=False)))
    no_fade_batched = np.array(
        list(ensemble.simulate(movie, 1 / 50, fade_in=False, batched=True))
    )
    np.testing.assert_allclose(no_fade_batched, no_fade, atol=1e-6)
    assert np.abs(no_fade - looped).max() > 1e-4


def test_simulate_bad_input(ensemble, movie):
    with pytest.raises(ValueError, match="4-D"):
        ensemble.simulate(movie[0], 1 / 50)
    padded = movie.clone()
    padded[:, -2:] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        ensemble.simulate(padded, 1 / 50)
    with pytest.warns(IntegrationWarning):
        ensemble[:1].simulate(movie, 1 / 20)


def test_simulate_from_dataset_and_decode(ensemble, movie):
    dataset = [{"lum": movie[i]} for i in range(2)]
    out = list(ensemble[:2].simulate_from_dataset(dataset, 1 / 50, batch_size=2))
    assert len(out) == 2 and out[0].shape == (2, 5, 65)
    full = list(
        ensemble[:1].simulate_from_dataset(dataset, 1 / 50, central_cell_only=False)
    )
    central = ensemble.connectome.central_cells_index[:]
    np.testing.assert_allclose(full[0][..., central], out[0], atol=1e-6)
    predictions = list(ensemble.decode(movie, 1 / 50))
    assert len(predictions) == 3 and predictions[0].shape[:3] == (2, 5, 2)
    assert np.isfinite(predictions[0]).all()


def test_parameters(ensemble):
    params = ensemble.parameters()
    keys = ensemble.parameter_keys()
    assert params["nodes_bias"].shape == (3, 65)
    assert params["nodes_time_const"].shape == (3, 65)
    assert params["edges_syn_strength"].shape[0] == 3
    for key, values in params.items():
        assert values.shape[1:] == (len(keys[key]),), key
    assert "T4c" in keys["nodes_bias"]
    assert all(isinstance(k, tuple) and len(k) == 2 for k in keys["edges_syn_strength"])
    bias = ensemble[2].init_network().nodes_bias.detach().numpy()
    np.testing.assert_allclose(params["nodes_bias"][2], bias)
    assert not np.allclose(params["nodes_bias"][0], params["nodes_bias"][1])


# ------------------------------------------------------------------ plots
@pytest.mark.parametrize(
    "method, args",
    [
        ("training_loss", ()),
        ("validation_loss", ()),
        ("task_error_histogram", ()),
        ("node_parameters", ("bias",)),
        pytest.param(
            "edge_parameters", ("syn_strength",), marks=pytest.mark.slow
        ),  # 604 violins: ~30 s on a shared CPU
        # these simulate flashes, moving edges and naturalistic movies first
        pytest.param("flash_response_index", (), marks=pytest.mark.slow),
        pytest.param("direction_selectivity_index", (), marks=pytest.mark.slow),
        pytest.param("dead_or_alive", (), marks=pytest.mark.slow),
    ],
)
def test_plots_render(ensemble, method, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    fig = getattr(ensemble, method)(*args)[0]
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    assert mpimg.imread(buffer).std() > 0


def test_unknown_names(ensemble):
    with pytest.raises(ValueError, match="Did you mean: bias"):
        ensemble.node_parameters("bais")
    with pytest.raises(ValueError, match="syn_strength"):
        ensemble.edge_parameters("syn_strenght")
    with pytest.raises(ValueError, match="T4c"):
        ensemble.clustering("T4e")
    with pytest.raises(ValueError, match="Unknown cell type 'T4e'"):
        ensemble.cluster_indices("T4e")


def test_cluster_indices_from_stored_clustering(copy_dir):
    folder = copy_dir / "umap_and_clustering"
    folder.mkdir()
    embedding = types.SimpleNamespace(mask=np.array([True, True, True]))
    clustering = types.SimpleNamespace(labels=np.array([0, 1, 1]), embedding=embedding)
    (folder / "T4c.pickle").write_bytes(pickle.dumps(clustering))
    ensemble = Ensemble(copy_dir)
    indices = ensemble.cluster_indices("T4c")
    # the stored labels follow directory order: a re-sorted ensemble is refused
    resorted = Ensemble(copy_dir)
    resorted.sort()
    assert resorted.names != ensemble.names
    with pytest.raises(ValueError, match="directory order"):
        resorted.cluster_indices("T4c")
    # old cluster 1 (models 1, 2: mean error 1.4) becomes cluster 0
    assert list(indices) == [0, 1]
    np.testing.assert_array_equal(indices[0], [1, 2])
    np.testing.assert_array_equal(indices[1], [0])
    assert ensemble[indices[0]].names == ["flow/0000/001", "flow/0000/002"]
    # a model masked out of the embedding carries INVALID_INT and is omitted
    embedding.mask = np.array([True, False, True])
    clustering.labels = np.array([0, -99999, 1])
    (folder / "T4c.pickle").write_bytes(pickle.dumps(clustering))
    indices = Ensemble(copy_dir).cluster_indices("T4c")
    assert {k: list(v) for k, v in indices.items()} == {0: [2], 1: [0]}
    embedding.mask = np.array([True, False, True, True])
    clustering.labels = np.array([0, 1, 1, 1])
    (folder / "T4c.pickle").write_bytes(pickle.dumps(clustering))
    with pytest.raises(ValueError, match="does not match ensemble"):
        ensemble.cluster_indices("T4c")


# ------------------------------------------- flyvis 1.2.0 directories, errors
def test_opens_flyvis_layout_built_by_hand(ensemble_dir, tmp_path):
    """A model directory in flyvis 1.2.0's layout with its checkpoint keys."""
    source = ensemble_dir / "001"
    model = tmp_path / "flow" / "0007" / "000"
    (model / "chkpts").mkdir(parents=True)
    meta = yaml.safe_load((source / "_meta.yaml").read_text())
    assert meta["config"]["type"] == "NetworkDir"
    (model / "_meta.yaml").write_text(yaml.safe_dump(meta))
    trained = torch.load(source / "chkpts" / "chkpt_00001", weights_only=False)
    network_state = {k: v.clone() for k, v in trained["network"].items()}
    network_state["nodes_bias"] = torch.linspace(
        0, 1, network_state["nodes_bias"].numel()
    )
    checkpoint = {
        "network": network_state,
        "decoder": trained["decoder"],
        "optim": {},
        "time": time.ctime(),
        "val_loss": 0.5,
        "iteration": -1,
        "dt": 0.02,
    }
    torch.save(checkpoint, model / "chkpts" / "chkpt_00000")
    _write_h5(model / "validation" / "loss.h5", [0.5])
    _write_h5(model / "loss.h5", [1.0, 0.8, 0.6])
    before = _tree_hash(tmp_path)
    view = NetworkView("flow/0007/000", root_dir=tmp_path)
    assert view.name == "flow/0007/000"
    assert view.get_checkpoint().name == "chkpt_00000"  # epe missing -> loss
    network = view.init_network()
    np.testing.assert_allclose(
        network.nodes_bias.detach().numpy(), network_state["nodes_bias"].numpy()
    )
    assert set(view.init_decoder()) == set(trained["decoder"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ensemble = EnsembleView("flow/0007", root_dir=tmp_path)
        np.testing.assert_allclose(ensemble.min_validation_losses(), [0.5])
        assert ensemble.parameters()["nodes_bias"].shape == (1, 65)
    assert _tree_hash(tmp_path) == before


def test_empty_and_missing_results(tmp_path):
    (tmp_path / "flow" / "0000").mkdir(parents=True)
    before = _tree_hash(tmp_path)
    with pytest.raises(ValueError, match="No model directories"):
        Ensemble("flow/0000", root_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        Ensemble("flow/0001", root_dir=tmp_path)
    with pytest.raises(ValueError, match="NetworkDir not found"):
        NetworkView("flow/0000/000", root_dir=tmp_path)
    assert _tree_hash(tmp_path) == before
    assert not (tmp_path / "flow" / "0001").exists()


@pytest.mark.parametrize(
    "remove, message",
    [("chkpts", "has no checkpoints"), ("validation", "has no validation losses")],
)
def test_partial_model_dir(copy_dir, remove, message):
    shutil.rmtree(copy_dir / "001" / remove)
    before = _tree_hash(copy_dir.parent.parent)
    with pytest.raises(ValueError, match=f"001 {message}"):
        Ensemble(copy_dir)
    assert _tree_hash(copy_dir.parent.parent) == before


def test_checkpoint_from_other_connectome(copy_dir, movie):
    for path in (copy_dir / "002" / "chkpts").glob("chkpt_*"):
        state = torch.load(path, weights_only=False)
        state["network"]["nodes_bias"] = torch.zeros(70)
        torch.save(state, path)
    before = _tree_hash(copy_dir.parent.parent)
    ensemble = Ensemble(copy_dir)
    with pytest.raises(ValueError, match=r"'nodes_bias'.*\(70,\).*\(65,\)"):
        ensemble[2].init_network()
    with pytest.raises(ValueError, match=r"'nodes_bias'.*\(70,\).*flow/0000/002"):
        ensemble.parameters()
    with pytest.raises(ValueError, match="nodes_bias"):
        list(ensemble.simulate(movie, 1 / 50, batched=True))
    assert _tree_hash(copy_dir.parent.parent) == before


def test_response_methods_forward(ensemble, monkeypatch):
    import flyvis.analysis.stimulus_responses as stimulus_responses

    calls = []

    def fake(obj, **kwargs):
        calls.append((obj, kwargs))
        return "responses"

    monkeypatch.setattr(stimulus_responses, "flash_responses", fake)
    assert ensemble.flash_responses(dt=0.1) == "responses"
    assert ensemble[1].flash_responses(radius=(6,)) == "responses"
    assert calls[0][0] is ensemble and calls[0][1] == {"dt": 0.1}
    assert calls[1][0] is ensemble[1] and calls[1][1] == {"radius": (6,)}


def test_ratio_keeping_no_model_is_an_error(ensemble):
    with pytest.raises(ValueError, match="keeps no model"):
        with ensemble.ratio(best=0.1):
            pass
    assert len(ensemble) == 3 and not ensemble.in_context


def test_simulate_does_not_silence_warnings_between_models(ensemble):
    import warnings

    movie = torch.full((1, 3, 1, 19), 0.5)
    before = list(warnings.filters)
    results = ensemble.simulate(movie, 0.02, fade_in=False)
    next(results)
    # while the generator waits in the caller's loop, no filter of its own is active
    assert warnings.filters == before
    assert len(list(results)) == 2
