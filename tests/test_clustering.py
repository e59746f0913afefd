"""Tests of flyvis.analysis.clustering (UMAP embedding, GMM/BIC clustering, storage)."""

import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from sklearn.metrics import adjusted_rand_score

from flyvis.analysis import clustering as cl
from flyvis.analysis.clustering import (
    INVALID_INT,
    Embedding,
    EnsembleEmbedding,
    GaussianMixtureClustering,
    compute_umap_and_clustering,
    gaussian_mixture,
    get_cluster_to_indices,
    load_umap_and_clustering,
    store_umap_and_clustering,
    task_error_sort_labels,
    umap_embedding,
)

# -- synthetic data ----------------------------------------------------------------


def blobs(n_per=20, seed=0, centers=((0, 0), (5, 0), (0, 5))):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(c, 0.3, size=(n_per, 2)) for c in centers])
    truth = np.repeat(np.arange(len(centers)), n_per)
    return X, truth


def planted_responses(n_per=10, n_samples=4, n_frames=30, seed=0, flat=True):
    """Dataset (network_id, sample, frame, neuron) with 3 planted T4c response types."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, n_samples * n_frames)
    patterns = [np.sin(3 * t), np.sign(np.cos(5 * t)), (t - t.mean()) ** 2]
    rows, truth = [], []
    for k, pattern in enumerate(patterns):
        for _ in range(n_per):
            amp = rng.uniform(0.5, 2.0)
            rows.append(
                amp * pattern + 0.05 * rng.normal(size=pattern.shape) + rng.normal()
            )
            truth.append(k)
    if flat:
        rows.append(np.full_like(t, 0.3))
        truth.append(-1)
    t4c = np.stack(rows).reshape(len(rows), n_samples, n_frames)
    other = rng.normal(size=t4c.shape)
    data = np.stack([other, t4c], axis=-1)  # neuron: [T4a, T4c]
    ds = xr.Dataset(
        {"responses": (("network_id", "sample", "frame", "neuron"), data)},
        coords={
            "network_id": np.arange(len(rows)),
            "cell_type": ("neuron", ["T4a", "T4c"]),
            "u": ("neuron", [0, 0]),
            "v": ("neuron", [0, 0]),
        },
    )
    return ds, np.array(truth)


def pca_embedding(X, n_components=2, **_umap_kwargs):
    """Stand-in for umap_embedding: PCA of row-standardised data (correlation-like)."""
    X = np.asarray(X, float).reshape(len(X), -1)
    std = X.std(axis=1)
    mask = ~np.isclose(std, 0)
    Z = (X[mask] - X[mask].mean(1, keepdims=True)) / std[mask, None]
    Z = Z - Z.mean(0)
    u, s, _ = np.linalg.svd(Z, full_matrices=False)
    emb = np.full((len(X), n_components), np.nan)
    emb[mask] = u[:, :n_components] * s[:n_components]
    return emb, mask, None


class FakeEnsemble:
    def __init__(self, path, responses=None):
        self.path = Path(path)
        self._responses = responses
        self.calls = 0

    def naturalistic_stimuli_responses(self):
        self.calls += 1
        if self._responses is None:
            raise AssertionError("responses must not be computed")
        return self._responses


@pytest.fixture(scope="module")
def blob_clustering():
    """A clustering of three planted blobs, fitted once per module."""
    return fitted()


def fitted(seed=0, **kwargs):
    X, truth = blobs(seed=seed)
    emb = Embedding(X, np.ones(len(X), bool))
    params = dict(range_n_clusters=[1, 2, 3, 4, 5], n_init=3, random_state=0)
    params.update(kwargs)
    return emb.cluster.gaussian_mixture(**params), truth


# -- embedding ---------------------------------------------------------------------


def test_embedding_min_max_scales_and_keeps_nan():
    raw = np.array([[1.0, 10.0], [3.0, 30.0], [np.nan, np.nan], [2.0, 20.0]])
    emb = Embedding(raw)
    np.testing.assert_allclose(emb.embedding[[0, 1, 3]], [[0, 0], [1, 1], [0.5, 0.5]])
    assert np.isnan(emb.embedding[2]).all()
    np.testing.assert_array_equal(emb.mask, [True, True, False, True])
    np.testing.assert_allclose(emb.minmaxscaler.data_min_, [1.0, 10.0])
    with pytest.raises(ValueError, match="mask"):
        Embedding(raw, mask=np.ones(3, bool))
    with pytest.raises(ValueError, match="2-D"):
        Embedding(np.zeros(4))


def test_umap_embedding_validates_and_masks_flat_rows_without_umap():
    with pytest.raises(ValueError, match="n_components"):
        umap_embedding(np.random.rand(3, 10))
    X = np.ones((5, 3, 4))
    X[0] = np.arange(12).reshape(3, 4)
    emb, mask, reducer = umap_embedding(X)  # < 2 valid rows: no UMAP needed
    assert reducer is None
    np.testing.assert_array_equal(mask, [True, False, False, False, False])
    assert emb.shape == (5, 2) and np.isnan(emb).all()


def test_importing_clustering_does_not_import_umap_or_matplotlib():
    code = (
        "import sys, flyvis.analysis.clustering;"
        "bad = [m for m in ('umap', 'matplotlib') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- Gaussian mixtures -------------------------------------------------------------


def test_bic_recovers_three_planted_blobs(blob_clustering):
    gmc, truth = blob_clustering
    assert gmc.n_clusters == 3
    assert gmc.range_n_clusters == [1, 2, 3, 4, 5]
    assert len(gmc.scores) == 5 and int(np.argmin(gmc.scores)) == 2
    assert adjusted_rand_score(truth, gmc.labels) == 1.0


def test_gaussian_mixture_is_deterministic(blob_clustering):
    a, _ = blob_clustering
    b, _ = fitted()
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_allclose(a.gm.means_, b.gm.means_)
    assert a.scores == b.scores


def test_gaussian_mixture_mask_range_and_criteria():
    X, truth = blobs(n_per=3)
    mask = np.ones(len(X), bool)
    mask[[0, 4]] = False
    labels, gm, values, candidates = gaussian_mixture(
        X, mask, range_n_clusters=[2, 3, 3, 4, 8], n_init=2, random_state=1
    )
    assert candidates == [2, 3, 3, 4]  # 8 > 7 valid rows
    assert len(values) == 4
    assert (labels[[0, 4]] == INVALID_INT).all() and (labels[mask] >= 0).all()
    assert gm.n_components == candidates[int(np.argmin(values))]
    labels_s, _, values_s, _ = gaussian_mixture(X, mask, [1, 2], criterion="score")
    assert values_s[1] <= values_s[0]  # more components never fit worse
    with pytest.raises(ValueError, match="criterion"):
        gaussian_mixture(X, mask, criterion="likelihood")
    with pytest.raises(ValueError, match="no candidate"):
        gaussian_mixture(X, mask, range_n_clusters=[50])
    with pytest.raises(ValueError, match="no valid"):
        gaussian_mixture(X, np.zeros(len(X), bool))
    with pytest.raises(ValueError, match="non-finite"):
        gaussian_mixture(np.full_like(X, np.nan), mask)


def test_unfitted_clustering_raises():
    gmc = Embedding(np.random.rand(6, 2)).cluster.gaussian_mixture
    assert isinstance(gmc, GaussianMixtureClustering) and gmc.labels is None
    with pytest.raises(ValueError, match="not fitted"):
        gmc.task_error_sort_labels(np.zeros(6))
    with pytest.raises(ValueError, match="no embedding"):
        GaussianMixtureClustering()()


# -- relabelling -------------------------------------------------------------------


def test_task_error_sort_labels():
    labels = np.array([0, 0, 1, 1, 2, INVALID_INT])
    task_error = np.array([5.0, 5.0, 1.0, 9.0, 3.0, 0.0])
    # means: 0 -> 5, 1 -> 5 (tie, original order kept), 2 -> 3
    np.testing.assert_array_equal(
        task_error_sort_labels(task_error, labels), [1, 1, 2, 2, 0, INVALID_INT]
    )
    # mins: 0 -> 5, 1 -> 1, 2 -> 3
    np.testing.assert_array_equal(
        task_error_sort_labels(task_error, labels, mode="min"),
        [2, 2, 0, 0, 1, INVALID_INT],
    )
    with pytest.raises(ValueError, match="mode"):
        task_error_sort_labels(task_error, labels, mode="max")
    with pytest.raises(ValueError, match="length"):
        task_error_sort_labels(task_error[:3], labels)


def test_get_cluster_to_indices():
    mask = np.array([True, True, True, False, True, True])
    labels = np.array([1, 0, 1, INVALID_INT, 2, 0])
    out = get_cluster_to_indices(mask, labels)
    assert list(out) == [0, 1, 2]
    np.testing.assert_array_equal(out[0], [1, 5])
    np.testing.assert_array_equal(out[1], [0, 2])
    np.testing.assert_array_equal(out[2], [4])
    task_error = SimpleNamespace(values=np.array([0.1, 0.9, 0.2, 0.0, 0.5, 0.8]))
    out = get_cluster_to_indices(mask, labels, task_error)
    np.testing.assert_array_equal(out[0], [0, 2])  # old cluster 1, mean 0.15
    np.testing.assert_array_equal(out[1], [4])
    np.testing.assert_array_equal(out[2], [1, 5])
    # a masked-out model never appears, even with a valid label
    out = get_cluster_to_indices(np.array([False, True]), np.array([0, 0]))
    np.testing.assert_array_equal(out[0], [1])
    with pytest.raises(ValueError):
        get_cluster_to_indices(mask[:3], labels)


# -- ensembles and storage ---------------------------------------------------------


def test_compute_from_planted_responses_with_injected_embedding(tmp_path):
    ds, truth = planted_responses()
    ens = FakeEnsemble(tmp_path / "flow" / "0000", responses=ds)
    gmc = compute_umap_and_clustering(
        ens, "T4c", gm_kwargs={"n_init": 3}, embedding_fn=pca_embedding
    )
    assert ens.calls == 1
    assert gmc.n_clusters == 3 and gmc.n_init == 3 and gmc.random_state == 42
    assert gmc.kwargs == {"tol": 0.001}
    assert gmc.labels[-1] == INVALID_INT and not gmc.embedding.mask[-1]
    assert adjusted_rand_score(truth[:-1], gmc.labels[:-1]) == 1.0
    assert not (tmp_path / "flow" / "0000" / "umap_and_clustering").exists()
    with pytest.raises(ValueError, match="T5a"):
        compute_umap_and_clustering(ens, "T5a", embedding_fn=pca_embedding)


def test_ensemble_embedding_accepts_dicts():
    ds, _ = planted_responses(flat=False)
    arr = ds["responses"].values[..., 1]
    emb = EnsembleEmbedding({"T4c": arr}, pca_embedding)("T4c")
    np.testing.assert_allclose(np.nanmin(emb.embedding, 0), 0)
    np.testing.assert_allclose(np.nanmax(emb.embedding, 0), 1)
    with pytest.raises(ValueError, match="Mi1"):
        EnsembleEmbedding({"T4c": arr}, pca_embedding)("Mi1")


def test_ensemble_embedding_accepts_central_activity():
    from test_activity_utils import INPUTS, OUTPUTS, TYPES, make_fake_connectome

    from flyvis.utils.activity_utils import CentralActivity

    ds, truth = planted_responses(flat=False)
    fake = make_fake_connectome(
        TYPES, INPUTS, OUTPUTS, extent=2, strided={"Lawf1": (3, 2)}
    )
    x = np.random.default_rng(0).normal(size=(*ds["responses"].shape[:3], len(TYPES)))
    x[..., TYPES.index("T4a")] = ds["responses"].values[..., 1]  # planted types as T4a
    ca = CentralActivity(x, fake)
    emb = EnsembleEmbedding(ca, pca_embedding)("T4a")
    gmc = emb.cluster.gaussian_mixture(
        range_n_clusters=[2, 3, 4], n_init=2, random_state=0
    )
    assert adjusted_rand_score(truth, gmc.labels) == 1.0
    with pytest.raises(ValueError):
        EnsembleEmbedding(ca, pca_embedding)("T4c")


def test_pickle_round_trip_and_load_instead_of_compute(tmp_path, blob_clustering):
    gmc, _ = blob_clustering
    ens = FakeEnsemble(tmp_path / "ens")  # computing responses would fail
    path = store_umap_and_clustering(ens, "T4c", gmc)
    assert path == tmp_path / "ens" / "umap_and_clustering" / "T4c.pickle"
    assert [p.name for p in path.parent.iterdir()] == ["T4c.pickle"]  # no temp files
    loaded = load_umap_and_clustering(path)
    assert type(loaded) is GaussianMixtureClustering
    assert type(loaded.embedding) is Embedding
    np.testing.assert_array_equal(loaded.labels, gmc.labels)
    np.testing.assert_array_equal(loaded.embedding.embedding, gmc.embedding.embedding)
    np.testing.assert_allclose(loaded.gm.means_, gmc.gm.means_)
    assert loaded.n_clusters == 3 and loaded.scores == gmc.scores
    again = compute_umap_and_clustering(ens, "T4c")
    assert ens.calls == 0
    np.testing.assert_array_equal(again.labels, gmc.labels)
    # the pickle names the public module so it is portable
    assert b"flyvis.analysis.clustering" in path.read_bytes()
    with pytest.raises(TypeError):
        store_umap_and_clustering(ens, "T4c", {"labels": 1})
    bad = tmp_path / "bad.pickle"
    bad.write_bytes(pickle.dumps({"not": "a clustering"}))
    with pytest.raises(TypeError):
        load_umap_and_clustering(bad)


def test_embedding_unpickles_state_with_public_attribute_name():
    emb = Embedding.__new__(Embedding)
    scaled = np.array([[0.0, 1.0], [1.0, 0.0]])
    emb.__setstate__(
        {"embedding": scaled, "mask": np.array([True, True]), "reducer": None}
    )
    np.testing.assert_array_equal(emb.embedding, scaled)
    assert emb.minmaxscaler is None


def test_generator_yields_every_cell_type(tmp_path):
    ds, _ = planted_responses(flat=False)
    ens = FakeEnsemble(tmp_path / "ens", responses=ds)
    out = dict(
        cl.umap_and_clustering_generator(
            ens,
            embedding_fn=pca_embedding,
            gm_kwargs={"n_init": 1, "range_n_clusters": [1, 2]},
        )
    )
    assert list(out) == ["T4a", "T4c"]
    assert ens.calls == 1
    assert all(isinstance(v, GaussianMixtureClustering) for v in out.values())


# -- plots -------------------------------------------------------------------------


def _nonblank_png(fig, path):
    import matplotlib.image as mpimg

    fig.savefig(path, dpi=100)
    img = mpimg.imread(path)
    rgb = img[..., :3]
    return (np.abs(rgb - rgb[0, 0]).sum(-1) > 0.05).mean()


def test_plots_render(tmp_path, blob_clustering, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from flyvis.analysis.visualization import embedding_plots

    monkeypatch.setattr(embedding_plots, "_GRID_POINTS", 200)  # spec: 1000; speed
    gmc, truth = blob_clustering
    rng = np.random.default_rng(0)
    task_error = truth * 1.0 + rng.uniform(0, 0.1, len(truth))
    colors = plt.get_cmap("Blues_r")(task_error / task_error.max())

    fig, ax = gmc.embedding.plot(colors=colors)
    assert len(ax.collections) == 1
    assert _nonblank_png(fig, tmp_path / "embedding.png") > 0.005
    plt.close(fig)

    plot = gmc.plot(task_error=task_error, colors=colors, annotate_scores=True)
    assert isinstance(plot, cl.EmbeddingPlot)
    assert plot.n_clusters == 3 and plot.cluster is gmc
    scatters = [
        c
        for c in plot.ax.collections
        if hasattr(c, "get_offsets") and len(c.get_offsets())
    ]
    assert len(scatters) >= 3
    texts = sorted(t.get_text() for t in plot.ax.texts if "\n" not in t.get_text())
    expected = sorted(f"{task_error[truth == k].mean():.3f}" for k in range(3))
    assert texts == expected
    assert _nonblank_png(plot.fig, tmp_path / "clusters.png") > 0.005
    plt.close(plot.fig)
    with pytest.raises(ValueError, match="colours"):
        gmc.embedding.plot(colors=colors[:5])


# -- the full UMAP path ------------------------------------------------------------


@pytest.mark.slow
def test_umap_and_gmm_recover_planted_response_types(tmp_path):
    ds, truth = planted_responses(n_per=12)
    ens = FakeEnsemble(tmp_path / "ens", responses=ds)
    runs = [
        compute_umap_and_clustering(ens, "T4c", gm_kwargs={"n_init": 10})
        for _ in range(2)
    ]
    gmc = runs[0]
    assert gmc.embedding.reducer is not None
    assert not gmc.embedding.mask[-1] and gmc.labels[-1] == INVALID_INT
    assert gmc.n_clusters == 3
    assert adjusted_rand_score(truth[:-1], gmc.labels[:-1]) == 1.0
    np.testing.assert_array_equal(
        runs[0].embedding.embedding, runs[1].embedding.embedding
    )
    np.testing.assert_array_equal(runs[0].labels, runs[1].labels)
    path = store_umap_and_clustering(ens, "T4c", gmc)
    loaded = load_umap_and_clustering(path)
    np.testing.assert_array_equal(loaded.embedding.embedding, gmc.embedding.embedding)
