"""Scatter plots of model embeddings with Gaussian-mixture clusters.

Used by :meth:`flyvis.analysis.clustering.Embedding.plot` and
:meth:`flyvis.analysis.clustering.GaussianMixtureClustering.plot`::

    clustering = ensemble.clustering("T4c")
    task_error = ensemble.task_error()
    plot = clustering.plot(task_error=task_error.values, colors=task_error.colors)
    plot.fig.savefig("t4c.png")

Source: ``spec/analysis.md`` §6 (item 9), ``spec/visualization.md``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import matplotlib.colors as mcolors
import numpy as np

from flyvis.analysis.visualization import plt_utils

__all__ = ["PLOT_MODES", "DEFAULT_COLOR", "plot_embedding", "annotate_scores"]

#: Figure size (inches), marker size and font size per plot mode.
PLOT_MODES: Dict[str, Dict[str, Any]] = {
    "paper": {"figsize": [2.68, 2.38], "s": 20, "fontsize": 5},
    "small": {"figsize": [3, 3], "s": 20, "fontsize": 5},
    "large": {"figsize": [10, 10], "s": 60, "fontsize": 12},
}

#: Colour of models when no colours are given.
DEFAULT_COLOR = "#779eaa"

_GRID_POINTS = 1000
_AGGREGATE = {"mean": np.mean, "min": np.min, "median": np.median}


def _resolve_style(mode, figsize, s, fontsize):
    if mode is not None and mode not in PLOT_MODES:
        raise ValueError(f"mode must be one of {list(PLOT_MODES)} or None, got {mode!r}")
    base = (
        PLOT_MODES[mode]
        if mode is not None
        else {"figsize": [3, 3], "s": 20, "fontsize": 5}
    )
    return (
        base["figsize"] if figsize is None else figsize,
        base["s"] if s is None else s,
        base["fontsize"] if fontsize is None else fontsize,
    )


def _colors(colors, n: int) -> np.ndarray:
    if colors is None:
        return np.tile(mcolors.to_rgba(DEFAULT_COLOR), (n, 1))
    if isinstance(colors, str) or (
        np.ndim(colors) == 1 and len(colors) in (3, 4) and n not in (3, 4)
    ):
        return np.tile(mcolors.to_rgba(colors), (n, 1))
    rgba = mcolors.to_rgba_array(colors)
    if len(rgba) != n:
        raise ValueError(f"got {len(rgba)} colours for {n} models")
    return rgba


def _limits(X: np.ndarray, pad: float):
    if len(X) == 0:
        return [(0.0, 1.0), (0.0, 1.0)]
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    return [(lo[i] - pad * span[i], hi[i] + pad * span[i]) for i in range(2)]


def _contour(ax, gm, limits) -> None:
    """Log-density of the mixture as filled contours (probabilities sum to 1)."""
    x = np.linspace(*limits[0], _GRID_POINTS)
    y = np.linspace(*limits[1], _GRID_POINTS)
    xx, yy = np.meshgrid(x, y)
    density = np.exp(gm.score_samples(np.column_stack([xx.ravel(), yy.ravel()])))
    density = (density / density.sum()).reshape(xx.shape)
    density = np.clip(density, 1e-25, 1)
    levels = np.logspace(-25, 0, 15)
    ax.contourf(
        xx,
        yy,
        density,
        levels=levels,
        norm=mcolors.LogNorm(vmin=1e-25, vmax=1),
        cmap="binary",
        alpha=0.1,
        zorder=0,
    )


def plot_embedding(
    X: np.ndarray,
    colors: Any = None,
    task_error: Optional[np.ndarray] = None,
    labels: Optional[np.ndarray] = None,
    gm: Any = None,
    mask: Optional[np.ndarray] = None,
    fit_gaussians: bool = True,
    annotate: bool = True,
    contour_gaussians: bool = True,
    range_n_clusters: Optional[Sequence[int]] = None,
    n_init_gaussian_mixture: int = 10,
    title: str = "",
    fig=None,
    ax=None,
    mode: Optional[str] = None,
    figsize: Optional[Sequence[float]] = None,
    s: Optional[float] = None,
    fontsize: Optional[float] = None,
    ax_lim_pad: float = 0.2,
    task_error_sort_mode: str = "mean",
    err_x_offset: float = 0.025,
    err_y_offset: float = -0.025,
    gm_kwargs: Optional[Dict[str, Any]] = None,
):
    """Scatter plot of a 2-D embedding of models, optionally with clusters.

    With clusters (``labels`` given, or ``fit_gaussians`` fits a mixture), each
    cluster gets a marker (``o ^ s * + h p 8``, ``$i$`` beyond 8) in the order of
    its task error; the mixture's normalised density is drawn as log-spaced
    filled contours; each cluster's (mean) task error is written next to its
    centroid. Models with the lowest task error are drawn on top.

    Args:
        X: Embedding ``(n_models, 2)`` (NaN rows are skipped).
        colors: Colour per model (RGBA ``(n_models, 4)``, list) or one colour;
            default ``"#779eaa"``.
        task_error: Task error per model ``(n_models,)``: draw order, cluster
            order (see ``task_error_sort_mode``) and annotation.
        labels: Cluster label per model; ``-99999`` for masked models.
        gm: Fitted ``sklearn.mixture.GaussianMixture`` (for the contours).
        mask: Boolean ``(n_models,)`` of models to draw (default: finite rows).
        fit_gaussians: Fit a mixture (BIC over ``range_n_clusters``) when no
            ``labels``/``gm`` are given; if False, clusters are drawn only from
            ``labels``.
        annotate: Annotate the clusters' task errors.
        contour_gaussians: Draw the mixture density.
        range_n_clusters: Candidate sizes for fitting (default 1 to 5).
        n_init_gaussian_mixture: Initialisations for fitting.
        title: Axis title.
        fig: Existing figure.
        ax: Existing axis.
        mode: ``"paper"``, ``"small"``, ``"large"`` or ``None``; sets figsize,
            marker size and font size unless given explicitly.
        figsize: Figure size in inches (default ``[3, 3]``).
        s: Marker size (default 20).
        fontsize: Font size (default 5).
        ax_lim_pad: Axis-limit padding as a fraction of the data range.
        task_error_sort_mode: ``"mean"``, ``"min"`` or ``"median"``.
        err_x_offset: Horizontal offset of the annotation (data units).
        err_y_offset: Vertical offset of the annotation (data units).
        gm_kwargs: Further arguments for fitting the mixture.

    Returns:
        Tuple ``(fig, ax)``.

    Raises:
        ValueError: If ``X`` is not ``(n, 2)``, lengths differ, or for an
            unknown mode.

    Source: ``spec/analysis.md`` §6.9.
    """
    from flyvis.analysis.gaussian_mixture import (
        INVALID_INT,
        gaussian_mixture,
        task_error_sort_labels,
    )

    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_models, 2), got {X.shape}")
    n = len(X)
    finite = np.isfinite(X).all(axis=1)
    mask = finite if mask is None else np.asarray(mask, dtype=bool) & finite
    if mask.shape != (n,):
        raise ValueError(f"mask {mask.shape} does not match {n} models")
    if task_error is not None:
        task_error = np.asarray(getattr(task_error, "values", task_error), dtype=float)
        if task_error.shape != (n,):
            raise ValueError(f"task_error {task_error.shape} does not match {n} models")
    if task_error_sort_mode not in _AGGREGATE:
        raise ValueError(f"task_error_sort_mode must be one of {list(_AGGREGATE)}")
    rgba = _colors(colors, n)
    figsize, s, fontsize = _resolve_style(mode, figsize, s, fontsize)

    if labels is None and gm is None and fit_gaussians and mask.sum() > 0:
        labels, gm, _, _ = gaussian_mixture(
            X,
            mask,
            range_n_clusters=range_n_clusters,
            n_init=n_init_gaussian_mixture,
            **(gm_kwargs or {}),
        )
    if labels is None and gm is not None and mask.any():
        labels = np.full(n, INVALID_INT, dtype=int)
        labels[mask] = gm.predict(X[mask])
    if labels is not None:
        labels = np.asarray(labels).astype(int)
        if labels.shape != (n,):
            raise ValueError(f"labels {labels.shape} do not match {n} models")
        if task_error is not None:
            labels = task_error_sort_labels(task_error, labels, mode=task_error_sort_mode)
    else:
        labels = np.where(mask, 0, INVALID_INT)
        annotate = annotate and task_error is not None

    fig, ax = plt_utils.init_plot(
        figsize=figsize, title=title, fontsize=fontsize, fig=fig, ax=ax
    )
    limits = _limits(X[mask], ax_lim_pad)
    if gm is not None and contour_gaussians and fit_gaussians:
        _contour(ax, gm, limits)

    cluster_ids = np.unique(labels[mask & (labels != INVALID_INT)])
    markers = plt_utils.check_markers(len(cluster_ids))
    order_key = -task_error if task_error is not None else np.zeros(n)
    for k, cluster in enumerate(cluster_ids):
        members = np.flatnonzero(mask & (labels == cluster))
        members = members[np.argsort(order_key[members], kind="stable")]  # best last
        ax.scatter(
            X[members, 0],
            X[members, 1],
            c=rgba[members],
            marker=markers[k],
            s=s,
            alpha=0.6,
            # unfilled markers ("+") are drawn by their edges
            edgecolors="none"
            if markers[k] not in ("+", "x", "1", "2", "3", "4")
            else None,
            zorder=2,
        )
        if annotate and task_error is not None:
            centroid = X[members].mean(axis=0)
            value = _AGGREGATE[task_error_sort_mode](task_error[members])
            ax.annotate(
                f"{value:.3f}",
                xy=(centroid[0] + err_x_offset, centroid[1] + err_y_offset),
                fontsize=fontsize,
                ha="left",
                va="top",
                zorder=3,
            )
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    plt_utils.rm_spines(ax)
    return fig, ax


def annotate_scores(
    ax, range_n_clusters: Sequence[int], scores: Sequence[float], fontsize=5
):
    """Writes the model-selection score per candidate size in the top-left corner.

    Args:
        ax: The axis.
        range_n_clusters: Candidate component numbers.
        scores: Criterion value per candidate (e.g. BIC).
        fontsize: Font size.

    Returns:
        The text artist.

    Raises:
        ValueError: If the lengths differ.
    """
    if len(range_n_clusters) != len(scores):
        raise ValueError("range_n_clusters and scores differ in length")
    text = "\n".join(f"{n}: {score:.1f}" for n, score in zip(range_n_clusters, scores))
    return ax.text(0.0, 1.0, text, transform=ax.transAxes, fontsize=fontsize, va="top")
