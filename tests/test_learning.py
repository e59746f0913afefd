"""Training lowers the loss: a tiny network overfits one sequence (seeded)."""

import numpy as np
import pytest
import torch
from tiny_ensemble import tiny_overrides

import flyvis
from flyvis.solver import MultiTaskSolver
from flyvis.utils.config_utils import get_default_config


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(flyvis, "results_dir", tmp_path / "results")
    return tmp_path / "results"


def _overfit_loss(solver):
    """Mean l2norm loss on the overfit sequence (eval mode, no augmentation)."""
    return solver.evaluate(solver.task.overfit_data)["flow"]["loss"]


def test_training_lowers_the_loss_on_a_tiny_network(results, flyvis_root):
    config = get_default_config(
        overrides=tiny_overrides(
            flyvis_root / "renderings",
            "0900/000",
            n_iters=40,
            extra=[
                "seed=3",
                "task.decoder.flow.p_dropout=0.0",
                "scheduler.lr_net.start=1e-2",
                "scheduler.lr_net.stop=1e-2",
                "scheduler.lr_dec.start=1e-2",
                "scheduler.lr_dec.stop=1e-2",
                "scheduler.chkpt_every_epoch=1000",
            ],
        )
    )
    solver = MultiTaskSolver(config=config)
    before = _overfit_loss(solver)
    parameters = {k: v.detach().clone() for k, v in solver.network.named_parameters()}
    solver.train(overfit=True, progress=False)
    after = _overfit_loss(solver)
    assert solver.iteration == 40
    assert np.isfinite(after)
    assert after < 0.8 * before, (before, after)
    # the network itself was trained, not only the decoder
    changed = [
        k
        for k, v in solver.network.named_parameters()
        if not torch.equal(v, parameters[k])
    ]
    assert "nodes_bias" in changed and "edges_syn_strength" in changed
