"""`flyvis train/validate/record`, per-model commands, resubmission (issue 5)."""

import socket

import h5py
import numpy as np
import pytest
from tiny_ensemble import tiny_overrides

import flyvis
from flyvis.cli import COMMANDS, main
from flyvis.utils import compute_cloud_utils as ccu


def _h5(path):
    with h5py.File(path, "r") as f:
        return np.asarray(f["data"][()])


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(flyvis, "results_dir", tmp_path / "results")
    return tmp_path / "results"


def _overrides(flyvis_root, n_iters):
    return [
        o
        for o in tiny_overrides(flyvis_root / "renderings", "x", n_iters=n_iters)
        if not o.startswith(("task_name=", "ensemble_and_network_id="))
    ]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"flyvis {command}" in out
    if command in ("train", "validate", "record"):
        assert "--launcher" in out and "overrides" in out and "--ensemble_id" in out


def test_download_pretrained_offline(monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", offline)
    assert main(["download-pretrained", "--timeout", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "network access" in err and str(flyvis.results_dir) in err


def test_dry_run_and_argument_errors(results, capsys):
    base = [
        "train",
        "--ensemble_id",
        "3",
        "--task_name",
        "flow",
        "--start",
        "1",
        "--end",
        "3",
    ]
    assert main([*base, "--dry", "task.n_iters=5"]) == 0
    out = capsys.readouterr().out
    assert "ensemble_and_network_id=0003/001" in out and "0003/002" in out
    assert "task.n_iters=5" in out and not (results / "flow").exists()
    assert main([*base, "--dry", "task.n_iter=5"]) == 2  # typo: caught before submitting
    assert "Valid keys under task" in capsys.readouterr().err
    assert main([*base, "--dry", "--launcher", "pbs"]) == 2
    assert main(["train", "--task_name", "flow"]) == 2  # --ensemble_id missing
    with pytest.raises(ValueError, match="unknown launcher"):
        ccu.LaunchOptions(launcher="lsf")


def test_resubmit_failed_validate_and_record(results, flyvis_root, capsys):
    base = ["train", "--ensemble_id", "2", "--task_name", "flow", "--launcher", "debug"]
    # model 000 complete with 2 iterations; model 001 "interrupted" after 2 of 4
    assert main([*base, "--start", "0", "--end", "2", *_overrides(flyvis_root, 2)]) == 0
    edir = results / "flow" / "0002"
    assert ccu.incomplete_models("flow", 2, 0, 2) == []
    assert ccu.incomplete_models("flow", 2, 0, 2, ["task.n_iters=4"]) == [0, 1]
    # each model gets its own seed (from its name): dropout masks and data order
    # differ, so the trained models differ (their initial parameters are equal)
    import torch

    def trained(model):
        path = sorted((edir / model / "chkpts").iterdir())[-1]
        return torch.load(path, weights_only=False)["network"]["nodes_bias"]

    assert not torch.equal(trained("000"), trained("001"))
    capsys.readouterr()
    assert (
        main(
            [
                *base,
                "--start",
                "1",
                "--end",
                "2",
                "--resubmit-failed",
                *_overrides(flyvis_root, 4),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Resubmitting incomplete models [1] with resume=true" in out
    assert len(_h5(edir / "001" / "loss.h5")) == 4
    assert len(_h5(edir / "000" / "loss.h5")) == 2
    assert (
        main(
            [
                *base,
                "--start",
                "1",
                "--end",
                "2",
                "--resubmit-failed",
                *_overrides(flyvis_root, 4),
            ]
        )
        == 0
    )
    assert "nothing to resubmit" in capsys.readouterr().out
    assert (
        main(
            [
                "train",
                "--ensemble_id",
                "2",
                "--task_name",
                "flow",
                "--end",
                "2",
                "--status",
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "0002/000" in table and "4/4 done" in table and "best val EPE" in table

    # per-model validation: one value per checkpoint and objective
    n_chkpts = len(_h5(edir / "001" / "chkpt_index.h5"))
    assert (
        main(
            [
                "validate",
                "--ensemble_id",
                "2",
                "--task_name",
                "flow",
                "--start",
                "1",
                "--end",
                "2",
                "--launcher",
                "debug",
                # options of val-single are forwarded to every job
                "--loss_fns",
                "l2norm",
                "epe",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    for fn in ("l2norm", "epe"):
        values = _h5(edir / "001" / "validation" / f"{fn}.h5")
        assert values.shape == (n_chkpts,) and np.isfinite(values).all()
    assert (edir / "001" / "validation" / "validation_settings.yaml").is_file()

    record = ["record", "--ensemble_id", "2", "--task_name", "flow", "--start", "1"]
    record += ["--end", "2", "--launcher", "debug", "--checkpoint", "best"]
    assert main([*record, "--device", "cpu"]) == 0
    activity = _h5(edir / "001" / "recordings" / "validation_central_activity.h5")
    cell_types = _h5(edir / "001" / "recordings" / "cell_types.h5")
    assert activity.ndim == 3 and activity.shape[-1] == len(cell_types) == 65
    assert np.isfinite(activity).all()
    assert main(["val-single", "task_name=flow"]) == 2


def test_download_pretrained_names_the_shipped_ensemble(monkeypatch, capsys, tmp_path):
    from flyvis.network import directories

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    shipped = tmp_path / "results"
    for model in ("000", "001"):
        (shipped / "flow" / "0000" / model).mkdir(parents=True)
    monkeypatch.setattr(directories, "shipped_results_dir", lambda: shipped)
    monkeypatch.setattr(socket, "create_connection", offline)
    assert main(["download-pretrained", "--timeout", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "flow/0000 of 2 models" in err and "ships with the package" in err
    assert "network access" in err  # the real download path is still explained
