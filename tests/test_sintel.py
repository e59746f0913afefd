"""Sintel files, RenderedSintel, MultiTaskSintel, AugmentedSintel and download,
all on fake Sintel trees in the real file formats (offline)."""

import hashlib
import http.server
import math
import pickle
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from fake_sintel import make_fake_sintel

from flyvis.datasets import sintel_utils
from flyvis.datasets.augmentation.hex import HexFlip, HexRotate
from flyvis.datasets.sintel import AugmentedSintel, MultiTaskSintel, RenderedSintel
from flyvis.datasets.sintel_files import (
    read_dpt,
    read_flo,
    write_dpt,
    write_flo,
    write_png,
)
from flyvis.datasets.sintel_utils import (
    SintelChecksumError,
    SintelDownloadError,
    SintelNotFoundError,
    download_sintel,
    load_sequence,
    original_train_and_validation_indices,
    sample_depth,
    sample_flow,
    sample_lum,
    temporal_split_cached_samples,
)

BOX1 = dict(extent=1, kernel_size=13)
H, W = 436, 1024
CENTER = 3  # central hexal of the extent-1 lattice
#: left edge of the three extent-1 splits within a 1024-wide frame
#: (crop 0.7 -> [154, 870); split width max(53, 238) = 238, step 239)
SPLIT_LEFT = [154, 154 + 239, 154 + 478]
SPLIT_WIDTH = 238


@pytest.fixture(scope="module")
def sintel(tmp_path_factory):
    return make_fake_sintel(tmp_path_factory.mktemp("sintel") / "MPI-Sintel")


def small_tree(root, **kwargs):
    """A small fake tree (60 x 120 frames): fast to copy and to break."""
    return make_fake_sintel(root, **{"height": 60, "width": 120, "n_images": 4, **kwargs})


def dataset(sintel, **kwargs):
    defaults = dict(boxfilter=BOX1, n_frames=4, dt=1 / 24, sintel_path=sintel)
    return MultiTaskSintel(**{**defaults, **kwargs})


# -- file formats ------------------------------------------------------------------------


def test_flo_and_dpt_round_trip_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    flow = rng.normal(size=(5, 7, 2)).astype(np.float32)
    write_flo(tmp_path / "a.flo", flow)
    assert (tmp_path / "a.flo").read_bytes()[:4] == b"PIEH"
    assert np.array_equal(read_flo(tmp_path / "a.flo"), flow)
    depth = rng.random((5, 7)).astype(np.float32)
    write_dpt(tmp_path / "a.dpt", depth)
    assert np.array_equal(read_dpt(tmp_path / "a.dpt"), depth)

    bad = bytearray((tmp_path / "a.flo").read_bytes())
    bad[:4] = np.array([1.5], dtype="<f4").tobytes()
    (tmp_path / "bad.flo").write_bytes(bytes(bad))
    with pytest.raises(ValueError, match=r"bad\.flo.*magic number.*202021\.25"):
        read_flo(tmp_path / "bad.flo")
    data = (tmp_path / "a.flo").read_bytes()
    (tmp_path / "short.flo").write_bytes(data[:-8])
    with pytest.raises(ValueError, match="truncated"):
        read_flo(tmp_path / "short.flo")
    (tmp_path / "tiny.flo").write_bytes(data[:6])
    with pytest.raises(ValueError, match="truncated"):
        read_flo(tmp_path / "tiny.flo")
    (tmp_path / "short.dpt").write_bytes((tmp_path / "a.dpt").read_bytes()[:-4])
    with pytest.raises(ValueError, match="truncated"):
        read_dpt(tmp_path / "short.dpt")
    # an integer tag with consistent sizes is read (with a warning)
    header = np.array([1, 7, 5], dtype="<i4").tobytes()
    (tmp_path / "int.dpt").write_bytes(header + depth.astype("<f4").tobytes())
    assert np.array_equal(read_dpt(tmp_path / "int.dpt"), depth)
    with pytest.raises(ValueError, match="shape"):
        write_flo(tmp_path / "x.flo", np.zeros((3, 3)))


def test_readers_units_and_order(tmp_path):
    from PIL import Image

    rgb = np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    expected = np.asarray(Image.fromarray(rgb).convert("L")) / 255
    lum = sample_lum(tmp_path / "rgb.png")
    assert lum.dtype == np.float32 and np.allclose(lum, expected)

    flow = np.zeros((4, 6, 2), np.float32)
    flow[..., 0], flow[..., 1] = 2.0, 3.0
    write_flo(tmp_path / "c.flo", flow)
    f = sample_flow(tmp_path / "c.flo")
    assert f.shape == (2, 4, 6)
    assert np.allclose(f[0], 2 / 4) and np.allclose(f[1], -3 / 4)  # / H, y up

    scene = tmp_path / "scene"
    scene.mkdir()
    for k in [3, 1, 2]:
        write_png(scene / f"frame_{k:04d}.png", np.full((4, 5), 10 * k, np.uint8))
    (scene / ".DS_Store").write_bytes(b"junk")
    seq = load_sequence(scene, sample_lum)
    assert isinstance(seq, torch.Tensor) and seq.dtype == torch.float32
    assert np.allclose(seq[:, 0, 0] * 255, [10, 20, 30])
    part = load_sequence(scene, sample_lum, start=1, end=3, as_tensor=False)
    assert isinstance(part, np.ndarray) and np.allclose(part[:, 0, 0] * 255, [20, 30])
    write_png(scene / "frame_0004.png", np.zeros((5, 5), np.uint8))
    with pytest.raises(ValueError, match="frame size within scene"):
        load_sequence(scene, sample_lum)


# -- rendering ------------------------------------------------------------------------------


def test_rendered_sintel_unittest(sintel):
    rendered = RenderedSintel(
        tasks=["flow"], boxfilter=BOX1, n_frames=2, unittest=True, sintel_path=str(sintel)
    )
    assert sorted(rendered) == [f"sequence_00_alley_1_split_{j:02d}" for j in range(3)]
    item = rendered(0)
    assert set(item) == {"lum", "flow"}
    assert item["flow"].shape == (3, 2, 7) and item["lum"].shape == (3, 1, 7)
    assert item["lum"].dtype == np.float32
    again = RenderedSintel(
        tasks=["flow"], boxfilter=BOX1, n_frames=2, unittest=True, sintel_path=str(sintel)
    )
    assert again.path == rendered.path
    assert again.config.sintel_path == str(sintel)

    data = dataset(sintel, n_frames=2, unittest=True, augment=False)
    assert len(data) == 3 and data.n_frames == 3
    assert data[0]["lum"].shape == (3, 1, 7) and data[0]["flow"].shape == (3, 2, 7)
    data.dt = 1 / 50
    assert data[0]["lum"].shape == (7, 1, 7) and data[0]["flow"].shape == (7, 2, 7)


def test_shapes_arg_df_and_meta(sintel):
    data = dataset(sintel, tasks=["flow", "lum", "depth"], augment=False)
    assert data.tasks == ["lum", "flow", "depth"]
    assert list(data.arg_df.columns) == [
        "index",
        "original_index",
        "name",
        "original_n_frames",
    ]
    assert data.arg_df["name"].tolist() == [
        f"sequence_{i:02d}_alley_{i + 1}_split_{j:02d}"
        for i in range(2)
        for j in range(3)
    ]
    assert data.arg_df["original_index"].tolist() == [0, 0, 0, 1, 1, 1]
    assert data.arg_df["original_n_frames"].tolist() == [5] * 6
    assert data.meta.sequence_indices.tolist() == [0, 1]
    assert data.meta.sequence_index_to_splits[1].tolist() == [3, 4, 5]
    assert data.original_sequence_index(4) == 1
    with pytest.raises(ValueError):
        data.original_sequence_index(6)
    item = data[5]
    assert set(item) == {"lum", "flow", "depth"}
    assert item["lum"].shape == (4, 1, 7) and item["flow"].shape == (4, 2, 7)
    assert item["depth"].shape == (4, 1, 7)
    assert all(v.dtype == torch.float32 for v in item.values())
    data.dt = 1 / 50
    assert data[0]["flow"].shape == (math.ceil(50 / 24 * 4), 2, 7)
    data.all_frames = True
    assert data[0]["lum"].shape[0] == math.ceil(50 / 24 * 4)
    assert repr(data).startswith("MultiTaskSintel with 6 sequences.")
    assert data.framerate == 24 and data.config.sintel_path == str(sintel)
    loader = torch.utils.data.DataLoader(data, batch_size=2)
    assert next(iter(loader))["flow"].shape == (2, 9, 2, 7)


def _box(array, row, col, reducer=np.sum):
    return reducer(array[row - 6 : row + 7, col - 6 : col + 7])


def test_frame_to_flow_alignment(sintel):
    data = dataset(sintel, tasks=["flow"], augment=False)
    images = sorted((sintel / "training/final/alley_2").iterdir())
    flows = sorted((sintel / "training/flow/alley_2").iterdir())
    for split in range(3):
        item = data[3 + split]
        col = SPLIT_LEFT[split] + SPLIT_WIDTH // 2
        for k in range(4):
            image = sample_lum(images[k + 1])  # lum starts at image 1
            expected = _box(image, H // 2, col, np.mean)
            assert item["lum"][k, 0, CENTER].item() == pytest.approx(expected, abs=1e-5)
            raw = read_flo(flows[k])  # flow starts at file 0
            u = _box(raw[..., 0], H // 2, col) / H
            v = _box(raw[..., 1], H // 2, col) / H
            assert item["flow"][k, 0, CENTER].item() == pytest.approx(u, abs=1e-4)
            assert item["flow"][k, 1, CENTER].item() == pytest.approx(-v, abs=1e-4)


def test_flow_units_and_sign(tmp_path):
    root = make_fake_sintel(
        tmp_path / "const", scenes=("alley_1",), n_images=3, flow=(2.0, 3.0), depth=False
    )
    data = dataset(root, n_frames=2, augment=False)
    flow = data[1]["flow"]
    assert torch.allclose(flow[:, 0], torch.full((2, 7), 169 * 2 / 436), atol=1e-5)
    assert torch.allclose(flow[:, 1], torch.full((2, 7), -169 * 3 / 436), atol=1e-5)
    cart = data.cartesian_flow(0)
    assert cart.shape == (3, 2, 2, 436, 417)
    assert np.allclose(cart[:, :, 0], 2 / 436) and np.allclose(cart[:, :, 1], -3 / 436)


def test_depth_is_box_median(sintel):
    data = dataset(sintel, tasks=["depth"], augment=False)
    depths = sorted((sintel / "training/depth/alley_1").iterdir())
    item = data[1]
    col = SPLIT_LEFT[1] + SPLIT_WIDTH // 2
    for k in range(4):
        raw = sample_depth(depths[k + 1])
        assert item["depth"][k, 0, CENTER].item() == pytest.approx(
            _box(raw, H // 2, col, np.median), rel=1e-6
        )
    assert data.cartesian_depth(0).shape == (3, 4, 436, 417)
    seq = data.cartesian_sequence(0, vertical_splits=1, center_crop_fraction=1.0)
    assert seq.shape == (1, 4, 436, 1024)
    assert data.cartesian_sequence(0, outwidth=417).shape == (3, 4, 436, 417)


def test_original_split():
    scenes = (
        "alley_1 alley_2 ambush_2 ambush_4 ambush_5 ambush_6 ambush_7 bamboo_1 "
        "bamboo_2 bandage_1 bandage_2 cave_2 cave_4 market_2 market_5 market_6 "
        "mountain_1 shaman_2 shaman_3 sleeping_1 sleeping_2 temple_2 temple_3"
    ).split()
    names = [
        f"sequence_{i:02d}_{s}_split_{j:02d}"
        for i, s in enumerate(scenes)
        for j in range(3)
    ]
    train, val = original_train_and_validation_indices(names)
    expected_train = [
        *range(0, 6), *range(9, 21), *range(24, 27), *range(30, 36),
        *range(42, 48), *range(51, 69),
    ]  # fmt: skip
    assert train == expected_train and len(train) == 51
    assert val == [6, 7, 8, 21, 22, 23, 27, 28, 29, 36, 39, 40, 41, 48, 49, 50]


def test_fake_split_and_random_split(sintel):
    data = dataset(sintel, augment=False)
    train, val = data.original_train_and_validation_indices()
    assert train == list(range(6)) and val == []
    tr, va = data.get_random_data_split(0, 3)
    assert len(tr) + len(va) == 6


# -- errors -------------------------------------------------------------------------------


def _renderings():
    import flyvis

    path = flyvis.data_dir("renderings_dir")
    return set(path.glob("RenderedSintel_*")) if path.exists() else set()


def test_clear_errors(sintel, tmp_path):
    with pytest.raises(ValueError, match=r"invalid tasks \['optic_flow'\]"):
        dataset(sintel, tasks=["optic_flow"])
    with pytest.raises(ValueError, match="vertical_splits"):
        dataset(sintel, vertical_splits=0)
    before = _renderings()
    with pytest.raises(ValueError, match="n_frames=5 is longer than every Sintel scene"):
        dataset(sintel, n_frames=5)
    assert _renderings() == before  # the failed build left nothing behind

    missing = small_tree(tmp_path / "missing")
    (missing / "training/flow/alley_2/frame_0002.flo").unlink()
    with pytest.raises(ValueError, match="missing frames in Sintel scene alley_2"):
        dataset(missing, n_frames=2)
    sizes = small_tree(tmp_path / "sizes")
    write_png(
        sizes / "training/final/alley_1/frame_0003.png", np.zeros((60, 100), np.uint8)
    )
    with pytest.raises(ValueError, match="differ in size"):
        dataset(sizes, n_frames=2)
    depthless = small_tree(tmp_path / "depthless", depth=False)
    with pytest.raises(SintelNotFoundError, match="depth"):
        dataset(depthless, n_frames=2, tasks=["depth"])
    assert _renderings() == before

    with pytest.raises(SintelNotFoundError) as info:
        dataset(tmp_path / "nowhere")
    message = str(info.value)
    assert "training/final/<scene>/frame_0001.png" in message
    assert "training/flow/<scene>/frame_0001.flo" in message
    assert "training/depth/<scene>/frame_0001.dpt" in message
    assert "sintel_path=" in message


def test_cache_is_keyed_on_sintel_path(tmp_path):
    first = small_tree(tmp_path / "a")
    second = shutil.copytree(first, tmp_path / "b")
    a = dataset(first, n_frames=2)
    a2 = dataset(first, n_frames=2, dt=1 / 50, augment=False)  # item settings only
    b = dataset(second, n_frames=2)
    assert a.rendered.path == a2.rendered.path
    assert b.rendered.path != a.rendered.path
    assert b.rendered.config.sintel_path == str(second)
    c = dataset(first, n_frames=2, center_crop_fraction=0.9)
    assert c.rendered.path != a.rendered.path


# -- attributes and augmentation -------------------------------------------------------------


def test_attribute_rules(sintel):
    data = dataset(sintel, contrast_std=0.2, brightness_std=0.1)
    data.contrast_std = 0.5
    assert data.jitter.contrast_std == 0.5 and data.jitter.brightness_std == 0.1
    data.brightness_std = 0.3
    assert data.jitter.contrast_std == 0.5 and data.jitter.brightness_std == 0.3
    assert data.config.contrast_std == 0.5 and data.config.brightness_std == 0.3
    data.all_frames = True
    assert data.temporal_crop.all_frames and data.temporal_crop.random
    data.all_frames = False
    data.random_temporal_crop = False
    assert not data.temporal_crop.random and not data.temporal_crop.all_frames
    data.p_rot, data.p_flip, data.gaussian_white_noise, data.gamma_std = (
        0.1,
        0.2,
        0.3,
        0.4,
    )
    assert (data.rotate.p_rot, data.flip.p_flip) == (0.1, 0.2)
    assert (data.noise.std, data.gamma_correct.std) == (0.3, 0.4)
    data.dt = 1 / 100
    assert data.piecewise_resample.target_framerate == 100
    assert data.linear_interpolate.target_framerate == 100
    for key in [
        "tasks",
        "boxfilter",
        "vertical_splits",
        "n_frames",
        "unittest",
        "sintel_path",
    ]:
        with pytest.raises(AttributeError, match="rendered initialization"):
            setattr(data, key, None)
    with pytest.raises(AttributeError, match="cannot change framerate"):
        data.framerate = 50
    with pytest.raises(ValueError, match="dt"):
        data.dt = 0
    # the context manager restores every flag, also manually set ones
    data.noise.augment = False
    with data.augmentation(False):
        assert not data.augment and not data.rotate.augment and not data.jitter.augment
    assert data.augment and data.rotate.augment and not data.noise.augment


def test_geometry_shared_by_input_and_target(sintel):
    data = dataset(
        sintel,
        tasks=["flow", "depth"],
        p_flip=1.0,
        p_rot=1.0,
        flip_axes=[0, 1, 2, 3],
        contrast_std=None,
        brightness_std=None,
        gaussian_white_noise=None,
        n_frames=2,
        seed=3,
    )
    cached = data.cached_sequences[2]
    seen = set()
    for _ in range(10):
        item = data[2]
        start, n, axis = data.temporal_crop.start, data.rotate.n_rot, data.flip.axis
        assert n > 0 and axis > 0
        seen.add((n, axis))
        for key in ("lum", "flow", "depth"):
            expected = HexRotate(1, n_rot=n)(
                HexFlip(1, axis=axis)(cached[key][start : start + 2])
            )
            assert torch.allclose(item[key], expected, atol=1e-6), key
    assert len(seen) > 2
    # photometric augmentation only touches the input
    data.contrast_std, data.gaussian_white_noise = 0.5, 0.1
    item = data.apply_augmentation(cached, n_rot=0, flip_axis=0, start_frame=1)
    assert torch.equal(item["flow"], cached["flow"][1:3])
    assert not torch.equal(item["lum"], cached["lum"][1:3])


def test_seeded_items_are_reproducible_and_picklable(sintel):
    a = dataset(sintel, seed=11, gamma_std=0.2)
    b = dataset(sintel, seed=11, gamma_std=0.2)
    for key in range(6):
        assert torch.equal(a[key]["lum"], b[key]["lum"])
        assert torch.equal(a[key]["flow"], b[key]["flow"])
    clone = pickle.loads(pickle.dumps(a))
    assert clone.rendered.path == a.rendered.path
    assert torch.equal(clone[0]["flow"], a[0]["flow"])
    lazy = dataset(sintel, _init_cache=False, augment=False)
    assert lazy.cached_sequences is None
    assert torch.equal(lazy[1]["lum"], a.cached_sequences[1]["lum"][:4])


# -- AugmentedSintel -------------------------------------------------------------------------


def test_augmented_sintel(sintel):
    data = AugmentedSintel(
        tasks=["flow"],
        boxfilter=BOX1,
        n_frames=2,
        flip_axes=[0, 1, 2, 3],
        n_rotations=[0, 3, 5],
        temporal_split=True,
        augment=False,
        sintel_path=sintel,
    )
    # 6 sequences x 2 chunks (T = 4, n_frames = 2) x 4 flips x 3 rotations
    assert len(data) == 6 * 2 * 4 * 3
    assert list(data.arg_df.columns) == [
        "name", "original_index", "vertical_split_index", "temporal_split_index",
        "frames", "flip_ax", "n_rot",
    ]  # fmt: skip
    assert data.arg_df["n_rot"].tolist()[:4] == [0, 3, 5, 0]
    assert data.arg_df["flip_ax"].tolist()[:4] == [0, 0, 0, 1]
    raw = dataset(sintel, augment=False).cached_sequences
    for row in [0, 7, 17, 30, 100, 143]:
        r = data.arg_df.iloc[row]
        chunk = raw[r.vertical_split_index]["flow"][2 * r.temporal_split_index :][:2]
        expected = HexRotate(1, n_rot=r.n_rot)(HexFlip(1, axis=r.flip_ax)(chunk))
        # flips and rotations are applied although augment=False
        assert torch.allclose(data[row]["flow"], expected, atol=1e-6)
        assert data[row]["lum"].shape == (2, 1, 7)
    assert not torch.allclose(data[13]["flow"], data[12]["flow"])
    assert data.config.flip_axes == [0, 1, 2, 3] and data.config.temporal_split

    data.augment = True
    data.dt = 1 / 100
    item = data[5]
    assert item["lum"].shape == (math.ceil(100 / 24 * 2), 1, 7)
    padded = data.get_item(5, pad_to_length=12)
    assert padded["flow"].shape == (12, 2, 7) and torch.isnan(padded["flow"][-1]).all()
    assert torch.equal(sintel_utils.remove_nans(padded)["flow"], item["flow"])

    subset = AugmentedSintel(
        tasks=["lum"], boxfilter=BOX1, n_frames=4, indices=[0, 5, 7], sintel_path=sintel,
        interpolate=False, dt=1 / 24,
    )  # fmt: skip
    assert len(subset) == 3 and subset[2]["lum"].shape == (4, 1, 7)
    assert subset.arg_df["n_rot"].tolist() == [0, 5, 1]
    with pytest.raises(ValueError, match="invalid flip axes"):
        AugmentedSintel(boxfilter=BOX1, flip_axes=[0, 4], sintel_path=sintel)
    with pytest.raises(ValueError, match="invalid rotations"):
        AugmentedSintel(boxfilter=BOX1, n_rotations=[6], sintel_path=sintel)


def test_temporal_split_starts():
    def starts(total):
        seq = {"lum": torch.arange(total, dtype=torch.float32)[:, None, None]}
        chunks, repeats = temporal_split_cached_samples([seq], 19)
        return [int(c["lum"][0]) for c in chunks], repeats.tolist()

    assert starts(49) == ([0, 15, 30], [3])
    assert starts(32) == ([0, 13], [2])
    assert starts(39) == ([0, 20], [2])
    assert starts(20) == ([0], [1])


# -- download -------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        server = self.server
        name = self.path.lstrip("/")
        payload = server.files.get(name)
        server.requests.append(name)
        if payload is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if name in server.interrupt and server.interrupt[name] > 0:
            server.interrupt[name] -= 1
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def _zip_tree(root: Path, prefix: str = "") -> bytes:
    path = root.parent / f"{root.name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in sorted(root.rglob("*")):
            zf.write(item, prefix + str(item.relative_to(root)))
    return path.read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tree = small_tree(tmp_path_factory.mktemp("zip") / "tree", n_images=3)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files = {"sintel.zip": _zip_tree(tree), "nested.zip": _zip_tree(tree, "MPI/")}
    httpd.requests = []
    httpd.interrupt = {}
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server, name):
    return f"http://127.0.0.1:{server.server_address[1]}/{name}"


def _leftovers(target: Path):
    return [
        p.name
        for p in target.iterdir()
        if p.name.endswith(".part") or p.name.startswith(".extract")
    ]


def test_download_and_reuse(server, tmp_path):
    target = tmp_path / "SintelDataSet"
    sha = hashlib.sha256(server.files["sintel.zip"]).hexdigest()
    out = download_sintel(
        sintel_path=target, url=_url(server, "sintel.zip"), sha256=sha, progress=True
    )
    assert out == target.resolve()
    assert (target / "training/final/alley_1/frame_0001.png").is_file()
    assert (target / "training/flow/alley_2/frame_0002.flo").is_file()
    assert (target / "test").is_dir() and (target / "sintel.zip").is_file()
    assert _leftovers(target) == []
    n_requests = len(server.requests)
    download_sintel(sintel_path=target, url=_url(server, "sintel.zip"), progress=False)
    assert len(server.requests) == n_requests  # found, not downloaded again
    data = dataset(target, n_frames=2, tasks=["flow", "depth"])
    assert data[0]["depth"].shape == (2, 1, 7)
    # a zip with one top directory is unpacked as well; replacing works
    download_sintel(
        sintel_path=target, url=_url(server, "nested.zip"), delete_if_exists=True,
        progress=False,
    )  # fmt: skip
    assert (target / "training/final/alley_2/frame_0003.png").is_file()
    assert not (target / "MPI").exists() and _leftovers(target) == []


def test_download_checksum_failure_leaves_nothing(server, tmp_path):
    target = tmp_path / "sums"
    with pytest.raises(SintelChecksumError, match="SHA-256 mismatch"):
        download_sintel(
            sintel_path=target, url=_url(server, "sintel.zip"), sha256="0" * 64,
            progress=False,
        )  # fmt: skip
    assert list(target.iterdir()) == []


def test_interrupted_download_then_retry(server, tmp_path):
    target = tmp_path / "flaky"
    server.interrupt["sintel.zip"] = 1
    with pytest.raises(SintelDownloadError, match="incomplete download") as info:
        download_sintel(
            sintel_path=target, url=_url(server, "sintel.zip"), progress=False
        )
    assert isinstance(info.value, FileNotFoundError)
    assert "sintel_path=" in str(info.value)
    assert list(target.iterdir()) == []
    download_sintel(sintel_path=target, url=_url(server, "sintel.zip"), progress=False)
    assert (target / "training/final/alley_1/frame_0003.png").is_file()
    assert _leftovers(target) == []


def test_offline_default_path_gives_clear_error(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(sintel_utils, "SINTEL_URL", f"http://127.0.0.1:{port}/x.zip")
    monkeypatch.setenv("FLYVIS_ROOT_DIR", str(tmp_path / "root"))
    with pytest.raises(SintelDownloadError) as info:
        MultiTaskSintel(boxfilter=BOX1)
    message = str(info.value)
    assert "SintelDataSet/training/final/<scene>/frame_0001.png" in message
    assert "sintel_path=" in message
    assert _leftovers(tmp_path / "root" / "SintelDataSet") == []


# -- the seed notebook's calls (full extent-15 eye, default data root) ---------------------


@pytest.fixture(scope="module")
def notebook_root(tmp_path_factory):
    """$FLYVIS_ROOT_DIR-like root with SintelDataSet: one 20-image scene."""
    root = tmp_path_factory.mktemp("notebook_root")
    make_fake_sintel(
        root / "SintelDataSet", scenes=("alley_1",), n_images=20, flow=(1.0, -1.0)
    )
    return root


def test_seed_notebook_calls(notebook_root, monkeypatch):
    from flyvis.analysis.animations.sintel import SintelSample

    monkeypatch.setenv("FLYVIS_ROOT_DIR", str(notebook_root))
    dataset = MultiTaskSintel(
        tasks=["flow"],
        boxfilter=dict(extent=15, kernel_size=13),
        vertical_splits=3,
        n_frames=19,
        center_crop_fraction=0.7,
        dt=1 / 50,
        augment=True,
        random_temporal_crop=True,
        all_frames=False,
        resampling=True,
        interpolate=True,
        p_flip=0.5,
        p_rot=5 / 6,
        contrast_std=0.2,
        brightness_std=0.1,
        gaussian_white_noise=0.08,
        gamma_std=None,
        _init_cache=True,
        unittest=False,
        flip_axes=[0, 1],
        task_weights=None,
    )  # no sintel_path: found under $FLYVIS_ROOT_DIR/SintelDataSet
    assert len(dataset) == 3 and len(np.unique(dataset.arg_df.original_index)) == 1
    sequence = dataset.cartesian_sequence(0, vertical_splits=1, center_crop_fraction=1.0)
    assert sequence.shape == (1, 19, 436, 1024)
    data = dataset[0]
    assert data["lum"].shape == (40, 1, 721) and data["flow"].shape == (40, 2, 721)
    assert data["lum"][0].flatten().shape == (721,)
    SintelSample(data["lum"][None], data["flow"][None])

    depth = MultiTaskSintel(
        tasks=["depth"],
        boxfilter=dict(extent=15, kernel_size=13),
        vertical_splits=1,
        dt=1 / 24,
        augment=False,
    )
    assert depth[0]["lum"].shape == (19, 1, 721) and depth[0]["depth"].shape == (
        19,
        1,
        721,
    )
    whole = MultiTaskSintel(
        tasks=["flow"],
        boxfilter=dict(extent=15, kernel_size=13),
        vertical_splits=1,
        all_frames=True,
        dt=1 / 50,
        augment=False,
        resampling=True,
        interpolate=True,
    )
    flow = whole[0]["flow"]
    assert flow.shape == (40, 2, 721)
    # uniform (1, -1) px/frame: 169 / 436 per hexal, y up
    assert torch.allclose(flow[:, 0, 360], torch.full((40,), 169 / 436), atol=1e-5)
    assert torch.allclose(flow[:, 1, 360], torch.full((40,), 169 / 436), atol=1e-5)

    # a dataset can be rebuilt from its config (as the analysis caches do)
    augmented = AugmentedSintel(
        tasks=["lum"],
        interpolate=False,
        temporal_split=True,
        dt=1 / 100,
        vertical_splits=1,
    )
    assert len(augmented) == 1 * 2 * 6 and augmented[0]["lum"].shape == (80, 1, 721)
    config = augmented.config.to_dict()
    rebuilt = AugmentedSintel(**config)
    assert rebuilt.arg_df.equals(augmented.arg_df)
    assert MultiTaskSintel(**whole.config.to_dict()).rendered.path == whole.rendered.path
