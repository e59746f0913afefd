"""Resuming interrupted training: config changes, history repair, random states.

* :func:`prepare_resume` lets ``resume=true`` continue with a larger (or
  smaller) ``task.n_iters``: the stored ``_meta.yaml`` config is updated in
  place (atomically) before the directory is opened; any other difference to
  the stored config is an error that names the keys.
* :func:`repair_history` makes the per-iteration and per-checkpoint records
  agree with the checkpoint a run resumes from. A run killed while writing a
  checkpoint (after the training losses and validation values of that epoch
  were appended, before the checkpoint file was renamed into place) leaves
  extra entries that would otherwise be duplicated.
* :func:`rng_state` / :func:`set_rng_state` capture and restore the random
  states that training draws from (torch's global generator for dropout and
  noise, the task's sampler generator, the dataset's augmentation generator),
  stored in checkpoints under the extra key ``"rng"``; a resumed run then
  reproduces the uninterrupted run's losses.
"""

import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch
import yaml

from flyvis.utils.chkpt_utils import best_checkpoint_default_fn, read_h5

__all__ = [
    "select_checkpoint",
    "warm_start_network",
    "best_recorded_loss",
    "RESUMABLE_KEYS",
    "config_differences",
    "prepare_resume",
    "repair_history",
    "rng_state",
    "set_rng_state",
]

logger = logging.getLogger(__name__)

#: Config keys that may change when resuming.
RESUMABLE_KEYS = ("task.n_iters",)

#: Top-level files with one entry per training iteration.
_PER_ITERATION = ("loss", "activity", "activity_min", "activity_max")
#: Folders whose files hold one entry per checkpoint.
_PER_CHECKPOINT_DIRS = ("validation", "validation_batch", "training", "training_batch")


def _flatten(value: Any, prefix: str = "") -> Dict[str, Any]:
    if isinstance(value, Mapping):
        out: Dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        if not value and prefix:
            out[prefix[:-1]] = {}
        return out
    return {prefix[:-1]: value}


def _normalise(config: Mapping[str, Any]) -> Dict[str, Any]:
    """A YAML round trip: tuples become lists, Namespaces dicts (as stored).

    Key order is kept, so that a config rewritten on resume reads like the original.
    """

    def plain(value):
        if hasattr(value, "to_dict"):
            value = value.to_dict()
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return yaml.safe_load(yaml.safe_dump(plain(config), sort_keys=False)) or {}


def config_differences(stored: Mapping[str, Any], new: Mapping[str, Any]) -> List[str]:
    """Dotted keys whose values differ between two configs (``type`` ignored).

    Args:
        stored: The config in ``_meta.yaml``.
        new: The config of the new run.

    Returns:
        Sorted list of differing keys (including keys present in only one).
    """
    a = _flatten({k: v for k, v in _normalise(stored).items() if k != "type"})
    b = _flatten({k: v for k, v in _normalise(new).items() if k != "type"})
    missing = object()
    return sorted(
        k for k in set(a) | set(b) if not _same(a.get(k, missing), b.get(k, missing))
    )


def _same(a: Any, b: Any) -> bool:
    """Equal values; PyYAML reads ``5e-05`` (no dot) back as a string."""
    if a == b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def stored_config(path: Path) -> Dict[str, Any]:
    """The config stored in a network directory's ``_meta.yaml``.

    Args:
        path: The network directory.

    Returns:
        The stored config (empty if there is no ``_meta.yaml``).
    """
    meta_path = Path(path) / "_meta.yaml"
    if not meta_path.is_file():
        return {}
    return (yaml.safe_load(meta_path.read_text()) or {}).get("config") or {}


def prepare_resume(
    path: Path, config: Mapping[str, Any], allowed: Sequence[str] = RESUMABLE_KEYS
) -> List[str]:
    """Checks a resumed run's config against the stored one; updates allowed keys.

    Args:
        path: The network directory (may not exist yet: nothing to do).
        config: The config the run will store (``network_name``, ``network``,
            ``task``, ...).
        allowed: Keys that may differ (default: ``task.n_iters``).

    Returns:
        The differing (allowed) keys that were updated in ``_meta.yaml``.

    Raises:
        ValueError: If other keys differ (the message names them and their values).
    """
    meta_path = Path(path) / "_meta.yaml"
    if not meta_path.is_file():
        return []
    meta = yaml.safe_load(meta_path.read_text()) or {}
    stored = meta.get("config") or {}
    differences = config_differences(stored, config)
    if not differences:
        return []
    forbidden = [k for k in differences if k not in allowed]
    if forbidden:
        a, b = _flatten(_normalise(stored)), _flatten(_normalise(config))
        details = "; ".join(
            f"{k}: stored {a.get(k, '<missing>')!r}, requested {b.get(k, '<missing>')!r}"
            for k in forbidden
        )
        raise ValueError(
            f"cannot resume {path} with a changed config ({details}). Only "
            f"{', '.join(allowed)} may change on resume; use the stored values or "
            "delete_if_exists=true to start over."
        )
    new_config = dict(_normalise(config))
    new_config["type"] = stored.get("type", "NetworkDir")
    meta["config"] = {"type": new_config.pop("type"), **new_config}
    tmp = meta_path.with_name(f"._meta.yaml.{os.getpid()}.tmp")
    tmp.write_text(yaml.safe_dump(meta, sort_keys=False))
    os.replace(tmp, meta_path)
    logger.info("Resuming %s with changed %s.", path, ", ".join(differences))
    return differences


def _replace_h5(path: Path, values: np.ndarray) -> None:
    """Rewrites ``path``'s ``data`` atomically (temporary file, then rename)."""
    import h5py

    values = np.asarray(values)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with h5py.File(tmp, "w") as f:
        maxshape = None if values.ndim == 0 else (None, *values.shape[1:])
        f.create_dataset("data", data=values, maxshape=maxshape)
    os.replace(tmp, path)


def _truncate_h5(path: Path, length: int) -> bool:
    import h5py

    with h5py.File(path, "a") as f:
        data = f["data"]
        if data.ndim == 0 or data.shape[0] <= length:
            return False
        if data.maxshape[0] is not None:
            values = data[:length]
        else:
            data.resize(length, axis=0)
            return True
    # not resizable: write the kept part to a new file (never lose the file)
    _replace_h5(path, values)
    return True


def repair_history(path: Path, iteration: int, checkpoint_index: int) -> List[str]:
    """Drops records written after the checkpoint a run resumes from.

    Args:
        path: Network directory.
        iteration: Completed iterations at that checkpoint (per-iteration files
            keep this many entries).
        checkpoint_index: Its index; per-checkpoint files keep ``index + 1``
            entries, ``chkpt_index``/``chkpt_iter`` the entries up to it.

    Returns:
        Names of the files that were truncated.
    """
    path = Path(path)
    changed = []
    for file in sorted(path.glob("*.h5")):
        stem = file.stem
        if stem in _PER_ITERATION or stem.startswith("loss_"):
            if _truncate_h5(file, iteration):
                changed.append(file.name)
    index_file = path / "chkpt_index.h5"
    if index_file.is_file():
        import h5py

        with h5py.File(index_file, "r") as f:
            indices = np.asarray(f["data"][()]).reshape(-1)
        keep = int(np.searchsorted(indices, checkpoint_index, side="right"))
        for name in ("chkpt_index.h5", "chkpt_iter.h5"):
            if (path / name).is_file() and _truncate_h5(path / name, keep):
                changed.append(name)
        if checkpoint_index >= 0 and (not keep or indices[keep - 1] < checkpoint_index):
            # killed after writing the checkpoint file but before recording it
            _replace_h5(index_file, np.append(indices[:keep], checkpoint_index))
            iter_file = path / "chkpt_iter.h5"
            iters = read_h5(iter_file).reshape(-1) if iter_file.is_file() else []
            _replace_h5(iter_file, np.append(iters[:keep], iteration - 1))
            changed += ["chkpt_index.h5 (appended)", "chkpt_iter.h5 (appended)"]
    for folder in _PER_CHECKPOINT_DIRS:
        for file in sorted((path / folder).glob("*.h5")):
            if _truncate_h5(file, checkpoint_index + 1):
                changed.append(f"{folder}/{file.name}")
    for tmp in (path / "chkpts").glob(".chkpt_*.tmp"):
        tmp.unlink()
        changed.append(f"chkpts/{tmp.name}")
    best = path / "best_chkpt_index.h5"
    loss = path / "validation" / "loss.h5"
    if best.is_file() and loss.is_file():
        # the best checkpoint among those kept (the dropped ones may have held it)
        best_index = int(read_h5(best).reshape(-1)[-1])
        values = read_h5(loss).reshape(-1).astype(float)
        if values.size and np.isfinite(values).any():
            new_best = int(np.nanargmin(values))
            if new_best != best_index:
                _replace_h5(best, np.asarray(new_best))
                changed.append(best.name)
        elif checkpoint_index < 0:
            best.unlink()
            changed.append(best.name)
    if changed:
        logger.warning(
            "Dropped records written after checkpoint %d (iteration %d): %s",
            checkpoint_index,
            iteration,
            ", ".join(changed),
        )
    return changed


def rng_state(solver: Any) -> Dict[str, Any]:
    """The random states training draws from (for the checkpoint's ``"rng"`` key)."""
    state: Dict[str, Any] = {"torch": torch.get_rng_state()}
    task = getattr(solver, "task", None)
    generator = getattr(task, "generator", None)
    if isinstance(generator, torch.Generator):
        state["task"] = generator.get_state()
    dataset_generator = getattr(getattr(task, "dataset", None), "generator", None)
    if isinstance(dataset_generator, np.random.Generator):
        state["dataset"] = dataset_generator.bit_generator.state
    return state


def set_rng_state(solver: Any, state: Optional[Mapping[str, Any]]) -> None:
    """Restores :func:`rng_state` (missing entries are left as they are)."""
    if not state:
        return
    if "torch" in state:
        torch.set_rng_state(torch.as_tensor(state["torch"], dtype=torch.uint8).cpu())
    task = getattr(solver, "task", None)
    generator = getattr(task, "generator", None)
    if "task" in state and isinstance(generator, torch.Generator):
        generator.set_state(torch.as_tensor(state["task"], dtype=torch.uint8).cpu())
    dataset_generator = getattr(getattr(task, "dataset", None), "generator", None)
    if "dataset" in state and isinstance(dataset_generator, np.random.Generator):
        dataset_generator.bit_generator.state = state["dataset"]


def select_checkpoint(
    path: Path,
    checkpoints: Any,
    checkpoint: Any,
    validation_subdir: str = "validation",
    loss_file_name: str = "loss",
) -> tuple:
    """The checkpoint file and index a solver recovers.

    Args:
        path: The model directory.
        checkpoints: Its ``Checkpoints`` (``indices``, ``paths``), not empty.
        checkpoint: ``"best"`` (lowest value of
            ``<validation_subdir>/<loss_file_name>.h5``) or a position in the
            sorted list (``-1`` = last).
        validation_subdir: Folder of the validation files.
        loss_file_name: Validation file used for ``"best"``.

    Returns:
        ``(checkpoint path, checkpoint index)``.

    Raises:
        ValueError: ``checkpoint`` is neither ``"best"`` nor a position in the
            list.
    """
    if checkpoint == "best":
        file = best_checkpoint_default_fn(
            path, validation_subdir=validation_subdir, loss_file_name=loss_file_name
        )
        return file, checkpoints.indices[checkpoints.paths.index(file)]
    try:
        position = int(checkpoint)
        return checkpoints.paths[position], checkpoints.indices[position]
    except (TypeError, ValueError, IndexError):
        raise ValueError(
            f"checkpoint must be 'best' or a position in the "
            f"{len(checkpoints.paths)} checkpoints of {path}, got {checkpoint!r}"
        ) from None


def warm_start_network(
    network: torch.nn.Module,
    source: Any,
    checkpoint: Any = "best",
    model_id: Optional[str] = None,
) -> Path:
    """Initialises ``network`` with the parameters of another trained model.

    A fresh run starts from them (fine-tuning, a changed decoder or task); its
    own iteration count, optimiser and decoder start anew. Used by
    :class:`~flyvis.solver.MultiTaskSolver` when its config has
    ``warm_start.network``.

    Args:
        network: The network to initialise (same connectome and parameter
            configuration as the source).
        source: The source model: a name such as ``"flow/0007/000"``, resolved
            like every model name (the user's results directory, else the
            shipped models), or a path to its directory. An ensemble (e.g.
            ``"flow/0014"``) stands for its model ``model_id``, so that every
            model of a new ensemble starts from its namesake.
        checkpoint: ``"best"`` (lowest validation loss) or a position in the
            source's sorted checkpoint list (``-1`` = last).
        model_id: The warm-started model's own number (e.g. ``"003"``), used
            when ``source`` is an ensemble.

    Returns:
        The checkpoint file that was loaded.

    Raises:
        FileNotFoundError: The source has no checkpoints.
        ValueError: ``checkpoint`` is not ``"best"`` or a valid position, or the
            source's parameters do not fit ``network`` (other connectome or
            parameter shapes).
    """
    from flyvis.network.directories import resolve_results_path
    from flyvis.utils.chkpt_utils import recover_network, resolve_checkpoints

    path = resolve_results_path(source)
    if (
        model_id
        and not (path / "chkpts").is_dir()
        and (path / model_id / "chkpts").is_dir()
    ):
        path = path / model_id  # an ensemble: this model's namesake
    checkpoints = resolve_checkpoints(path)
    if not checkpoints.paths:
        raise FileNotFoundError(
            f"warm start: no checkpoints in {path / 'chkpts'}; expected a trained "
            "model's directory (a name under the results directory or a path)"
            + (f" or an ensemble with a model {model_id}" if model_id else "")
        )
    file, _ = select_checkpoint(path, checkpoints, checkpoint)
    try:
        recover_network(network, file)
    except RuntimeError as error:
        raise ValueError(
            f"warm start: the parameters in {file} do not fit this network "
            f"(different connectome or parameter configuration): {error}"
        ) from None
    logger.info("Warm start of the network from %s.", file)
    return Path(file)


def best_recorded_loss(validation_dir: Path, fallback: float) -> float:
    """The lowest validation loss recorded in ``validation_dir/loss.h5``.

    Args:
        validation_dir: E.g. ``<model>/validation``.
        fallback: Returned when nothing is recorded (e.g. the checkpoint's
            ``val_loss``).

    Returns:
        The minimum (NaNs ignored), or ``fallback``.
    """
    recorded = Path(validation_dir) / "loss.h5"
    if not recorded.is_file():
        return float(fallback)
    losses = np.asarray(read_h5(recorded), dtype=float).reshape(-1)
    return float(np.nanmin(losses)) if losses.size else float(fallback)
