"""Source of examples/05_ensemble_clustering.ipynb (follows flyvis's clustering notebook)."""

from cells import code, md

CELLS = [
    md(
        """
# Clustering the models of an ensemble by their responses

This notebook follows flyvis's "UMAP and clustering" notebook: the models of
an ensemble agree on the task but can differ in how a cell type responds.
Embedding each model's T4c responses to naturalistic movies in two dimensions
(UMAP) and fitting Gaussian mixtures to the embedding groups the models into
distinct predictions, which then show up in their direction tuning.

The shipped ensemble `flow/0000` has 8 models (flyvis's has 50), so the
clusters are small; the steps are the same.
"""
    ),
    code(
        """
# parameters
dt = 1 / 100       # integration time step (s)
n_epochs = 1500    # UMAP optimisation epochs
n_init = 100       # Gaussian-mixture initialisations per number of components
speeds = (19,)     # moving-edge speeds (columns/s)
""",
        parameters=True,
    ),
    code(
        """
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np

import flyvis
from flyvis.analysis.animations import HexScatter

plt.rcParams["figure.dpi"] = 200  # as in flyvis's notebooks
"""
    ),
    md(
        """
## Naturalistic movies

flyvis uses `AugmentedSintel` (MPI-Sintel, 2,268 clips of 80 frames). Without
Sintel at `flyvis.sintel_dir` the library's naturalistic responses use the
offline real-photo movies instead (48 clips); **this cell shows which**:
"""
    ),
    code(
        """
from flyvis.analysis.naturalistic_responses import (
    photo_flow_naturalistic_dataset,
    sintel_available,
)

if sintel_available():
    from flyvis.datasets.sintel import AugmentedSintel

    dataset = AugmentedSintel(
        tasks=["lum"], interpolate=False, boxfilter={"extent": 15, "kernel_size": 13},
        temporal_split=True, dt=dt,
    )
else:
    dataset = photo_flow_naturalistic_dataset(dt)
print(type(dataset).__name__, len(dataset), "clips")
sequence = dataset[0]["lum"]
print("one clip (frames, 1, hexals):", tuple(sequence.shape))
fig = HexScatter(sequence[None], vmin=0, vmax=1).plot(0, 0)
"""
    ),
    md(
        """
## Ensemble responses to naturalistic movies

Computed once per model and cached; normalised per cell type by the
response norm over the whole set (`ensemble.responses_norm()`).
"""
    ),
    code(
        """
ensemble = flyvis.EnsembleView("flow/0000")
stims_and_resps = ensemble.naturalistic_stimuli_responses(dt=dt)
norm = ensemble.responses_norm()
responses = stims_and_resps["responses"] / (norm + 1e-6)
print("responses", dict(responses.sizes))
responses.custom.where(cell_type="T4c", u=0, v=0, sample=0).custom.plot_traces(
    x="time", plot_kwargs=dict(color="tab:blue", add_legend=False)
)
ax = plt.gca()
_ = ax.set_title("T4c responses to naturalistic stimuli")
"""
    ),
    md(
        """
## UMAP embedding and Gaussian mixtures

Each point is one model, placed by the similarity of its central T4c cell's
responses; colour: task error (dark = best).
"""
    ),
    code(
        """
from flyvis.analysis.clustering import EnsembleEmbedding, get_cluster_to_indices
from flyvis.utils.activity_utils import CentralActivity

embedding_kwargs = {
    "min_dist": 0.105,
    "spread": 9.0,
    "n_neighbors": 5,
    "random_state": 42,
    "n_epochs": n_epochs,
}
central_responses = CentralActivity(responses.values, connectome=ensemble.connectome)
embedding = EnsembleEmbedding(central_responses)
t4c_embedding = embedding("T4c", embedding_kwargs=embedding_kwargs)
task_error = ensemble.task_error()
embeddingplot = t4c_embedding.plot(colors=task_error.colors)
"""
    ),
    md(
        """
Mixtures of 1 to 5 components; the number minimising the Bayesian
information criterion is kept.
"""
    ),
    code(
        """
gm_kwargs = {
    "range_n_clusters": [1, 2, 3, 4, 5],
    "n_init": n_init,
    "max_iter": 1000,
    "random_state": 42,
    "tol": 0.001,
}
gm_clustering = t4c_embedding.cluster.gaussian_mixture(**gm_kwargs)
embeddingplot = gm_clustering.plot(task_error=task_error.values, colors=task_error.colors)
cluster_to_indices = get_cluster_to_indices(
    embeddingplot.cluster.embedding.mask,
    embeddingplot.cluster.labels,
    ensemble.task_error(),
)
print("clusters (model positions):", {k: [int(i) for i in v] for k, v in cluster_to_indices.items()})
"""
    ),
    code(
        """
n_clusters = len(cluster_to_indices)
fig, axes = plt.subplots(1, n_clusters, figsize=(3 * n_clusters, 2), squeeze=False)
axes = axes[0]
colors = {i: color for i, color in enumerate(mcolors.TABLEAU_COLORS.values())}
for cluster_id, indices in cluster_to_indices.items():
    responses.sel(network_id=indices, sample=[0]).custom.where(cell_type="T4c").custom.plot_traces(
        x="time",
        plot_kwargs=dict(color=colors[cluster_id], add_legend=False, ax=axes[cluster_id]),
    )
    axes[cluster_id].set_title(f"Cluster {cluster_id + 1}")
plt.subplots_adjust(wspace=0.3)
"""
    ),
    md(
        """
## The clusters' direction tuning

Do the clusters found on naturalistic movies predict different tuning to
simple stimuli? T4c's responses to ON edges in 12 directions, per cluster
(responses normalised per model, so only the shape of the tuning counts):
"""
    ),
    code(
        """
from flyvis.analysis.moving_bar_responses import plot_angular_tuning
from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.color_utils import color_to_cmap

me = ensemble.moving_edge_responses(speeds=speeds, dt=dt)
me["responses"] /= np.abs(me["responses"]).max(dim=("sample", "frame"))

tabcolors = list(mcolors.TABLEAU_COLORS.values())
fig, axes = plt.subplots(
    1, n_clusters, subplot_kw={"projection": "polar"}, figsize=[2 * n_clusters, 2], squeeze=False
)
axes = axes[0]
for cluster_id, indices in cluster_to_indices.items():
    cmap = color_to_cmap(tabcolors[cluster_id]).reversed()
    plot_angular_tuning(
        me.sel(network_id=indices),
        "T4c",
        intensity=1,
        colors=ensemble.task_error(cmap=cmap).colors[indices],
        zorder=ensemble.zorder()[indices],
        groundtruth=cluster_id == 0,
        fig=fig,
        ax=axes[cluster_id],
    )
    plt_utils.add_cluster_marker(fig, axes[cluster_id], marker=plt_utils.get_marker(cluster_id))
    axes[cluster_id].set_title(f"Cluster {cluster_id + 1}")
plt.subplots_adjust(wspace=0.5)
"""
    ),
    md(
        """
## Stored clusterings

`flyvis ensemble-analysis task_name=flow ensemble_id=0000 --cell_types T4c`
computes and stores the clustering of every cell type;
`ensemble.clustering(cell_type)` loads it (and computes it, unstored, where it
is missing, as here for the read-only shipped ensemble):
"""
    ),
    code(
        """
clustering = ensemble.clustering("T4c")
embeddingplot = clustering.plot(task_error=task_error.values, colors=task_error.colors)
print("stored-style clustering:", clustering.n_clusters, "clusters;",
      {k: [int(i) for i in v] for k, v in ensemble.cluster_indices("T4c").items()})
"""
    ),
]
