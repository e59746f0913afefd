"""Per-model disk cache of analysis results (``xr.Dataset`` as HDF5).

Layout, as flyvis 1.2.0 (``spec/analysis.md`` §2.2)::

    <model_dir>/__cache__/flyvis/analysis/<module>/<function>/<key hash>/output.h5
                                                                      /key.json

The key hash covers whatever the caller passes (function name, dataset class
and config, arguments, network config) plus the *identity of the checkpoint
file* (path, size and SHA-256 of its content), so a retrained or replaced
checkpoint or a changed config never returns a stale result. Files are
written atomically (temporary file in the same directory, then
``os.replace``). Datasets are stored with h5py: one HDF5 dataset per variable
with its dimension names; attributes as JSON.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Optional, Union

import numpy as np
import xarray as xr

__all__ = [
    "CACHE_DIR_NAME",
    "checkpoint_identity",
    "CACHE_VERSION",
    "hash_key",
    "cache_path",
    "write_dataset",
    "read_dataset",
    "cached_call",
    "clear_cache",
    "to_jsonable",
]

CACHE_DIR_NAME = "__cache__"
_FILE = "output.h5"


def to_jsonable(obj: Any) -> Any:
    """Normalises ``obj`` into JSON-serialisable builtins (stable key order).

    Args:
        obj: Dicts, sequences, numpy scalars/arrays, paths, classes, functions...

    Returns:
        Nested dicts/lists/str/float/int/bool/None.
    """
    if hasattr(obj, "to_dict") and callable(obj.to_dict) and not isinstance(obj, type):
        try:
            obj = obj.to_dict()
        except TypeError:
            pass
    if isinstance(obj, dict):
        return {
            str(k): to_jsonable(v)
            for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(obj, (list, tuple, set)):
        items = sorted(obj, key=str) if isinstance(obj, set) else obj
        return [to_jsonable(v) for v in items]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, type) or callable(obj):
        return (
            f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', repr(obj))}"
        )
    return repr(obj)


def hash_key(key: Any) -> str:
    """SHA-256 (hex, first 32 chars) of the JSON form of ``key``.

    Args:
        key: Anything :func:`to_jsonable` accepts.

    Returns:
        A 32-character hex string.
    """
    text = json.dumps(to_jsonable(key), sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


#: Part of every cache key; bump it when a change to the analysis code changes
#: cached results, so that old entries are recomputed.
CACHE_VERSION = 1


def _render_version(dataset_class: Any) -> Any:
    """Version of a dataset's renderer (``RENDER_VERSION`` of its module), if any."""
    import sys

    module = sys.modules.get(getattr(dataset_class, "__module__", ""), None)
    return getattr(module, "RENDER_VERSION", None)


def checkpoint_identity(path: Optional[Union[str, os.PathLike]]) -> Dict[str, Any]:
    """Identity of a checkpoint file: name, size and SHA-256 of the content.

    Args:
        path: Checkpoint path, or ``None`` (untrained network).

    Returns:
        ``{"name", "size", "sha256"}``; ``{"path": None}`` for ``None`` and
        ``{"path", "missing": True}`` for a missing file.
    """
    if path is None:
        return {"path": None}
    path = Path(path)
    if not path.is_file():
        return {"path": str(path), "missing": True}
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    # the content identifies the checkpoint; its absolute path is left out so
    # that a moved results directory keeps its caches
    return {"name": path.name, "size": path.stat().st_size, "sha256": digest.hexdigest()}


def cache_path(model_dir: Union[str, os.PathLike], func: Callable, key: Any) -> Path:
    """Directory of one cached call.

    Args:
        model_dir: The model directory (e.g. ``.../flow/0000/000``).
        func: The cached function (its module and name give the sub-path).
        key: The call's key (see :func:`hash_key`).

    Returns:
        ``<model_dir>/__cache__/<module path>/<function>/<hash>``; for the
        read-only models shipped with the package, ``model_dir`` is replaced by
        ``<data root>/cache/shipped/<task>/<ensemble>/<model>``.
    """
    from flyvis.network.directories import writable_model_dir

    module = func.__module__.replace(".", "/")
    base = writable_model_dir(model_dir)  # shipped models: under the data root
    return base / CACHE_DIR_NAME / module / func.__name__ / hash_key(key)


def _atomic_target(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(tmp)


def write_dataset(dataset: xr.Dataset, path: Union[str, os.PathLike]) -> Path:
    """Writes an ``xr.Dataset`` to HDF5 atomically.

    Args:
        dataset: Variables of numeric, bool or string dtype; attributes must
            be JSON-serialisable after :func:`to_jsonable`.
        path: Target file.

    Returns:
        The path written.
    """
    import h5py

    path = Path(path)
    tmp = _atomic_target(path)
    try:
        with h5py.File(tmp, "w", track_order=True) as file:
            file.attrs["attrs"] = json.dumps(to_jsonable(dict(dataset.attrs)))
            for group_name, variables in (
                ("data_vars", dataset.data_vars),
                ("coords", dataset.coords),
            ):
                group = file.create_group(group_name, track_order=True)
                for name, var in variables.items():
                    values = np.asarray(var.values)
                    kind = "plain"
                    if values.dtype.kind in "UOS":
                        kind = "str"
                        values = values.astype(str).astype(object)
                        h5 = group.create_dataset(
                            str(name), data=values, dtype=h5py.string_dtype()
                        )
                    else:
                        h5 = group.create_dataset(str(name), data=values)
                    h5.attrs["dims"] = json.dumps([str(d) for d in var.dims])
                    h5.attrs["kind"] = kind
                    h5.attrs["attrs"] = json.dumps(to_jsonable(dict(var.attrs)))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_dataset(path: Union[str, os.PathLike]) -> xr.Dataset:
    """Reads a Dataset written by :func:`write_dataset` (fully into memory).

    Args:
        path: The HDF5 file.

    Returns:
        The ``xr.Dataset``.

    Raises:
        FileNotFoundError: If the file does not exist.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no cached dataset at {path}")
    parts: Dict[str, Dict[str, Any]] = {"data_vars": {}, "coords": {}}
    with h5py.File(path, "r") as file:
        attrs = json.loads(file.attrs["attrs"])
        for group_name in parts:
            for name, h5 in file[group_name].items():
                values = h5[()]
                if h5.attrs["kind"] == "str":
                    values = np.asarray(
                        [
                            v.decode() if isinstance(v, bytes) else v
                            for v in np.ravel(values)
                        ],
                        dtype=str,
                    ).reshape(np.shape(values))
                dims = json.loads(h5.attrs["dims"])
                parts[group_name][name] = xr.Variable(
                    dims, values, attrs=json.loads(h5.attrs["attrs"])
                )
    return xr.Dataset(parts["data_vars"], coords=parts["coords"], attrs=attrs)


def cached_call(
    model_dir: Optional[Union[str, os.PathLike]],
    func: Callable[..., xr.Dataset],
    key: Any,
    compute: Callable[[], xr.Dataset],
    recompute: bool = False,
) -> xr.Dataset:
    """Returns the cached result for ``key`` or computes and stores it.

    Args:
        model_dir: Model directory holding the cache; ``None`` disables caching.
        func: The function whose result is cached (names the sub-directory).
        key: Everything the result depends on.
        compute: Zero-argument callable producing the ``xr.Dataset``.
        recompute: Ignore and overwrite an existing entry.

    Returns:
        The Dataset (attributes normalised through JSON in both cases, so a
        fresh and a cached result are identical).
    """
    if model_dir is None:
        result = compute()
        result.attrs = json.loads(json.dumps(to_jsonable(dict(result.attrs))))
        return result
    directory = cache_path(model_dir, func, key)
    file = directory / _FILE
    if file.is_file() and not recompute:
        try:
            return read_dataset(file)
        except (OSError, KeyError, ValueError):
            pass  # corrupt entry: recompute
    result = compute()
    write_dataset(result, file)
    key_file = directory / "key.json"
    tmp = _atomic_target(key_file)
    tmp.write_text(json.dumps(to_jsonable(key), indent=1, sort_keys=True))
    os.replace(tmp, key_file)
    return read_dataset(file)


def _model_dirs(obj: Any) -> Iterable[Path]:
    if isinstance(obj, (str, os.PathLike)):
        return [Path(obj)]
    # an ensemble has a directory too: look at its models first
    if hasattr(obj, "values") and callable(obj.values):
        obj = list(obj.values())
    elif hasattr(obj, "dir") and hasattr(obj.dir, "path"):
        return [Path(obj.dir.path)]
    if isinstance(obj, (list, tuple)):
        return [p for item in obj for p in _model_dirs(item)]
    raise TypeError(
        "expected a model directory path, a NetworkView, an ensemble of "
        f"NetworkViews or a list of them, got {type(obj).__name__}."
    )


def clear_cache(obj: Any, func: Optional[Callable] = None) -> int:
    """Deletes cached analysis results of one or more models.

    Args:
        obj: Model directory path, ``NetworkView``, ensemble (mapping of
            NetworkViews) or list of these.
        func: Only clear this function's entries (default: the whole
            ``__cache__`` directory).

    Returns:
        Number of directories removed.

    Raises:
        TypeError: For an unsupported ``obj``.
    """
    from flyvis.network.directories import writable_model_dir

    removed = 0
    for model_dir in _model_dirs(obj):
        target = writable_model_dir(model_dir) / CACHE_DIR_NAME
        if func is not None:
            target = target / func.__module__.replace(".", "/") / func.__name__
        if target.exists():
            shutil.rmtree(target)
            removed += 1
    return removed
