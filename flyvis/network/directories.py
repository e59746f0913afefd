"""Trained-network storage: ``NetworkDir`` and ``EnsembleDir``.

Both are datamate ``Directory`` subclasses rooted at the flyvis results
directory, laid out as flyvis 1.2.0 lays them out::

    <results_dir>/<task>/<ensemble:04d>/<model:03d>/   # NetworkDir, e.g. flow/0000/000
        _meta.yaml       # {config: {..., type: NetworkDir}, status: done}
        chkpts/chkpt_00000 ...
        loss.h5, validation/epe.h5, ...

The root is resolved **when a directory is opened**, not at import time (see
:func:`get_results_dir`), so ``FLYVIS_ROOT_DIR`` set later, an assignment to
``flyvis.results_dir``, and ``datamate.set_root_context`` all take effect.

Shipped models: the package carries a trained ensemble as data
(``flyvis/pretrained/results/flow/0000/000 ...``, see
:func:`shipped_results_dir`). Relative names such as ``"flow/0000"`` or
``"flow/0000/000"`` are looked up in the user's results directory first and
fall back to the shipped copy (:func:`resolve_results_path`), so a user's own
``results/flow/0000`` always takes precedence. The shipped directories are
read-only: analysis caches of shipped models are written under
``<root_dir>/cache/shipped`` instead (:func:`writable_model_dir`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

from datamate import Directory

import flyvis
from flyvis.utils.directories import dynamic_root

__all__ = [
    "NetworkDir",
    "EnsembleDir",
    "get_results_dir",
    "shipped_results_dir",
    "resolve_results_path",
    "is_shipped",
    "writable_model_dir",
]


def get_results_dir() -> Path:
    """The results directory as configured now (resolved at every call).

    Precedence:

    1. ``flyvis.results_dir`` if it was assigned (differs from
       ``flyvis.root_dir / "results"``);
    2. ``$FLYVIS_ROOT_DIR / "results"`` if the variable is set now (environment
       or ``./.env``), even if it was set after ``flyvis`` was imported;
    3. ``flyvis.root_dir / "results"`` (the default root, or an assigned one).

    Returns:
        The absolute results directory (not created).
    """
    return flyvis.data_dir("results_dir")


def shipped_results_dir() -> Path:
    """The results directory that ships inside the package (read-only data).

    Returns:
        ``<package>/pretrained/results`` (it holds ``flow/0000/<model>``).
    """
    return Path(__file__).resolve().parent.parent / "pretrained" / "results"


def _exists(path: Path) -> bool:
    # a model directory needs its _meta.yaml; an ensemble directory a model in it
    if (path / "_meta.yaml").is_file():
        return True
    return path.is_dir() and any(
        (p / "_meta.yaml").is_file() for p in path.iterdir() if p.name.isdigit()
    )


def resolve_results_path(name: Union[str, os.PathLike]) -> Path:
    """The directory of a model or ensemble name relative to the results directory.

    The user's results directory (:func:`get_results_dir`) wins; if it has no
    such model or ensemble, the shipped copy (:func:`shipped_results_dir`) is
    used where it exists.

    Args:
        name: E.g. ``"flow/0000"`` or ``"flow/0000/000"``; absolute paths are
            returned unchanged.

    Returns:
        The absolute path (under the user's results directory if neither
        exists, so that error messages name the place to put the files).
    """
    path = Path(name).expanduser()
    if path.is_absolute():
        return path
    user = get_results_dir() / path
    if _exists(user):
        return user
    shipped = shipped_results_dir() / path
    if _exists(shipped):
        return shipped
    return user


def is_shipped(path: Union[str, os.PathLike]) -> bool:
    """Whether a path lies inside the package's shipped results.

    Args:
        path: A model or ensemble directory.

    Returns:
        True for the read-only shipped copies.
    """
    try:
        Path(path).resolve().relative_to(shipped_results_dir())
    except ValueError:
        return False
    return True


def writable_model_dir(path: Union[str, os.PathLike]) -> Path:
    """Where results derived from a model or ensemble directory may be written.

    Args:
        path: A model or ensemble directory.

    Returns:
        ``path`` itself, or for shipped models
        ``<results_dir>/../cache/shipped/<task>/<ensemble>[/<model>]`` (not
        created; the results directory's parent is the data root).
    """
    if not is_shipped(path):
        return Path(path)
    relative = Path(path).resolve().relative_to(shipped_results_dir())
    return get_results_dir().parent / "cache" / "shipped" / relative


@dynamic_root(get_results_dir)
class NetworkDir(Directory):
    """Directory of one trained network (``results/<task>/<ensemble>/<model>``).

    Construct with a name relative to the results directory and, to create
    it, the training config: ``NetworkDir("flow/0000/000", config)``. Its
    ``_meta.yaml`` config carries ``type: NetworkDir``. ``delete_if_exists:
    True`` in the config rebuilds the directory from scratch; an existing
    directory with a different config raises ``FileExistsError``.
    """


@dynamic_root(get_results_dir)
class EnsembleDir(Directory):
    """Directory of an ensemble of networks (``results/<task>/<ensemble:04d>``).

    Holds one ``NetworkDir`` per model (``000``, ``001``, ...) plus
    ensemble-level results (logs, clustering, response norms).
    """
