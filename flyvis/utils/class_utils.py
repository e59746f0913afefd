"""Resolution of ``type`` keys in configs to classes, through explicit lookup.

flyvis configs name classes by a ``type`` key (``{"type": "RestingPotential",
"mean": 0.5, ...}``). :func:`forward_subclass` finds the named class among the
(recursive) subclasses of a base class and instantiates it with the remaining
keys. Unlike flyvis 1.2.0, a missing or unknown name is an error that lists the
valid names: there is no silent fallback to the base class.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Iterable, Mapping, Optional, Type, TypeVar

__all__ = ["find_subclass", "all_subclasses", "forward_subclass", "UnknownTypeError"]

T = TypeVar("T")


class UnknownTypeError(ValueError):
    """A config names a class that does not exist (a ``ValueError``)."""


def all_subclasses(cls: type) -> Dict[str, type]:
    """All subclasses of ``cls`` (recursively, ``cls`` included) by name.

    Args:
        cls: The base class.

    Returns:
        Mapping ``__qualname__ -> class``; the first class found wins for
        duplicated names.
    """
    found: Dict[str, type] = {cls.__qualname__: cls}
    stack = list(cls.__subclasses__())
    while stack:
        sub = stack.pop(0)
        found.setdefault(sub.__qualname__, sub)
        stack.extend(sub.__subclasses__())
    return found


def find_subclass(cls: type, name: str) -> type:
    """Finds the subclass of ``cls`` called ``name``.

    Args:
        cls: The base class.
        name: ``__qualname__`` of the wanted class.

    Returns:
        The class.

    Raises:
        UnknownTypeError: If no such subclass exists; the message lists the
            valid names.
    """
    classes = all_subclasses(cls)
    if name not in classes:
        raise UnknownTypeError(
            f"unknown type {name!r} for {cls.__qualname__}; valid types: "
            f"{_names(classes)}."
        )
    return classes[name]


def forward_subclass(
    cls: Type[T],
    config: Optional[Mapping[str, Any]] = None,
    subclass_key: str = "type",
    unpack_kwargs: bool = True,
    extra: Optional[Mapping[str, Any]] = None,
) -> T:
    """Instantiates the subclass of ``cls`` named by ``config[subclass_key]``.

    The config is deep-copied (the caller's object is never changed); the
    ``type`` key is removed and the remaining entries become keyword arguments
    (or one dict if ``unpack_kwargs`` is False).

    Args:
        cls: The base class to search.
        config: Mapping with a ``type`` key and constructor arguments.
        subclass_key: Name of the key naming the class.
        unpack_kwargs: Pass the remaining entries as keyword arguments.
        extra: Additional keyword arguments that are not part of the config
            (e.g. a connectome object), passed as they are.

    Returns:
        The new instance.

    Raises:
        UnknownTypeError: If the key is missing or names no subclass of ``cls``.
    """
    config = dict(copy.deepcopy(dict(config or {})))
    name = config.pop(subclass_key, None)
    if name is None:
        raise UnknownTypeError(
            f"config for {cls.__qualname__} has no {subclass_key!r} key; valid types: "
            f"{_names(all_subclasses(cls))}."
        )
    sub = find_subclass(cls, name)
    extra = dict(extra or {})
    if unpack_kwargs:
        return sub(**config, **extra)
    return sub(config, **extra)


def _names(classes: Iterable[str]) -> str:
    return ", ".join(sorted(classes))
