"""datamate helpers: directory roots resolved when a directory is constructed.

``datamate.root(path)`` binds a root when a class is defined (at import). flyvis
resolves its data root from ``$FLYVIS_ROOT_DIR`` at the time of use instead, so
that importing has no side effects and a changed environment is honoured.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

from datamate import get_root_dir, set_root_dir
from datamate.context import context

__all__ = ["dynamic_root", "reopen_by_path"]


def dynamic_root(subdir: str | Callable[[], Path]):
    """Class decorator: construct the datamate Directory under a lazy root.

    The root is ``flyvis.get_root_dir() / subdir`` evaluated at construction
    time (or ``subdir()`` if it is callable). An explicit
    ``datamate.set_root_context(...)`` still takes precedence, as with
    ``datamate.root(..., precedence=2)``.

    Args:
        subdir: Sub-directory of the flyvis root (e.g. ``"connectome"``), or a
            callable returning the root path.

    Returns:
        The class decorator.
    """

    def resolve() -> Path:
        if callable(subdir):
            return Path(subdir())
        import flyvis

        if f"{subdir}_dir" in flyvis._SUBDIRS:
            return flyvis.data_dir(f"{subdir}_dir")
        return flyvis.get_root_dir() / subdir

    def decorator(cls):
        new = cls.__new__

        @functools.wraps(new)
        def __new__(*args, **kwargs):
            previous = get_root_dir()
            if not getattr(context, "within_root_context", False):
                set_root_dir(resolve())
            try:
                return new(*args, **kwargs)
            finally:
                set_root_dir(previous)

        cls.__new__ = __new__
        return cls

    return decorator


def _reopen(cls, path):
    return cls(Path(path))


def reopen_by_path(cls):
    """Class decorator: pickle a datamate Directory as a reference to its path.

    Unpickling reopens the existing directory instead of re-running datamate's
    constructor without arguments (which would look up or build the default
    config).

    Args:
        cls: A ``datamate.Directory`` subclass.

    Returns:
        The class with a ``__reduce__`` method.
    """

    def __reduce__(self):
        return (_reopen, (type(self), str(self.path)))

    cls.__reduce__ = __reduce__
    return cls
