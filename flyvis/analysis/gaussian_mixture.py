"""Gaussian-mixture clustering of 2-D embeddings, relabelled by task error.

The clustering step of the paper's cluster analysis (see
:mod:`flyvis.analysis.clustering`, which re-exports everything here): fit
mixtures over a range of component numbers and keep the one with the lowest
BIC; order clusters by the task error of their models.

Source: ``spec/analysis.md`` §6.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "INVALID_INT",
    "gaussian_mixture",
    "task_error_sort_labels",
    "get_cluster_to_indices",
]

#: Label of models that are masked out of the embedding.
INVALID_INT = -99999

_CRITERIA = ("bic", "aic", "score")
_SORT_MODES = {"mean": np.mean, "min": np.min, "median": np.median}


def gaussian_mixture(
    X: np.ndarray,
    mask: np.ndarray,
    range_n_clusters: Optional[Sequence[int]] = None,
    n_init: int = 1,
    max_iter: int = 1000,
    random_state: int = 0,
    criterion: str = "bic",
    **kwargs,
) -> Tuple[np.ndarray, Any, List[float], List[int]]:
    """Fits Gaussian mixtures over a range of sizes and keeps the best one.

    Args:
        X: Scaled embedding ``(n_models, n_dims)`` (:attr:`Embedding.embedding`).
        mask: Boolean ``(n_models,)``; only these rows are clustered.
        range_n_clusters: Candidate component numbers (default 1 to 5); those
            above the number of valid rows are dropped.
        n_init: ``GaussianMixture`` initialisations per fit.
        max_iter: ``GaussianMixture`` EM iterations.
        random_state: ``GaussianMixture`` seed.
        criterion: ``"bic"``, ``"aic"`` or ``"score"`` (negative mean
            log-likelihood); the candidate minimising it is chosen.
        **kwargs: Further ``sklearn.mixture.GaussianMixture`` arguments (e.g. ``tol``).

    Returns:
        Tuple ``(labels, gm, metric_values, range_n_clusters)``: ``labels
        (n_models,)`` int with :data:`INVALID_INT` for masked rows, the refitted
        ``GaussianMixture``, the criterion per candidate, and the candidates.

    Raises:
        ValueError: For an unknown criterion, mismatched shapes, non-finite
            valid rows, no valid rows, or no usable candidate.

    Source: ``spec/analysis.md`` §6.5.
    """
    from sklearn.mixture import GaussianMixture

    if criterion not in _CRITERIA:
        raise ValueError(f"criterion must be one of {_CRITERIA}, got {criterion!r}")
    X = np.asarray(X, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if X.ndim != 2 or mask.shape != X.shape[:1]:
        raise ValueError(
            f"X {X.shape} must be 2-D with one mask entry per row ({mask.shape})"
        )
    Xv = X[mask]
    n_valid = len(Xv)
    if n_valid == 0:
        raise ValueError("no valid (masked-in) rows to cluster")
    if not np.isfinite(Xv).all():
        raise ValueError("masked-in rows of X contain non-finite values")
    candidates = [1, 2, 3, 4, 5] if range_n_clusters is None else list(range_n_clusters)
    if any(int(n) != n or n < 1 for n in candidates):
        raise ValueError(f"range_n_clusters must hold positive ints, got {candidates}")
    candidates = [int(n) for n in candidates if n <= n_valid]
    if not candidates:
        raise ValueError(f"no candidate number of clusters <= n_valid={n_valid}")

    def fit(n):
        return GaussianMixture(
            n_components=n,
            random_state=random_state,
            max_iter=max_iter,
            n_init=n_init,
            **kwargs,
        )

    values = {c: [] for c in _CRITERIA}
    for n in candidates:
        gm = fit(n).fit(Xv)
        values["score"].append(float(-gm.score(Xv)))
        values["aic"].append(float(gm.aic(Xv)))
        values["bic"].append(float(gm.bic(Xv)))
    metric_values = values[criterion]
    n_best = candidates[int(np.argmin(metric_values))]
    gm = fit(n_best)
    labels = np.full(len(X), INVALID_INT, dtype=int)
    labels[mask] = gm.fit_predict(Xv)
    return labels, gm, metric_values, candidates


def _values(task_error: Any) -> np.ndarray:
    """Task errors as a float array (accepts arrays or objects with ``.values``)."""
    values = getattr(task_error, "values", task_error)
    return np.asarray(values, dtype=float).ravel()


def task_error_sort_labels(
    task_error: Any, labels: np.ndarray, mode: str = "mean"
) -> np.ndarray:
    """Relabels clusters by task error: 0 the lowest, 1 the next, ....

    Args:
        task_error: Task error per model ``(n_models,)`` (array or an object
            with ``.values``, e.g. ``ensemble.task_error()``).
        labels: Cluster label per model ``(n_models,)``; :data:`INVALID_INT`
            for masked models (kept).
        mode: Cluster statistic: ``"mean"``, ``"min"`` or ``"median"``.

    Returns:
        New labels ``(n_models,)``; ties keep the original label order.

    Raises:
        ValueError: For an unknown mode or mismatched lengths.

    Source: ``spec/analysis.md`` §6.7.
    """
    if mode not in _SORT_MODES:
        raise ValueError(f"mode must be one of {list(_SORT_MODES)}, got {mode!r}")
    task_error = _values(task_error)
    labels = np.asarray(labels).astype(int)
    if labels.shape != task_error.shape:
        raise ValueError(
            f"labels {labels.shape} and task_error {task_error.shape} differ in length"
        )
    valid = labels != INVALID_INT
    unique = np.unique(labels[valid])
    stats = [_SORT_MODES[mode](task_error[labels == label]) for label in unique]
    order = unique[np.argsort(stats, kind="stable")]
    relabelled = labels.copy()
    for new, old in enumerate(order):
        relabelled[labels == old] = new
    return relabelled


def get_cluster_to_indices(
    mask: np.ndarray, labels: np.ndarray, task_error: Any = None
) -> Dict[int, np.ndarray]:
    """Maps each cluster label to the positions of its models.

    Args:
        mask: Boolean ``(n_models,)`` of embedded models.
        labels: Cluster label per model ``(n_models,)``.
        task_error: Optional task error per model (array or object with
            ``.values``); if given, clusters are first relabelled with
            :func:`task_error_sort_labels` (0 = lowest mean task error).

    Returns:
        ``{label: int array of model positions}`` over masked-in models,
        sorted by label.

    Raises:
        ValueError: If the lengths of mask, labels (and task_error) differ.

    Source: ``spec/analysis.md`` §6.8.
    """
    mask = np.asarray(mask, dtype=bool)
    labels = np.asarray(labels).astype(int)
    if mask.shape != labels.shape:
        raise ValueError(f"mask {mask.shape} and labels {labels.shape} differ in length")
    if task_error is not None:
        labels = task_error_sort_labels(task_error, labels)
    indices = np.arange(len(labels))
    valid = mask & (labels != INVALID_INT)
    return {
        int(label): indices[valid & (labels == label)]
        for label in np.unique(labels[valid])
    }
