"""Validating every checkpoint and recording responses of a trained network.

``validate_all_checkpoints`` follows analysis.md §9 (``flyvis val-single``):
for every checkpoint (index order) the network and decoders are loaded and the
validation sequences are evaluated with each loss function; the results go to
``<network dir>/<validation_subdir>/<fn>.h5`` (one value per checkpoint), the
settings to ``<validation_subdir>/validation_settings.yaml`` (1.2.0 stores them
as the sub-directory's datamate config; a plain file here keeps the network
directory's own ``_meta.yaml`` lookup untouched).

``record_validation_activity`` (``flyvis synthetic-recordings-single`` here)
stores the central-cell responses of every cell type to the validation
sequences for the selected checkpoint: ``<network dir>/recordings/``.
"""

import logging
import os
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np
import torch

__all__ = ["validate", "validate_all_checkpoints", "record_validation_activity"]

logger = logging.getLogger(__name__)


def _atomic_h5(path: Path, value: Any) -> None:
    """Writes a single-dataset (``data``) HDF5 file atomically."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("data", data=np.asarray(value))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _solver(name: str, device: Optional[Union[str, torch.device]]):
    from flyvis.solver.solver import MultiTaskSolver

    return MultiTaskSolver(
        name=name, init_optim=False, init_penalties=False, device=device
    )


@torch.no_grad()
def validate(
    solver: Any, loss_fns: Sequence[str], dataloader=None, t_pre: float = 0.5
) -> np.ndarray:
    """Mean over tasks of each loss function's mean over the loader's batches.

    Args:
        solver: A ``MultiTaskSolver`` with network, task and decoders.
        loss_fns: Objective names of :mod:`flyvis.task.objectives`.
        dataloader: Default ``solver.task.val_data`` (validation set, batch size 1).
        t_pre: Grey (0.5) warm-up before each batch (s).

    Returns:
        Array ``(len(loss_fns),)``.
    """
    from flyvis.task.objectives import get_objective

    functions = [get_objective(name) for name in loss_fns]
    loader = dataloader or solver.task.val_data
    values = {task: [[] for _ in functions] for task in solver.tasks}
    for data, activity in solver._evaluation_activity(loader, t_pre):
        kwargs = solver._loss_kwargs(data)
        for task in solver.tasks:
            y = solver.decoder[task](activity)
            for k, fn in enumerate(functions):
                values[task][k].append(float(fn(y, data.get(task), **kwargs)))
    per_task = np.array(
        [[np.mean(v) if v else np.nan for v in values[task]] for task in solver.tasks]
    )
    return per_task.mean(axis=0)


def validate_all_checkpoints(
    name: str,
    loss_fns: Sequence[str] = ("l2norm", "epe"),
    t_pre: float = 0.5,
    validation_subdir: str = "validation",
    device: Optional[Union[str, torch.device]] = None,
) -> np.ndarray:
    """Evaluates every checkpoint of a trained network on its validation set.

    Args:
        name: Network name relative to the results directory, e.g. ``"flow/0001/000"``.
        loss_fns: Objective names; each gets ``<validation_subdir>/<fn>.h5``.
        t_pre: Grey warm-up before each sequence (s).
        validation_subdir: Folder of the network directory for the results.
        device: Device (default ``flyvis.device``).

    Returns:
        Array ``(n_checkpoints, len(loss_fns))``.

    Raises:
        ValueError: If the network directory does not exist or has no checkpoints.
    """
    import yaml

    from flyvis.utils.chkpt_utils import resolve_checkpoints

    solver = _solver(name, device)
    checkpoints = resolve_checkpoints(solver.dir)
    if not checkpoints.paths:
        raise ValueError(
            f"no checkpoints in {solver.path / 'chkpts'}; train the network first"
        )
    results = []
    for position in range(len(checkpoints.paths)):
        solver.recover(optimizer=False, penalty=False, checkpoint=position, force=True)
        results.append(validate(solver, loss_fns, t_pre=t_pre))
        logger.info("Checkpoint %d: %s", checkpoints.indices[position], results[-1])
    results = np.asarray(results, dtype=float).reshape(
        len(checkpoints.paths), len(loss_fns)
    )
    folder = solver.path / validation_subdir
    for k, fn in enumerate(loss_fns):
        _atomic_h5(folder / f"{fn}.h5", results[:, k])
    settings = {
        "dt": float(solver.task.dataset.dt),
        "t_pre": float(t_pre),
        "loss_fns": list(loss_fns),
        "validation_subdir": validation_subdir,
        "validation_function": "validate_all_checkpoints",
        "checkpoints": [int(i) for i in checkpoints.indices],
    }
    tmp = folder / ".validation_settings.yaml.tmp"
    tmp.write_text(yaml.safe_dump(settings, sort_keys=False))
    os.replace(tmp, folder / "validation_settings.yaml")
    return results


@torch.no_grad()
def record_validation_activity(
    name: str,
    checkpoint: Union[str, int] = "best",
    validation_subdir: str = "validation",
    loss_file_name: str = "epe",
    t_pre: float = 0.25,
    device: Optional[Union[str, torch.device]] = None,
) -> Dict[str, Any]:
    """Records the central cell of every type on the validation sequences.

    Args:
        name: Network name relative to the results directory.
        checkpoint: ``"best"`` (by ``<validation_subdir>/<loss_file_name>``) or a
            position in the sorted checkpoint list.
        validation_subdir: Folder of the file that selects ``"best"``.
        loss_file_name: File that selects ``"best"`` (falls back to ``loss``).
        t_pre: Grey warm-up before each sequence (s).
        device: Device (default ``flyvis.device``).

    Returns:
        ``{"activity": (n_sequences, n_frames, n_cell_types) array in the
        network's voltage units, "cell_types", "sequence_index", "checkpoint"}``;
        written to ``<network dir>/recordings/validation_central_activity.h5``,
        ``cell_types.h5`` (byte strings), ``sequence_index.h5``, ``checkpoint.h5``
        and ``dt.h5`` (s).

    Raises:
        ValueError: If the network has no checkpoints.
    """
    from flyvis.utils.chkpt_utils import resolve_checkpoints

    solver = _solver(name, device)
    if not resolve_checkpoints(solver.dir).paths:
        raise ValueError(
            f"no checkpoints in {solver.path / 'chkpts'}; train the network first"
        )
    solver.recover(
        optimizer=False,
        penalty=False,
        checkpoint=checkpoint,
        validation_subdir=validation_subdir,
        loss_file_name=loss_file_name,
        force=True,
    )
    connectome = solver.network.connectome
    central = torch.as_tensor(
        np.asarray(connectome.central_cells_index[:]), dtype=torch.long
    )
    cell_types = np.asarray(connectome.unique_cell_types[:])
    traces = []
    for _, activity in solver._evaluation_activity(solver.task.val_data, t_pre):
        traces.append(activity[..., central.to(activity.device)].cpu().numpy())
    activity = np.concatenate(traces, axis=0)
    folder = Path(solver.path) / "recordings"
    out = {
        "activity": activity,
        "cell_types": cell_types,
        "sequence_index": np.asarray(solver.task.val_seq_index),
        "checkpoint": solver._curr_chkpt_ind,
    }
    _atomic_h5(folder / "validation_central_activity.h5", activity)
    _atomic_h5(folder / "cell_types.h5", cell_types.astype("S"))
    _atomic_h5(folder / "sequence_index.h5", out["sequence_index"])
    _atomic_h5(folder / "checkpoint.h5", np.asarray(out["checkpoint"]))
    _atomic_h5(folder / "dt.h5", np.asarray(float(solver.task.dataset.dt)))
    return out
