"""The example scripts run (on small settings)."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_closed_loop_example(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["closed_loop.py", "5"])
    runpy.run_path(str(EXAMPLES / "closed_loop.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "5 steps in" in out and "final heading" in out


def test_network_basics_example(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / "network_basics.py"), run_name="__main__")
    assert (tmp_path / "network_basics.png").stat().st_size > 10_000
    assert "central T4a voltage range" in capsys.readouterr().out


@pytest.mark.slow
def test_train_from_python_example(capsys):
    runpy.run_path(str(EXAMPLES / "train_from_python.py"), run_name="__main__")
    assert "checkpoints:" in capsys.readouterr().out
