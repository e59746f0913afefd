"""Every public plot function renders a non-blank PNG under Agg.

Each figure is saved to PNG, read back, composited over white and checked
with pixel statistics: the grey-level standard deviation and the fraction of
pixels that differ from the white background must exceed small thresholds,
and the image must hold more than a couple of colours. (That importing the
visualization modules leaves ``matplotlib.rcParams`` unchanged is tested in
``test_visualization.py``.) ConnectomeView plots are checked the same way in
``test_connectome_view.py``.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from flyvis.analysis.visualization import plots, plt_utils  # noqa: E402
from flyvis.utils.hex_utils import get_hex_coords, hex_to_pixel  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def pixel_stats(fig, tmp_path, name, dpi=60):
    """(grey std, fraction of non-white pixels, number of colours) of the PNG."""
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=dpi)
    rgba = plt.imread(path)
    if rgba.shape[-1] == 4:
        rgb = rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])
    else:
        rgb = rgba
    grey = rgb.mean(-1)
    non_background = (np.abs(rgb - 1).max(-1) > 0.1).mean()
    n_colors = len(np.unique((rgb * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    return grey.std(), non_background, n_colors


def assert_not_blank(fig, tmp_path, name, min_std=0.03, min_fraction=0.005):
    std, fraction, n_colors = pixel_stats(fig, tmp_path, name)
    assert std > min_std, f"{name}: grey std {std:.4f} (blank figure?)"
    assert fraction > min_fraction, f"{name}: {fraction:.4f} non-background pixels"
    assert n_colors > 2, f"{name}: only {n_colors} colours"
    return std, fraction


def test_blank_figure_fails_the_check(tmp_path):
    fig, ax = plt_utils.init_plot()
    ax.set_axis_off()
    with pytest.raises(AssertionError):
        assert_not_blank(fig, tmp_path, "blank")


def test_hex_scatter_family(tmp_path):
    u, v = get_hex_coords(5)
    fig, _, _ = plots.hex_scatter(u, v, np.sin(u / 2.0) + np.cos(v / 3.0))
    assert_not_blank(fig, tmp_path, "hex_scatter")
    fig, _, _ = plots.quick_hex_scatter(np.linspace(0, 1, 91), cbar=False)
    _, fraction = assert_not_blank(fig, tmp_path, "quick_hex_scatter")
    assert fraction > 0.1  # half the hexagon is dark
    fig, _, _ = plots.kernel(u[:19], v[:19], np.arange(19.0))
    assert_not_blank(fig, tmp_path, "kernel")
    fig, _, _ = plots.hex_cs(extent=2)
    assert_not_blank(fig, tmp_path, "hex_cs", min_std=0.01)


def test_hex_flow_colour_wheel_and_arrows(tmp_path):
    u, v = get_hex_coords(5)
    x, y = hex_to_pixel(u, v)
    flow = np.stack([-y, x])  # rotation: all directions
    fig, _, _ = plots.hex_flow(u, v, flow, figsize=(2, 2))
    std, _ = assert_not_blank(fig, tmp_path, "hex_flow")
    fig, ax = plt_utils.init_plot(figsize=(1, 1))
    ax.set_axis_off()
    cb, cs = plt_utils.add_colorwheel_2d(fig, [ax], radius=0.8, pos="center")
    _, fraction = assert_not_blank(fig, tmp_path, "colorwheel")
    assert fraction > 0.15
    # hue varies around the wheel: many distinct colours
    assert pixel_stats(fig, tmp_path, "colorwheel")[2] > 200
    fig, _, quiver = plots.flow_arrows(u, v, flow, step=2, threshold=1.0)
    assert quiver.N > 0
    assert_not_blank(fig, tmp_path, "flow_arrows")
    fig, _ = plots.plot_flow(np.random.default_rng(0).normal(size=(2, 12, 12)))
    assert_not_blank(fig, tmp_path, "plot_flow")


def test_traces_polar_and_distributions(tmp_path):
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 100)
    fig, _, _, _ = plots.traces(np.stack([np.sin(6 * t), np.cos(6 * t)]), x=t)
    assert_not_blank(fig, tmp_path, "traces")
    fig, _ = plots.grouped_traces([rng.normal(size=(3, 50)), rng.normal(size=(2, 50))])
    assert_not_blank(fig, tmp_path, "grouped_traces")
    theta = np.arange(0, 360, 30)
    r = np.stack([1 + np.cos(np.radians(theta - s)) for s in (0, 90, 180)], axis=1)
    fig, ax = plots.polar(theta, r, color=["r", "g", "b"], linewidth=1)
    assert [line.get_color() for line in ax.lines] == ["r", "g", "b"]
    assert_not_blank(fig, tmp_path, "polar")
    losses = [np.exp(-np.linspace(0, 3, 80)) + 0.02 * rng.random(80) for _ in range(3)]
    fig, _ = plots.loss_curves(losses)
    assert_not_blank(fig, tmp_path, "loss_curves")
    fig, _ = plots.histogram(rng.normal(size=300), bins=15)
    assert_not_blank(fig, tmp_path, "histogram")
    fig, _, _ = plots.violin_groups(rng.normal(size=(3, 2, 20)))
    assert_not_blank(fig, tmp_path, "violin_groups")
    fig, _ = plots.violins([f"p{i}" for i in range(6)], rng.normal(size=(20, 6)))
    assert_not_blank(fig, tmp_path, "violins")
    fig, _, _, _ = plots.heatmap(rng.normal(size=(6, 6)), list("abcdef"), midpoint=0)
    assert_not_blank(fig, tmp_path, "heatmap")
