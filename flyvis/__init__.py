"""flyvis: connectome-constrained models of the fruit-fly visual system.

Importing this package has no side effects: it creates no directories, sets no
global torch device, changes no matplotlib settings and configures no logging.
Heavy submodules and the public classes (``flyvis.Network``,
``flyvis.NetworkView``, ``flyvis.MultiTaskSintel`` ...) are loaded lazily on
first attribute access.

Data directories (see ``spec`` of flyvis 1.2.0, "Data directories"):

* ``root_dir``: ``$FLYVIS_ROOT_DIR`` (environment or a ``.env`` file in the
  working directory), else ``<repository>/data`` for a source checkout, else
  ``~/.flyvis``. Created only when something is written there.
* ``results_dir = root_dir / "results"``, ``renderings_dir = root_dir /
  "renderings"``, ``sintel_dir = root_dir / "SintelDataSet"``,
  ``connectome_dir = root_dir / "connectome"``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import torch

from flyvis.version import __version__, version_tuple

__all__ = [
    "__version__",
    "version_tuple",
    "device",
    "root_dir",
    "results_dir",
    "renderings_dir",
    "sintel_dir",
    "connectome_dir",
    "repo_dir",
    "get_root_dir",
    "data_dir",
    "select_device",
]

#: Directory of the installed ``flyvis`` package.
package_dir = Path(__file__).resolve().parent
#: Parent of the package directory (the repository for a source checkout).
repo_dir = package_dir.parent


def _env_value(key: str) -> str | None:
    """Reads ``key`` from the environment, then from ``./.env`` (not exported)."""
    if key in os.environ:
        return os.environ[key]
    env_file = Path.cwd() / ".env"
    if env_file.is_file():
        try:
            from dotenv import dotenv_values

            return dotenv_values(env_file).get(key)
        except ImportError:  # pragma: no cover - python-dotenv is a dependency
            return None
    return None


def get_root_dir() -> Path:
    """Returns the flyvis data root as configured now (nothing is created).

    Returns:
        Absolute path: ``$FLYVIS_ROOT_DIR`` if set (environment or ``./.env``),
        else ``<repo>/data`` for a source checkout, else ``~/.flyvis``.
    """
    value = _env_value("FLYVIS_ROOT_DIR")
    if value:
        return Path(value).expanduser().resolve()
    if (repo_dir / "pyproject.toml").is_file():
        return repo_dir / "data"
    return Path("~/.flyvis").expanduser().resolve()


def select_device(device: str | torch.device | None = None) -> torch.device:
    """Resolves a device argument: ``None`` means CUDA if available, else CPU.

    Args:
        device: A torch device, a string such as ``"cpu"`` or ``"cuda:0"``, or
            ``None``.

    Returns:
        The resolved ``torch.device``.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


#: Default device: CUDA if available, else CPU. Never set as torch's global default.
device = select_device()
root_dir = get_root_dir()
results_dir = root_dir / "results"
renderings_dir = root_dir / "renderings"
sintel_dir = root_dir / "SintelDataSet"
connectome_dir = root_dir / "connectome"

_SUBDIRS = {
    "results_dir": "results",
    "renderings_dir": "renderings",
    "sintel_dir": "SintelDataSet",
    "connectome_dir": "connectome",
}


def data_dir(name: str) -> Path:
    """A data directory as configured now (resolved at every call, not created).

    Precedence: an assigned module attribute (e.g. ``flyvis.results_dir =
    path``); else ``$FLYVIS_ROOT_DIR/<sub>`` if the variable is set now (also
    when set after import); else ``flyvis.root_dir/<sub>``.

    Args:
        name: ``"results_dir"``, ``"renderings_dir"``, ``"sintel_dir"`` or
            ``"connectome_dir"``.

    Returns:
        The absolute path.

    Raises:
        KeyError: For an unknown name.
    """
    sub = _SUBDIRS[name]
    current, root = Path(globals()[name]), Path(globals()["root_dir"])
    if current != root / sub:
        return current
    if _env_value("FLYVIS_ROOT_DIR"):
        return get_root_dir() / sub
    return root / sub


# Public names re-exported lazily: name -> module that defines it.
_LAZY = {
    "Network": "flyvis.network",
    "NetworkDir": "flyvis.network",
    "EnsembleDir": "flyvis.network",
    "NetworkView": "flyvis.network",
    "Ensemble": "flyvis.network",
    "EnsembleView": "flyvis.network",
    "Stimulus": "flyvis.network",
    "ConnectomeFromAvgFilters": "flyvis.connectome",
    "ConnectomeView": "flyvis.connectome",
    "BoxEye": "flyvis.datasets.rendering",
    "MultiTaskSintel": "flyvis.datasets",
    "MultiTaskPhotoFlow": "flyvis.datasets",
    "AugmentedSintel": "flyvis.datasets",
    "RenderedSintel": "flyvis.datasets",
    "Flashes": "flyvis.datasets",
    "MovingBar": "flyvis.datasets",
    "MovingEdge": "flyvis.datasets",
    "Dots": "flyvis.datasets",
    "CentralImpulses": "flyvis.datasets",
    "SpatialImpulses": "flyvis.datasets",
    "HexEye": "flyvis.datasets",
    "SequenceDataset": "flyvis.datasets",
    "MultiTaskDataset": "flyvis.datasets",
    "MultiTaskSolver": "flyvis.solver",
    "DecoderGAVP": "flyvis.task",
    "init_decoder": "flyvis.task",
    "LayerActivity": "flyvis.utils.activity_utils",
    "CentralActivity": "flyvis.utils.activity_utils",
    "get_default_config": "flyvis.utils.config_utils",
}
_SUBMODULES = {
    "analysis",
    "cli",
    "connectome",
    "datasets",
    "network",
    "solver",
    "task",
    "utils",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"flyvis.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'flyvis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
