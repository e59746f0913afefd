"""``byte_to_str`` of flyvis 1.2.0's ``flyvis.utils.type_utils`` (``spec/utilities.md`` §7)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["byte_to_str"]


def byte_to_str(obj: Any) -> Any:
    """Decodes bytes to str, recursively (HDF5 files store cell types as bytes).

    Args:
        obj: ``bytes``, ``str``, a numpy array (byte-string ``S`` arrays become
            ``U`` arrays, other arrays are returned as they are), or a list,
            tuple or dict of these.

    Returns:
        The same structure with every byte string decoded as UTF-8.

    Raises:
        TypeError: For any other type.
    """
    if isinstance(obj, bytes):
        return obj.decode()
    if isinstance(obj, str):
        return obj
    if isinstance(obj, np.ndarray):
        return obj.astype(str) if obj.dtype.kind == "S" else obj
    if isinstance(obj, list):
        return [byte_to_str(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(byte_to_str(v) for v in obj)
    if isinstance(obj, dict):
        return {byte_to_str(k): byte_to_str(v) for k, v in obj.items()}
    raise TypeError(
        f"byte_to_str takes bytes, str, numpy arrays, lists, tuples or dicts, "
        f"got {type(obj).__name__}."
    )
