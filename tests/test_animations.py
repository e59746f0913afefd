"""Animations: seed-notebook calls, stills, GIF export, selection rules."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from flyvis.analysis import animations  # noqa: E402
from flyvis.analysis.animations import animations as animations_module  # noqa: E402
from flyvis.analysis.animations.sintel import SintelSample  # noqa: E402

N4 = 61  # hexals of an extent-4 lattice (small and fast)


@pytest.fixture(autouse=True)
def _clean(monkeypatch, tmp_path):
    monkeypatch.delenv("TESTING", raising=False)
    monkeypatch.setenv("ANIMATION_DIR", str(tmp_path / "animations"))
    yield
    plt.close("all")


def gif_frames(path):
    with Image.open(path) as image:
        return image.n_frames


def face(ax, i):
    return np.asarray(ax.patches[i].get_facecolor())


def test_import_keeps_rcparams():
    before = dict(matplotlib.rcParams)
    anim = animations.HexScatter(np.random.rand(1, 2, 1, N4))
    anim.plot(0, 1)
    anim.save_gif(frames=[0])
    assert dict(matplotlib.rcParams) == before


def test_imshow_seed_call_and_gif(tmp_path):
    sequences = (np.random.rand(4, 5, 16, 16) * 255).astype(np.uint8)
    animation = animations.Imshow(sequences, cmap=plt.cm.binary_r)
    animation.animate_in_notebook(samples=[0, 1, 2])
    assert animation.batch_sample == 2
    assert np.array_equal(animation.img.get_array(), sequences[2, 4])
    assert list(animation.ax.get_position().bounds) == [0, 0, 1, 1]
    path = animation.save_gif(tmp_path / "imshow.gif", samples=[0, 1, 2], fps=5)
    assert gif_frames(path) == 3 * 5


def test_hexscatter_seed_call_recolours_patches(tmp_path):
    rendered = np.random.rand(2, 4, 1, N4)
    animation = animations.HexScatter(rendered, vmin=0, vmax=1)
    animation.animate_in_notebook()
    ax = animation.ax
    assert len(ax.patches) == N4
    assert (animation.batch_sample, animation.frames, animation.n_samples) == (1, 4, 2)
    expected = plt.cm.binary_r(rendered[1, 3, 0])
    got = np.array([face(ax, i) for i in range(N4)])
    assert np.allclose(got, expected, atol=1e-6)
    assert animation.label_text.get_text() == "Sample: 1\nFrame: 3"
    # negative frames count from the end
    animation.animate(-4)
    assert np.allclose(face(ax, 0), plt.cm.binary_r(rendered[1, 0, 0, 0]), atol=1e-6)
    path = animation.save_gif(tmp_path / "hex", fps=20)
    assert path.suffix == ".gif" and gif_frames(path) == 8
    with Image.open(path) as image:
        corner = np.asarray(image.convert("RGB"))[0, 0]
    assert np.all(corner > 240)  # transparent figure background saved on white


def test_hexscatter_accepts_tensors_and_per_sample_limits():
    data = torch.stack([torch.linspace(0, 1, N4), torch.linspace(0, 10, N4)])
    data = data[:, None].repeat(1, 3, 1)  # (2 samples, 3 frames, n_hexals), no channel
    animation = animations.HexScatter(data)
    fig = animation.plot(1, 0)
    assert fig is animation.fig
    assert animation.colorbar.norm.vmax == pytest.approx(10, abs=1e-6)
    animation.plot(0, 0)
    assert animation.colorbar.norm.vmax == pytest.approx(1, abs=1e-6)
    assert len(animation.ax.child_axes) == 1  # old colourbar removed
    with pytest.raises(ValueError):
        animations.HexScatter(np.zeros((1, 2, 2, N4)))
    with pytest.raises(ValueError):
        animations.HexScatter(np.zeros((1, 2, 1, 60)))


def test_stimulus_response_seed_calls():
    movie_input = torch.rand(6, 1, N4)
    responses = torch.randn(1, 6, N4)
    anim = animations.StimulusResponse(movie_input[None], responses[:, :, None])
    assert anim.frames == 6 and anim.n_samples == 1
    anim.animate_in_notebook(frames=np.arange(anim.frames)[::2])
    response_ax = anim.animations[1].ax
    norm = anim.animations[1].sm.norm
    assert norm.vcenter == 0
    assert norm.vmax == pytest.approx(responses.abs().max().item(), rel=1e-6)
    assert norm.vmin == pytest.approx(-norm.vmax)
    assert len(response_ax.patches) == N4

    ensemble = np.random.randn(5, 1, 6, N4)
    anim = animations.StimulusResponse(movie_input[None], ensemble[:, 0, :, None])
    assert anim.n_samples == 5
    anim.animate_in_notebook(samples=[0, 1, 4], frames=np.arange(anim.frames)[::3])
    assert all(a.batch_sample == 4 for a in anim.animations)
    expected = np.abs(ensemble[4]).max()
    assert anim.animations[1].sm.norm.vmax == pytest.approx(expected, rel=1e-6)

    anim = animations.StimulusResponse(
        movie_input[None], [ensemble[i][None, 0, :, None] for i in range(3)]
    )
    anim.animate_in_notebook(frames=np.arange(anim.frames)[::3])
    assert len(anim.animations) == 4
    colorbars = [a.colorbar is not None for a in anim.animations]
    assert colorbars == [False, False, False, True]


def test_sintel_sample_seed_calls(tmp_path):
    lum = torch.rand(5, 1, N4)
    flow = torch.randn(5, 2, N4)
    y_pred = torch.randn(1, 5, 2, N4, requires_grad=True) * 2
    animation = SintelSample(lum[None], flow[None], prediction=y_pred.detach().cpu())
    animation.animate_in_notebook(frames=np.arange(5)[::2])
    assert [type(a).__name__ for a in animation.animations] == [
        "HexScatter",
        "HexFlow",
        "HexFlow",
    ]
    assert [ax.get_title() for ax in animation.axes] == ["input", "target", "prediction"]
    flow_anim = animation.animations[1]
    r = np.hypot(*flow[4].numpy())
    alphas = np.array([face(flow_anim.ax, i)[3] for i in range(N4)])
    assert np.allclose(alphas, r / r.max(), atol=1e-6)
    path = animation.save_gif(tmp_path / "sintel.gif", frames=[0, 4])
    assert gif_frames(path) == 2

    animation = SintelSample(lum[None], lum[None], title2="input")
    animation.animate_in_notebook()
    assert [type(a).__name__ for a in animation.animations] == ["HexScatter"] * 2
    assert animation.axes[1].get_title() == "input"
    depth = torch.rand(1, 5, 1, N4)
    SintelSample(lum[None], depth).animate_in_notebook(frames=[0])


def test_hexflow_and_collector_still():
    flow = np.random.randn(2, 3, 2, N4)
    anim = animations.HexFlow(flow, cwheel=True)
    fig = anim.plot(1, 2)
    assert anim.label_text.get_text() == "Sample: 1\nFrame: 2"
    assert len(anim.ax.patches) == N4
    assert fig.canvas.get_width_height()[0] > 0


def test_traces(tmp_path):
    trace = np.cumsum(np.random.randn(2, 10), axis=1)
    anim = animations.Trace(torch.tensor(trace), dt=0.1, contour=np.linspace(0, 1, 10))
    anim.animate_in_notebook(samples=[1], frames=[0, 5])
    assert len(anim.lines[0].get_xdata()) == 6
    assert np.allclose(anim.lines[0].get_ydata(), trace[1, :6])
    path = anim.save_gif(tmp_path / "trace.gif", samples=[0])
    assert gif_frames(path) == 10

    multi = animations.MultiTrace(
        np.random.randn(1, 8, 3), legend=["a", "b", "c"], colors=["r", "g", "b"]
    )
    multi.animate_in_notebook(frames=[7])
    assert len(multi.lines) == 3 and len(multi.lines[2].get_xdata()) == 8


def test_testing_env_shows_first_frame_only(monkeypatch):
    monkeypatch.setenv("TESTING", "true")
    anim = animations.HexScatter(np.random.rand(3, 4, 1, N4))
    calls = []
    original = anim.animate

    def counting(frame):
        calls.append((anim.batch_sample, frame))
        original(frame)

    anim.animate = counting
    anim.animate_in_notebook(repeat=3)
    assert calls == [(0, 0)]


def test_frame_and_sample_selection():
    select = animations_module._select
    assert select("all", 3) == [0, 1, 2]
    assert select([5, 2, 0, 2, -1], 4) == [0, 2]
    assert select(np.arange(10)[::4], 6) == [0, 4]
    assert select(torch.tensor([1]), 3) == [1]
    with pytest.raises(ValueError):
        select("some", 3)
    anim = animations.HexScatter(np.random.rand(1, 2, 1, N4))
    with pytest.raises(ValueError):
        anim.animate_in_notebook(frames=[10])


def test_mp4_needs_ffmpeg(monkeypatch, tmp_path):
    monkeypatch.setattr(animations_module, "find_ffmpeg", lambda: None)
    anim = animations.HexScatter(np.random.rand(1, 2, 1, N4))
    with pytest.raises(RuntimeError, match="imageio-ffmpeg"):
        anim.save_mp4(tmp_path / "a.mp4")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert anim.to_vid("a", frames=[0], type="mp4", dest_path=tmp_path) is None
    assert any("ffmpeg" in str(w.message) for w in caught)
    with pytest.raises(ValueError):
        animations.convert(tmp_path, tmp_path / "a.avi", type="avi")


@pytest.mark.skipif(animations.find_ffmpeg() is None, reason="no ffmpeg binary")
def test_mp4_with_ffmpeg(tmp_path):  # pragma: no cover - depends on the machine
    anim = animations.HexScatter(np.random.rand(1, 3, 1, N4))
    path = anim.save_mp4(tmp_path / "a.mp4", fps=5)
    assert path.stat().st_size > 0
    video = anim.to_vid("b", type="mp4", dest_path=tmp_path)
    assert video.exists()


def test_to_numpy_detaches_tensors():
    x = torch.randn(3, requires_grad=True) * 2
    assert isinstance(animations_module.to_numpy(x), np.ndarray)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensors():  # pragma: no cover - needs a GPU
    from flyvis.analysis.visualization import plots

    lum = torch.rand(1, 2, 1, N4, device="cuda")
    flow = torch.randn(1, 2, 2, N4, device="cuda")
    SintelSample(lum, flow, prediction=flow * 2).plot(0, 1)
    animations.StimulusResponse(lum, [lum - 0.5]).plot(0, 1)
    plots.quick_hex_scatter(lum[0, 0], cbar=False)
    plots.quick_hex_flow(flow[0, 0], cwheel=False)


def _gif_frame_stats(path):
    """Per-frame (grey std, RGB array) of an animated GIF."""
    frames = []
    with Image.open(path) as image:
        for i in range(image.n_frames):
            image.seek(i)
            frames.append(np.asarray(image.convert("RGB"), dtype=float) / 255)
    return frames


@pytest.mark.parametrize(
    "name", ["Imshow", "HexScatter", "HexFlow", "StimulusResponse", "SintelSample"]
)
def test_every_animation_renders_non_blank_gif(name, tmp_path):
    rng = np.random.default_rng(0)
    n_frames = 3
    ramp = np.linspace(0, 1, N4)[None, None, None] * np.ones((1, n_frames, 1, 1))
    ramp = ramp + 0.2 * np.arange(n_frames)[None, :, None, None]  # frames differ
    flow = rng.normal(size=(1, n_frames, 2, N4))
    make = {
        "Imshow": lambda: animations.Imshow(rng.random((1, n_frames, 12, 12))),
        "HexScatter": lambda: animations.HexScatter(ramp, vmin=0, vmax=1.5),
        "HexFlow": lambda: animations.HexFlow(flow),
        "StimulusResponse": lambda: animations.StimulusResponse(ramp, ramp - 0.6),
        "SintelSample": lambda: SintelSample(ramp, flow, prediction=-flow),
    }
    anim = make[name]()
    path = anim.save_gif(tmp_path / f"{name}.gif", fps=5, dpi=40)
    frames = _gif_frame_stats(path)
    assert len(frames) == n_frames
    for frame in frames:
        assert frame.mean(-1).std() > 0.03, f"{name}: blank GIF frame"
        assert (np.abs(frame - 1).max(-1) > 0.1).mean() > 0.01
    assert not np.allclose(frames[0], frames[-1]), f"{name}: frames do not change"


def test_to_jshtml_embeds_all_frames():
    anim = animations.HexScatter(np.random.rand(2, 3, 1, N4))
    html = anim.to_jshtml(frames=[0, 2], samples="all", dpi=30)
    assert "<script" in html and html.count("data:image/png;base64") == 4
    with pytest.raises(ValueError):
        anim.to_jshtml(frames=[7])


def test_animate_in_notebook_html(monkeypatch):
    import sys

    anim = animations.HexFlow(np.random.randn(1, 2, 2, N4))
    try:
        import IPython  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install ipython"):
            anim.animate_in_notebook(html=True)
    else:  # pragma: no cover - depends on the environment
        from IPython.display import HTML

        out = anim.animate_in_notebook(html=True, dpi=30)
        assert isinstance(out, HTML) and "<script" in out.data
        monkeypatch.setitem(sys.modules, "IPython", None)
        monkeypatch.setitem(sys.modules, "IPython.display", None)
        with pytest.raises(ImportError, match="pip install ipython"):
            anim.animate_in_notebook(html=True)
    # default: live playback returns nothing
    assert anim.animate_in_notebook(frames=[1]) is None
