"""Resuming training: SIGKILL mid-checkpoint, equal histories, changed n_iters (issue 5)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import yaml
from tiny_ensemble import tiny_overrides

import flyvis
from flyvis.cli import main

# Stalls inside the n-th checkpoint write: a partial temporary file exists next to
# the checkpoints (as the atomic writer leaves one mid-write), then it sleeps.
KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import torch
    import flyvis.solver.solver as solver_module
    marker, stall_at = Path(sys.argv[1]), int(sys.argv[2])
    original, calls = solver_module.save_checkpoint, [0]
    def stalling_save(obj, path):
        calls[0] += 1
        if calls[0] == stall_at:
            path = Path(path)
            with open(path.parent / f".{path.name}.killed.tmp", "wb") as f:
                torch.save({"partial": torch.zeros(1000)}, f)
            marker.write_text(str(path))
            time.sleep(600)
        return original(obj, path)
    solver_module.save_checkpoint = stalling_save
    torch.manual_seed(0)
    from flyvis.cli import main
    sys.exit(main(["train-single", "--no-progress", "--device", "cpu", *sys.argv[3:]]))
    """
)


def _h5(path):
    with h5py.File(path, "r") as f:
        return np.asarray(f["data"][()])


@pytest.fixture
def results(tmp_path, monkeypatch, flyvis_root):
    monkeypatch.setattr(flyvis, "results_dir", tmp_path / "results")
    return tmp_path / "results"


def _overrides(flyvis_root, name, n_iters=6, extra=()):
    return tiny_overrides(
        flyvis_root / "renderings",
        name,
        n_iters=n_iters,
        # one seed for all runs (the default derives it from the model name)
        extra=["scheduler.chkpt_every_epoch=1", "seed=0", *extra],
    )


@pytest.mark.slow
def test_sigkill_during_checkpoint_then_resume(results, flyvis_root, tmp_path):
    # an uninterrupted reference run with the same seeds
    torch.manual_seed(0)
    reference = _overrides(flyvis_root, "0000/000")
    assert main(["train-single", "--no-progress", "--device", "cpu", *reference]) == 0
    ref_dir = results / "flow" / "0000" / "000"
    ref_loss = _h5(ref_dir / "loss.h5")
    n_chkpts = len(_h5(ref_dir / "chkpt_index.h5"))
    assert len(ref_loss) == 6 and n_chkpts >= 3

    script = tmp_path / "stall.py"
    script.write_text(KILL_SCRIPT)
    marker = tmp_path / "writing"
    stall_at = n_chkpts  # the last-but-one checkpoint write hangs
    overrides = _overrides(flyvis_root, "0000/001")
    env = dict(os.environ, FLYVIS_ROOT_DIR=str(results.parent))
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parent), env.get("PYTHONPATH", "")]
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), str(marker), str(stall_at), *overrides],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 240
        while not marker.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.time() < deadline, "training never reached the checkpoint"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    path = results / "flow" / "0000" / "001"
    complete = sorted(p.name for p in (path / "chkpts").glob("chkpt_*"))
    assert len(complete) == stall_at - 1
    assert list((path / "chkpts").glob(".chkpt_*.tmp"))  # the interrupted write
    # records of the interrupted epoch were written before the checkpoint file
    last_iter = int(_h5(path / "chkpt_iter.h5")[-1]) + 1
    assert len(_h5(path / "loss.h5")) > last_iter
    assert len(_h5(path / "validation" / "loss.h5")) == stall_at

    assert (
        main(
            [
                "train-single",
                "--no-progress",
                "--device",
                "cpu",
                *overrides,
                "resume=true",
            ]
        )
        == 0
    )
    assert not list((path / "chkpts").glob(".chkpt_*.tmp"))
    np.testing.assert_array_equal(_h5(path / "chkpt_index.h5"), np.arange(n_chkpts))
    np.testing.assert_array_equal(
        _h5(path / "chkpt_iter.h5"), _h5(ref_dir / "chkpt_iter.h5")
    )
    assert len(_h5(path / "validation" / "loss.h5")) == n_chkpts
    loss = _h5(path / "loss.h5")
    assert len(loss) == 6
    # the resumed history equals the uninterrupted run's (same seeds, restored RNGs)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-5)
    np.testing.assert_allclose(
        _h5(path / "validation" / "loss.h5"),
        _h5(ref_dir / "validation" / "loss.h5"),
        rtol=1e-5,
    )


def test_resume_with_more_iterations_and_changed_config_error(
    results, flyvis_root, capsys
):
    torch.manual_seed(0)
    overrides = _overrides(flyvis_root, "0000/002", n_iters=2)
    assert main(["train-single", "--no-progress", "--device", "cpu", *overrides]) == 0
    path = results / "flow" / "0000" / "002"
    assert len(_h5(path / "loss.h5")) == 2
    keys_before = list(yaml.safe_load((path / "_meta.yaml").read_text())["config"])
    more = [*overrides, "task.n_iters=4", "resume=true"]
    assert main(["train-single", "--no-progress", "--device", "cpu", *more]) == 0
    assert "Resuming with changed task.n_iters" in capsys.readouterr().out
    assert len(_h5(path / "loss.h5")) == 4
    assert "n_iters: 4" in (path / "_meta.yaml").read_text()
    # the rewritten config keeps its key order (type first, as written)
    keys_after = list(yaml.safe_load((path / "_meta.yaml").read_text())["config"])
    assert keys_after == keys_before and keys_after[0] == "type"
    # other changes: a clear error that names the keys; nothing is modified
    before = (path / "_meta.yaml").read_text()
    changed = [*more, "task.batch_size=1", "network.connectome.n_syn_fill=2"]
    assert main(["train-single", "--no-progress", "--device", "cpu", *changed]) == 1
    err = capsys.readouterr().err
    assert "task.batch_size: stored 2, requested 1" in err
    assert "network.connectome.n_syn_fill" in err and "task.n_iters" in err
    assert (path / "_meta.yaml").read_text() == before


def _write(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.asarray(values))


def test_repair_records_a_checkpoint_written_but_not_indexed(tmp_path):
    """Killed between the checkpoint file and its index entries: they are added."""
    from flyvis.solver.resume import repair_history

    _write(tmp_path / "chkpt_index.h5", [0, 1])
    _write(tmp_path / "chkpt_iter.h5", [-1, 5])
    _write(tmp_path / "loss.h5", np.arange(14.0))  # 3 iterations past the checkpoint
    # the dropped 4th validation value (0.5) had become the best
    _write(tmp_path / "validation" / "loss.h5", [3.0, 2.0, 1.0, 0.5])
    _write(tmp_path / "best_chkpt_index.h5", 3)
    changed = repair_history(tmp_path, iteration=11, checkpoint_index=2)
    np.testing.assert_array_equal(_h5(tmp_path / "chkpt_index.h5"), [0, 1, 2])
    np.testing.assert_array_equal(_h5(tmp_path / "chkpt_iter.h5"), [-1, 5, 10])
    assert len(_h5(tmp_path / "loss.h5")) == 11
    np.testing.assert_array_equal(_h5(tmp_path / "validation" / "loss.h5"), [3, 2, 1])
    assert int(_h5(tmp_path / "best_chkpt_index.h5")) == 2
    assert "chkpt_index.h5 (appended)" in changed
    assert not list(tmp_path.rglob("*.tmp"))
