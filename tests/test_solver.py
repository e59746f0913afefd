"""Training: schedules, checkpoints, solver runs, recovery (solver.md §2-6)."""

import math
import os
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest
import torch
from tiny_ensemble import tiny_overrides

import flyvis
from flyvis.solver import HyperParamScheduler, MultiTaskSolver, get_optimizer_class
from flyvis.utils import chkpt_utils
from flyvis.utils.config_utils import get_default_config

H = HyperParamScheduler


# -- schedule functions ---------------------------------------------------------------


def test_linear():
    np.testing.assert_allclose(H.linear(4, 6, 1.0, 0.0, 3), [1, 2 / 3, 1 / 3, 0, 0, 0, 0])


def test_stepwise():
    np.testing.assert_allclose(
        H.stepwise(6, 7, 1.0, 0.0, 3), [1, 1, 0.5, 0.5, 0, 0, 0, 0]
    )
    # S / k is truncated to an int number of repetitions
    np.testing.assert_allclose(
        H.stepwise(7, 7, 1.0, 0.0, 3), [1, 1, 0.5, 0.5, 0, 0, 0, 0]
    )
    # fewer iterations than steps: only the padding (flyvis 1.2.0 behaviour)
    np.testing.assert_allclose(H.stepwise(4, 4, 1.0, 0.5, 10), [0.5] * 5)


def test_default_lr_schedule():
    values = H.stepwise(250_000, 250_000, 5e-5, 5e-6, 10)
    assert len(values) == 250_001
    assert values[0] == 5e-5 and values[24_999] == 5e-5
    np.testing.assert_allclose(values[25_000], 4.5e-5)
    np.testing.assert_allclose(values[-1], 5e-6)


def test_stepwise_halves():
    np.testing.assert_allclose(
        H.stepwise_2ndhalf(8, 8, 1.0, 0.0, 2), [1, 1, 1, 1, 1, 1, 1, 0, 0]
    )
    np.testing.assert_allclose(
        H.stepwise_half(8, 8, 1.0, 0.0, 2), [1, 1, 0, 0, 0, 0, 0, 0, 0]
    )


def test_steponential_and_inverse():
    # x = (1 / 0.25) ** (1 / 2) = 2
    np.testing.assert_allclose(
        H.steponential(4, 5, 1.0, 0.25, 2), [1, 1, 0.5, 0.5, 0.5, 0.5]
    )
    np.testing.assert_allclose(H.steponential_inv(4, 5, 1.0, 0.25, 2), [1, 1, 2, 2, 2, 2])
    # start * stop ** (i / k)
    values = H.steponential(30, 30, 2.0, 0.1, 3)
    np.testing.assert_allclose(
        values[[0, 10, 20, 30]],
        [2, 2 * 0.1 ** (1 / 3), 2 * 0.1 ** (2 / 3), 2 * 0.1 ** (2 / 3)],
    )


def test_exponentials():
    e = math.exp
    np.testing.assert_allclose(
        H.exponential(3, 4, 1.0, e(-3), 1), [1, e(-1), e(-2), e(-3), e(-3)], rtol=1e-9
    )
    np.testing.assert_allclose(
        H.exponential_half(6, 5, 1.0, e(-3), 1),
        [1, e(-1), e(-2), e(-3), e(-3), e(-3)],
        rtol=1e-9,
    )


def test_scheduler_sets_hyperparameters():
    a, b, c = (torch.nn.Parameter(torch.zeros(1)) for _ in range(3))
    optimizer = torch.optim.Adam([{"params": [a], "lr": 1.0}, {"params": [b], "lr": 1.0}])
    pen = torch.optim.SGD([c], lr=1.0)
    task = SimpleNamespace(n_iters=4, dataset=SimpleNamespace(dt=0.0))
    penalizer = SimpleNamespace(optimizers={"activity_optim": pen}, activity_penalty=None)
    config = {
        "lr_net": {"function": "linear", "start": 4.0, "stop": 1.0, "steps": 1},
        "lr_dec": {"function": "stepwise", "start": 2.0, "stop": 1.0, "steps": 2},
        "lr_pen": {"function": "stepwise", "start": 3.0, "stop": 3.0, "steps": 1},
        "dt": {"function": "stepwise", "start": 0.02, "stop": 0.01, "steps": 2},
        "activity_penalty": {
            "function": "stepwise",
            "start": 0.5,
            "stop": 0.5,
            "steps": 1,
        },
        "chkpt_every_epoch": 300,  # not a schedule: ignored
        "other": {"function": "linear", "start": 1, "stop": 2},  # incomplete: ignored
    }
    scheduler = H(config, None, task, optimizer, penalizer)
    assert set(scheduler.scheduled_params) == {
        "lr_net",
        "lr_dec",
        "lr_pen",
        "dt",
        "activity_penalty",
    }
    scheduler(0)
    assert (
        optimizer.param_groups[0]["lr"] == 4.0 and optimizer.param_groups[1]["lr"] == 2.0
    )
    assert pen.param_groups[0]["lr"] == 3.0
    assert task.dataset.dt == 0.02 and penalizer.activity_penalty == 0.5
    scheduler(2)
    assert (
        optimizer.param_groups[0]["lr"] == 2.0 and optimizer.param_groups[1]["lr"] == 1.0
    )
    assert task.dataset.dt == 0.01
    scheduler(100)  # past the end: last values
    assert optimizer.param_groups[0]["lr"] == 1.0
    assert "Iteration: 100/4" in repr(scheduler)


def test_unknown_schedule_function_and_optimizer():
    task = SimpleNamespace(n_iters=4, dataset=SimpleNamespace(dt=0.0))
    with pytest.raises(ValueError, match="stepwise"):
        H(
            {"lr_net": {"function": "nope", "start": 1, "stop": 1, "steps": 1}},
            None,
            task,
            None,
            None,
        )
    assert get_optimizer_class("Adam") is torch.optim.Adam
    with pytest.raises(ValueError, match="SGD"):
        get_optimizer_class("Adamm")


# -- checkpoint utilities -------------------------------------------------------------


def _write_h5(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f["data"] = np.asarray(values)


def test_checkpoint_index_map_does_not_create(tmp_path):
    missing = tmp_path / "net" / "chkpts"
    assert chkpt_utils.checkpoint_index_to_path_map(missing) == ([], [])
    assert not missing.exists()
    assert chkpt_utils.resolve_checkpoints(tmp_path / "net").indices == []
    missing.mkdir(parents=True)
    for name in ["chkpt_00010", "chkpt_00002", "chkpt_foo", ".chkpt_00003.x.tmp"]:
        (missing / name).write_bytes(b"")
    indices, paths = chkpt_utils.checkpoint_index_to_path_map(missing)
    assert indices == [2, 10]
    assert [p.name for p in paths] == ["chkpt_00002", "chkpt_00010"]


def test_best_checkpoint_selection(tmp_path, caplog):
    for i in range(3):
        chkpt_utils.save_checkpoint({"i": i}, tmp_path / "chkpts" / f"chkpt_{i:05}")
    _write_h5(tmp_path / "validation" / "loss.h5", [3.0, 1.0, 2.0])
    with caplog.at_level("WARNING"):
        best = chkpt_utils.best_checkpoint_default_fn(tmp_path)  # epe missing -> loss
    assert best.name == "chkpt_00001"
    _write_h5(tmp_path / "validation" / "epe.h5", [3.0, 2.0, 1.0])
    assert chkpt_utils.best_checkpoint_default_fn(tmp_path).name == "chkpt_00002"
    assert chkpt_utils.best_checkpoint_default_fn(
        tmp_path, loss_file_name="loss"
    ).name == ("chkpt_00001")
    with pytest.raises(FileNotFoundError):
        chkpt_utils.best_checkpoint_default_fn(tmp_path, validation_subdir="nothing")


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle")


def test_atomic_save_leaves_no_partial_file(tmp_path):
    path = tmp_path / "chkpts" / "chkpt_00000"
    chkpt_utils.save_checkpoint({"a": torch.ones(3)}, path)
    with pytest.raises(RuntimeError):
        chkpt_utils.save_checkpoint({"a": torch.zeros(3), "b": _Unpicklable()}, path)
    assert sorted(os.listdir(path.parent)) == ["chkpt_00000"]  # no temporary left
    assert torch.equal(torch.load(path, weights_only=False)["a"], torch.ones(3))
    with pytest.raises(RuntimeError):
        chkpt_utils.save_checkpoint(
            {"b": _Unpicklable()}, tmp_path / "chkpts" / "chkpt_00001"
        )
    assert sorted(os.listdir(path.parent)) == ["chkpt_00000"]


def test_state_dict_helpers(tmp_path):
    with pytest.raises(TypeError):
        chkpt_utils.get_from_state_dict(3, "network")
    assert chkpt_utils.get_from_state_dict({"a": 1}, "b") is None
    path = chkpt_utils.save_checkpoint({"network": {"x": 1}}, tmp_path / "c")
    assert chkpt_utils.get_from_state_dict(path, "network", map_location="cpu") == {
        "x": 1
    }
    assert chkpt_utils.get_from_state_dict(str(path), "network", map_location="cpu") == {
        "x": 1
    }

    p = torch.nn.Parameter(torch.ones(2))
    source = torch.optim.SGD([p], lr=0.5, momentum=0.9)
    p.grad = torch.ones(2)
    source.step()
    for state in (
        {"activity_optim": source.state_dict()},
        {"penalty_optims": {"activity_optim": source.state_dict()}},
    ):
        target = torch.optim.SGD(
            [torch.nn.Parameter(torch.ones(2))], lr=1.0, momentum=0.9
        )
        chkpt_utils.recover_penalty_optimizers(
            {"activity_optim": target, "x": None}, state
        )
        assert target.param_groups[0]["lr"] == 0.5
        assert torch.equal(
            target.state_dict()["state"][0]["momentum_buffer"],
            source.state_dict()["state"][0]["momentum_buffer"],
        )


# -- solver runs on a tiny network ----------------------------------------------------


@pytest.fixture(scope="module")
def results(tmp_path_factory, flyvis_root):
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("results")
    mp.setattr(flyvis, "results_dir", path)
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def renderings(flyvis_root):
    return flyvis_root / "renderings"


@pytest.fixture(scope="module")
def trained(results, renderings):
    config = get_default_config(tiny_overrides(renderings, "0000/000"))
    solver = MultiTaskSolver(config=config, device="cpu")
    solver.train(progress=False)
    return solver


def _h5(path):
    with h5py.File(path, "r") as f:
        return np.asarray(f["data"][()])


def test_training_writes_flyvis_layout(trained, results):
    path = results / "flow" / "0000" / "000"
    assert trained.path == path
    assert trained.iteration == 4  # exactly n_iters
    expected = {
        "_meta.yaml",
        "loss.h5",
        "loss_flow.h5",
        "activity.h5",
        "activity_min.h5",
        "activity_max.h5",
        "chkpt_index.h5",
        "chkpt_iter.h5",
        "best_chkpt_index.h5",
        "dt.h5",
        "time_trained.h5",
        "chkpts",
        "validation",
        "validation_batch",
        "training",
        "training_batch",
    }
    assert expected <= set(os.listdir(path))
    assert sorted(os.listdir(path / "chkpts")) == [
        "chkpt_00000",
        "chkpt_00001",
        "chkpt_00002",
    ]
    for sub in ["validation", "validation_batch", "training", "training_batch"]:
        for name in ["loss", "loss_flow", "iteration", "epe"]:
            assert len(_h5(path / sub / f"{name}.h5")) == 3, (sub, name)
    # 5 training sequences, batch 2 -> 2 iterations per epoch; checkpoints before
    # training, after epoch 0 and at the end
    np.testing.assert_array_equal(_h5(path / "chkpt_index.h5"), [0, 1, 2])
    np.testing.assert_array_equal(_h5(path / "chkpt_iter.h5"), [-1, 1, 3])
    np.testing.assert_array_equal(_h5(path / "validation" / "iteration.h5"), [0, 2, 4])
    assert len(_h5(path / "loss.h5")) == 4 and len(_h5(path / "activity_max.h5")) == 4
    assert float(_h5(path / "dt.h5")) == 0.02
    assert float(_h5(path / "time_trained.h5")) > 0

    chkpt = torch.load(path / "chkpts" / "chkpt_00002", weights_only=False)
    assert {
        "network",
        "decoder",
        "optim",
        "time",
        "val_loss",
        "iteration",
        "dt",
        "activity_optim",
    } <= set(chkpt)
    assert "penalty_optims" not in chkpt
    assert chkpt["iteration"] == 3 and chkpt["dt"] == 0.02
    assert set(chkpt["network"]) == {
        "nodes_bias",
        "nodes_time_const",
        "edges_sign",
        "edges_syn_count",
        "edges_syn_strength",
    }
    assert set(chkpt["decoder"]) == {"flow"}
    config = trained.dir.config
    assert config.type == "NetworkDir" and trained.dir.status == "done"
    assert config.network_name == "flow/0000/000"


def test_network_view_of_trained(trained, results):
    from flyvis.network.network_view import NetworkView

    view = NetworkView("flow/0000/000")
    assert view.name == "flow/0000/000"
    assert view.checkpoints.indices == [0, 1, 2]
    epe = _h5(results / "flow" / "0000" / "000" / "validation" / "epe.h5")
    assert view.get_checkpoint("best").name == f"chkpt_{int(np.argmin(epe)):05}"
    assert view.get_checkpoint(-1).name == "chkpt_00002"
    network = view.init_network(checkpoint=-1)
    assert not network.training
    for key, value in trained.network.state_dict().items():
        assert torch.equal(network.state_dict()[key].cpu(), value.cpu()), key
    decoder = view.init_decoder(checkpoint=-1)
    for key, value in trained.decoder["flow"].state_dict().items():
        assert torch.equal(decoder["flow"].state_dict()[key].cpu(), value.cpu()), key
    with pytest.raises(ValueError, match="NetworkDir not found"):
        NetworkView("flow/0000/999")


def test_recover_round_trip(trained):
    solver = MultiTaskSolver(config=trained.config, device="cpu")
    assert solver.iteration == 0
    solver.recover(checkpoint=-1)
    assert solver.iteration == trained.iteration == 4
    assert solver._last_chkpt_ind == 2 and solver._curr_chkpt_ind == 2
    for key, value in trained.network.state_dict().items():
        assert torch.equal(solver.network.state_dict()[key], value), key
    for key, value in trained.decoder["flow"].state_dict().items():
        assert torch.equal(solver.decoder["flow"].state_dict()[key], value), key
    a, b = trained.optimizer.state_dict(), solver.optimizer.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for i, state in a["state"].items():
        for key, value in state.items():
            assert torch.equal(
                torch.as_tensor(value), torch.as_tensor(b["state"][i][key])
            )
    assert (
        trained.penalty._chkpt()["activity_optim"]
        == solver.penalty._chkpt()["activity_optim"]
    )
    # already loaded: no-op; best by validation loss
    solver.recover(checkpoint=-1)
    solver.recover(checkpoint="best")
    assert solver._curr_chkpt_ind == int(_h5(solver.path / "best_chkpt_index.h5"))
    # training is complete: nothing happens
    solver.recover(checkpoint=-1)
    solver.train(progress=False)
    assert solver.iteration == 4
    assert len(os.listdir(solver.path / "chkpts")) == 3


def test_resume_continues_numbering(results, renderings):
    config = get_default_config(tiny_overrides(renderings, "0000/001", n_iters=4))
    solver = MultiTaskSolver(config=config, device="cpu")
    solver.task.n_iters = 2  # stop early, as an interrupted run would
    solver.train(progress=False)
    assert solver.iteration == 2
    resumed = MultiTaskSolver(config=config, device="cpu")
    resumed.recover(checkpoint=-1)
    assert resumed.iteration == 2
    resumed.train(progress=False, initial_checkpoint=False)
    assert resumed.iteration == 4
    path = resumed.path
    assert len(_h5(path / "loss.h5")) == 4
    np.testing.assert_array_equal(_h5(path / "chkpt_index.h5"), [0, 1, 2])
    np.testing.assert_array_equal(_h5(path / "chkpt_iter.h5"), [-1, 1, 3])


def test_overfit_reduces_loss(results, renderings):
    extra = [
        "scheduler.lr_net.start=0.003",
        "scheduler.lr_net.stop=0.003",
        "scheduler.lr_dec.start=0.003",
        "scheduler.lr_dec.stop=0.003",
        "task.decoder.flow.p_dropout=0",
    ]
    config = get_default_config(
        tiny_overrides(renderings, "0000/002", n_iters=12, extra=extra)
    )
    solver = MultiTaskSolver(config=config, device="cpu")
    solver.train(overfit=True, initial_checkpoint=False, progress=False)
    losses = _h5(solver.path / "loss.h5")
    assert len(losses) == 12
    assert losses[-3:].mean() < losses[:3].mean()


def test_nan_detection(results, renderings):
    config = get_default_config(tiny_overrides(renderings, "0000/003", n_iters=2))
    solver = MultiTaskSolver(config=config, device="cpu", init_penalties=False)
    with torch.no_grad():
        solver.network.nodes_bias.fill_(float("nan"))
    with pytest.raises(OverflowError, match="Invalid values encountered in trace."):
        solver.train(initial_checkpoint=False, progress=False)


def test_penalty(trained):
    from flyvis.solver import Penalty

    network = trained.network
    penalty = Penalty(trained.config.penalizer, network)
    assert set(penalty.optimizers) == {"activity_optim"}  # lambda 0: no parameter penalty
    assert list(penalty.parameter_config) == [
        "nodes_bias",
        "edges_syn_count",
        "edges_syn_strength",
    ]
    before = {k: v.clone() for k, v in network.state_dict().items()}
    x = torch.zeros(1, 4, network.n_nodes)
    network.zero_grad()
    activity = network(x, 0.02)
    penalty.activity_penalty_step(activity, retain_graph=False)
    after = network.state_dict()
    assert not torch.equal(before["nodes_bias"], after["nodes_bias"])
    for key in ["nodes_time_const", "edges_syn_strength"]:
        assert torch.equal(before[key], after[key])
    network.load_state_dict(before)
    # past stop_iter the activity penalty switches off for good
    penalty(activity=network(x, 0.02), iteration=10**9)
    assert penalty.activity_optim is None

    config = trained.config.penalizer.to_dict()
    config["activity_penalty"] = {k: 0 for k in config["activity_penalty"]}
    with pytest.raises(ValueError, match="no activity penalty parameters"):
        Penalty(config, network)


def test_activity_penalty_step_adds_its_gradient_to_the_loss_gradient(trained):
    """As flyvis 1.2.0: the penalty optimiser steps on (task-loss + penalty)
    gradients of the penalised parameters; no other gradient is touched."""
    from flyvis.solver import Penalty

    network = trained.network
    penalty = Penalty(trained.config.penalizer, network)
    x = 0.1 * torch.rand(
        2, 8, network.n_nodes, generator=torch.Generator().manual_seed(3)
    )
    network.zero_grad()
    # reference: the penalty's gradient by a full backward on its own
    penalty.activity_penalty_value(network(x, 0.02)).backward()
    reference = network.nodes_bias.grad.clone()
    assert reference.abs().sum() > 0
    network.zero_grad()
    loss_grad = torch.randn_like(network.nodes_bias)
    network.nodes_bias.grad = loss_grad.clone()
    seen = {}
    step = penalty.activity_optim.step
    penalty.activity_optim.step = lambda: seen.update(
        grad=network.nodes_bias.grad.clone(),
        strength=network.edges_syn_strength.grad,
    )
    try:
        penalty.activity_penalty_step(network(x, 0.02), retain_graph=False)
    finally:
        penalty.activity_optim.step = step
        network.zero_grad()
    torch.testing.assert_close(seen["grad"], loss_grad + reference, rtol=1e-5, atol=1e-8)
    assert seen["strength"] is None


def test_task_split_and_sampler(trained):
    from flyvis.task.tasks import Task

    task_config = trained.config.task.to_dict()
    task_config.update(original_split=False, n_folds=3, fold=0, seed=1)
    a, b = Task(**task_config), Task(**task_config)
    assert a.train_seq_index == b.train_seq_index
    assert sorted(a.train_seq_index + a.val_seq_index) == list(range(6))
    assert list(a.train_data.sampler) == list(b.train_data.sampler)
    # seed 0 is shuffled too (the 1.2.0 split was contiguous for seed 0)
    task_config["seed"] = 0
    c = Task(**task_config)
    assert sorted(c.train_seq_index + c.val_seq_index) == list(range(6))
    assert c.loss(torch.ones(1, 2, 2, 3), torch.ones(1, 2, 2, 3), "flow") == 0
    with pytest.raises(ValueError, match="MultiTaskPhotoFlow"):
        Task(**{**task_config, "dataset": {**task_config["dataset"], "type": "Nope"}})


def test_results_dir_resolved_at_call_time(tmp_path, monkeypatch):
    from flyvis.network.directories import NetworkDir, get_results_dir

    monkeypatch.setattr(flyvis, "results_dir", tmp_path / "elsewhere")
    assert get_results_dir() == tmp_path / "elsewhere"
    d = NetworkDir("flow/0000/000", {"x": 1})
    assert Path(d.path) == tmp_path / "elsewhere" / "flow" / "0000" / "000"
    assert d.config.type == "NetworkDir"


def test_checkpoint_files_get_normal_permissions(tmp_path):
    """Atomic writes go through mkstemp (mode 0600); the result follows the umask."""
    umask = os.umask(0o022)
    try:
        path = chkpt_utils.save_checkpoint({"a": 1}, tmp_path / "chkpt_00000")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_lr_scale_groups_and_schedule(results, renderings):
    extra = [
        "scheduler.lr_net.start=0.004",
        "scheduler.lr_net.stop=0.002",
        "scheduler.lr_net.steps=2",
        "scheduler.lr_dec.start=0.001",
        "scheduler.lr_dec.stop=0.001",
        "+optim.lr_scale={edges_syn_strength:0.25,nodes_time_const:2}",
    ]
    config = get_default_config(
        tiny_overrides(renderings, "0000/004", n_iters=4, extra=extra)
    )
    solver = MultiTaskSolver(config=config, device="cpu")
    groups = solver.optimizer.param_groups
    network = solver.network
    # group 0: the other network parameters; then the decoder; then the scaled ones
    assert all(p is not network.edges_syn_strength for p in groups[0]["params"])
    assert any(p is network.nodes_bias for p in groups[0]["params"])
    assert groups[-2]["params"][0] is network.edges_syn_strength
    assert groups[-1]["params"][0] is network.nodes_time_const
    assert groups[0]["lr"] == pytest.approx(0.004)
    assert groups[1]["lr"] == pytest.approx(0.001)
    assert groups[-2]["lr"] == pytest.approx(0.001)
    assert groups[-1]["lr"] == pytest.approx(0.008)
    solver.scheduler(4)  # end of the schedule: lr_net 0.002
    assert groups[0]["lr"] == pytest.approx(0.002)
    assert groups[-2]["lr"] == pytest.approx(0.0005)
    assert groups[-1]["lr"] == pytest.approx(0.004)
    assert groups[1]["lr"] == pytest.approx(0.001)
    before = network.edges_syn_strength.detach().clone()
    solver.train(progress=False)
    assert not torch.equal(before, network.edges_syn_strength.detach())
    # a resumed solver rebuilds the same groups and loads the optimiser state
    resumed = MultiTaskSolver(config=config, device="cpu")
    resumed.recover(checkpoint=-1)
    state = resumed.optimizer.state[resumed.network.edges_syn_strength]
    assert int(state["step"]) == 4


@pytest.mark.parametrize(
    "name, scale, message",
    [
        ("0000/005", "{edges_sign:2}", "not a trainable network parameter"),
        ("0000/006", "{no_such:2}", "not a trainable network parameter"),
        ("0000/007", "{nodes_bias:0}", "must be a positive number"),
    ],
)
def test_lr_scale_errors(results, renderings, name, scale, message):
    config = get_default_config(
        tiny_overrides(renderings, name, extra=[f"+optim.lr_scale={scale}"])
    )
    with pytest.raises(ValueError, match=message):
        MultiTaskSolver(config=config, device="cpu")


def test_evaluation_runs_without_autograd(trained):
    decoder = trained.decoder["flow"]
    seen = []
    handle = decoder.register_forward_hook(
        lambda *_: seen.append(torch.is_grad_enabled())
    )
    try:
        results = trained.evaluate()
    finally:
        handle.remove()
    assert seen and not any(seen)
    assert np.isfinite(results["flow"]["loss"]) and results["flow"]["epe_zero"] > 0
    assert torch.is_grad_enabled()  # restored for training


def test_warm_start_from_another_model(trained, results, renderings):
    # the last checkpoint of `trained` differs from a fresh initialisation
    source = trained.config.network_name
    overrides = tiny_overrides(renderings, "0000/050") + [
        f"warm_start.network={source}",
        "warm_start.checkpoint=-1",
    ]
    config = get_default_config(overrides)
    solver = MultiTaskSolver(config=config, device="cpu")
    last = chkpt_utils.load_checkpoint(
        chkpt_utils.resolve_checkpoints(trained.path).paths[-1], map_location="cpu"
    )
    for key, value in last["network"].items():
        assert torch.equal(solver.network.state_dict()[key], value), key
    fresh = MultiTaskSolver(
        config=get_default_config(tiny_overrides(renderings, "0000/051")), device="cpu"
    )
    assert any(
        not torch.equal(fresh.network.state_dict()[key], value)
        for key, value in last["network"].items()
    )
    # a fresh run: own iteration count and decoder; the provenance is stored
    assert solver.iteration == 0 and not solver.checkpoints
    assert solver.config.warm_start.network == source


def test_warm_start_errors(trained, results, renderings, tmp_path):
    def solver_with(name, *extra, extent=2):
        overrides = [
            o.replace("extent=2", f"extent={extent}")
            for o in tiny_overrides(renderings, name)
        ]
        config = get_default_config(overrides + list(extra))
        return MultiTaskSolver(config=config, device="cpu")

    with pytest.raises(FileNotFoundError, match="no checkpoints"):
        solver_with("0000/052", f"warm_start.network={tmp_path}")
    # an ensemble without the model's namesake
    with pytest.raises(FileNotFoundError, match="or an ensemble with a model 056"):
        solver_with("0000/056", "warm_start.network=flow/0000")
    with pytest.raises(ValueError, match="checkpoint must be 'best' or a position"):
        solver_with(
            "0000/053", f"warm_start.network={trained.path}", "warm_start.checkpoint=99"
        )
    # the same check guards recovering a run's own checkpoints
    with pytest.raises(ValueError, match="checkpoint must be 'best' or a position"):
        MultiTaskSolver(config=trained.config, device="cpu").recover(checkpoint=99)
    with pytest.raises(ValueError, match="do not fit this network"):
        solver_with("0000/054", f"warm_start.network={trained.path}", extent=1)


def test_frozen_network_trains_only_the_decoder(trained, results, renderings):
    # stage 3 of the CPU recipe: a warm-started network with no trainable
    # parameter; the activity penalty (on by default) has nothing to step
    frozen = [
        "network.node_config.bias.requires_grad=false",
        "network.node_config.time_const.requires_grad=false",
        "network.edge_config.syn_strength.requires_grad=false",
    ]
    # an ensemble as the source: model 0001/000 starts from flow/0000/000
    assert trained.config.network_name == "flow/0000/000"
    overrides = tiny_overrides(renderings, "0001/000", n_iters=3) + [
        "warm_start.network=flow/0000",
        "warm_start.checkpoint=-1",
        *frozen,
    ]
    solver = MultiTaskSolver(config=get_default_config(overrides), device="cpu")
    assert solver.penalty.activity_optim is None
    last = chkpt_utils.load_checkpoint(
        chkpt_utils.resolve_checkpoints(trained.path).paths[-1], map_location="cpu"
    )
    network = {k: v.clone() for k, v in solver.network.state_dict().items()}
    for key, value in last["network"].items():
        assert torch.equal(network[key], value), key
    decoder = {k: v.clone() for k, v in solver.decoder["flow"].state_dict().items()}
    solver.train(progress=False)
    assert solver.iteration == 3
    for key, value in solver.network.state_dict().items():
        assert torch.equal(value, network[key]), key
    assert any(
        not torch.equal(value, decoder[key])
        for key, value in solver.decoder["flow"].state_dict().items()
    )
