"""Seeds 001 (ensemble part) and 003 (clustering) against an ensemble trained here.

The notebooks analyse the 50 pretrained models of ``flow/0000``; no download is
possible, so this module trains a small ensemble itself (6 networks of
connectome extent 2, a few iterations each, through the library's solver) and
runs the notebooks' analysis cells on it as written, with these substitutions:

* the stimulus of seed 001 is rendered for the small networks' eye
  (``extent=2, kernel_size=9`` instead of ``extent=15, kernel_size=13``);
* seed 003's ``AugmentedSintel`` reads a small fake MPI-Sintel tree in the real
  file formats (``tests/fake_sintel.py``) placed at ``flyvis.sintel_dir``;
* the precomputed clustering the notebooks load is computed first with
  ``flyvis ensemble-analysis`` (the command that made the released pickles);
* ``color_to_cmap`` is imported from ``flyvis.analysis.visualization.color_utils``
  (flyvis 1.2.0: ``flyvis.utils.color_utils``; the core never imports matplotlib
  or the analysis layer, see ``docs/differences.md``);
* ``plt.rcParams`` is not modified, animations show few frames, and the
  embedding's density contour uses a coarser grid where the API allows it.
"""

import matplotlib
import numpy as np
import pytest
import torch
from fake_sintel import make_fake_sintel
from test_custom_stimuli import CustomStimuli, offline_mnist  # noqa: F401
from tiny_ensemble import train_tiny_ensemble

import flyvis

matplotlib.use("Agg")

pytestmark = pytest.mark.slow
N_MODELS = 6


@pytest.fixture(scope="module")
def trained(tmp_path_factory, flyvis_root):
    mp = pytest.MonkeyPatch()
    results = tmp_path_factory.mktemp("results")
    mp.setattr(flyvis, "results_dir", results)
    sintel = make_fake_sintel(tmp_path_factory.mktemp("sintel") / "Sintel", n_images=21)
    mp.setattr(flyvis, "sintel_dir", sintel)
    train_tiny_ensemble(flyvis_root / "renderings", "0000", n_models=N_MODELS, n_iters=6)
    # the notebooks load this precomputed clustering (made by the same command)
    from flyvis.cli import main

    assert (
        main(
            ["ensemble-analysis", "task_name=flow", "ensemble_id=0000"]
            + ["--cell_types", "T4c"]
        )
        == 0
    )
    yield results
    mp.undo()


def test_seed001_ensemble_cells(trained, offline_mnist):  # noqa: F811
    import matplotlib.pyplot as plt

    from flyvis import EnsembleView
    from flyvis.analysis import animations
    from flyvis.analysis.visualization import plt_utils
    from flyvis.utils.activity_utils import LayerActivity

    data = CustomStimuli(dict(extent=2, kernel_size=9, subset_idx=[0, 1, 2, 3]))

    ensemble = EnsembleView(flyvis.results_dir / "flow/0000")
    assert len(ensemble) == N_MODELS
    movie_input = data[0]

    responses = np.array(
        list(ensemble.simulate(movie_input[None], data.dt, fade_in=True))
    )
    assert responses.shape == (N_MODELS, 1, movie_input.shape[0], 1203)
    assert np.isfinite(responses).all()
    # models of the ensemble differ (each trained with its own seed)
    assert not np.allclose(responses[0], responses[1])

    responses = LayerActivity(responses, ensemble[0].connectome, keepref=True)
    cell_type = "T4c"
    assert responses[cell_type].shape == (N_MODELS, 1, movie_input.shape[0], 19)

    anim = animations.StimulusResponse(
        movie_input[None], responses[cell_type][:, 0, :, None]
    )
    model_index = [0, 1, 2, 3, 4]
    anim.animate_in_notebook(samples=model_index, frames=np.arange(anim.frames)[::40])

    cell_type_responses = responses[cell_type]
    model_idx = [0, 1, 2, 3, 4]
    anim = animations.StimulusResponse(
        movie_input[None], [cell_type_responses[i][None, 0, :, None] for i in model_idx]
    )
    anim.animate_in_notebook(frames=np.arange(anim.frames)[::40])

    central_responses = responses.central
    n_frames = movie_input.shape[0]
    time = np.arange(0, n_frames * data.dt, data.dt)
    colors = ensemble.task_error().colors
    fig, ax = plt_utils.init_plot([2, 2], fontsize=5)
    for model_id, response in enumerate(central_responses[cell_type]):
        ax.plot(
            time, response.squeeze(), c=colors[model_id], zorder=len(ensemble) - model_id
        )
    ax.set_xlabel("time in s", fontsize=5)
    ax.set_ylabel("response (a.u.)", fontsize=5)
    ax.set_title(f"{cell_type} responses across the ensemble", fontsize=5)
    assert len(ax.lines) == N_MODELS

    cluster_indices = ensemble.cluster_indices(cell_type)
    clustered = np.concatenate(list(cluster_indices.values()))
    assert len(set(clustered)) == len(clustered) and set(clustered) <= set(
        range(N_MODELS)
    )
    for cluster_id, model_idx in cluster_indices.items():
        fig, ax = plt_utils.init_plot([2, 2], fontsize=5)
        for model_id in model_idx:
            response = responses.central[cell_type][model_id]
            ax.plot(
                time,
                response.squeeze(),
                c=colors[model_id],
                zorder=len(ensemble) - model_id,
            )
        ax.set_xlabel("time in s", fontsize=5)
        ax.set_ylabel("response (a.u.)", fontsize=5)
        ax.set_title(f"{cell_type} responses across cluster {cluster_id + 1}", fontsize=5)
        plt.show()
    plt.close("all")


def test_seed003_clustering_cells(trained):
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    from flyvis.analysis.animations import HexScatter
    from flyvis.datasets.sintel import AugmentedSintel

    dt = 1 / 100  # can be changed for other temporal resolutions
    dataset = AugmentedSintel(
        tasks=["lum"],
        interpolate=False,
        boxfilter={"extent": 15, "kernel_size": 13},
        temporal_split=True,
        dt=dt,
    )
    assert len(dataset.arg_df) == len(dataset) > 0
    sequence = dataset[0]["lum"]
    assert sequence.shape[1:] == (1, 721)
    animation = HexScatter(sequence[None], vmin=0, vmax=1)
    animation.animate_in_notebook(frames=np.arange(2))

    ensemble = flyvis.EnsembleView("flow/0000")
    stims_and_resps = ensemble.naturalistic_stimuli_responses()
    assert stims_and_resps["responses"].sizes["network_id"] == N_MODELS
    assert stims_and_resps["responses"].sizes["sample"] == len(dataset)

    norm = ensemble.responses_norm()
    assert norm.shape == (N_MODELS, 1, 1, 65)
    responses = stims_and_resps["responses"] / (norm + 1e-6)
    responses.custom.where(cell_type="T4c", u=0, v=0, sample=0).custom.plot_traces(
        x="time", plot_kwargs=dict(color="tab:blue", add_legend=False)
    )
    ax = plt.gca()
    ax.set_title("T4c responses to naturalistic stimuli")
    assert len(ax.lines) >= N_MODELS

    from flyvis.analysis.clustering import EnsembleEmbedding, get_cluster_to_indices
    from flyvis.utils.activity_utils import CentralActivity

    embedding_kwargs = {
        "min_dist": 0.105,
        "spread": 9.0,
        "n_neighbors": 5,
        "random_state": 42,
        "n_epochs": 1500,
    }
    central_responses = CentralActivity(responses.values, connectome=ensemble.connectome)
    embedding = EnsembleEmbedding(central_responses)
    t4c_embedding = embedding("T4c", embedding_kwargs=embedding_kwargs)
    assert t4c_embedding.embedding.shape == (N_MODELS, 2)

    task_error = ensemble.task_error()
    embeddingplot = t4c_embedding.plot(colors=task_error.colors)

    gm_kwargs = {
        "range_n_clusters": [1, 2, 3, 4, 5],
        "n_init": 100,
        "max_iter": 1000,
        "random_state": 42,
        "tol": 0.001,
    }
    gm_clustering = t4c_embedding.cluster.gaussian_mixture(**gm_kwargs)
    embeddingplot = gm_clustering.plot(
        task_error=task_error.values, colors=task_error.colors
    )

    cluster_to_indices = get_cluster_to_indices(
        embeddingplot.cluster.embedding.mask,
        embeddingplot.cluster.labels,
        ensemble.task_error(),
    )
    assert sorted(cluster_to_indices) == list(range(len(cluster_to_indices)))

    # with a single cluster plt.subplots returns one Axes; the notebook (50
    # models, 3 clusters) indexes an array of them
    def subplots(n, **kwargs):
        fig, axes = plt.subplots(1, n, squeeze=False, **kwargs)
        return fig, axes[0]

    fig, axes = subplots(len(cluster_to_indices), figsize=(6, 2))
    colors = {i: color for i, color in enumerate(mcolors.TABLEAU_COLORS.values())}
    for cluster_id, indices in cluster_to_indices.items():
        responses.sel(network_id=indices, sample=[0]).custom.where(
            cell_type="T4c"
        ).custom.plot_traces(
            x="time",
            plot_kwargs=dict(
                color=colors[cluster_id], add_legend=False, ax=axes[cluster_id]
            ),
        )
        axes[cluster_id].set_title(f"Cluster {cluster_id + 1}")
    plt.subplots_adjust(wspace=0.3)

    # "Using the clustering to discover tuning predictions"
    cluster_colors = {}
    CMAPS = ["Blues_r", "Reds_r", "Greens_r", "Oranges_r", "Purples_r"]
    for cluster_id in cluster_to_indices:
        cluster_colors[cluster_id] = ensemble.task_error(cmap=CMAPS[cluster_id]).colors

    from flyvis.analysis.moving_bar_responses import plot_angular_tuning
    from flyvis.analysis.visualization import plt_utils
    from flyvis.analysis.visualization.color_utils import color_to_cmap

    stims_and_resps_moving_edge = ensemble.moving_edge_responses()
    stims_and_resps_moving_edge["responses"] /= np.abs(
        stims_and_resps_moving_edge["responses"]
    ).max(dim=("sample", "frame"))

    fig, axes = subplots(len(cluster_to_indices), figsize=(6, 2))
    for cluster_id, indices in cluster_to_indices.items():
        stims_and_resps_moving_edge["responses"].sel(network_id=indices).custom.where(
            cell_type="T4c", intensity=1, speed=19, angle=90
        ).custom.plot_traces(
            x="time",
            plot_kwargs=dict(
                color=colors[cluster_id], add_legend=False, ax=axes[cluster_id]
            ),
        )
        axes[cluster_id].set_title(f"Cluster {cluster_id + 1}")
    plt.subplots_adjust(wspace=0.3)

    fig, ax = plot_angular_tuning(stims_and_resps_moving_edge, "T4c", intensity=1)
    assert ax.name == "polar" and ax.lines

    tabcolors = list(mcolors.TABLEAU_COLORS.values())
    colors = [
        ensemble.task_error(cmap=color_to_cmap(tabcolors[cluster_id]).reversed()).colors[
            indices
        ]
        for cluster_id, indices in cluster_to_indices.items()
    ]
    fig, axes = subplots(
        len(cluster_to_indices), subplot_kw={"projection": "polar"}, figsize=[2, 1]
    )
    for cluster_id, indices in cluster_to_indices.items():
        plot_angular_tuning(
            stims_and_resps_moving_edge.sel(network_id=indices),
            "T4c",
            intensity=1,
            colors=colors[cluster_id],
            zorder=ensemble.zorder()[indices],
            groundtruth=True if cluster_id == 0 else False,
            fig=fig,
            ax=axes[cluster_id],
        )
        plt_utils.add_cluster_marker(
            fig, axes[cluster_id], marker=plt_utils.get_marker(cluster_id)
        )
        axes[cluster_id].set_title(f"Cluster {cluster_id + 1}")
    plt.subplots_adjust(wspace=0.5)

    # "Load precomputed umap and clustering"
    cell_type = "T4c"
    clustering = ensemble.clustering(cell_type)
    task_error = ensemble.task_error()
    embeddingplot = clustering.plot(
        task_error=task_error.values, colors=task_error.colors
    )
    assert embeddingplot.n_clusters == clustering.n_clusters >= 1
    stored = ensemble.cluster_indices(cell_type)
    assert sum(len(v) for v in stored.values()) == int(clustering.embedding.mask.sum())
    plt.close("all")
    assert torch.is_tensor(sequence)
