"""Response normalisation constants: known answers, storage round trip, tiny model."""

import numpy as np
import pytest
from tiny_ensemble import train_tiny_ensemble

import flyvis
from flyvis.analysis import response_norms as rn
from flyvis.analysis import response_norms_store as rn_store

DT = 1 / 50


def _norms(names, checkpoints, values, hashes=(), name="flow/0000", config="{}"):
    values = np.asarray(values, np.float32)
    return rn.ResponseNorms(
        ensemble_name=name,
        model_names=names,
        cell_types=["A", "B"],
        checkpoints=checkpoints,
        norm=values,
        rectified_norm=values / 2,
        dataset_config=config,
        checkpoint_hashes=list(hashes),
    )


def test_norms_from_responses_known_answers():
    x = np.zeros((2, 2, 2, 3))
    x[0, ..., 0] = 2.0  # constant 2 -> RMS 2
    x[0, :, :, 1] = [[3.0, -4.0], [3.0, -4.0]]  # RMS sqrt((9 + 16) / 2)
    x[1, 0, 0, 2] = -6.0  # one non-zero of four -> 3; rectified 0
    x[1, 1, 1, 2] = np.nan  # NaN counts as 0
    norm = rn.norms_from_responses(x)
    np.testing.assert_allclose(norm[0], [2.0, np.sqrt(12.5), 0.0])
    np.testing.assert_allclose(norm[1], [0.0, 0.0, 3.0])
    rect = rn.norms_from_responses(x, rectified=True)
    np.testing.assert_allclose(rect[0], [2.0, np.sqrt(4.5), 0.0])
    np.testing.assert_allclose(rect[1], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="n_models, n_samples"):
        rn.norms_from_responses(np.zeros((2, 3)))


def test_covers_select_update():
    a = _norms(
        ["flow/0000/001", "flow/0000/000"],
        ["chkpt_00001", "chkpt_00000"],
        [[1, 2], [3, 4]],
        hashes=["h1", "h0"],
    )
    assert a.covers(["flow/0000/000"], ["/x/chkpts/chkpt_00000"])
    assert not a.covers(["flow/0000/000"], ["chkpt_00002"])
    assert a.covers(["flow/0000/000"], ["chkpt_00009"], ["h0"])  # hash wins
    assert not a.covers(["flow/0000/000"], ["chkpt_00000"], ["other"])
    assert not a.covers(["flow/0000/002"], ["chkpt_00000"])
    sel = a.select(["flow/0000/000", "flow/0000/001"])
    assert sel.shape == (2, 1, 1, 2)
    np.testing.assert_allclose(sel[:, 0, 0], [[3, 4], [1, 2]])
    np.testing.assert_allclose(
        a.select(["flow/0000/001"], rectified=True)[0, 0, 0], [0.5, 1]
    )
    with pytest.raises(KeyError, match="002"):
        a.select(["flow/0000/002"])
    b = _norms(["flow/0000/002", "flow/0000/000"], ["chkpt_00000"] * 2, [[5, 6], [7, 8]])
    merged = a.update(b)
    assert merged.model_names == ["flow/0000/000", "flow/0000/001", "flow/0000/002"]
    np.testing.assert_allclose(merged.norm, [[7, 8], [1, 2], [5, 6]])
    assert merged.checkpoint_hashes == []  # not all models have hashes
    with pytest.raises(ValueError, match="flow/0001"):
        a.update(_norms(["flow/0001/000"], ["c"], [[1, 1]], name="flow/0001"))
    with pytest.raises(ValueError, match="shape"):
        _norms(["m"], ["c"], [[1, 2, 3]])


def test_write_read_roundtrip_keeps_other_groups(tmp_path):
    path = tmp_path / "responses_norm.h5"
    assert rn.read_response_norms(path, "flow/0000") is None
    a = _norms(["flow/0000/000"], ["chkpt_00000"], [[1, 2]], hashes=["h"])
    b = _norms(["flow/0001/000"], ["chkpt_00003"], [[3, 4]], name="flow/0001")
    rn.write_response_norms(path, a)
    rn.write_response_norms(path, b)
    back = rn.read_response_norms(path, "flow/0000")
    assert back.model_names == a.model_names and back.cell_types == ["A", "B"]
    assert back.checkpoint_hashes == ["h"] and back.dataset_config == "{}"
    np.testing.assert_array_equal(back.norm, a.norm)
    np.testing.assert_array_equal(back.rectified_norm, a.rectified_norm)
    assert rn.read_response_norms(path, "flow/0001").checkpoints == ["chkpt_00003"]
    assert rn.read_response_norms(path, "flow/0002") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["responses_norm.h5"]


def test_checkpoint_hash(tmp_path):
    import hashlib

    f = tmp_path / "c"
    f.write_bytes(b"x" * (3 << 20))
    assert rn.checkpoint_hash(f) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()
    assert rn.checkpoint_hash(tmp_path / "missing") == ""


@pytest.fixture(scope="module")
def view(tmp_path_factory, flyvis_root):
    from flyvis.network import NetworkView

    mp = pytest.MonkeyPatch()
    mp.setattr(flyvis, "results_dir", tmp_path_factory.mktemp("results"))
    train_tiny_ensemble(flyvis_root / "renderings", "0000", n_models=1, n_iters=2)
    yield NetworkView("flow/0000/000", device="cpu")
    mp.undo()


def test_tiny_model_norms_store_and_reload(view, monkeypatch):
    from flyvis.analysis.stimulus_responses import flash_responses
    from flyvis.datasets.flashes import Flashes

    dataset = Flashes(dt=DT, radius=(-1,), t_stim=0.2, t_pre=0.2)
    norm = rn.response_norms([view], dataset=dataset)
    assert norm.shape == (1, 1, 1, 65) and norm.dtype == np.float32
    responses = flash_responses(view, dataset=dataset)["responses"].values
    expected = rn.norms_from_responses(responses)
    np.testing.assert_allclose(norm[:, 0, 0], expected, rtol=1e-5)
    assert (norm > 0).any()
    rect = rn.response_norms(view, rectified=True, dataset=dataset)
    np.testing.assert_allclose(
        rect[:, 0, 0], rn.norms_from_responses(responses, rectified=True), rtol=1e-5
    )
    assert (rect <= norm + 1e-6).all()
    # stored in the ensemble directory with the checkpoint identity
    path = view.dir.path.parent / rn.ENSEMBLE_FILE_NAME
    stored = rn.read_response_norms(path, "flow/0000")
    assert stored.model_names == ["flow/0000/000"]
    assert stored.checkpoints == [view.get_checkpoint("best").name]
    assert len(stored.checkpoint_hashes[0]) == 64

    # the next call loads instead of computing
    def fail(*args, **kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(rn, "compute_response_norms", fail)
    np.testing.assert_array_equal(rn.response_norms(view, dataset=dataset), norm)
    with pytest.raises(AssertionError, match="recomputed"):
        rn.response_norms(view, dataset=dataset, force_recompute=True)
    # another dataset config is not covered by the stored norms
    other = Flashes(dt=DT, radius=(-1,), t_stim=0.3, t_pre=0.2)
    with pytest.raises(AssertionError, match="recomputed"):
        rn.response_norms(view, dataset=other)
    # a changed checkpoint is not covered either
    monkeypatch.setattr(rn_store, "checkpoint_hash", lambda path: "changed")
    with pytest.raises(AssertionError, match="recomputed"):
        rn.response_norms(view, dataset=dataset)
