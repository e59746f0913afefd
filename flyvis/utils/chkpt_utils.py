"""Checkpoint I/O: finding, selecting, writing and loading training checkpoints.

A checkpoint is the file ``<network_dir>/chkpts/chkpt_<index:05d>`` (no
extension) written with ``torch.save``; it holds a plain dict with the keys
``"network"``, ``"decoder"`` (``{task: state_dict}``), ``"optim"``, ``"time"``,
``"val_loss"``, ``"iteration"``, ``"dt"`` and, when present, the penalty
optimiser states ``"activity_optim"`` / ``"parameter_optim"`` (flyvis 1.2.0's
format, so checkpoints are interchangeable).

Differences to flyvis 1.2.0 (deliberate):

* :func:`checkpoint_index_to_path_map` never creates directories (reading a
  model must not write to it); files whose name has no number are skipped.
* :func:`recover_penalty_optimizers` reads the keys checkpoints actually
  contain (``"activity_optim"``, ``"parameter_optim"``; flyvis looked for a
  ``"penalty_optims"`` key that is never written; that key is still accepted).
* :func:`best_checkpoint_default_fn` defaults to the ``"epe"`` validation file
  (falling back to ``"loss"`` with a one-time warning) and maps the argmin
  position to the checkpoint with that index.
* :func:`save_checkpoint` writes atomically (temporary file, fsync, rename).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch

__all__ = [
    "Checkpoints",
    "resolve_checkpoints",
    "checkpoint_index_to_path_map",
    "best_checkpoint_default_fn",
    "check_loss_name",
    "read_h5",
    "get_from_state_dict",
    "load_checkpoint",
    "save_checkpoint",
    "recover_network",
    "recover_decoder",
    "recover_optimizer",
    "recover_penalty_optimizers",
]

logger = logging.getLogger(__name__)

StateOrPath = Union[Mapping[str, Any], str, os.PathLike]


@dataclass
class Checkpoints:
    """Checkpoint indices and paths of a network directory, sorted by index.

    Attributes:
        indices: Checkpoint numbers (from the file names ``chkpt_00000``...).
        paths: The corresponding files.
    """

    indices: List[int] = field(default_factory=list)
    paths: List[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return f"Checkpoints(indices={self.indices}, paths=[{len(self.paths)} files])"


_NUMBER = re.compile(r"\d{1,10}")


def checkpoint_index_to_path_map(
    path: Union[str, os.PathLike], glob: str = "chkpt_*"
) -> Tuple[List[int], List[Path]]:
    """Maps the checkpoint files in ``path`` to their indices.

    Args:
        path: The checkpoint folder (``<network_dir>/chkpts``). Nothing is
            created if it does not exist.
        glob: Pattern of checkpoint file names.

    Returns:
        ``(indices, paths)`` sorted by the first number in each file name;
        empty lists if the folder does not exist. Names without a number
        (and hidden temporary files) are skipped.
    """
    path = Path(path)
    if not path.is_dir():
        return [], []
    found = []
    for p in path.glob(glob):
        if p.name.startswith(".") or not p.is_file():
            continue
        match = _NUMBER.search(p.name)
        if match is None:
            logger.warning("Skipping checkpoint file without a number: %s", p)
            continue
        found.append((int(match.group()), p))
    found.sort(key=lambda item: item[0])
    return [i for i, _ in found], [p for _, p in found]


def _dir_path(network_dir: Any) -> Path:
    return Path(getattr(network_dir, "path", network_dir))


def resolve_checkpoints(network_dir: Any) -> Checkpoints:
    """The checkpoints of a network directory.

    Args:
        network_dir: A ``NetworkDir`` (or any object with ``.path``) or a path.

    Returns:
        ``Checkpoints(indices, paths)`` over ``<network_dir>/chkpts/chkpt_*``.
    """
    return Checkpoints(*checkpoint_index_to_path_map(_dir_path(network_dir) / "chkpts"))


@functools.lru_cache(maxsize=None)
def _warn_once(message: str) -> None:
    logger.warning(message)


def check_loss_name(loss_folder: Union[str, os.PathLike], loss_file_name: str) -> str:
    """Returns ``loss_file_name`` if its file exists, else ``"loss"`` (warning once).

    Args:
        loss_folder: Folder of the validation files (e.g. ``.../validation``).
        loss_file_name: Requested file name without ``.h5`` (e.g. ``"epe"``).

    Returns:
        The file name to use.
    """
    folder = Path(loss_folder)
    if (
        not (folder / f"{loss_file_name}.h5").is_file()
        and (folder / "loss.h5").is_file()
        and loss_file_name != "loss"
    ):
        _warn_once(
            f"{loss_file_name!r} is not in {folder}; using 'loss' to select the "
            "best checkpoint instead."
        )
        return "loss"
    return loss_file_name


def read_h5(path: Union[str, os.PathLike]) -> np.ndarray:
    """The values of a flyvis results file (``loss.h5``, ``validation/epe.h5``, ...).

    Args:
        path: An HDF5 file written by the solver (one dataset named ``data``).

    Returns:
        Its array (a 0-d array for scalars such as ``best_chkpt_index.h5``).
    """
    import h5py

    with h5py.File(path, "r") as f:
        return np.asarray(f["data"][()])


def best_checkpoint_default_fn(
    path: Union[str, os.PathLike],
    validation_subdir: str = "validation",
    loss_file_name: str = "epe",
) -> Path:
    """The checkpoint with the lowest validation loss.

    The validation file holds one value per checkpoint, in checkpoint order.

    Args:
        path: The network directory.
        validation_subdir: Folder of the validation files.
        loss_file_name: Validation file (without ``.h5``) to minimise;
            falls back to ``"loss"`` with a one-time warning if missing.

    Returns:
        Path of the best checkpoint.

    Raises:
        FileNotFoundError: If there is no validation file or no checkpoint
            with the selected index.
    """
    path = Path(path)
    folder = path / validation_subdir
    name = check_loss_name(folder, loss_file_name)
    file = folder / f"{name}.h5"
    if not file.is_file():
        raise FileNotFoundError(f"no validation file {file}")
    losses = read_h5(file).reshape(-1)
    if losses.size == 0 or np.all(np.isnan(losses)):
        raise FileNotFoundError(f"no valid validation losses in {file}")
    position = int(np.nanargmin(losses))
    indices, paths = checkpoint_index_to_path_map(path / "chkpts")
    by_index = dict(zip(indices, paths))
    if position not in by_index:
        raise FileNotFoundError(
            f"best validation entry {position} of {file} has no checkpoint "
            f"(available: {indices})"
        )
    return by_index[position]


def load_checkpoint(
    path: Union[str, os.PathLike], map_location: Any = None
) -> Dict[str, Any]:
    """Loads a checkpoint file (``weights_only=False``: it holds plain Python data).

    Args:
        path: The checkpoint file.
        map_location: Device for the tensors; default ``flyvis.device``.

    Returns:
        The checkpoint dict.
    """
    if map_location is None:
        import flyvis

        map_location = flyvis.device
    return torch.load(Path(path), map_location=map_location, weights_only=False)


def get_from_state_dict(
    state_dict: StateOrPath, key: str, map_location: Any = None
) -> Optional[Any]:
    """One entry of a checkpoint, given as a dict or as a file path.

    Args:
        state_dict: The checkpoint dict, or a path to a checkpoint file.
        key: The entry, e.g. ``"network"``.
        map_location: Device for tensors when loading a file.

    Returns:
        The entry, or ``None`` (with a warning) if it is missing.

    Raises:
        TypeError: If ``state_dict`` is neither a mapping nor a path.
    """
    if state_dict is None:
        return None
    if isinstance(state_dict, (str, os.PathLike)):
        state_dict = load_checkpoint(state_dict, map_location)
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"expected a state dict or a path, got {type(state_dict)}")
    if key not in state_dict:
        logger.warning("Checkpoint has no %r entry.", key)
        return None
    return state_dict[key]


def save_checkpoint(obj: Any, path: Union[str, os.PathLike]) -> Path:
    """Writes ``obj`` with ``torch.save`` atomically.

    The data go to a hidden temporary file in the same folder, are flushed to
    disk (fsync) and the file is renamed onto ``path`` (``os.replace``), so a
    reader never sees a partial checkpoint; on error the temporary file is
    removed and ``path`` is untouched.

    Args:
        obj: The object to save.
        path: Destination file (its folder is created if needed).

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give it the permissions of a normal file
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # pragma: no cover - not supported on every platform
        pass
    return path


def recover_network(
    network: torch.nn.Module,
    state_dict: StateOrPath,
    ensemble_and_network_id: Optional[str] = None,
) -> torch.nn.Module:
    """Loads the ``"network"`` entry of a checkpoint into ``network``.

    Args:
        network: The network module.
        state_dict: Checkpoint dict or path.
        ensemble_and_network_id: Only used in the log message.

    Returns:
        The same module.
    """
    state = get_from_state_dict(state_dict, "network", _device_of(network))
    if state is not None:
        network.load_state_dict(state)
        suffix = f" {ensemble_and_network_id}" if ensemble_and_network_id else ""
        logger.info("Recovered network state%s.", suffix)
    else:
        logger.warning("Could not recover network state.")
    return network


def recover_decoder(
    decoder: Mapping[str, torch.nn.Module], state_dict: StateOrPath, strict: bool = True
) -> Mapping[str, torch.nn.Module]:
    """Loads the ``"decoder"`` entry (``{task: state}``) into the decoders.

    Args:
        decoder: Mapping task -> decoder module.
        state_dict: Checkpoint dict or path.
        strict: Passed to ``load_state_dict``.

    Returns:
        The same mapping.
    """
    device = None
    for module in decoder.values():
        device = _device_of(module)
        break
    states = get_from_state_dict(state_dict, "decoder", device)
    if not states:
        logger.warning("Could not recover decoder state.")
        return decoder
    for task, module in decoder.items():
        if task not in states:
            logger.warning("Checkpoint has no decoder state for task %r.", task)
            continue
        module.load_state_dict(states[task], strict=strict)
    logger.info("Recovered %s decoder state.", ", ".join(decoder))
    return decoder


def recover_optimizer(
    optimizer: torch.optim.Optimizer, state_dict: StateOrPath
) -> torch.optim.Optimizer:
    """Loads the ``"optim"`` entry into ``optimizer``.

    Args:
        optimizer: The optimiser.
        state_dict: Checkpoint dict or path.

    Returns:
        The same optimiser.
    """
    state = get_from_state_dict(state_dict, "optim")
    if state is not None:
        optimizer.load_state_dict(state)
        logger.info("Recovered optimizer state.")
    else:
        logger.warning("Could not recover optimizer state.")
    return optimizer


def recover_penalty_optimizers(
    optimizers: Mapping[str, Optional[torch.optim.Optimizer]], state_dict: StateOrPath
) -> Mapping[str, Optional[torch.optim.Optimizer]]:
    """Loads the penalty optimiser states (``"activity_optim"``, ``"parameter_optim"``).

    Args:
        optimizers: Mapping name -> optimiser (``None`` entries are skipped).
        state_dict: Checkpoint dict or path. The states are read from the
            top-level keys of the same name (as written by the solver); a
            legacy ``"penalty_optims"`` mapping is accepted too.

    Returns:
        The same mapping.
    """
    if isinstance(state_dict, (str, os.PathLike)):
        state_dict = load_checkpoint(state_dict)
    legacy = state_dict.get("penalty_optims") or {}
    for name, optim in optimizers.items():
        if optim is None:
            continue
        state = state_dict.get(name, legacy.get(name))
        if state is None:
            logger.warning("Checkpoint has no state for penalty optimizer %r.", name)
            continue
        optim.load_state_dict(state)
        logger.info("Recovered %s state.", name)
    return optimizers


def _device_of(module: torch.nn.Module) -> Optional[torch.device]:
    device = getattr(module, "device", None)
    if isinstance(device, (torch.device, str)):
        return torch.device(device)
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return None
