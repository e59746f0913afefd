"""Per-model, per-cell-type response normalisation constants (``spec/analysis.md`` §7).

The normalisation constant of a model and cell type is the root-mean-square of
its (optionally rectified) central-cell responses to the naturalistic dataset::

    X = responses (n_models, n_samples, n_frames, n_cell_types)
    if rectified: X = max(X, 0);  NaN -> 0
    norm[m, c] = ||X[m, :, :, c]||_2 / sqrt(n_samples * n_frames)

Typical use: ``responses / (ensemble.responses_norm() + 1e-6)``.

Norms are stored per ensemble in HDF5 (one group per ensemble name, e.g.
``/flow/0000``) in ``<ensemble dir>/responses_norm.h5``; a shipped
``flyvis/data/responses_norm.h5`` is consulted next if present. Stored norms are
used only if they cover every requested model at its current best checkpoint
(by SHA-256 when both sides have hashes, else by checkpoint file name) and were
computed on the same dataset config.

Source: Lappalainen et al., Nature 2024 (Methods, "Clustering"; responses are
normalised per cell type before embedding).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from flyvis.analysis.response_norms_store import (  # noqa: F401  (re-exported)
    ResponseNorms,
    _config_string,
    _same_config,
    _views,
    checkpoint_hash,
    checkpoint_identity,
    norms_from_responses,
    read_response_norms,
    write_response_norms,
)

__all__ = [
    "PRECOMPUTED_FILE",
    "ENSEMBLE_FILE_NAME",
    "ResponseNorms",
    "norms_from_responses",
    "compute_response_norms",
    "read_response_norms",
    "write_response_norms",
    "load_response_norms",
    "store_response_norms",
    "checkpoint_hash",
    "checkpoint_identity",
    "response_norms",
    "responses_norm",
    "default_dataset_config",
]

logger = logging.getLogger(__name__)

#: Norms shipped with the package (absent in this reimplementation unless added).
PRECOMPUTED_FILE = Path(__file__).resolve().parent.parent / "data" / "responses_norm.h5"
#: File name of the stored norms inside an ensemble directory.
ENSEMBLE_FILE_NAME = "responses_norm.h5"


def default_dataset_config(dt: float = 1 / 100) -> Dict[str, Any]:
    """Config of the default naturalistic dataset (``AugmentedSintel``).

    Args:
        dt: Time step in seconds.

    Returns:
        The config dict of ``naturalistic_stimuli_responses``' default dataset.
    """
    return dict(
        tasks=["lum"],
        interpolate=False,
        boxfilter=dict(extent=15, kernel_size=13),
        temporal_split=True,
        dt=dt,
        indices=None,
    )


def _groups(views) -> Dict[str, list]:
    groups: Dict[str, list] = {}
    for view in views:
        groups.setdefault(view.name.rsplit("/", 1)[0], []).append(view)
    return groups


def _usable(norms, views, names, hashes, config: str, cell_types) -> bool:
    return (
        norms is not None
        and _same_config(norms.dataset_config, config)
        and list(norms.cell_types) == list(cell_types)
        and norms.covers([v.name for v in views], names, hashes)
    )


def load_response_norms(
    ensemble_or_view: Any, dataset_config: Optional[Dict[str, Any]] = None
) -> Optional[ResponseNorms]:
    """Stored norms covering every model at its best checkpoint, else ``None``.

    Looks in the ensemble file first, then in :data:`PRECOMPUTED_FILE`.
    All models must belong to one ensemble.

    Args:
        ensemble_or_view: ``Ensemble``, ``NetworkView`` or list of views.
        dataset_config: Config of the naturalistic dataset (default:
            :func:`default_dataset_config`).

    Returns:
        The stored norms (possibly of more models), or ``None``.

    Raises:
        ValueError: If the models belong to several ensembles.
    """
    views = _views(ensemble_or_view)
    groups = _groups(views)
    if len(groups) != 1:
        raise ValueError(f"models of several ensembles: {sorted(groups)}.")
    (name,) = groups
    config = _config_string(dataset_config or default_dataset_config())
    names, hashes = checkpoint_identity(views)
    cell_types = views[0].cell_types
    from flyvis.network.directories import writable_model_dir

    ensemble_dir = views[0].dir.path.parent
    candidates = [writable_model_dir(ensemble_dir) / ENSEMBLE_FILE_NAME]
    if candidates[0].parent != ensemble_dir:  # shipped: also a file shipped with it
        candidates.append(ensemble_dir / ENSEMBLE_FILE_NAME)
    for path in (*candidates, PRECOMPUTED_FILE):
        try:
            norms = read_response_norms(path, name)
        except (OSError, ValueError) as error:
            logger.warning("Ignoring unreadable response norms in %s: %s", path, error)
            continue
        if _usable(norms, views, names, hashes, config, cell_types):
            return norms
    return None


def compute_response_norms(
    ensemble_or_view: Any, dataset: Any = None, batch_size: int = 4
) -> ResponseNorms:
    """Simulates naturalistic responses and computes the norms of every model.

    Args:
        ensemble_or_view: Models of one ensemble (``Ensemble``, ``NetworkView``
            or list of views).
        dataset: Naturalistic dataset (default ``AugmentedSintel``, needs
            MPI-Sintel); any dataset with a ``config`` yielding ``"lum"`` items.
        batch_size: Samples per simulation batch.

    Returns:
        The norms of the given models (cached responses are reused).

    Raises:
        ValueError: If the models belong to several ensembles.
    """
    from flyvis.analysis.stimulus_responses import naturalistic_stimuli_responses

    views = _views(ensemble_or_view)
    groups = _groups(views)
    if len(groups) != 1:
        raise ValueError(f"models of several ensembles: {sorted(groups)}.")
    ds = naturalistic_stimuli_responses(views, dataset=dataset, batch_size=batch_size)
    responses = ds["responses"].values
    names, hashes = checkpoint_identity(views)
    return ResponseNorms(
        ensemble_name=next(iter(groups)),
        model_names=[v.name for v in views],
        cell_types=[str(t) for t in ds["cell_type"].values],
        checkpoints=names,
        norm=norms_from_responses(responses, rectified=False),
        rectified_norm=norms_from_responses(responses, rectified=True),
        dataset_config=_config_string(ds.attrs["config"]),
        checkpoint_hashes=hashes if all(hashes) else [],
    )


def store_response_norms(ensemble_dir: Any, norms: ResponseNorms) -> Optional[Path]:
    """Merges ``norms`` into ``<ensemble_dir>/responses_norm.h5`` (atomic write).

    Stored norms of other models are kept unless they were computed on another
    dataset or with other cell types (then replaced). ``OSError`` (e.g. a
    read-only results directory) is turned into a warning.

    Args:
        ensemble_dir: The ensemble directory.
        norms: The new norms.

    Returns:
        The file path, or ``None`` if it could not be written.
    """
    from flyvis.network.directories import writable_model_dir

    path = writable_model_dir(ensemble_dir) / ENSEMBLE_FILE_NAME
    try:
        try:
            stored = read_response_norms(path, norms.ensemble_name)
        except ValueError:
            stored = None
        if stored is not None:
            try:
                norms = stored.update(norms)
            except ValueError:
                pass  # other dataset or cell types: replace
        return write_response_norms(path, norms)
    except OSError as error:
        warnings.warn(f"could not store response norms in {path}: {error}", stacklevel=2)
        return None


def response_norms(
    ensemble_or_view: Any,
    rectified: bool = False,
    force_recompute: bool = False,
    store: bool = True,
    dataset: Any = None,
    batch_size: int = 4,
) -> np.ndarray:
    """Response normalisation constants of every model, per cell type.

    Stored norms (ensemble file, then the shipped file) are used if they
    cover every model at its best checkpoint and the same dataset; otherwise
    the naturalistic responses are simulated (or read from the response
    cache) and the norms computed, then merged into the ensemble file if
    ``store``.

    Args:
        ensemble_or_view: ``Ensemble``, ``NetworkView`` or list of views, of
            one or more ensembles.
        rectified: Norms of the rectified responses.
        force_recompute: Ignore stored norms.
        store: Store newly computed norms in ``<ensemble>/responses_norm.h5``.
        dataset: Naturalistic dataset (default ``AugmentedSintel``, needs
            MPI-Sintel); e.g. photo-flow movies when Sintel is not available.
        batch_size: Samples per simulation batch.

    Returns:
        ``(n_models, 1, 1, n_cell_types)`` float32 in the models' order.

    Raises:
        TypeError: For an object that is not a view or an ensemble.
    """
    views = _views(ensemble_or_view)
    if dataset is None and not force_recompute:
        from flyvis.analysis import stimulus_responses as sr

        # norms stored for the default (Sintel) dataset need no Sintel on disk;
        # only without them do the photo-flow movies stand in
        if not sr.sintel_available() and not all(
            load_response_norms(group) is not None for group in _groups(views).values()
        ):
            dataset = sr.photo_flow_naturalistic_dataset()
    elif dataset is None:
        from flyvis.analysis import stimulus_responses as sr

        if not sr.sintel_available():
            dataset = sr.photo_flow_naturalistic_dataset()
    if dataset is not None:
        from flyvis.analysis.response_simulation import _dataset_spec

        config = _dataset_spec(dataset, {}, None)[1]
    else:
        config = default_dataset_config()
    out: Dict[str, np.ndarray] = {}
    for group in _groups(views).values():
        norms = None if force_recompute else load_response_norms(group, config)
        if norms is None:
            norms = compute_response_norms(group, dataset=dataset, batch_size=batch_size)
            if store:
                store_response_norms(group[0].dir.path.parent, norms)
        selected = norms.select([v.name for v in group], rectified=rectified)
        for view, row in zip(group, selected):
            out[view.name] = row
    return np.stack([out[v.name] for v in views]).astype(np.float32)


#: Name used by ``Ensemble.responses_norm`` in flyvis 1.2.0.
responses_norm = response_norms
