"""Response norms as stored data: the ``ResponseNorms`` record and its HDF5 file.

``<ensemble dir>/responses_norm.h5`` holds one group per ensemble name (e.g.
``/flow/0000``) with the norms, the model names, their checkpoints and
checkpoint hashes and the dataset config. Re-exported by
:mod:`flyvis.analysis.response_norms` (computation and the public API).

Source: ``spec/analysis.md`` §7.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "ResponseNorms",
    "norms_from_responses",
    "read_response_norms",
    "write_response_norms",
    "checkpoint_hash",
    "checkpoint_identity",
]


def _config_string(config: Any) -> str:
    from flyvis.analysis.cache import to_jsonable

    return json.dumps(to_jsonable(config), sort_keys=True)


@dataclass
class ResponseNorms:
    """Normalisation constants of the models of one ensemble.

    Attributes:
        ensemble_name: E.g. ``"flow/0000"``.
        model_names: ``(n_models,)`` names ``"flow/0000/000"``...
        cell_types: ``(n_cell_types,)`` in connectome order.
        checkpoints: ``(n_models,)`` checkpoint file names (``"chkpt_00000"``).
        norm: ``(n_models, n_cell_types)`` RMS of the responses.
        rectified_norm: ``(n_models, n_cell_types)`` RMS of the rectified responses.
        dataset_config: JSON string of the naturalistic dataset config.
        checkpoint_hashes: ``(n_models,)`` SHA-256 of the checkpoints (may be empty).
    """

    ensemble_name: str
    model_names: List[str]
    cell_types: List[str]
    checkpoints: List[str]
    norm: np.ndarray
    rectified_norm: np.ndarray
    dataset_config: str
    checkpoint_hashes: List[str] = field(default_factory=list)

    def __post_init__(self):
        self.model_names = [str(n) for n in self.model_names]
        self.cell_types = [str(t) for t in self.cell_types]
        self.checkpoints = [str(c) for c in self.checkpoints]
        self.checkpoint_hashes = [str(h) for h in (self.checkpoint_hashes or [])]
        self.norm = np.asarray(self.norm, dtype=np.float32)
        self.rectified_norm = np.asarray(self.rectified_norm, dtype=np.float32)
        shape = (len(self.model_names), len(self.cell_types))
        for key in ("norm", "rectified_norm"):
            if getattr(self, key).shape != shape:
                raise ValueError(
                    f"{key} must have shape {shape} (models, cell types), got "
                    f"{getattr(self, key).shape}."
                )
        if len(self.checkpoints) != shape[0]:
            raise ValueError("one checkpoint name per model is required.")
        if self.checkpoint_hashes and len(self.checkpoint_hashes) != shape[0]:
            raise ValueError("checkpoint_hashes must be empty or one per model.")

    def _index(self) -> Dict[str, int]:
        return {name: i for i, name in enumerate(self.model_names)}

    def covers(
        self,
        model_names: Sequence[str],
        checkpoints: Sequence[str],
        checkpoint_hashes: Optional[Sequence[str]] = None,
    ) -> bool:
        """True if every model is stored at the given checkpoint.

        A checkpoint matches by SHA-256 when both sides have a (non-empty)
        hash, else by checkpoint file name.

        Args:
            model_names: Model names.
            checkpoints: Their checkpoint file names.
            checkpoint_hashes: Their checkpoint hashes (optional).

        Returns:
            Whether all models are covered.
        """
        index = self._index()
        hashes = list(checkpoint_hashes or [""] * len(model_names))
        for name, chkpt, digest in zip(model_names, checkpoints, hashes):
            i = index.get(str(name))
            if i is None:
                return False
            stored = self.checkpoint_hashes[i] if self.checkpoint_hashes else ""
            if stored and digest:
                if stored != digest:
                    return False
            elif self.checkpoints[i] != Path(str(chkpt)).name:
                return False
        return True

    def select(self, model_names: Sequence[str], rectified: bool = False) -> np.ndarray:
        """Norms of the given models, in the requested order.

        Args:
            model_names: Model names (must be stored).
            rectified: Return the norms of the rectified responses.

        Returns:
            ``(n, 1, 1, n_cell_types)`` float32, broadcastable against
            responses ``(n, samples, frames, cell types)``.

        Raises:
            KeyError: For a model that is not stored.
        """
        index = self._index()
        missing = [n for n in model_names if n not in index]
        if missing:
            raise KeyError(f"no stored response norms for {missing}.")
        values = self.rectified_norm if rectified else self.norm
        rows = [index[n] for n in model_names]
        return values[rows][:, None, None, :].copy()

    def update(self, other: "ResponseNorms") -> "ResponseNorms":
        """Merges ``other`` into a new object (``other`` wins), sorted by model name.

        Args:
            other: Norms of the same ensemble and cell types.

        Returns:
            The merged norms.

        Raises:
            ValueError: For a different ensemble, cell types or dataset config.
        """
        if other.ensemble_name != self.ensemble_name:
            raise ValueError(
                f"cannot merge norms of {other.ensemble_name!r} into "
                f"{self.ensemble_name!r}."
            )
        if other.cell_types != self.cell_types:
            raise ValueError("cannot merge norms with different cell types.")
        if not _same_config(other.dataset_config, self.dataset_config):
            raise ValueError("cannot merge norms computed on different datasets.")
        rows: Dict[str, Tuple[Any, ...]] = {}
        for src in (self, other):
            hashes = src.checkpoint_hashes or [""] * len(src.model_names)
            for i, name in enumerate(src.model_names):
                rows[name] = (
                    src.checkpoints[i],
                    hashes[i],
                    src.norm[i],
                    src.rectified_norm[i],
                )
        names = sorted(rows)
        hashes = [rows[n][1] for n in names]
        return ResponseNorms(
            ensemble_name=self.ensemble_name,
            model_names=names,
            cell_types=self.cell_types,
            checkpoints=[rows[n][0] for n in names],
            norm=np.stack([rows[n][2] for n in names]),
            rectified_norm=np.stack([rows[n][3] for n in names]),
            dataset_config=self.dataset_config,
            checkpoint_hashes=hashes if all(hashes) else [],
        )


def norms_from_responses(responses: Any, rectified: bool = False) -> np.ndarray:
    """RMS of responses over samples and frames, per model and cell type.

    Args:
        responses: ``(n_models, n_samples, n_frames, n_cell_types)``; NaN
            (e.g. padding) counts as 0.
        rectified: Rectify (``max(x, 0)``) first.

    Returns:
        ``(n_models, n_cell_types)`` float64.

    Raises:
        ValueError: For an input that is not 4-D.
    """
    x = np.asarray(responses, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(
            "responses must be (n_models, n_samples, n_frames, n_cell_types), got "
            f"shape {x.shape}."
        )
    x = np.nan_to_num(x, nan=0.0)
    if rectified:
        x = np.maximum(x, 0.0)
    n = x.shape[1] * x.shape[2]
    return np.sqrt((x**2).sum(axis=(1, 2)) / max(n, 1))


def checkpoint_hash(path: Any) -> str:
    """SHA-256 of a checkpoint file (read in 1 MiB blocks); ``""`` on error.

    Args:
        path: Checkpoint file.

    Returns:
        Hex digest, or ``""`` if the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except (OSError, TypeError):
        return ""
    return digest.hexdigest()


def _views(ensemble_or_view: Any) -> list:
    from flyvis.analysis.response_simulation import network_views

    return network_views(ensemble_or_view)


def checkpoint_identity(ensemble_or_view: Any) -> Tuple[List[str], List[str]]:
    """File names and SHA-256 hashes of every model's best checkpoint.

    Args:
        ensemble_or_view: ``Ensemble``, ``NetworkView`` or list of views.

    Returns:
        ``(file names, hashes)``, one per model in order.

    Raises:
        FileNotFoundError: For a model without a best checkpoint.
    """
    names, hashes = [], []
    for view in _views(ensemble_or_view):
        path = view.get_checkpoint("best")
        if path is None:
            raise FileNotFoundError(f"{view.name}: no best checkpoint.")
        names.append(Path(path).name)
        hashes.append(checkpoint_hash(path))
    return names, hashes


def _decode(values) -> List[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def read_response_norms(path: Any, name: str) -> Optional[ResponseNorms]:
    """Reads the norms of ensemble ``name`` from an HDF5 file.

    Args:
        path: The HDF5 file.
        name: Ensemble name (group), e.g. ``"flow/0000"``.

    Returns:
        The norms, or ``None`` if the file or group does not exist.

    Raises:
        ValueError: For a group with missing or inconsistent datasets.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        return None
    with h5py.File(path, "r") as f:
        if name not in f:
            return None
        g = f[name]
        try:
            return ResponseNorms(
                ensemble_name=name,
                model_names=_decode(g["model_names"][:]),
                cell_types=_decode(g["cell_types"][:]),
                checkpoints=_decode(g["checkpoints"][:]),
                norm=g["norm"][:],
                rectified_norm=g["rectified_norm"][:],
                dataset_config=str(g.attrs.get("dataset_config", "")),
                checkpoint_hashes=(
                    _decode(g["checkpoint_hashes"][:]) if "checkpoint_hashes" in g else []
                ),
            )
        except KeyError as error:
            raise ValueError(f"{path}:{name} lacks {error}.") from error


def write_response_norms(path: Any, norms: ResponseNorms) -> Path:
    """Writes (replaces) the group of ``norms.ensemble_name`` atomically.

    Other groups of an existing file are kept. The file is written to a
    temporary file in the same directory and moved into place.

    Args:
        path: The HDF5 file.
        norms: The norms.

    Returns:
        The path.
    """
    import shutil

    import h5py

    from flyvis import __version__

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if path.is_file():
            shutil.copyfile(path, tmp)
        strings = h5py.string_dtype()
        with h5py.File(tmp, "a") as f:
            if norms.ensemble_name in f:
                del f[norms.ensemble_name]
            g = f.create_group(norms.ensemble_name)
            g.create_dataset("model_names", data=norms.model_names, dtype=strings)
            g.create_dataset("cell_types", data=norms.cell_types, dtype=strings)
            g.create_dataset("checkpoints", data=norms.checkpoints, dtype=strings)
            if norms.checkpoint_hashes:
                g.create_dataset(
                    "checkpoint_hashes", data=norms.checkpoint_hashes, dtype=strings
                )
            g.create_dataset("norm", data=norms.norm.astype(np.float32))
            g.create_dataset(
                "rectified_norm", data=norms.rectified_norm.astype(np.float32)
            )
            g.attrs["dataset_config"] = norms.dataset_config
            g.attrs["flyvis_version"] = str(__version__)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _same_config(a: str, b: str) -> bool:
    """Dataset configs stored as JSON are equal as values (key order aside)."""
    try:
        return json.loads(a) == json.loads(b)
    except (TypeError, ValueError):
        return a == b
