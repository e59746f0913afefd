"""Plots render non-blank images and change no global matplotlib state."""

import json
import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from flyvis.analysis.visualization import plots, plt_utils  # noqa: E402
from flyvis.analysis.visualization.color_utils import cm_uniform_2d  # noqa: E402
from flyvis.utils.hex_utils import get_hex_coords, hex_to_pixel  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def rgba_of(fig, dpi=100):
    """Rendered RGBA pixels ``(h, w, 4)`` uint8 of a figure."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def n_colors(rgba):
    return len(np.unique(rgba.reshape(-1, 4), axis=0))


def save_and_check(fig, tmp_path, name):
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    image = plt.imread(path)
    assert image.std() > 0.01, f"{name} rendered a blank image"
    return image


# -- global state -------------------------------------------------------------------


def test_import_and_use_keep_rcparams_and_colormaps(tmp_path):
    code = textwrap.dedent(
        """
        import json
        import matplotlib
        matplotlib.use("Agg")
        before = dict(matplotlib.rcParams)
        import flyvis.analysis.visualization
        from flyvis.analysis.visualization import plots, plt_utils
        from flyvis.analysis.visualization import connectome_view, network_fig
        import flyvis.analysis.animations
        registered_at_import = "cm_uniform_2d" in matplotlib.colormaps
        import numpy as np
        plots.quick_hex_scatter(np.random.rand(61))
        u, v = np.meshgrid([0], [0])
        plots.quick_hex_flow(np.random.randn(2, 61))
        fig, ax = plt_utils.init_plot()
        plt_utils.add_colorwheel_2d(fig, [ax])
        with plt_utils.style():
            inside = matplotlib.rcParams["font.size"]
        changed = [k for k, v in matplotlib.rcParams.items() if before.get(k) != v]
        print(json.dumps({
            "changed": changed,
            "registered_at_import": registered_at_import,
            "registered_after": "cm_uniform_2d" in matplotlib.colormaps,
            "inside": inside,
        }))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["changed"] == []
    assert not result["registered_at_import"]
    assert result["registered_after"]  # lazily, by the function that needs the name
    assert result["inside"] == 5


def test_style_context_restores_rcparams():
    before = dict(matplotlib.rcParams)
    with plt_utils.style(figure_dpi=123) as rc:
        assert matplotlib.rcParams["figure.dpi"] == 123
        assert matplotlib.rcParams["axes.spines.top"] is False
        assert rc["font.size"] == 5
    assert dict(matplotlib.rcParams) == before
    assert plt_utils.FLYVIS_STYLE["savefig.dpi"] == 300


# -- hexagonal images -----------------------------------------------------------------


def test_hex_scatter_gradient_has_many_colors(tmp_path):
    u, v = get_hex_coords(6)
    fig, ax, (label_text, sm) = plots.hex_scatter(
        u,
        v,
        np.arange(len(u), dtype=float),
        cmap="viridis",
        figsize=(2, 2),
        label="gradient",
    )
    assert len(ax.patches) == len(u)
    assert label_text.get_text() == "gradient"
    assert n_colors(rgba_of(fig)) > 60
    save_and_check(fig, tmp_path, "gradient")


def test_hex_scatter_patches_in_sorted_order():
    u, v = get_hex_coords(3)
    perm = np.random.default_rng(0).permutation(len(u))
    values = np.arange(len(u), dtype=float)
    fig, ax, (_, sm) = plots.hex_scatter(u[perm], v[perm], values[perm], cbar=False)
    x, y = hex_to_pixel(u, v)
    for i, patch in enumerate(ax.patches):
        assert np.allclose(patch.xy, (x[i], y[i]))
        assert np.allclose(patch.get_facecolor(), sm.to_rgba(values[i]))


def test_quick_hex_scatter_binary_r_dark_and_bright(tmp_path):
    values = torch.linspace(0, 1, 721).reshape(1, 1, 1, 721)
    fig, ax, (label_text, sm) = plots.quick_hex_scatter(
        values.squeeze(), vmin=0, vmax=1, cbar_x_offset=0, fontsize=5
    )
    assert len(ax.patches) == 721
    gray = rgba_of(fig, dpi=150)[..., :3].mean(-1)
    assert (gray < 40).sum() > 100 and (gray > 215).sum() > 100
    labels = [a.get_label() for a in fig.axes[0].child_axes]
    assert "cbar" in labels
    save_and_check(fig, tmp_path, "quick")


def test_quick_hex_scatter_into_existing_axes_without_cbar():
    fig, axes = plt.subplots(1, 3)
    for ax in axes:
        out = plots.quick_hex_scatter(
            torch.rand(1, 721).flatten(), fig=fig, ax=ax, cbar=False
        )
        assert out[0] is fig and out[1] is ax
        assert len(ax.patches) == 721 and not ax.child_axes


def test_hex_scatter_errors_and_nan():
    u, v = get_hex_coords(2)
    with pytest.raises(ValueError, match="shape mismatch"):
        plots.hex_scatter(u, v, np.zeros(3))
    with pytest.raises(ValueError):
        plots.quick_hex_scatter(np.zeros(20))
    values = np.ones(len(u))
    values[0] = np.nan
    fig, ax, _ = plots.hex_scatter(
        u, v, values, fill=True, max_extent=3, cbar=False, frame=True, annotate=True
    )
    n_extent3 = 37
    assert len(ax.patches) == n_extent3 + 24  # lattice + frame ring of extent 4
    assert np.allclose(ax.patches[0].get_facecolor(), (1, 1, 1, 1))  # NaN is white
    # scalar values are broadcast
    _, ax, _ = plots.hex_scatter(u, v, 0.5, cbar=False)
    assert len(ax.patches) == len(u)


def test_kernel_sign_error_and_render(tmp_path):
    u, v = get_hex_coords(2)
    with pytest.raises(plots.SignError):
        plots.kernel(u, v, np.linspace(-1, 1, len(u)))
    fig, ax, (_, sm) = plots.kernel(u[:7], v[:7], np.arange(7.0))
    assert isinstance(sm.norm, mcolors.TwoSlopeNorm)
    assert sm.norm.vmin == pytest.approx(-sm.norm.vmax)  # one-signed range mirrored
    save_and_check(fig, tmp_path, "kernel")
    fig, ax, _ = plots.hex_cs(extent=2)
    assert len(ax.texts) >= 19


# -- flow ---------------------------------------------------------------------------


def _unit_flow(degrees, magnitude=1.0):
    a = np.radians(np.atleast_1d(degrees))
    return (magnitude * np.stack([np.cos(a), np.sin(a)])).reshape(2, 1, -1)


def _hue(rgba):
    return mcolors.rgb_to_hsv(np.asarray(rgba)[..., :3])[..., 0]


def _hue_distance(a, b):
    d = abs(a - b) % 1
    return min(d, 1 - d)


def test_flow_to_rgba_hue_encodes_direction():
    rgba = plots.flow_to_rgba(_unit_flow([0, 90, 180, 270]))
    assert rgba.shape == (1, 4, 4)
    h0, h90, h180, h270 = _hue(rgba[0])
    # default map: 0 deg red, 90 deg yellow-green, 180 deg cyan, 270 deg violet
    assert _hue_distance(h0, 0.0) < 0.08
    assert _hue_distance(h90, 0.25) < 0.08
    assert _hue_distance(h180, 0.5) < 0.08
    assert _hue_distance(h270, 0.75) < 0.08
    assert _hue_distance(h0, h180) > 0.4
    # with matplotlib's hsv map, direction in [-pi, pi] maps linearly onto hue
    hsv = plots.flow_to_rgba(_unit_flow([0, 90, 180]), cmap="hsv")
    assert np.allclose(_hue(hsv[0]), [0.5, 0.75, 0.0], atol=0.02) or np.allclose(
        _hue(hsv[0]), [0.5, 0.75, 1.0], atol=0.02
    )


def test_flow_to_rgba_magnitude_is_alpha_or_saturation():
    flow = np.concatenate(
        [_unit_flow(45, 0.0), _unit_flow(45, 0.5), _unit_flow(45, 1.0)], axis=2
    )
    alpha = plots.flow_to_rgba(flow)[0, :, 3]
    assert np.allclose(alpha, [0, 0.5, 1])
    sat = plots.flow_to_rgba(flow, mode="saturation")[0]
    s = mcolors.rgb_to_hsv(sat[:, :3])[:, 1]
    assert s[0] == pytest.approx(0, abs=1e-6)  # zero flow is unsaturated (white)
    assert np.allclose(sat[0, :3], 1)
    assert s[1] < s[2]
    assert _hue_distance(_hue(sat[1]), _hue(sat[2])) < 0.01  # hue kept
    assert np.all(sat[:, 3] == 1)
    with pytest.raises(ValueError):
        plots.flow_to_rgba(np.zeros((3, 2, 2)))


def test_cm_uniform_2d_is_cyclic_and_isoluminant():
    colors = cm_uniform_2d(np.linspace(0, 1, 256))[:, :3]
    assert cm_uniform_2d.N == 256
    assert np.abs(colors[0] - colors[-1]).max() < 0.05  # cyclic
    luminance = colors @ np.array([0.2126, 0.7152, 0.0722])
    assert luminance.std() < 0.06


def test_hex_flow_and_colorwheel(tmp_path):
    u, v = get_hex_coords(5)
    x, y = hex_to_pixel(u, v)
    flow = np.stack([x, y])  # radial flow, all directions
    fig, ax, (label_text, sm, cb, cs) = plots.hex_flow(
        u, v, torch.tensor(flow), figsize=(2, 2), label="flow"
    )
    assert len(ax.patches) == len(u)
    assert cb.get_label() == "cb"
    assert "annotation" in [a.get_label() for a in ax.child_axes]
    alphas = np.array([p.get_facecolor()[3] for p in ax.patches])
    r = np.hypot(*flow)
    assert np.allclose(alphas, r / r.max(), atol=1e-6)
    assert n_colors(rgba_of(fig)) > 100
    save_and_check(fig, tmp_path, "hexflow")
    fig, ax, _ = plots.quick_hex_flow(flow[None], cwheel=False)
    assert len(ax.patches) == len(u)
    fig, ax = plots.plot_flow(np.random.randn(2, 8, 8))
    save_and_check(fig, tmp_path, "plot_flow")


def test_flow_arrows_step_and_threshold(tmp_path):
    u, v = get_hex_coords(6)
    x, y = hex_to_pixel(u, v)
    flow = np.stack([x, y])
    step, threshold = 2, 3.0
    fig, ax, quiver = plots.flow_arrows(
        u, v, flow, step=step, threshold=threshold, background=np.cos(u / 3.0)
    )
    expected = (u % step == 0) & (v % step == 0) & (np.hypot(*flow) > threshold)
    assert quiver.N == expected.sum() > 0
    assert len(ax.patches) == len(u)  # grey background hexagons
    save_and_check(fig, tmp_path, "arrows")
    # drawing onto an existing axis without background
    fig2, ax2 = plt_utils.init_plot()
    _, _, q2 = plots.flow_arrows(u, v, flow, ax=ax2, step=1, background=False)
    assert q2.N == (np.hypot(*flow) > 0).sum() and not ax2.patches


# -- traces and distributions -------------------------------------------------------


def test_traces_and_grouped(tmp_path):
    t = np.linspace(0, 1, 200)
    trace = np.stack([np.sin(2 * np.pi * t * k) for k in (1, 2, 3)])
    fig, ax, out, label = plots.traces(
        torch.tensor(trace),
        x=t,
        contour=t > 0.5,
        legend=["a", "b", "c"],
        smooth=0.05,
        highlight_mean=True,
        null_line=True,
        stim_line=0.5,
        label="x",
        ylabel="r",
    )
    assert out.shape == (3, 20)
    assert "(smoothed)" in ax.get_ylabel()
    save_and_check(fig, tmp_path, "traces")
    fig, ax = plots.grouped_traces([trace[:2], trace[2:]], legend=["g1", "g2"])
    save_and_check(fig, tmp_path, "grouped")


def test_loss_curves_histogram_polar(tmp_path):
    rng = np.random.default_rng(0)
    losses = [
        np.exp(-np.linspace(0, 3, n)) + 0.05 * rng.random(n) for n in (100, 80, 120)
    ]
    fig, ax = plots.loss_curves(losses, mean=True, cbar=True)
    assert len(ax.lines) == 4
    save_and_check(fig, tmp_path, "loss")
    fig, ax = plots.histogram(rng.normal(size=500), bins=20)
    save_and_check(fig, tmp_path, "hist")
    theta = np.arange(0, 360, 30)
    r = np.stack([1 + np.cos(np.radians(theta)), 1 + np.sin(np.radians(theta))], axis=1)
    fig, ax = plots.polar(theta, r, color=["r", "b"])
    assert len(ax.lines) == 2 and len(ax.lines[0].get_xdata()) == len(theta) + 1
    save_and_check(fig, tmp_path, "polar")
    with pytest.warns(UserWarning):
        plots.polar(np.linspace(0, 2 * np.pi, 8), np.ones(8))


def test_violins_and_heatmap(tmp_path):
    rng = np.random.default_rng(1)
    values = rng.normal(size=(4, 2, 30))
    fig, ax, data = plots.violin_groups(
        values, xticklabels=list("abcd"), legend=["g1", "g2"]
    )
    assert data.locations.shape == (4, 2)
    save_and_check(fig, tmp_path, "violins")
    names = [f"p{i}" for i in range(25)]
    fig, axes = plots.violins(names, rng.normal(size=(30, 25)), max_per_ax=10)
    assert len(axes) == 3
    save_and_check(fig, tmp_path, "violins_many")
    matrix = rng.normal(size=(5, 5)) * (rng.random((5, 5)) > 0.3)
    fig, ax, cbar, m = plots.heatmap(matrix, list("abcde"), midpoint=0)
    assert cbar is not None and m.shape == (5, 5)
    save_and_check(fig, tmp_path, "heatmap")


# -- plt_utils ------------------------------------------------------------------------


def test_init_plot_and_rm_spines():
    fig, ax = plt_utils.init_plot(figsize=[1, 1], fontsize=5, title="t")
    assert fig.get_layout_engine() is not None
    assert ax.patch.get_alpha() == 0
    assert plt_utils.rm_spines(ax) is ax
    assert not any(s.get_visible() for s in ax.spines.values())
    fig2, ax2 = plt_utils.init_plot(ax=ax)
    assert fig2 is fig and ax2 is ax
    _, polar_ax = plt_utils.init_plot(projection="polar")
    assert polar_ax.name == "polar"


def test_get_norm_and_scalarmapper():
    assert plt_utils.get_norm(vmin=None, vmax=1) is None
    norm = mcolors.Normalize(0, 2)
    assert plt_utils.get_norm(norm=norm) is norm
    two = plt_utils.get_norm(vmin=0, vmax=2, midpoint=0)
    assert isinstance(two, mcolors.TwoSlopeNorm) and two.vmin == pytest.approx(-2)
    two = plt_utils.get_norm(vmin=-3, vmax=-1, midpoint=0)
    assert two.vmax == pytest.approx(3)
    assert isinstance(plt_utils.get_norm(vmin=1, vmax=10, log=True), mcolors.LogNorm)
    sym = plt_utils.get_norm(vmin=-1, vmax=5, symlog=0.1)
    assert isinstance(sym, mcolors.SymLogNorm) and sym.vmin == pytest.approx(-5)
    sm, n = plt_utils.get_scalarmapper(cmap="cm_uniform_2d", vmin=0, vmax=1)
    assert sm.norm is n and sm.cmap.name == "cm_uniform_2d"


def test_lims_grid_markers_pool():
    assert plt_utils.get_lims(np.zeros(5), 0.1) == (-1, 1)
    lo, hi = plt_utils.get_lims([np.array([0, 1, np.nan]), np.array([np.inf, 2])], 0.1)
    assert (lo, hi) == pytest.approx((-0.2, 2.2))
    assert plt_utils.get_lims(np.array([0, 1.0]), 0.5, min=0) == pytest.approx((0, 1.5))
    w, h = plt_utils.width_n_height(10, 1)
    assert w * h >= 10 and abs(w - h) <= 1
    w, h = plt_utils.width_n_height(10, 1, max_width=2)
    assert (w, h) == (2, 5)
    fig, axes, (w, h) = plt_utils.get_axis_grid(range(5), fontsize=5)
    assert len(axes) == 5 and w * h >= 5
    fig, matrix, _ = plt_utils.get_axis_grid(range(5), gridwidth=3, as_matrix=True)
    assert matrix.shape == (2, 3) and matrix[1, 2] is None
    assert plt_utils.check_markers(3) == plt_utils.MARKERS
    assert plt_utils.check_markers(10)[9] == "$9$"
    assert plt_utils.get_marker(9) == plt_utils.MARKERS[1]
    assert np.allclose(plt_utils.avg_pool(np.arange(10.0), 3), [1, 4, 7])
    assert plt_utils.closest_divisors(12) == (3, 4)
    cmap = plt_utils.truncate_colormap("viridis", 0.2, 0.8, n=10)
    assert np.allclose(cmap(0.0), plt.get_cmap("viridis")(0.2), atol=0.01)


def test_colorbar_and_colorwheel(tmp_path):
    fig, ax = plt_utils.init_plot(figsize=[2, 2])
    ax.plot([0, 1], [0, 1])
    norm = mcolors.TwoSlopeNorm(vcenter=0, vmin=-1, vmax=1)
    cbar = plt_utils.add_colorbar_to_fig(
        fig, [ax], cmap="seismic", norm=norm, n_ticks=5, label="v"
    )
    assert cbar.ax.get_label() == "cbar"
    assert len(cbar.get_ticks()) == 5
    cbar2 = plt_utils.add_colorbar_to_fig(
        fig,
        [ax],
        pos="bottom",
        discrete=True,
        n_discrete=3,
        discrete_labels=["a", "b", "c"],
    )
    assert [t.get_text() for t in cbar2.ax.get_xticklabels()] == ["a", "b", "c"]
    cb, cs = plt_utils.add_colorwheel_2d(fig, [ax], mode="1d")
    image = cs.get_array()
    assert image.shape[-1] == 4 and image[..., 3].max() == 1
    save_and_check(fig, tmp_path, "wheel")
    # several axes: positioned in figure coordinates
    fig, axes = plt.subplots(1, 2)
    cbar = plt_utils.add_colorbar_to_fig(fig, axes)
    assert cbar.ax in fig.axes


def test_color_utils_constants_and_helpers():
    from flyvis.analysis.visualization import color_utils
    from flyvis.utils import color_utils as core_colors

    assert core_colors.ON == color_utils.ON == "#af0019"
    assert core_colors.OFF == color_utils.OFF == "#00b2b2"
    with pytest.raises(AttributeError):
        core_colors.color_to_cmap  # noqa: B018  (matplotlib helpers: analysis only)
    cmap = color_utils.color_to_cmap(color_utils.ON)
    assert np.allclose(cmap(1.0)[:3], mcolors.to_rgb("#af0019"), atol=0.01)
    alpha_cmap = color_utils.get_alpha_colormap("red", 5)
    assert alpha_cmap(0.0)[3] == 0 and alpha_cmap(1.0)[3] == 1
    assert color_utils.adapt_color_alpha("red", 0.3) == (1.0, 0.0, 0.0, 0.3)
    assert len(list(color_utils.cmap_iter("viridis", N=4))) == 4
    with pytest.raises(AttributeError):
        color_utils.does_not_exist  # noqa: B018


@pytest.mark.parametrize("angle", [0, 90])
def test_stimulus_cartoon_frame_and_arrow(angle):
    from flyvis.analysis.visualization.stimulus_plots import stimulus_cartoon
    from flyvis.datasets.moving_bar import MovingEdge

    edges = MovingEdge(offsets=(-10, 11), intensities=(1,), speeds=(19,), angles=(0, 90))
    fig, ax = stimulus_cartoon(edges, angle=angle, width=80, intensity=1, speed=19)
    assert len(ax.patches) == 721
    # an ON edge halfway through the stimulus: part bright, part grey background
    colors = np.array([p.get_facecolor()[0] for p in ax.patches])
    assert (colors > 0.9).sum() > 20 and (np.abs(colors - 0.5) < 0.1).sum() > 50
    # the arrow points along the motion direction (x right at 0 deg, y up at 90)
    (arrow,) = [c for c in ax.texts if getattr(c, "arrow_patch", None) is not None]
    (x_head, y_head), (x_tail, y_tail) = arrow.xy, arrow.xyann
    dx, dy = x_head - x_tail, y_head - y_tail
    if angle == 0:
        assert dx > 0 and abs(dy) < 1e-9
    else:
        assert dy > 0 and abs(dx) < 1e-9
    plt.close(fig)


def test_hex_eye_illustrate_draws_every_ommatidium():
    from flyvis.datasets.rendering import HexEye
    from flyvis.datasets.rendering.hexeye import HexEye as CoreHexEye

    eye = HexEye(19, 9, device="cpu")
    assert isinstance(eye, CoreHexEye)  # the shim's class is the core class + illustrate
    fig, ax = eye.illustrate(figsize=(2, 2))
    # one outline per ommatidium; centres and pixels as two scatter collections
    assert len(ax.lines) == eye.n_ommatidia == 19
    assert len(ax.collections) == 2
    assert ax.get_ylim()[0] == eye.monitor_height_px  # image rows downwards
    plt.close(fig)
