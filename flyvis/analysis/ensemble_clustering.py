"""Ensemble-level UMAP + Gaussian-mixture clustering: pipeline and storage.

Part of :mod:`flyvis.analysis.clustering`, which re-exports everything public
here (``from flyvis.analysis.clustering import compute_umap_and_clustering``);
the pickled classes live in :mod:`flyvis.analysis.clustering` itself so stored
clusterings stay portable. Pickles are written to
``<ensemble>/umap_and_clustering/<cell_type>.pickle``.

Source: ``spec/analysis.md`` §6 (items 10, 11), ``spec/ensembles.md`` §3.7.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from flyvis.analysis.clustering import (
    DEFAULT_EMBEDDING_KWARGS,
    DEFAULT_GM_KWARGS,
    Embedding,
    GaussianMixtureClustering,
)

__all__ = [
    "umap_embedding",
    "EnsembleEmbedding",
    "compute_umap_and_clustering",
    "umap_and_clustering_generator",
    "store_umap_and_clustering",
    "load_umap_and_clustering",
]

# Log under the public module's name (messages read "clustering: Loaded ...").
logger = logging.getLogger("flyvis.analysis.clustering")


def umap_embedding(
    X: np.ndarray,
    n_neighbors: int = 5,
    min_dist: float = 0.12,
    spread: float = 9.0,
    random_state: int = 42,
    n_components: int = 2,
    metric: str = "correlation",
    n_epochs: int = 1500,
    **kwargs,
) -> Tuple[np.ndarray, np.ndarray, Any]:
    """Embeds the rows of ``X`` (one per model) with UMAP.

    Rows with (near-)zero standard deviation (flat responses) or non-finite
    values are masked out before fitting; rows that end up disconnected in the
    UMAP graph are masked afterwards.

    Args:
        X: Features ``(n_samples, ...)``; more than 2-D input is reshaped to
            ``(n_samples, -1)``.
        n_neighbors: UMAP ``n_neighbors``.
        min_dist: UMAP ``min_dist``.
        spread: UMAP ``spread``.
        random_state: UMAP seed (makes the embedding deterministic).
        n_components: Embedding dimension.
        metric: UMAP metric.
        n_epochs: UMAP optimisation epochs.
        **kwargs: Further ``umap.UMAP`` arguments.

    Returns:
        Tuple ``(embedding, mask, reducer)``: ``embedding (n_samples,
        n_components)`` with NaN rows where masked, boolean ``mask
        (n_samples,)`` of embedded rows, and the fitted ``umap.UMAP`` (``None``
        when fewer than 2 rows are valid, then the embedding is all NaN).

    Raises:
        ValueError: If ``X`` has fewer than 2 dimensions or
            ``n_components > n_samples - 2``.

    Source: ``spec/analysis.md`` §6.3.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim < 2:
        raise ValueError(f"X must be at least 2-D (n_samples, features), got {X.shape}")
    n_samples = X.shape[0]
    if n_components > n_samples - 2:
        raise ValueError(
            f"n_components={n_components} must be <= n_samples - 2 = {n_samples - 2}"
        )
    if X.ndim > 2:
        shape = X.shape
        X = X.reshape(n_samples, -1)
        logger.info("reshaped X from %s to %s", shape, X.shape)

    finite = np.isfinite(X).all(axis=1)
    std = np.where(finite, np.std(np.where(np.isfinite(X), X, 0.0), axis=1), 0.0)
    mask = finite & ~np.isclose(std, 0)
    embedding = np.full((n_samples, n_components), np.nan)
    if mask.sum() < 2:
        logger.warning("fewer than 2 models with non-flat responses; no embedding")
        return embedding, mask, None

    import umap
    import umap.utils

    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        spread=spread,
        random_state=random_state,
        n_components=n_components,
        metric=metric,
        n_epochs=n_epochs,
        **kwargs,
    )
    valid = np.flatnonzero(mask)
    embedding[valid] = reducer.fit_transform(X[valid])
    disconnected = np.asarray(umap.utils.disconnected_vertices(reducer), dtype=bool)
    if disconnected.any():
        logger.warning("%d models are disconnected in the UMAP graph", disconnected.sum())
        mask[valid[disconnected]] = False
        embedding[valid[disconnected]] = np.nan
    return embedding, mask, reducer


def _as_dataarray(responses: Any) -> Any:
    """The ``responses`` DataArray of an xarray Dataset/DataArray, else ``None``."""
    import xarray as xr

    if isinstance(responses, xr.Dataset):
        if "responses" not in responses:
            raise ValueError("the Dataset has no `responses` variable")
        return responses["responses"]
    return responses if isinstance(responses, xr.DataArray) else None


def _cell_type_responses(responses: Any, cell_type: str) -> np.ndarray:
    """Responses of one cell type's central cell, ``(n_models, ...)``."""
    array = _as_dataarray(responses)
    if array is None:  # CentralActivity, dict, ...
        try:
            return np.asarray(responses[cell_type])
        except (KeyError, IndexError) as error:
            raise ValueError(f"no responses for cell type {cell_type!r}") from error
    if "cell_type" not in array.coords:
        raise ValueError("responses have no `cell_type` coordinate")
    coord = array.coords["cell_type"]
    (neuron_dim,) = coord.dims
    types = np.asarray(coord.values)
    selected = types == cell_type
    if selected.sum() > 1 and "u" in array.coords and "v" in array.coords:
        selected &= (np.asarray(array.coords["u"]) == 0) & (
            np.asarray(array.coords["v"]) == 0
        )
    if selected.sum() != 1:
        raise ValueError(
            f"expected one central {cell_type!r} cell, found {int(selected.sum())}; "
            f"cell types: {list(dict.fromkeys(types.tolist()))}"
        )
    array = array.isel({neuron_dim: int(np.flatnonzero(selected)[0])})
    if "network_id" in array.dims:
        array = array.transpose("network_id", ...)
    return np.asarray(array.values)


class EnsembleEmbedding:
    """Embeds the models of an ensemble from their responses, per cell type.

    Args:
        responses: Central-cell responses indexable by cell type: a
            :class:`~flyvis.utils.activity_utils.CentralActivity` (``[cell_type]``
            -> ``(n_models, n_samples, n_frames)``), a dict, or an xarray
            Dataset/DataArray with dims ``(network_id, sample, frame, neuron)``
            and a ``cell_type`` coordinate on ``neuron``.
        embedding_fn: Embedding function with the signature of
            :func:`umap_embedding` (default), returning ``(embedding, mask,
            reducer)``; e.g. a PCA for tests.

    Source: ``spec/analysis.md`` §6.10.
    """

    def __init__(self, responses: Any, embedding_fn: Optional[Callable] = None):
        self.responses = responses
        self.embedding_fn = embedding_fn or umap_embedding

    def from_cell_type(
        self, cell_type: str, embedding_kwargs: Optional[Dict[str, Any]] = None
    ) -> Embedding:
        """Embeds the models by the responses of ``cell_type``.

        Args:
            cell_type: Cell type, e.g. ``"T4c"``.
            embedding_kwargs: Arguments of the embedding function.

        Returns:
            :class:`Embedding` of all models.

        Raises:
            ValueError: For unknown cell types or as the embedding function.
        """
        X = _cell_type_responses(self.responses, cell_type)
        return Embedding(*self.embedding_fn(X, **(embedding_kwargs or {})))

    def __call__(
        self, cell_type: str, embedding_kwargs: Optional[Dict[str, Any]] = None
    ) -> Embedding:
        """Same as :meth:`from_cell_type`."""
        return self.from_cell_type(cell_type, embedding_kwargs)


def _ensemble_path(ensemble: Any) -> Optional[Path]:
    """Directory of an ensemble (``ensemble.path`` or ``ensemble.dir.path``)."""
    for candidate in (
        getattr(ensemble, "path", None),
        getattr(getattr(ensemble, "dir", None), "path", None),
    ):
        if candidate is not None:
            return Path(candidate)
    if isinstance(ensemble, (str, os.PathLike)):
        return Path(ensemble)
    return None


def _naturalistic_responses(ensemble: Any) -> Any:
    method = getattr(ensemble, "naturalistic_stimuli_responses", None)
    if callable(method):
        return method()
    from flyvis.analysis.stimulus_responses import naturalistic_stimuli_responses

    return naturalistic_stimuli_responses(ensemble)


def _pickle_path(ensemble: Any, cell_type: str, subdir: str) -> Optional[Path]:
    from flyvis.network.directories import writable_model_dir

    path = _ensemble_path(ensemble)
    if path is None:
        return None
    # shipped ensembles are read-only: their clusterings go under the data root
    return writable_model_dir(path) / subdir / f"{cell_type}.pickle"


def load_umap_and_clustering(path: os.PathLike) -> GaussianMixtureClustering:
    """Loads a pickled clustering (e.g. ``<ensemble>/umap_and_clustering/T4c.pickle``).

    Args:
        path: Pickle file.

    Returns:
        The :class:`GaussianMixtureClustering` (with its :class:`Embedding`).

    Raises:
        FileNotFoundError: If the file does not exist.
        TypeError: If the pickle holds another object.

    Source: ``spec/analysis.md`` §6.11.
    """
    with open(path, "rb") as f:
        obj = pickle.load(f)  # noqa: S301 - trusted local results
    if not isinstance(obj, GaussianMixtureClustering):
        raise TypeError(
            f"{path} holds a {type(obj).__name__}, not a GaussianMixtureClustering"
        )
    return obj


def store_umap_and_clustering(
    ensemble_or_path: Any,
    cell_type: str,
    clustering: GaussianMixtureClustering,
    subdir: str = "umap_and_clustering",
) -> Path:
    """Pickles a clustering to ``<ensemble>/<subdir>/<cell_type>.pickle`` atomically.

    Args:
        ensemble_or_path: Ensemble (with ``.path``) or its directory.
        cell_type: Cell type (file name).
        clustering: The fitted clustering.
        subdir: Sub-directory of the ensemble directory.

    Returns:
        The written file.

    Raises:
        TypeError: If ``clustering`` is not a :class:`GaussianMixtureClustering`.
        ValueError: If the ensemble has no path.

    Source: ``spec/analysis.md`` §6.11.
    """
    if not isinstance(clustering, GaussianMixtureClustering):
        raise TypeError(
            f"expected a GaussianMixtureClustering, got {type(clustering).__name__}"
        )
    path = _pickle_path(ensemble_or_path, cell_type, subdir)
    if path is None:
        raise ValueError("cannot determine the ensemble directory (no `.path`)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(clustering, f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def compute_umap_and_clustering(
    ensemble: Any,
    cell_type: str,
    embedding_kwargs: Optional[Dict[str, Any]] = None,
    gm_kwargs: Optional[Dict[str, Any]] = None,
    subdir: str = "umap_and_clustering",
    *,
    responses: Any = None,
    embedding_fn: Optional[Callable] = None,
) -> GaussianMixtureClustering:
    """UMAP + Gaussian-mixture clustering of an ensemble's models for one cell type.

    Loads ``<ensemble.path>/<subdir>/<cell_type>.pickle`` if it exists;
    otherwise computes it from the naturalistic responses (not normalised;
    central cell of ``cell_type``, all samples and frames flattened per model)
    and returns it without storing (use :func:`store_umap_and_clustering`).

    Args:
        ensemble: An ``Ensemble``/``EnsembleView`` (needs ``.path``; and
            ``naturalistic_stimuli_responses()`` unless ``responses`` is given).
        cell_type: Cell type, e.g. ``"T4c"``.
        embedding_kwargs: UMAP arguments, merged over
            :data:`DEFAULT_EMBEDDING_KWARGS`.
        gm_kwargs: Mixture arguments, merged over :data:`DEFAULT_GM_KWARGS`.
        subdir: Sub-directory holding the pickles.
        responses: Precomputed responses (see :class:`EnsembleEmbedding`);
            default: ``ensemble.naturalistic_stimuli_responses()``.
        embedding_fn: Replacement for :func:`umap_embedding` (e.g. in tests).

    Returns:
        The fitted :class:`GaussianMixtureClustering`.

    Raises:
        ValueError: For unknown cell types, too few valid models, or as the
            embedding and mixture functions.

    Source: ``spec/analysis.md`` §6.11.
    """
    path = _pickle_path(ensemble, cell_type, subdir)
    if path is not None and path.exists():
        clustering = load_umap_and_clustering(path)
        logger.info("Loaded %s embedding and clustering from %s", cell_type, path.parent)
        return clustering
    if responses is None:
        responses = _naturalistic_responses(ensemble)
    embedding = EnsembleEmbedding(responses, embedding_fn)(
        cell_type, {**DEFAULT_EMBEDDING_KWARGS, **(embedding_kwargs or {})}
    )
    return embedding.cluster.gaussian_mixture(
        **{**DEFAULT_GM_KWARGS, **(gm_kwargs or {})}
    )


def _cell_types(ensemble: Any, responses: Any) -> Tuple[List[str], Any]:
    """Cell types to cluster, and the responses if they had to be computed."""
    try:
        return list(ensemble[0].connectome_view.cell_types_sorted), responses
    except Exception:  # noqa: BLE001 - fall back to the response coordinates
        pass
    if responses is None:
        responses = _naturalistic_responses(ensemble)
    array = _as_dataarray(responses)
    if array is not None and "cell_type" in array.coords:
        types = np.asarray(array.coords["cell_type"].values).tolist()
        return list(dict.fromkeys(types)), responses
    return list(responses.keys()), responses


def umap_and_clustering_generator(
    ensemble: Any, cell_types: Optional[Sequence[str]] = None, **kwargs
) -> Iterator[Tuple[str, GaussianMixtureClustering]]:
    """Yields ``(cell_type, clustering)`` for every cell type of the ensemble.

    Args:
        ensemble: An ``Ensemble`` (as :func:`compute_umap_and_clustering`).
        cell_types: Cell types (default: the connectome's sorted cell types,
            else the responses' ``cell_type`` coordinate).
        **kwargs: Passed to :func:`compute_umap_and_clustering`; responses are
            computed once and shared.

    Yields:
        ``(cell_type, GaussianMixtureClustering)``.

    Source: ``spec/analysis.md`` §6.11.
    """
    responses = kwargs.pop("responses", None)
    if cell_types is None:
        cell_types, responses = _cell_types(ensemble, responses)
    subdir = kwargs.get("subdir", "umap_and_clustering")
    for cell_type in cell_types:
        path = _pickle_path(ensemble, cell_type, subdir)
        if responses is None and not (path is not None and path.exists()):
            responses = _naturalistic_responses(ensemble)
        yield (
            cell_type,
            compute_umap_and_clustering(
                ensemble, cell_type, responses=responses, **kwargs
            ),
        )
