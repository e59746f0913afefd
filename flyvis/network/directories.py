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
"""

from __future__ import annotations

from pathlib import Path

from datamate import Directory

import flyvis
from flyvis.utils.directories import dynamic_root

__all__ = ["NetworkDir", "EnsembleDir", "get_results_dir"]


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
