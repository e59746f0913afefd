"""Validating names (cell types, parameters, models) with close-match suggestions.

Example::

    check_name("T4e", ["T4a", "T4b", "T4c", "T4d"])
    # UnknownCellTypeError: Unknown cell type 'T4e'. Did you mean: T4a, T4b, ...?
"""

from typing import Any, Iterable, List, Sequence

from flyvis.utils.nodes_edges_utils import (
    UnknownCellTypeError,
    _decode,
    unknown_type_error,
)

__all__ = ["check_name", "check_names", "UnknownCellTypeError"]


def check_name(name: Any, valid: Iterable, what: str = "cell type") -> str:
    """Returns ``name`` if it is one of ``valid``, else raises with close matches.

    Args:
        name: The requested name (``str`` or ``bytes``).
        valid: The valid names (``str`` or ``bytes``).
        what: Noun used in the error message, e.g. ``"cell type"``, ``"model"``.

    Returns:
        ``name`` as ``str``.

    Raises:
        UnknownCellTypeError: (a ``ValueError``) if ``name`` is not valid; the
            message names it and suggests up to five close matches
            (``difflib``), or lists the valid names if none is close.
    """
    valid_list: List[str] = [str(_decode(v)) for v in valid]
    key = _decode(name)
    if not isinstance(key, str) or key not in valid_list:
        raise unknown_type_error(key, valid_list, what=what)
    return key


def check_names(names: Iterable, valid: Sequence, what: str = "cell type") -> List[str]:
    """Validates several names, see :func:`check_name`.

    Args:
        names: A name or an iterable of names.
        valid: The valid names.
        what: Noun used in the error message.

    Returns:
        The names as a list of ``str``.

    Raises:
        UnknownCellTypeError: At the first unknown name.
    """
    if isinstance(names, (str, bytes)):
        names = [names]
    valid_list = [str(_decode(v)) for v in valid]
    return [check_name(n, valid_list, what) for n in names]
