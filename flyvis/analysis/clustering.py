"""UMAP embedding and Gaussian-mixture clustering of ensemble responses.

The paper's cluster analysis, per cell type:

1. naturalistic responses of the cell type's central cell for every model of
   the ensemble, ``(n_models, n_samples, n_frames)``, flattened per model;
2. :func:`umap_embedding` (correlation metric) of the models into 2-D; models
   with flat responses (and models disconnected in the UMAP graph) are masked;
3. :class:`Embedding` min-max-scales the embedding to ``[0, 1]`` per dimension;
4. :func:`gaussian_mixture` fits Gaussian mixtures over a range of component
   numbers and keeps the one with the lowest BIC.

:func:`compute_umap_and_clustering` runs all steps for an ensemble (or loads
``<ensemble>/umap_and_clustering/<cell_type>.pickle``), and
:func:`store_umap_and_clustering` writes such a pickle atomically. These
ensemble-level functions, :func:`umap_embedding` and :class:`EnsembleEmbedding`
live in :mod:`flyvis.analysis.ensemble_clustering` and are re-exported here
(lazily).

``umap`` and ``matplotlib`` are imported lazily (``import umap`` takes seconds).
The pickled objects reference ``flyvis.analysis.clustering.GaussianMixtureClustering``
and ``flyvis.analysis.clustering.Embedding`` (and a fitted ``umap.UMAP``).

Source: ``spec/analysis.md`` §6, ``spec/ensembles.md`` §3.7.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from flyvis.analysis.gaussian_mixture import (
    INVALID_INT,
    _values,
    gaussian_mixture,
    get_cluster_to_indices,
    task_error_sort_labels,
)

__all__ = [
    "INVALID_INT",
    "DEFAULT_EMBEDDING_KWARGS",
    "DEFAULT_GM_KWARGS",
    "umap_embedding",  # noqa: F822 - lazy, see _LAZY
    "gaussian_mixture",
    "task_error_sort_labels",
    "get_cluster_to_indices",
    "Embedding",
    "Clustering",
    "GaussianMixtureClustering",
    "EmbeddingPlot",
    "EnsembleEmbedding",  # noqa: F822 - lazy, see _LAZY
    "compute_umap_and_clustering",  # noqa: F822 - lazy, see _LAZY
    "umap_and_clustering_generator",  # noqa: F822 - lazy, see _LAZY
    "store_umap_and_clustering",  # noqa: F822 - lazy, see _LAZY
    "load_umap_and_clustering",  # noqa: F822 - lazy, see _LAZY
    "plot_embedding",  # noqa: F822 - lazy, see _LAZY
]

logger = logging.getLogger(__name__)

#: UMAP parameters of :func:`compute_umap_and_clustering` (metric: correlation).
DEFAULT_EMBEDDING_KWARGS: Dict[str, Any] = {
    "min_dist": 0.105,
    "spread": 9.0,
    "n_neighbors": 5,
    "random_state": 42,
    "n_epochs": 1500,
}

#: Gaussian-mixture parameters of :func:`compute_umap_and_clustering` (the
#: duplicated 3 is flyvis's; it selects among 2 to 5 components).
DEFAULT_GM_KWARGS: Dict[str, Any] = {
    "range_n_clusters": [2, 3, 3, 4, 5],
    "n_init": 100,
    "max_iter": 1000,
    "random_state": 42,
    "tol": 0.001,
}

# -- embedding ---------------------------------------------------------------------


class Embedding:
    """A (min-max-scaled) embedding of models with its mask and reducer.

    Setting :attr:`embedding` scales each dimension to ``[0, 1]`` with a
    ``sklearn.preprocessing.MinMaxScaler`` fitted on the finite rows (stored as
    :attr:`minmaxscaler`); NaN rows stay NaN.

    Args:
        embedding: Raw embedding ``(n_models, n_components)``, NaN where masked.
        mask: Boolean ``(n_models,)``, True for embedded models (default: the
            finite rows).
        reducer: The fitted reducer (e.g. ``umap.UMAP``) or ``None``.

    Raises:
        ValueError: If the embedding is not 2-D or the mask length differs.

    Source: ``spec/analysis.md`` §6.4.
    """

    def __init__(
        self,
        embedding: Optional[np.ndarray] = None,
        mask: Optional[np.ndarray] = None,
        reducer: Any = None,
    ):
        self.minmaxscaler = None
        self._embedding = None
        self.embedding = embedding
        if mask is None and self._embedding is not None:
            mask = np.isfinite(self._embedding).all(axis=1)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if self._embedding is not None and mask.shape != self._embedding.shape[:1]:
                raise ValueError(
                    f"mask of shape {mask.shape} does not match embedding "
                    f"{self._embedding.shape}"
                )
        self.mask = mask
        self.reducer = reducer

    @property
    def embedding(self) -> Optional[np.ndarray]:
        """Min-max-scaled embedding ``(n_models, n_components)``, each dim in [0, 1]."""
        return self._embedding

    @embedding.setter
    def embedding(self, value: Optional[np.ndarray]) -> None:
        if value is None:
            self._embedding = None
            return
        value = np.asarray(value, dtype=float)
        if value.ndim != 2:
            raise ValueError(f"embedding must be 2-D (n_models, dims), got {value.shape}")
        finite = np.isfinite(value).all(axis=1)
        if not finite.any():
            self.minmaxscaler = None
            self._embedding = value.copy()
            return
        from sklearn.preprocessing import MinMaxScaler

        scaler = MinMaxScaler().fit(value[finite])
        scaled = np.full_like(value, np.nan)
        scaled[finite] = scaler.transform(value[finite])
        self.minmaxscaler = scaler
        self._embedding = scaled

    def __setstate__(self, state: dict) -> None:
        # Accept pickles that store the (already scaled) array as `embedding`.
        state = dict(state)
        if "_embedding" not in state and "embedding" in state:
            state["_embedding"] = state.pop("embedding")
        state.setdefault("minmaxscaler", None)
        state.setdefault("reducer", None)
        state.setdefault("mask", None)
        self.__dict__.update(state)

    def __repr__(self) -> str:
        shape = None if self._embedding is None else self._embedding.shape
        n_valid = None if self.mask is None else int(self.mask.sum())
        return f"Embedding(shape={shape}, n_valid={n_valid}, reducer={type(self.reducer).__name__})"

    @property
    def cluster(self) -> "Clustering":
        """Entry point for clustering this embedding (``.cluster.gaussian_mixture``)."""
        return Clustering(self)

    def plot(
        self,
        fig=None,
        ax=None,
        figsize=None,
        plot_mode: str = "paper",
        fontsize: float = 5,
        colors=None,
        **kwargs,
    ):
        """Scatter plot of the embedded models (no clustering).

        Args:
            fig: Existing figure.
            ax: Existing axis.
            figsize: Figure size in inches (default ``[0.94, 2.38]``).
            plot_mode: ``"paper"``, ``"small"`` or ``"large"`` (marker size).
            fontsize: Font size.
            colors: One colour per model (e.g. ``ensemble.task_error().colors``,
                RGBA ``(n_models, 4)``); default ``"#779eaa"``.
            **kwargs: Passed to
                :func:`flyvis.analysis.visualization.embedding_plots.plot_embedding`.

        Returns:
            Tuple ``(fig, ax)``.
        """
        from flyvis.analysis.visualization.embedding_plots import plot_embedding

        kwargs.setdefault("fit_gaussians", False)
        kwargs.setdefault("annotate", False)
        return plot_embedding(
            self.embedding,
            colors=colors,
            mask=self.mask,
            fig=fig,
            ax=ax,
            mode=plot_mode,
            figsize=figsize if figsize is not None else [0.94, 2.38],
            fontsize=fontsize,
            **kwargs,
        )


@dataclass(eq=False)
class EmbeddingPlot:
    """Result of :meth:`GaussianMixtureClustering.plot`.

    Attributes:
        fig: The matplotlib figure.
        ax: The axis.
        cmap: Colormap of the task-error colours (if passed), else ``None``.
        norm: Norm of the task-error colours (if passed), else ``None``.
        n_clusters: Number of clusters drawn.
        cluster: The plotted :class:`GaussianMixtureClustering`.

    Source: ``spec/analysis.md`` §6.6.
    """

    fig: Any = None
    ax: Any = None
    cmap: Any = None
    norm: Any = None
    n_clusters: Optional[int] = None
    cluster: Any = None


@dataclass(eq=False)
class GaussianMixtureClustering:
    """Gaussian-mixture clustering of an :class:`Embedding` (call it to fit).

    Attributes:
        embedding: The clustered :class:`Embedding`.
        range_n_clusters: Candidate component numbers actually tried.
        n_init: ``GaussianMixture`` initialisations.
        max_iter: ``GaussianMixture`` iterations.
        random_state: ``GaussianMixture`` seed.
        labels: Label per model ``(n_models,)``, :data:`INVALID_INT` if masked.
        gm: The fitted ``sklearn.mixture.GaussianMixture``.
        scores: Criterion value per candidate (BIC by default).
        n_clusters: Chosen number of components.
        kwargs: Further ``GaussianMixture`` arguments used.

    Source: ``spec/analysis.md`` §6.6.
    """

    embedding: Optional[Embedding] = None
    range_n_clusters: Optional[List[int]] = None
    n_init: int = 1
    max_iter: int = 1000
    random_state: int = 0
    labels: Optional[np.ndarray] = None
    gm: Any = None
    scores: Optional[List[float]] = None
    n_clusters: Optional[int] = None
    kwargs: Dict[str, Any] = field(default_factory=dict)

    def __call__(
        self,
        range_n_clusters: Optional[Sequence[int]] = None,
        n_init: int = 1,
        max_iter: int = 1000,
        random_state: int = 0,
        **kwargs,
    ) -> "GaussianMixtureClustering":
        """Fits the mixture (see :func:`gaussian_mixture`) and stores the result.

        Args:
            range_n_clusters: Candidate component numbers (default 1 to 5).
            n_init: Initialisations per fit.
            max_iter: EM iterations.
            random_state: Seed.
            **kwargs: ``criterion`` or further ``GaussianMixture`` arguments.

        Returns:
            self.

        Raises:
            ValueError: If there is no embedding, or as :func:`gaussian_mixture`.
        """
        if self.embedding is None or self.embedding.embedding is None:
            raise ValueError("GaussianMixtureClustering has no embedding to cluster")
        labels, gm, scores, candidates = gaussian_mixture(
            self.embedding.embedding,
            self.embedding.mask,
            range_n_clusters=range_n_clusters,
            n_init=n_init,
            max_iter=max_iter,
            random_state=random_state,
            **kwargs,
        )
        self.labels, self.gm, self.scores = labels, gm, scores
        self.range_n_clusters = candidates
        self.n_clusters = int(gm.n_components)
        self.n_init, self.max_iter, self.random_state = n_init, max_iter, random_state
        self.kwargs = dict(kwargs)
        return self

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        state.setdefault("kwargs", {})
        self.__dict__.update(state)

    def task_error_sort_labels(self, task_error: Any, mode: str = "mean") -> np.ndarray:
        """Labels relabelled by task error (see :func:`task_error_sort_labels`).

        Args:
            task_error: Task error per model ``(n_models,)``.
            mode: ``"mean"``, ``"min"`` or ``"median"``.

        Returns:
            New labels ``(n_models,)`` (the stored labels are unchanged).

        Raises:
            ValueError: If not fitted yet, or as :func:`task_error_sort_labels`.
        """
        if self.labels is None:
            raise ValueError("clustering not fitted yet; call it first")
        return task_error_sort_labels(task_error, self.labels, mode=mode)

    def plot(
        self,
        task_error: Any = None,
        colors: Any = None,
        annotate: bool = True,
        annotate_scores: bool = False,
        fig=None,
        ax=None,
        figsize=None,
        plot_mode: str = "paper",
        fontsize: float = 5,
        **kwargs,
    ) -> EmbeddingPlot:
        """Plots the embedding with one marker per cluster and the mixture density.

        Args:
            task_error: Task error per model ``(n_models,)`` (e.g.
                ``ensemble.task_error().values``); clusters are ordered by it and
                annotated with their mean task error.
            colors: Colour per model (e.g. ``ensemble.task_error().colors``).
            annotate: Write each cluster's task error next to its centroid.
            annotate_scores: Write the criterion value per candidate size.
            fig: Existing figure.
            ax: Existing axis.
            figsize: Figure size in inches (default of ``plot_mode``).
            plot_mode: ``"paper"``, ``"small"`` or ``"large"``.
            fontsize: Font size.
            **kwargs: Passed to ``plot_embedding``; ``cmap``/``norm`` are only
                recorded in the result.

        Returns:
            :class:`EmbeddingPlot` ``(fig, ax, cmap, norm, n_clusters, cluster)``.

        Raises:
            ValueError: If the clustering is not fitted.
        """
        if self.labels is None or self.gm is None:
            raise ValueError("clustering not fitted yet; call it first")
        from flyvis.analysis.visualization.embedding_plots import (
            annotate_scores as _annotate_scores,
        )
        from flyvis.analysis.visualization.embedding_plots import plot_embedding

        cmap = kwargs.pop("cmap", getattr(task_error, "cmap", None))
        norm = kwargs.pop("norm", getattr(task_error, "norm", None))
        if colors is None and hasattr(task_error, "colors"):
            colors = task_error.colors
        fig, ax = plot_embedding(
            self.embedding.embedding,
            colors=colors,
            task_error=None if task_error is None else _values(task_error),
            labels=self.labels,
            gm=self.gm,
            mask=self.embedding.mask,
            fit_gaussians=True,
            annotate=annotate,
            fig=fig,
            ax=ax,
            mode=plot_mode,
            figsize=figsize,
            fontsize=fontsize,
            **kwargs,
        )
        if annotate_scores and self.scores is not None:
            _annotate_scores(ax, self.range_n_clusters, self.scores, fontsize=fontsize)
        return EmbeddingPlot(fig, ax, cmap, norm, self.n_clusters, self)


class Clustering:
    """Clustering methods of an :class:`Embedding`.

    Args:
        embedding: The embedding to cluster.

    Source: ``spec/analysis.md`` §6.6.
    """

    def __init__(self, embedding: Embedding):
        self.embedding = embedding

    @property
    def gaussian_mixture(self) -> GaussianMixtureClustering:
        """A new, unfitted :class:`GaussianMixtureClustering`; call it to fit."""
        return GaussianMixtureClustering(self.embedding)


# Lazily re-exported names -> defining module (the ensemble pipeline imports this
# module; plot_embedding needs matplotlib).
_LAZY = {
    "umap_embedding": "flyvis.analysis.ensemble_clustering",
    "EnsembleEmbedding": "flyvis.analysis.ensemble_clustering",
    "compute_umap_and_clustering": "flyvis.analysis.ensemble_clustering",
    "umap_and_clustering_generator": "flyvis.analysis.ensemble_clustering",
    "store_umap_and_clustering": "flyvis.analysis.ensemble_clustering",
    "load_umap_and_clustering": "flyvis.analysis.ensemble_clustering",
    "plot_embedding": "flyvis.analysis.visualization.embedding_plots",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))
