"""The solver's evaluation loop: mean loss, EPE and zero-prediction EPE per task.

Source: flyvis 1.2.0 ``MultiTaskSolver.test`` (spec ``solver.md`` §2).
"""

from typing import Any, Dict, List

import numpy as np
import torch

__all__ = ["evaluate_tasks"]


def evaluate_tasks(
    solver: Any, dataloader: Any, t_pre: float = 0.25
) -> Dict[str, Dict[str, float]]:
    """Per-task mean loss, EPE and zero-prediction EPE over a loader.

    Eval mode, no augmentation, grey steady state per batch size (the solver's
    evaluation loop); nothing is written.

    Args:
        solver: A ``MultiTaskSolver`` with network, decoders and task.
        dataloader: E.g. ``solver.task.val_data``.
        t_pre: Duration of the grey steady-state warm-up (s).

    Returns:
        ``{task: {"loss": ..., "epe": ..., "epe_zero": ...}}``.
    """
    from flyvis.task.objectives import epe

    if solver.scheduler is not None:
        solver.scheduler(solver.iteration)
    sums: Dict[str, Dict[str, List[float]]] = {
        t: {"loss": [], "epe": [], "epe_zero": []} for t in solver.tasks
    }
    for data, activity in solver._evaluation_activity(dataloader, t_pre):
        kwargs = solver._loss_kwargs(data)
        # decoders and losses without autograd too (the network ran without it)
        with torch.no_grad():
            for task in solver.tasks:
                y = solver.decoder[task](activity)
                target = data[task]
                loss = solver.task.loss(y, target, task, **kwargs)
                sums[task]["loss"].append(float(loss))
                sums[task]["epe"].append(float(epe(y, target)))
                sums[task]["epe_zero"].append(
                    float(epe(torch.zeros_like(target), target))
                )
    return {
        task: {key: float(np.mean(v)) if v else float("nan") for key, v in values.items()}
        for task, values in sums.items()
    }
