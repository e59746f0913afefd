"""Tests for flyvis.datasets.rendering (BoxEye and rendering helpers)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage

from flyvis.datasets.rendering import BoxEye
from flyvis.datasets.rendering import utils as rutils
from flyvis.utils.hex_utils import get_hex_coords

GOLDEN = Path(__file__).parent / "golden" / "golden_boxeye.npz"


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def eye():
    return BoxEye()


def _img(golden, name):
    return torch.from_numpy(golden[f"img_{name}"])[None, None]


# ---------------------------------------------------------------------------
# BoxEye geometry


def test_receptor_centers_match_golden(eye, golden):
    assert eye.receptor_centers.dtype == torch.long
    assert eye.receptor_centers.shape == (721, 2)
    np.testing.assert_array_equal(
        eye.receptor_centers.numpy(), golden["receptor_centers"]
    )
    np.testing.assert_array_equal(eye.min_frame_size.numpy(), golden["min_frame_size"])
    assert eye.hexals == 721
    assert eye.pad == (6, 6, 6, 6)
    assert eye.kernel_size == 13 and eye.extent == 15


def test_receptor_layout_facts(eye):
    rc = eye.receptor_centers.numpy()
    u, v = get_hex_coords(15)
    assert tuple(rc[360]) == (0, 0)
    for (du, dv), expected in {
        (0, 1): (6, 13),
        (0, -1): (-6, -13),
        (1, 0): (13, 0),
        (-1, 0): (-13, 0),
    }.items():
        i = np.flatnonzero((u == du) & (v == dv))[0]
        assert tuple(rc[i]) == expected
    assert rc.min() == -195 and rc.max() == 195


def test_small_extent_and_even_kernel():
    eye = BoxEye(extent=1, kernel_size=4)
    assert eye.hexals == 7
    assert eye.pad == (2, 1, 2, 1)
    np.testing.assert_array_equal(eye.min_frame_size.numpy(), [9, 9])
    out = eye(torch.rand(2, 3, 9, 9))
    assert out.shape == (2, 3, 1, 7)


# ---------------------------------------------------------------------------
# BoxEye golden parity


@pytest.mark.parametrize("name", ["gradient64", "checker64", "sincos400"])
def test_boxeye_mean_matches_golden(eye, golden, name):
    out = eye(_img(golden, name))
    assert out.shape == (1, 1, 1, 721)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(
        out.numpy().ravel(), golden[f"out_{name}"], atol=1e-5, rtol=0
    )


def test_boxeye_sum_matches_golden(eye, golden):
    out = eye(_img(golden, "sincos400"), ftype="sum")
    np.testing.assert_allclose(
        out.numpy().ravel(), golden["out_sincos400_sum"], atol=1e-5, rtol=0
    )


def test_boxeye_numpy_and_float64_input(eye, golden):
    img = golden["img_checker64"][None, None]
    ref = golden["out_checker64"]
    out_np = eye(img)
    assert isinstance(out_np, torch.Tensor) and out_np.dtype == torch.float32
    np.testing.assert_allclose(out_np.cpu().numpy().ravel(), ref, atol=1e-5, rtol=0)
    out64 = eye(torch.from_numpy(img.astype(np.float64)))
    assert out64.dtype == torch.float32
    np.testing.assert_allclose(out64.numpy().ravel(), ref, atol=1e-5, rtol=0)


def test_boxeye_output_shapes(eye):
    x = torch.rand(2, 3, 64, 64)
    assert eye(x).shape == (2, 3, 1, 721)
    assert eye(x, hex_sample=False).shape == (2, 3, 391, 391)
    assert eye.hex_render(x).shape == (2, 3, 1, 721)
    # larger frames are not resized
    assert eye(torch.rand(1, 2, 400, 420), hex_sample=False).shape == (1, 2, 400, 420)


def test_boxeye_batched_equals_single(eye):
    torch.manual_seed(0)
    x = torch.rand(2, 3, 48, 40)
    batched = eye(x)
    for s in range(2):
        for f in range(3):
            np.testing.assert_array_equal(
                batched[s, f].numpy(), eye(x[s : s + 1, f : f + 1])[0, 0]
            )


@pytest.mark.parametrize("ftype", ["mean", "sum", "median"])
def test_receptor_sampling_equals_filtered_frames(eye, golden, ftype):
    """The fast per-receptor path equals filtering whole frames, then sampling."""
    for name in ("gradient64", "sincos400"):
        img = _img(golden, name)
        fast = eye(img, ftype=ftype)
        frames = eye(img, ftype=ftype, hex_sample=False)
        np.testing.assert_allclose(
            fast.numpy(), eye.hex_render(frames).numpy(), atol=1e-5
        )


def test_constant_image_edge_darkening(eye):
    out = eye(torch.full((1, 1, 391, 391), 0.7))[0, 0, 0]
    assert abs(out.min().item() - 0.7 * 7 * 13 / 169) < 1e-5  # ~0.377 at corners
    assert torch.allclose(out[360], torch.tensor(0.7))
    u, v = get_hex_coords(15)
    edge = (np.abs(v) == 15) | ((np.abs(u) == 15) & (v == 0))
    assert edge.sum() == 34
    assert (out[torch.from_numpy(edge)] < 0.7 - 1e-3).all()
    assert torch.allclose(out[torch.from_numpy(~edge)], torch.tensor(0.7))


def test_boxeye_median_matches_utils(eye):
    torch.manual_seed(1)
    x = torch.rand(1, 2, 391, 391)
    frames = rutils.median(x, 13)
    np.testing.assert_array_equal(
        eye(x, ftype="median").numpy(), eye.hex_render(frames).numpy()
    )


def test_hex_render_point_samples(eye):
    x = torch.arange(400 * 402, dtype=torch.float32).reshape(1, 1, 400, 402)
    out = eye.hex_render(x)[0, 0, 0].long()
    rc = eye.receptor_centers
    expected = (rc[:, 0] + 200) * 402 + rc[:, 1] + 201
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_boxeye_does_not_modify_input(eye):
    x = torch.rand(1, 2, 391, 391)
    x0 = x.clone()
    for ftype in ("mean", "sum", "median"):
        eye(x, ftype=ftype)
        eye(x, ftype=ftype, hex_sample=False)
    assert torch.equal(x, x0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_boxeye_cuda(eye, golden):
    img = _img(golden, "checker64").cuda()
    out = eye(img)
    assert out.device.type == "cuda"
    np.testing.assert_allclose(
        out.cpu().numpy().ravel(), golden["out_checker64"], atol=1e-5
    )


# ---------------------------------------------------------------------------
# BoxEye errors


@pytest.mark.parametrize("shape", [(64, 64), (3, 64, 64), (1, 1, 1, 64, 64)])
def test_boxeye_wrong_ndim(eye, shape):
    with pytest.raises(ValueError, match=r"\(samples, frames, height, width\)"):
        eye(torch.rand(shape))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_boxeye_non_finite(eye, bad):
    x = torch.rand(1, 1, 64, 64)
    x[0, 0, 3, 4] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        eye(x)


def test_boxeye_unknown_ftype(eye):
    with pytest.raises(ValueError, match="mean.*sum.*median"):
        eye(torch.rand(1, 1, 64, 64), ftype="max")


def test_boxeye_bad_input_type(eye):
    with pytest.raises(ValueError, match="numpy array"):
        eye([[[[0.0]]]])


@pytest.mark.parametrize("kernel_size", [0, -3, 1.5, True, "13"])
def test_boxeye_bad_kernel_size(kernel_size):
    with pytest.raises(ValueError, match="kernel_size"):
        BoxEye(kernel_size=kernel_size)


@pytest.mark.parametrize("extent", [-1, 2.5, None])
def test_boxeye_bad_extent(extent):
    with pytest.raises(ValueError, match="extent"):
        BoxEye(extent=extent)


# ---------------------------------------------------------------------------
# illustrate


def test_illustrate_returns_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    eye = BoxEye(extent=2, kernel_size=5)
    fig = eye.illustrate()
    try:
        assert isinstance(fig, Figure)
        np.testing.assert_allclose(fig.get_size_inches(), [2, 2])
        (ax,) = fig.axes
        assert len(ax.collections) == 3  # pixels, boxes, receptor centres
        offsets = ax.collections[0].get_offsets()
        assert len(offsets) == 21 * 21
        assert len(ax.collections[1].get_segments()) == eye.hexals
        assert len(ax.collections[2].get_offsets()) == eye.hexals
        assert ax.get_xlim() == (-10.5, 10.5)
        assert not any(s.get_visible() for s in ax.spines.values())
        fig.canvas.draw()
    finally:
        plt.close(fig)


# ---------------------------------------------------------------------------
# median


@pytest.mark.parametrize("kernel_size", [1, 3, 5, 13])
def test_median_matches_scipy_mirror(kernel_size):
    """Torch "reflect" padding (edge not repeated) is scipy's mode="mirror"."""
    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 30, 27)).astype(np.float32)
    out = rutils.median(torch.from_numpy(x), kernel_size)
    assert out.shape == x.shape
    ref = ndimage.median_filter(x, size=(1, 1, kernel_size, kernel_size), mode="mirror")
    np.testing.assert_array_equal(out.numpy(), ref)
    if kernel_size > 1:  # scipy's "reflect" (edge repeated) is a different convention
        ref_reflect = ndimage.median_filter(
            x, size=(1, 1, kernel_size, kernel_size), mode="reflect"
        )
        assert not np.array_equal(out.numpy(), ref_reflect)


def test_median_even_kernel():
    """Even kernels pad (p//2, p - p//2), p = k - 1, and take the lower median."""
    rng = np.random.default_rng(1)
    x = rng.random((17, 19)).astype(np.float32)
    out = rutils.median(torch.from_numpy(x), 4)
    ref = ndimage.rank_filter(x, rank=7, size=4, mode="mirror", origin=-1)
    np.testing.assert_array_equal(out.numpy(), ref)


def test_median_shapes_chunks_and_no_inplace():
    torch.manual_seed(0)
    x4 = torch.rand(2, 5, 20, 22)
    x4_copy = x4.clone()
    full = rutils.median(x4, 5)
    chunked = rutils.median(x4, 5, n_chunks=4)
    assert torch.equal(full, chunked)
    assert torch.equal(x4, x4_copy)
    x2 = x4[0, 0].clone()
    out2 = rutils.median(x2, 5)
    assert x2.shape == (20, 22) and out2.shape == (20, 22)
    assert torch.equal(out2, full[0, 0])
    out3 = rutils.median(x4[0], 5)
    assert out3.shape == (5, 20, 22)
    assert torch.equal(out3, full[0])
    strided = rutils.median(x4, 5, stride=2)
    assert strided.shape == (2, 5, 10, 11)
    assert torch.equal(strided, full[..., ::2, ::2])
    out_np = rutils.median(x4.numpy(), 5)
    assert torch.equal(out_np, full)


def test_median_errors():
    with pytest.raises(ValueError, match="2-D"):
        rutils.median(torch.rand(5), 3)
    with pytest.raises(ValueError, match="kernel_size"):
        rutils.median(torch.rand(5, 5), 0)
    with pytest.raises(ValueError, match="stride"):
        rutils.median(torch.rand(5, 5), 3, stride=0)
    with pytest.raises(ValueError, match="too small"):
        rutils.median(torch.rand(4, 4), 13)


# ---------------------------------------------------------------------------
# split / center_crop


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_split_spec_example(lib):
    frame = np.tile(np.arange(1024), (436, 1))
    arr = frame if lib == "numpy" else torch.from_numpy(frame)
    splits = rutils.split(arr, 391 + 2 * 13, 3, center_crop_fraction=0.7)
    assert tuple(splits.shape) == (3, 436, 417)
    crop = np.arange(154, 870)
    assert len(crop) == 716
    for i, start in enumerate([0, 149, 298]):
        np.testing.assert_array_equal(np.asarray(splits[i, 0]), crop[start : start + 417])
    assert isinstance(splits, type(arr))


def test_split_special_cases():
    arr = np.arange(100).reshape(2, 50)
    assert rutils.split(arr, 10, 1, None).shape == (1, 2, 50)
    assert rutils.split(arr, 10, 0, None) is arr
    assert rutils.split(arr, 10, None, None) is arr
    np.testing.assert_array_equal(rutils.split(arr, 10, None), arr[:, 7:42])
    with pytest.raises(ValueError, match="n_splits"):
        rutils.split(arr, 10, -1)
    # width from int(N / n_splits) when larger than out_nelements
    assert rutils.split(arr, 10, 2, None).shape == (2, 2, 25)


def test_center_crop():
    arr = np.arange(1024)
    crop = rutils.center_crop(arr, 0.7)
    np.testing.assert_array_equal(crop, np.arange(154, 870))
    tcrop = rutils.center_crop(torch.arange(10), 0.5)
    assert tcrop.tolist() == [2, 3, 4, 5, 6]


# ---------------------------------------------------------------------------
# resample / pad / repeat_last / shuffle


def test_resample():
    stims = torch.arange(5).float()
    out, idx = rutils.resample(stims, 1.0, 0.1, return_indices=True)
    assert idx.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 4]
    assert out.tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 4]
    down = rutils.resample(torch.arange(10).reshape(1, 10, 1), 0.4, 0.1, dim=1)
    assert down.shape == (1, 4, 1) and down.ravel().tolist() == [0, 3, 6, 9]
    out_np = rutils.resample(np.arange(5), 1.0, 0.1)
    assert isinstance(out_np, np.ndarray)
    np.testing.assert_array_equal(out_np, [0, 0, 0, 1, 1, 2, 2, 3, 3, 4])


def test_pad():
    stim = torch.arange(6, dtype=torch.float32).reshape(3, 2)  # (frames, hexals)
    out = rutils.pad(stim, 0.5, 0.1, fill=-1)
    assert out.shape == (5, 2)
    assert out[3:].tolist() == [[-1, -1], [-1, -1]] and torch.equal(out[:3], stim)
    start = rutils.pad(stim, 0.5, 0.1, mode="start")
    assert start[:2].tolist() == [[0, 0], [0, 0]] and torch.equal(start[2:], stim)
    cont = rutils.pad(stim, 0.5, 0.1, pad_mode="continue")
    assert cont[3:].tolist() == [[4, 5], [4, 5]]
    refl = rutils.pad(stim, 0.5, 0.1, pad_mode="reflect")
    assert refl[3:].tolist() == [[2, 3], [0, 1]]
    batched = rutils.pad(stim.expand(4, 3, 2), 0.5, 0.1)
    assert batched.shape == (4, 5, 2)
    out_np = rutils.pad(stim.numpy(), 0.5, 0.1)
    assert isinstance(out_np, np.ndarray) and out_np.shape == (5, 2)
    assert rutils.pad(stim, 0.2, 0.1) is stim
    with pytest.raises(ValueError, match="mode"):
        rutils.pad(stim, 0.5, 0.1, mode="middle")
    with pytest.raises(ValueError, match="pad_mode"):
        rutils.pad(stim, 0.5, 0.1, pad_mode="zeros")


def test_repeat_last():
    t = torch.arange(6).reshape(2, 3)
    assert rutils.repeat_last(t, 0, 2).tolist() == [
        [0, 1, 2],
        [3, 4, 5],
        [3, 4, 5],
        [3, 4, 5],
    ]
    assert rutils.repeat_last(t, 1, 1).tolist() == [[0, 1, 2, 2], [3, 4, 5, 5]]
    a = rutils.repeat_last(t.numpy(), 1, 2)
    np.testing.assert_array_equal(a, [[0, 1, 2, 2, 2], [3, 4, 5, 5, 5]])


def test_shuffle():
    stims = torch.arange(20).reshape(10, 2)
    out = rutils.shuffle(stims, np.random.RandomState(0))
    assert sorted(out[:, 0].tolist()) == stims[:, 0].tolist()
    assert not torch.equal(out, stims)
    assert torch.equal(out[:, 1] - out[:, 0], torch.ones(10, dtype=torch.long))
    again = rutils.shuffle(stims, np.random.RandomState(0))
    assert torch.equal(out, again)
    s3 = np.arange(60).reshape(3, 10, 2)
    o3 = rutils.shuffle(s3, np.random.RandomState(1))
    assert o3.shape == s3.shape
    for i in range(3):
        assert sorted(o3[i, :, 0].tolist()) == s3[i, :, 0].tolist()
    perms = [(o3[i, :, 0] - 20 * i) // 2 for i in range(3)]
    assert not all(np.array_equal(perms[0], p) for p in perms[1:])
