"""Synthetic stimuli: flashes, moving bars/edges, dots/impulses, gratings, HexEye,
example movies (random blocks, Moving MNIST) and video reading."""

import math
import sys

import numpy as np
import pytest
import torch
from datamate import set_root_context

from flyvis.datasets.dots import CentralImpulses, Dots, SpatialImpulses
from flyvis.datasets.flashes import Flashes, RenderedFlashes, render_flash
from flyvis.datasets.gratings import MovingGratings
from flyvis.datasets.moving_bar import (
    MovingBar,
    MovingEdge,
    RenderedOffsets,
    filter_post,
    filter_pre,
)
from flyvis.datasets.rendering.hexeye import (
    HexEye,
    bar_coverage,
    hexagon_sample_points,
    hexal_centers,
    render_bars,
)
from flyvis.datasets.video import read_video, resample_frame_indices
from flyvis.utils.dataset_utils import (
    load_moving_mnist,
    moving_mnist_offline,
    random_walk_of_blocks,
)
from flyvis.utils.hex_utils import get_hex_coords, hex_to_pixel

LED = math.radians(2.25)
OMM = math.radians(5.8)
SPEEDS = [2.4, 4.8, 9.7, 13, 19, 25]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("renderings")
    with set_root_context(path):
        yield path


@pytest.fixture(scope="module")
def edge(root):
    return MovingEdge(device="cpu")


@pytest.fixture(scope="module")
def full_edge(root):
    return MovingEdge(device="cpu", height=80, speeds=[19], angles=[0, 30, 90, 180])


# ---------------------------------------------------------------------------
# flashes


def test_render_flash():
    x = render_flash(721, 1.0, 0.5, 1.0, 0.5, 0.01, (0, 1, 0), 6)
    assert x.shape == (200, 721)
    assert (x[:50] == 0.5).all() and (x[150:] == 0.5).all()
    assert (x[50:150] == 1).sum(axis=1).tolist() == [127] * 100
    full = render_flash(721, 0.0, 0.5, 1.0, 0.5, 0.01, (0, 1), -1)
    assert full.shape == (150, 721) and (full[50:] == 0).all()


def test_flashes_defaults(root):
    data = Flashes()
    assert len(data) == 4
    assert data.arg_df.columns.tolist() == ["baseline", "intensity", "radius"]
    assert data.arg_df.values.tolist() == [
        [0.5, 0, -1],
        [0.5, 0, 6],
        [0.5, 1, -1],
        [0.5, 1, 6],
    ]
    assert data[0].shape == (600, 721) and data[0].dtype == torch.float32
    assert (data[2][200:400] == 1).all() and (data[2][:200] == 0.5).all()
    assert int((data[3][300] == 1).sum()) == 127
    assert data.t_pre == 1.0 and data.t_stim == 1.0 and data.t_post == 0.0
    assert data.config.type == "RenderedFlashes" and data.baseline == 0.5
    assert "Flashes dataset. Parametrization:" in repr(data)
    assert Flashes().flashes_dir.path == data.flashes_dir.path  # cached
    assert RenderedFlashes(dict(data.config.to_dict())).path == data.flashes_dir.path
    with pytest.raises(AssertionError):
        Flashes(alternations=(1, 0))
    # deliberate difference: a new dt re-renders
    data.dt = 1 / 100
    assert data[0].shape == (300, 721) and data.config.dt == 0.01


# ---------------------------------------------------------------------------
# moving edges and bars


def test_moving_edge_defaults(edge):
    assert len(edge) == 144
    assert edge.arg_df.columns.tolist() == [
        "angle",
        "width",
        "intensity",
        "t_stim",
        "speed",
    ]
    assert edge.arg_df.width.unique().tolist() == [80]
    np.testing.assert_allclose(
        edge.t_stim, [3.394, 1.697, 0.840, 0.627, 0.429, 0.326], atol=1e-3
    )
    assert edge.n_frames == 1078
    expected_nan = [0, 339, 511, 553, 593, 613]
    for speed, n_nan in zip(SPEEDS, expected_nan):
        x = edge.get(0, 80, 1, speed)
        assert x.shape == (1078, 721) and x.dtype == torch.float32
        assert int(torch.isnan(x[:, 0]).sum()) == n_nan
        assert torch.isnan(x[1078 - n_nan :]).all()
        assert not torch.isnan(x[: 1078 - n_nan]).any()
    assert edge.rendered.shape == (24, 21, 721)
    assert len(edge.time) == 1078
    assert edge.time_to_center(19) == pytest.approx(10 * 2.25 / (19 * 5.8))
    assert MovingEdge(device="cpu").offsets_dir.path == edge.offsets_dir.path


def test_off_edge_central_trace(edge):
    trace = edge.stimulus(angle=0, width=80, intensity=0, speed=19)
    assert trace.shape == (1078,)
    assert (trace[:238] == 0.5).all()  # grey until the edge reaches the centre
    assert trace[242] == pytest.approx(0.25, abs=1e-9)  # edge through the centre
    assert (trace[252:485] == 0).all()  # dark after; "continue" post padding
    assert np.isnan(trace[485:]).all()
    onset = int(np.argmax(trace < 0.5))
    assert 236 <= onset <= 242
    no_post = edge.stimulus(0, 80, 0, 19, pre_stim=False, post_stim=False)
    assert len(no_post) == 85 and not np.isnan(no_post).any()


def test_background_exactly_grey_at_all_angles(edge):
    for angle in (30, 60, 150, 330):
        x = edge.get(angle, 80, 1, 19)
        assert (x[:200] == 0.5).all()
        first = x[200]
        assert (first == 0.5).sum() > 300  # ahead of the edge: exactly grey
        assert set(first.unique().tolist()) >= {0.5, 1.0}


def test_edge_direction_convention(full_edge):
    u, v = get_hex_coords(15)
    x, y = hex_to_pixel(u, v)
    c30 = v * math.cos(math.radians(30)) - (u + v / 2) * math.sin(math.radians(30))
    for angle, coord in ((0, x), (180, -x), (90, y), (30, c30)):
        stim = full_edge.get(angle, 80, 1, 19).numpy()
        reached = stim[200:285] > 0.5 + 1e-6
        ok = reached.any(axis=0) & ~reached[0]  # swept over during the motion
        onset = np.argmax(reached, axis=0).astype(float)
        r = np.corrcoef(onset[ok], coord[ok])[0, 1]
        assert r > 0.9, (angle, r)
    # the edge sweeps +-22.5 deg: at 19 col/s it reaches x = 1.5 v columns later
    stim = full_edge.get(0, 80, 1, 19).numpy()
    i0 = np.flatnonzero((u == 0) & (v == 0))[0]
    i2 = np.flatnonzero((u == -1) & (v == 2))[0]  # same height, 2 columns right
    t0 = np.argmax(stim[:, i0] > 0.75)
    t2 = np.argmax(stim[:, i2] > 0.75)
    assert t2 - t0 == pytest.approx(2 / 19 / 0.005, abs=5)


def test_moving_bar_defaults_and_api(root):
    bar = MovingBar(device="cpu")
    assert len(bar) == 432 and len(bar.arg_group_df) == 72
    assert bar.arg_df.iloc[0].tolist() == pytest.approx([0, 1, 0, bar.t_stim[0], 2.4])
    assert bar.arg_df.iloc[-1][["angle", "width", "intensity", "speed"]].tolist() == [
        330,
        4,
        1,
        25,
    ]
    assert bar[0].shape == (1078, 721)
    assert bar.sample_shape() == (12, 3, 2, 6)
    assert bar.sample_shape(angle=[0, 90], speed=19) == (2, 3, 2, 1)
    m = bar.mask(angle=[0, 90], width=2, speed=19)
    assert m.sum() == 4
    assert set(bar.arg_df[m].angle) == {0, 90}
    with pytest.raises(ValueError):
        bar.mask(angle=45)
    key = bar.get_sequence_id_from_arguments(90, 2, 1, 13)
    torch.testing.assert_close(bar[key], bar.get(90, 2, 1, 13), equal_nan=True)
    # the bar is exactly 0.5 outside, its intensity at the centre when centred
    trace = bar.stimulus(0, 4, 1, 19)
    assert trace[:200].tolist() == [0.5] * 200 and np.nanmax(trace) == 1.0
    # "value" post padding is grey; NaN tail after
    x = bar.get(30, 1, 0, 25)
    assert (x[265:465] == 0.5).all() and torch.isnan(x[465:]).all()
    # config rebuilds the dataset
    again = MovingBar(**bar.config.to_dict(), device="cpu")
    assert again.offsets_dir.path == bar.offsets_dir.path
    assert "MovingBar" in repr(bar)
    # deliberate difference: dt re-samples
    bar.dt = 1 / 100
    assert bar.n_frames == int((bar.t_stim_max + 2) / 0.01) == 539
    assert bar[0].shape == (539, 721) and len(bar.time) == 539
    assert bar.config.dt == 0.01


def test_moving_edge_config_roundtrip_and_options(root):
    edge = MovingEdge(
        device="cpu", speeds=[13], angles=[0], post_pad_mode="value", t_post=0.5
    )
    again = MovingEdge(**edge.config.to_dict(), device="cpu")
    assert again.arg_df.equals(edge.arg_df) and again.config == edge.config
    x = edge[0]
    n = int((edge.t_stim[0] + 1.0) / edge.dt)
    assert (x[n : n + 100] == 0.5).all()
    shuffled = MovingEdge(device="cpu", speeds=[13], angles=[0], shuffle_offsets=True)
    a, b = shuffled[0], MovingEdge(device="cpu", speeds=[13], angles=[0])[0]
    assert not torch.equal(a, b)
    n_stim = int(shuffled.t_stim[0] / shuffled.dt)
    a_stim, b_stim = a[200 : 200 + n_stim, 360], b[200 : 200 + n_stim, 360]
    assert torch.equal(a_stim.sort().values, b_stim.sort().values)
    lazy = MovingEdge(device="cpu", speeds=[13], angles=[0], build_stim_on_init=False)
    assert lazy._rendered is None and torch.equal(lazy[0], b)
    assert set(MovingEdge(device="cpu", speeds=[13], angles=[0]).sequences) == {13}


def test_filter_pre_post():
    resp = np.r_[np.zeros(10), np.ones(5), 2 * np.ones(4), np.full(3, np.nan)]
    assert filter_pre(resp, 0.1, 0.01).tolist()[:5] == [1.0] * 5
    assert filter_post(resp, 0.04, 0.01).tolist() == resp[:15].tolist()
    assert len(filter_post(resp[:19], 0.04, 0.01)) == 15
    two_d = np.stack([resp, resp], axis=1)
    assert filter_post(two_d, 0.04, 0.01).shape == (15, 2)


# ---------------------------------------------------------------------------
# renderer vs slow references


def _clip(poly, nx, ny, c):
    """Sutherland-Hodgman: keeps the part of a polygon with nx*x + ny*y <= c."""
    out = []
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        fp, fq = nx * p[0] + ny * p[1] - c, nx * q[0] + ny * q[1] - c
        if fp <= 0:
            out.append(p)
        if fp * fq < 0:
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def _area(poly):
    if len(poly) < 3:
        return 0.0
    return 0.5 * abs(
        sum(
            poly[i][0] * poly[(i + 1) % len(poly)][1]
            - poly[(i + 1) % len(poly)][0] * poly[i][1]
            for i in range(len(poly))
        )
    )


def _exact_fraction(center, angle, d_lo, d_hi, n_lo, n_hi):
    r = 0.5 * 2 / math.sqrt(3)
    hexagon = [
        (
            center[0] + r * math.cos(k * math.pi / 3),
            center[1] + r * math.sin(k * math.pi / 3),
        )
        for k in range(6)
    ]
    a = math.radians(angle)
    d, n = (math.cos(a), math.sin(a)), (-math.sin(a), math.cos(a))
    poly = hexagon
    for (vx, vy), lo, hi in ((d, d_lo, d_hi), (n, n_lo, n_hi)):
        if math.isfinite(hi):
            poly = _clip(poly, vx, vy, hi)
        if math.isfinite(lo):
            poly = _clip(poly, -vx, -vy, -lo)
    return _area(poly) / _area(hexagon)


@pytest.mark.parametrize("angle", [0, 30, 45, 100, 210])
def test_coverage_matches_exact_area(angle):
    """Sampled coverage vs exact polygon clipping of hexagon and rectangle."""
    centers = hexal_centers(15)
    for d_lo, d_hi, n_lo, n_hi in (
        (-np.inf, 0.3, -np.inf, np.inf),  # an edge
        (-3.7, 2.2, -4.2, 5.6),  # a rectangle
        (1.0, 1.4, -np.inf, 2.0),  # a thin bar reaching the border
    ):
        exact = np.array(
            [_exact_fraction(c, angle, d_lo, d_hi, n_lo, n_hi) for c in centers]
        )
        assert ((exact > 0) & (exact < 1)).sum() >= 5
        for ppo, tol in ((25, 0.05), (100, 0.013)):
            fast = bar_coverage(angle, [d_lo], [d_hi], n_lo, n_hi, ppo=ppo)[0]
            assert np.abs(fast - exact).max() < tol
            assert np.abs(fast - exact).mean() < tol / 10


@pytest.mark.parametrize(
    "angle,width,height,loc",
    [(0, 1, 9, 90), (30, 2, 9, 90), (45, 4, 20, 90), (240, 80, 9, 0), (300, 80, 80, 0)],
)
def test_bars_match_pixel_image_reference(angle, width, height, loc):
    """Analytic bars vs a monitor image of the bar pooled by HexEye (flyvis-like)."""
    eye = HexEye(721, 25, device="cpu")
    offsets = np.array([-10, -3, 0, 4, 10]) * LED
    fast = eye.render_offset_bars(
        width * LED,
        height * LED,
        1,
        offsets,
        0.0,
        0.5,
        angle,
        bar_loc_horizontal=math.radians(loc),
    )
    images = eye.render_offset_bars(
        width * LED,
        height * LED,
        1,
        offsets,
        0.0,
        0.5,
        angle,
        bar_loc_horizontal=math.radians(loc),
        cartesian=True,
    )
    assert images.shape == (5, 775, 775)
    slow = eye(images)
    assert (fast - slow).abs().max() < 0.035
    assert (fast - slow).abs().mean() < 0.002


def test_render_bars_geometry():
    # a 1-LED bar centred at offset 0 and angle 0 covers the central hexal
    # symmetrically: coverage = width / hexagon width at the centre
    out = render_bars([0], [4 * LED], [0.0], 9 * LED, [1.0], ppo=50)
    assert out.shape == (1, 1, 1, 1, 721)
    centre = out[0, 0, 0, 0, 360]
    assert 0.5 < centre <= 1.0
    # background far away is exactly bg
    assert (out[0, 0, 0, 0, :50] == 0.5).all()
    assert len(hexagon_sample_points(25)) == 528


def test_hexeye():
    eye = HexEye(721, 25, device="cpu")
    assert eye.monitor_width_px == eye.monitor_height_px == 775
    assert eye.kernel_sum.max() == 541 and eye.n_hex_circfer == 31
    img = torch.full((2, 775, 775), 0.7)
    assert torch.allclose(eye(img), torch.full((2, 721), 0.7))
    assert torch.allclose(eye(img, mode="sum"), 0.7 * eye.kernel_sum)
    assert torch.allclose(eye(img, mode="median"), torch.full((2, 721), 0.7))
    assert eye(torch.rand(1, 64, 64)).shape == (1, 721)  # resized
    with pytest.raises(ValueError, match="does not fill a regular hex grid"):
        HexEye(720)
    small = HexEye(7, 10, device="cpu")
    assert small.is_inside.shape == (900, 7)
    movie = small.render_bar_movie(
        0.1, 0.01, LED * 4, LED * 9, 1, [-LED, 0, LED], 1, 0.5, 0
    )
    assert movie.shape == (3 * 3, 7)
    with pytest.raises(ValueError):
        small.render_bar_movie(0.01, 0.01, LED, LED, 1, [-LED, 0, LED], 1, 0.5, 0)
    grating = eye.render_grating_offsets(math.radians(5.8 * 4), 1.0, 0.0, 0)
    n_phases = math.ceil(math.radians(5.8 * 4) / math.radians(2.9))
    assert grating.shape == (n_phases, 721)
    assert float(grating.mean()) == pytest.approx(0.5, abs=0.05)


# ---------------------------------------------------------------------------
# dots and impulses


def test_dots_defaults():
    dots = Dots(device="cpu")
    assert len(dots) == 721 * 2
    assert dots.arg_df.columns.tolist() == [
        "u",
        "v",
        "offset",
        "coordinate_index",
        "intensity",
    ]
    assert dots.arg_df.intensity[:2].tolist() == [0, 1]
    x = dots[dots.get_stimulus_index(0, 0, 1)]
    assert x.shape == (1400, 721)
    assert (x[:400] == 0.5).all() and (x[400:, 360] == 1).all()
    assert (x[400:, 359] == 0.5).all()
    big = Dots(dot_column_radius=1, max_extent=2, device="cpu")
    assert len(big) == 19 * 2 and len(big.arg_df.coordinate_index[0]) == 7
    with pytest.raises(ValueError):
        Dots(dot_column_radius=3, max_extent=2)


def test_central_and_spatial_impulses():
    central = CentralImpulses(device="cpu")
    assert len(central) == 12
    assert central.arg_df.columns.tolist()[-1] == "t_impulse"
    counts = [int((central[i][:, 360] != 0.5).sum()) for i in range(12)]
    assert counts == [1, 4, 10, 20, 40, 60] * 2
    assert central[0].shape == (1400, 721)
    assert central.t_pre == 2.0 and central.t_post == 0
    assert "impulse_durations" in central.config
    assert len(CentralImpulses(**central.config.to_dict(), device="cpu")) == 12
    analysis = CentralImpulses(t_stim=2, t_pre=1.0, device="cpu")
    assert analysis[5].shape == (600, 721)
    spatial = SpatialImpulses(device="cpu")
    assert len(spatial) == 244
    assert spatial.arg_df[["u", "v"]].drop_duplicates().shape[0] == 61


# ---------------------------------------------------------------------------
# gratings


def test_moving_gratings():
    g = MovingGratings(angles=[0, 90], device="cpu")
    assert len(g) == 2
    assert g.arg_df.columns.tolist() == [
        "angle",
        "period",
        "temporal_frequency",
        "contrast",
        "speed",
    ]
    x = g[0]
    assert x.shape == (600, 721) and (x[:200] == 0.5).all()
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    # drift to the right: a hexal 2 columns to the right lags by 2 columns / speed
    s = MovingGratings(angles=[0], waveform="sine", device="cpu")[0].numpy()[200:]
    u, v = get_hex_coords(15)
    a = s[:, np.flatnonzero((u == 0) & (v == 0))[0]]
    b = s[:, np.flatnonzero((u == -1) & (v == 2))[0]]
    lags = np.arange(0, 100)
    corr = [np.corrcoef(a[: 300 - lag], b[lag:300])[0, 1] for lag in lags]
    expected = 2 * 5.8 / 30.0 / 0.005  # 2 columns at 30 deg/s
    assert abs(lags[int(np.argmax(corr))] - expected) <= 3
    with pytest.raises(ValueError):
        MovingGratings(waveform="triangle")


# ---------------------------------------------------------------------------
# example movies


def test_random_walk_of_blocks():
    a = random_walk_of_blocks()
    b = random_walk_of_blocks()
    assert a.shape == (3, 20, 64, 64) and a.dtype == np.float64
    assert np.array_equal(a, b) and a.max() == 1.0
    assert (a == 0).sum() > 0  # the black blocks
    c = random_walk_of_blocks(seed=1, dataset_size=[2, 5, 32, 32], n_blocks=3)
    assert c.shape == (2, 5, 32, 32) and not np.array_equal(c[0, 0], a[0, 0, :32, :32])
    with pytest.raises(ValueError):
        random_walk_of_blocks(dataset_size=[1, 2, 32, 16])


def test_moving_mnist_offline():
    x = moving_mnist_offline(n_sequences=6, seed=3)
    assert x.shape == (6, 20, 64, 64) and x.dtype == np.float32
    assert x.min() == 0.0 and 0.9 < x.max() <= 1.0
    assert np.array_equal(x, moving_mnist_offline(n_sequences=6, seed=3))
    assert not np.array_equal(x, moving_mnist_offline(n_sequences=6, seed=4))
    # digits move: consecutive frames differ, mass stays (bouncing, no wrap)
    assert all(not np.array_equal(x[0, t], x[0, t + 1]) for t in range(19))
    mass = x[0].sum(axis=(1, 2))
    assert mass.min() > 0.5 * mass.max()


def test_load_moving_mnist_offline_error(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_moving_mnist(path=tmp_path, url="http://127.0.0.1:9/mnist_test_seq.npy")
    message = str(info.value)
    assert str(tmp_path / "mnist_test_seq.npy") in message
    assert "moving_mnist_offline" in message
    assert not list(tmp_path.iterdir())  # no partial file left


def test_load_moving_mnist_download_and_cache(tmp_path):
    raw = np.random.default_rng(0).integers(0, 256, (20, 3, 64, 64), dtype=np.uint8)
    source = tmp_path / "source.npy"
    np.save(source, raw)
    target = tmp_path / "root"
    x = load_moving_mnist(path=target, url=source.as_uri())
    assert x.shape == (3, 20, 64, 64) and x.dtype == np.float32
    np.testing.assert_allclose(x, raw.transpose(1, 0, 2, 3) / 255, rtol=1e-6)
    assert sorted(p.name for p in target.iterdir()) == ["mnist_test_seq.npy"]
    # cached: a broken URL is not needed any more; explicit file path works
    y = load_moving_mnist(path=target / "mnist_test_seq.npy", url="http://127.0.0.1:9/x")
    assert np.array_equal(x, y)
    # corrupt file -> re-downloaded
    (target / "mnist_test_seq.npy").write_bytes(b"not a npy file")
    z = load_moving_mnist(path=target, url=source.as_uri(), dtype=np.float64)
    assert z.dtype == np.float64 and np.allclose(z, x)


# ---------------------------------------------------------------------------
# video


def test_resample_frame_indices():
    assert resample_frame_indices(5, 10).tolist() == [0, 1, 2, 3, 4]
    idx = resample_frame_indices(20, 24, 100)
    assert len(idx) == 84 and idx[:8].tolist() == [0, 0, 0, 1, 1, 1, 1, 2]
    assert idx[-1] == 19
    assert resample_frame_indices(100, 50, 25).tolist() == list(range(0, 100, 2))
    assert resample_frame_indices(100, 50, None, start=0.5, stop=1.0).tolist() == list(
        range(25, 50)
    )
    assert resample_frame_indices(10, 10, 20, start=0.2, stop=0.4).tolist() == [
        2,
        3,
        3,
        4,
    ]
    with pytest.raises(ValueError):
        resample_frame_indices(10, 0, 10)


def test_read_video_gif_and_missing_ffmpeg(monkeypatch, tmp_path):
    import skimage

    gif = f"{skimage.__path__[0]}/data/no_time_for_that_tiny.gif"
    movie = read_video(gif)
    assert movie.ndim == 3 and movie.shape[0] == 24 and movie.dtype == np.float32
    assert 0 <= movie.min() and movie.max() <= 1
    resized = read_video(gif, framerate=50, size=(32, 20), start=0.0, stop=0.5)
    assert resized.shape == (25, 32, 20)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(ImportError, match="pip install imageio imageio-ffmpeg"):
        read_video(tmp_path / "movie.mp4")
    monkeypatch.setitem(sys.modules, "imageio", None)
    monkeypatch.setitem(sys.modules, "imageio.v2", None)
    with pytest.raises(ImportError, match="pip install imageio imageio-ffmpeg"):
        read_video(gif)


def test_rendered_offsets_cache_keyed_on_config(root):
    a = RenderedOffsets(dict(angles=[0], widths=[1], offsets=[-1, 0, 1]))
    b = RenderedOffsets(dict(angles=[0], widths=[1], offsets=[-1, 0, 1]))
    c = RenderedOffsets(dict(angles=[0], widths=[2], offsets=[-1, 0, 1]))
    assert a.path == b.path != c.path
    assert a.offsets[:].shape == (2, 3, 721) and a.offsets[:].dtype == np.float64
    import pickle

    assert pickle.loads(pickle.dumps(a)).path == a.path
