"""Ensembles through `flyvis train`: local processes (default) and a real Slurm (slow)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tiny_ensemble import tiny_overrides

import flyvis
from flyvis.cli import main

SCRIPT = Path(__file__).parents[1] / "scripts" / "slurm-ci.sh"
SLURM_DIR = "/tmp/slurm-ci"


def _ensemble_overrides(flyvis_root, n_iters=2):
    return [
        o
        for o in tiny_overrides(flyvis_root / "renderings", "x", n_iters=n_iters)
        if not o.startswith(("task_name=", "ensemble_and_network_id="))
    ]


def _check_ensemble(edir: Path, out: str, n_iters: int):
    for i in range(2):
        model = edir / f"{i:03}"
        assert "status: done" in (model / "_meta.yaml").read_text()
        assert (model / "chkpts" / "chkpt_00000").is_file()
        assert (edir / f"{i:04}_train_single.log").is_file()
        assert f"0001/{i:03}" in out
    assert out.count(f"{n_iters}/{n_iters} done") == 2
    assert (edir / "submitit" / "jobs.json").is_file()


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(flyvis, "results_dir", tmp_path / "results")
    return tmp_path / "results"


def test_local_launcher_two_models(results, flyvis_root, capsys):
    argv = ["train", "--ensemble_id", "0001", "--task_name", "flow", "--start", "0"]
    argv += ["--end", "2", *_ensemble_overrides(flyvis_root)]
    assert main(argv) == 0
    _check_ensemble(results / "flow" / "0001", capsys.readouterr().out, 2)


@pytest.fixture(scope="session")
def slurm_cluster():
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        # CI runs as root on Debian; elsewhere the local-launcher test covers `train`
        pytest.skip("the Slurm test needs root on Debian (apt-get) to start a cluster")
    env = dict(os.environ, SLURM_CI_DIR=SLURM_DIR, SLURM_CI_ACCT="0")
    subprocess.run(["bash", str(SCRIPT), "up"], check=True, env=env, timeout=600)
    previous = {k: os.environ.get(k) for k in ("SLURM_CONF", "PATH")}
    os.environ["SLURM_CONF"] = f"{SLURM_DIR}/slurm.conf"
    os.environ["PATH"] = f"{SLURM_DIR}/bin{os.pathsep}{os.environ['PATH']}"  # sacct shim
    yield SLURM_DIR
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if not os.environ.get("SLURM_CI_KEEP"):
        subprocess.run(["bash", str(SCRIPT), "down"], env=env, timeout=120)


@pytest.mark.slow
def test_slurm_launcher_two_models(slurm_cluster, results, flyvis_root, capsys):
    argv = ["train", "--ensemble_id", "0001", "--task_name", "flow", "--start", "0"]
    argv += ["--end", "2", "--launcher", "slurm", "--partition", "debug", "--time", "20"]
    argv += ["--cpus", "1", "--mem", "4", *_ensemble_overrides(flyvis_root)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    _check_ensemble(results / "flow" / "0001", out, 2)
    assert "COMPLETED" in out
