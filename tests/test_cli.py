"""The ``flyvis`` console script (solver.md §7)."""

import subprocess
import sys

import pytest

import flyvis
from flyvis.cli import main


def test_top_level_help(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "train-single" in out and "init-config" in out
    assert main([]) == 1
    assert main(["no-such-command"]) == 1
    assert "unknown command" in capsys.readouterr().err


def test_help_does_not_import_the_network():
    code = (
        "import sys; from flyvis.cli import main; main(['--help']); "
        "bad = [m for m in ('flyvis.network.network', 'flyvis.solver', 'hydra') "
        "if m in sys.modules]; sys.exit(1 if bad else 0)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
    )


def test_train_single_help(capsys):
    assert main(["train-single", "--help"]) == 0
    out = capsys.readouterr().out
    assert "task_name=flow" in out and "task=photoflow" in out and "resume=true" in out


def test_train_single_requires_name(capsys):
    assert main(["train-single", "task_name=flow"]) == 2
    assert "ensemble_and_network_id" in capsys.readouterr().err
    assert (
        main(
            [
                "train-single",
                "task_name=flow",
                "ensemble_and_network_id=0",
                "task.n_iter=3",
            ]
        )
        == 2
    )
    assert "Valid keys under task" in capsys.readouterr().err


def test_train_single_cfg(capsys):
    assert main(["train-single", "--cfg", "task=photoflow", "task.n_iters=7"]) == 0
    out = capsys.readouterr().out
    assert "MultiTaskPhotoFlow" in out and "n_iters: 7" in out


def test_init_config(tmp_path, capsys):
    assert main(["init-config", "--output-dir", str(tmp_path)]) == 0
    assert (tmp_path / "flyvis_config" / "solver.yaml").is_file()
    assert (tmp_path / "flyvis_config" / "task" / "photoflow.yaml").is_file()
    assert (tmp_path / "flyvis_config" / "README.md").is_file()
    out = tmp_path / "groups"
    assert (
        main(
            [
                "init-config",
                "--output-dir",
                str(out),
                "--config-groups",
                "config/network/edge_config/syn_strength",
                "nope",
            ]
        )
        == 0
    )
    assert (out / "network/edge_config/syn_strength/syn_strength.yaml").is_file()
    assert "valid groups" in capsys.readouterr().err
    assert main(["init-config", "--output-dir", str(out), "--config-groups", "nope"]) == 1


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(flyvis, "results_dir", tmp_path / "results")
    return tmp_path / "results"


def test_train_single_tiny(results, flyvis_root, capsys):
    from test_solver import tiny_overrides

    args = tiny_overrides(flyvis_root / "renderings", "0045/000", n_iters=2)
    args.append("description=cli test")
    assert main(["train-single", "--no-progress", *args]) == 0
    out = capsys.readouterr().out
    path = results / "flow" / "0045" / "000"
    assert f"Results directory: {path}" in out
    assert "Validation EPE before training:" in out
    assert "Validation EPE after training:" in out
    assert "zero-flow predictor" in out
    assert (path / "chkpts" / "chkpt_00001").is_file()
    assert (path / "validation" / "epe.h5").is_file()

    from flyvis.network.network_view import NetworkView

    view = NetworkView("flow/0045/000")
    assert set(view.config) == {
        "network_name",
        "network",
        "task",
        "optim",
        "penalizer",
        "scheduler",
        "description",
        "type",
    }
    assert view.config.description == "cli test"

    # resume: nothing left to do, no new checkpoint
    assert main(["train-single", "--no-progress", *args, "resume=true"]) == 0
    assert "Resumed at iteration 2" in capsys.readouterr().out
    assert sorted(p.name for p in (path / "chkpts").iterdir()) == [
        "chkpt_00000",
        "chkpt_00001",
    ]
    # resume without the (free-text) description keeps the stored one
    no_description = [a for a in args if not a.startswith("description=")]
    assert main(["train-single", "--no-progress", *no_description, "resume=true"]) == 0
    assert "Resumed at iteration 2" in capsys.readouterr().out
    assert NetworkView("flow/0045/000").config.description == "cli test"


def test_train_single_stores_an_explicit_seed(results, flyvis_root, capsys):
    from test_solver import tiny_overrides

    from flyvis.network.network_view import NetworkView

    args = tiny_overrides(flyvis_root / "renderings", "0046/000", n_iters=1)
    assert main(["train-single", "--no-progress", *args, "seed=123"]) == 0
    assert "Seed: 123" in capsys.readouterr().out
    assert NetworkView("flow/0046/000").config.seed == 123
    # a resume must state the same seed
    capsys.readouterr()
    assert main(["train-single", "--no-progress", *args, "resume=true"]) != 0
    assert "seed: stored 123" in capsys.readouterr().err
    assert main(["train-single", "--no-progress", *args, "seed=123", "resume=true"]) == 0
    # a seed derived from the name is not stored (flyvis's config keys)
    args = tiny_overrides(flyvis_root / "renderings", "0046/001", n_iters=1)
    assert main(["train-single", "--no-progress", *args]) == 0
    assert "seed" not in NetworkView("flow/0046/001").config
