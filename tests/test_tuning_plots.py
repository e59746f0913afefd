"""FRI/DSI violins and polar tuning plots on synthetic responses with known tuning."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

from flyvis.analysis import flash_responses as fr  # noqa: E402
from flyvis.analysis import moving_bar_responses as mb  # noqa: E402
from flyvis.analysis.reference_tables import CELL_TYPES  # noqa: E402
from flyvis.analysis.visualization import tuning_plots  # noqa: E402

ANGLES = np.arange(0, 360, 45)
PD = {"T4c": 90, "T5a": 180}  # synthetic preferred directions (degrees)


def _pixels(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    buffer.seek(0)
    return mpimg.imread(buffer)


def assert_not_blank(fig):
    image = _pixels(fig)
    assert image[..., :3].std() > 0.01


@pytest.fixture(scope="module")
def edges():
    """Moving-edge-like responses of 3 networks; T4c/T5a cosine-tuned."""
    types = ["T4c", "T5a", "Mi1"]
    samples = [(a, 80, i, 19.0) for i in (0, 1) for a in ANGLES]
    dt, n_frames = 0.01, 120
    time = np.arange(n_frames) * dt - 0.2
    on = (time >= 0) & (time <= 0.5)
    r = np.zeros((3, len(samples), n_frames, len(types)), np.float32)
    for s, (angle, _, intensity, _) in enumerate(samples):
        for n in range(3):
            gain = 1.0 + n  # networks differ in magnitude only
            t4 = np.cos(np.radians(angle - PD["T4c"])) if intensity == 1 else 0.1
            t5 = np.cos(np.radians(angle - PD["T5a"])) if intensity == 0 else 0.1
            r[n, s, on, 0] = gain * max(t4, 0) + 0.05
            r[n, s, on, 1] = gain * max(t5, 0) + 0.05
            r[n, s, on, 2] = gain * 0.5  # untuned
    angle, width, intensity, speed = map(np.array, zip(*samples))
    return xr.Dataset(
        {"responses": (("network_id", "sample", "frame", "neuron"), r)},
        coords=dict(
            network_id=np.arange(3),
            sample=np.arange(len(samples)),
            angle=("sample", angle),
            width=("sample", width),
            intensity=("sample", intensity),
            speed=("sample", speed),
            frame=np.arange(n_frames),
            time=("frame", time),
            neuron=np.arange(len(types)),
            cell_type=("neuron", types),
        ),
        attrs=dict(config=dict(offsets=[-10, 11], dt=dt)),
    )


def test_plot_fris_renders_and_orders_known_first():
    rng = np.random.default_rng(0)
    types = CELL_TYPES[:25]
    values = rng.uniform(-1, 1, size=(5, len(types)))  # (models, types)
    fig, ax = fr.plot_fris(values, types, scatter_best_index=2, scatter_best_color="b")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    known = [t for t in types if t in ("R1", "L1", "L5", "C3", "Mi1", "Mi4", "Mi9")]
    # every known-polarity type precedes every unknown one
    first_unknown = min(labels.index(t) for t in ("Lawf1", "Am", "C2", "Mi2"))
    assert all(labels.index(t) < first_unknown for t in known)
    colors = {t.get_text(): t.get_color() for t in ax.get_xticklabels()}
    assert matplotlib.colors.to_hex(colors["L5"]) == "#c1b933"  # ON
    assert matplotlib.colors.to_hex(colors["L1"]) == "#b140cc"  # OFF
    np.testing.assert_allclose(ax.get_yticks(), [-1, -0.5, 0, 0.5, 1])
    # the best model is highlighted: a scatter holding exactly its values
    best = [
        c.get_offsets()[:, 1]
        for c in ax.collections
        if len(c.get_offsets()) == len(types) and c.get_alpha() == 1.0
    ]
    assert len(best) == 1
    order = [types.index(t) for t in labels]
    np.testing.assert_allclose(best[0], values[2, order])
    assert_not_blank(fig)


def test_plot_fris_accepts_fri_dataarray_and_explicit_order():
    fris = xr.DataArray(
        np.array([[[0.5, -0.5, 0.1]], [[0.4, -0.6, 0.0]]]),
        dims=("network_id", "sample", "neuron"),
    )
    fig, ax = fr.plot_fris(fris, ["L5", "L1", "Am"], sorted_type_list=["Am", "L1", "L5"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Am", "L1", "L5"]
    assert_not_blank(fig)
    with pytest.raises(ValueError, match="cell types"):
        fr.plot_fris(np.zeros((2, 4)), ["L5", "L1", "Am"])
    with pytest.raises(ValueError, match="unknown cell types"):
        fr.plot_fris(fris, ["L5", "L1", "Am"], sorted_type_list=["T4z"])


def test_dsi_violins_on_and_off(edges):
    dsis = mb.direction_selectivity_index(edges)
    fig, axes = mb.dsi_violins_on_and_off(
        dsis, ["Mi1", "T4c", "T5a"], scatter_best_index=0
    )
    assert len(axes) == 2
    # T4/T5 first, labels coloured ON/OFF; OFF row inverted
    labels = [t.get_text() for t in axes[1].get_xticklabels()]
    assert labels == ["T4c", "T5a", "Mi1"]
    colors = {t.get_text(): t.get_color() for t in axes[1].get_xticklabels()}
    assert matplotlib.colors.to_hex(colors["T4c"]) == "#af0019"
    assert matplotlib.colors.to_hex(colors["T5a"]) == "#00b2b2"
    assert axes[1].yaxis_inverted() and not axes[0].yaxis_inverted()
    # the ON row shows T4c's ON DSI of the best model at x = 0
    on_best = [c.get_offsets() for c in axes[0].collections if c.get_alpha() == 1.0][0]
    t4c = float(dsis.isel(network_id=0, neuron=0).sel(intensity=1))
    assert t4c > 0.3
    np.testing.assert_allclose(on_best[0, 1], t4c, rtol=1e-5)
    assert_not_blank(fig)
    with pytest.raises(ValueError, match="lack the cell types"):
        mb.dsi_violins_on_and_off(dsis, ["T4d"])


def test_plot_angular_tuning_peaks_at_preferred_direction(edges):
    fig, ax = mb.plot_angular_tuning(edges, "T4c", intensity=1)
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(lines) == 3  # one curve per network
    for line in lines:
        theta, r = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert np.isclose(np.degrees(theta[np.argmax(r)]) % 360, 90)
    # normalised by the maximum over all curves: the largest network reaches 1
    assert np.isclose(max(np.max(line.get_ydata()) for line in lines), 1.0)
    # the known preferred direction of T4c (90 degrees) as a black radial line
    truth = [line for line in ax.get_lines() if len(line.get_xdata()) == 2]
    assert len(truth) == 1 and np.allclose(np.degrees(truth[0].get_xdata()), 90)
    assert_not_blank(fig)


def test_plot_angular_tuning_per_model_colors_into_given_axes(edges):
    """Seed 003: per-cluster panels, task-error colours and z-orders per model."""
    fig, axes = plt.subplots(1, 2, subplot_kw={"projection": "polar"}, figsize=[2, 1])
    colors = plt.cm.Blues(np.linspace(0.3, 1, 2))
    for k, indices in enumerate([[0, 1], [2]]):
        plot = mb.plot_angular_tuning(
            edges.sel(network_id=indices),
            "T5a",
            intensity=0,
            colors=colors[: len(indices)],
            zorder=np.arange(len(indices)),
            groundtruth=k == 0,
            fig=fig,
            ax=axes[k],
        )
        assert plot == (fig, axes[k])
    curves = [ln for ln in axes[0].get_lines() if len(ln.get_xdata()) > 2]
    assert [ln.get_zorder() for ln in curves] == [0, 1]
    np.testing.assert_allclose(curves[1].get_color(), colors[1])
    assert not [ln for ln in axes[1].get_lines() if len(ln.get_xdata()) == 2]
    # averaged over models: one curve
    _, ax = mb.plot_angular_tuning(edges, "T5a", intensity=0, average_models=True)
    assert len([ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]) == 1
    assert_not_blank(fig)
    with pytest.raises(ValueError, match="colors"):
        mb.plot_angular_tuning(edges, "T5a", 0, colors=["r", "g"])
    with pytest.raises(ValueError, match="no responses"):
        mb.plot_angular_tuning(edges, "T4a", 1)


def test_t4_t5_panels_and_lazy_wrappers(edges):
    assert mb.plot_T4_tuning.__name__ == "plot_T4_tuning"
    data = edges.copy()
    types = ["T4a", "T4b", "T4c"]
    data = data.assign_coords(cell_type=("neuron", types))
    with pytest.raises(ValueError, match="T4d"):
        mb.plot_T4_tuning(data)
    data = xr.concat([edges, edges.assign_coords(neuron=[3, 4, 5])], "neuron")
    data = data.assign_coords(
        cell_type=("neuron", ["T4a", "T4b", "T4c", "T4d", "T5a", "X"])
    )
    fig, axes = tuning_plots.plot_T4_tuning(data)
    assert [ax.get_title() for ax in axes] == ["T4a", "T4b", "T4c", "T4d"]
    assert_not_blank(fig)
