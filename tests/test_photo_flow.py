"""MultiTaskPhotoFlow: real-photo optic-flow dataset with exact ground truth."""

import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from flyvis.datasets import photo_flow
from flyvis.datasets.photo_flow import (
    DEFAULT_VALIDATION_PHOTOS,
    MultiTaskPhotoFlow,
    render_cartesian,
    render_hex,
    sample_sequence_specs,
)
from flyvis.datasets.photo_sources import load_photo, photo_names, rgb_to_luminance
from flyvis.datasets.rendering import BoxEye

SMALL = dict(
    boxfilter=dict(extent=2, kernel_size=13),
    frame_size=(80, 76),
    n_sequences=6,
    n_source_frames=8,
    n_frames=5,
    device="cpu",
)
PHOTOS = ["camera", "coins", "moon", "clock", "chelsea", "gravel", "brick"]


def small(tmp_path, **kwargs):
    return MultiTaskPhotoFlow(**{**SMALL, "photos": PHOTOS, "root": tmp_path, **kwargs})


def translation_spec(velocity, frame_size=(80, 76), photo="camera"):
    layer = dict(
        photo=photo,
        shape="full",
        half_size=[0.0, 0.0],
        texture_center=[0.0, 0.0],
        position=[0.0, 0.0],
        velocity=list(velocity),
        acceleration=[0.0, 0.0],
        angle=0.0,
        angular_velocity=0.0,
        log_scale=0.0,
        zoom_rate=0.0,
    )
    return dict(index=0, background=photo, split="train", layers=[layer])


# -- photos ------------------------------------------------------------------------------


def test_photos_load_offline_as_luminance():
    names = photo_names()
    assert len(names) == 18 and "grace_hopper" in names and "china" in names
    for name in ["camera", "astronaut", "flower", "grace_hopper"]:
        image = load_photo(name)
        assert image.dtype == np.float32 and image.ndim == 2
        assert 0 <= image.min() and image.max() <= 1
    with pytest.raises(ValueError, match="unknown photo"):
        load_photo("lena")


def test_luminance_matches_pil():
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(rgb_to_luminance(rgb), expected)


# -- exact flow ------------------------------------------------------------------------


def _warp_previous(previous, flow):
    """Backward warp: predicted[p] = previous[p - flow(p)] (flow in px, y down)."""
    n, h, w = previous.shape
    ys, xs = torch.meshgrid(
        torch.arange(h).float(), torch.arange(w).float(), indexing="ij"
    )
    sx = xs - flow[:, 0]
    sy = ys - flow[:, 1]
    grid = torch.stack([(2 * sx + 1) / w - 1, (2 * sy + 1) / h - 1], dim=-1)
    return F.grid_sample(previous[:, None], grid, align_corners=False)[:, 0], sx, sy


def test_exact_flow_warps_previous_frame():
    frame_size = (436, 417)
    specs = sample_sequence_specs(
        3, 6, frame_size, photo_names(), DEFAULT_VALIDATION_PHOTOS, seed=3
    )
    for spec in specs:
        seq = render_cartesian(spec, frame_size, 6)
        assert seq.lum.shape == (6, *frame_size) and seq.flow.shape == (6, 2, *frame_size)
        previous, current, flow = seq.lum[:-1], seq.lum[1:], seq.flow[1:]
        predicted, sx, sy = _warp_previous(previous, flow)
        # away from occlusion boundaries (layer constant nearby in both frames)
        radius = int(flow.abs().max().ceil()) + 2
        layer = seq.layer.float()[:, None]
        high = F.max_pool2d(layer, 2 * radius + 1, stride=1, padding=radius)
        low = -F.max_pool2d(-layer, 2 * radius + 1, stride=1, padding=radius)
        constant = (high == low)[:, 0]
        valid = constant[1:] & constant[:-1]
        valid &= (sx > 2) & (sx < frame_size[1] - 3) & (sy > 2) & (sy < frame_size[0] - 3)
        assert valid.float().mean() > 0.3
        warp_error = (predicted - current).abs()[valid].mean()
        zero_error = (previous - current).abs()[valid].mean()
        assert warp_error < 0.15 * zero_error, (
            spec["background"],
            warp_error,
            zero_error,
        )
        assert warp_error < 0.01
        # the flow is unbiased: scaling it by 0.9 or 1.1 makes the warp worse
        for scale in (0.9, 1.1):
            wrong, _, _ = _warp_previous(previous, scale * flow)
            assert (wrong - current).abs()[valid].mean() > 1.5 * warp_error


def test_pure_translation_sign_and_units():
    eye = BoxEye(extent=2, kernel_size=13)
    height = 80
    for velocity in ([3.0, 0.0], [-2.0, 0.0], [0.0, 1.5]):
        seq = render_cartesian(translation_spec(velocity), (80, 76), 4)
        assert torch.allclose(seq.flow[:, 0], torch.tensor(velocity[0]), atol=1e-4)
        assert torch.allclose(seq.flow[:, 1], torch.tensor(velocity[1]), atol=1e-4)
        lum, flow = render_hex(seq, eye)
        assert lum.shape == (4, 1, 19) and flow.shape == (4, 2, 19)
        # x right: +speed/H * kernel_size**2; y up: image-down motion is negative
        assert torch.allclose(
            flow[:, 0], torch.tensor(169 * velocity[0] / height), atol=1e-4
        )
        assert torch.allclose(
            flow[:, 1], torch.tensor(-169 * velocity[1] / height), atol=1e-4
        )
    # content moving right: frame k+1 is frame k shifted right by the speed
    seq = render_cartesian(translation_spec([4.0, 0.0]), (80, 76), 3)
    assert torch.allclose(seq.lum[1, :, 10:60], seq.lum[0, :, 6:56], atol=1e-5)


def test_region_renders_the_same_pixels_and_hexals():
    # the dataset renders only the crop the eye reads (frame_region); the hexal
    # values must be bit-identical to rendering the whole frame
    eye = BoxEye(extent=2, kernel_size=13)
    frame_size = (80, 76)
    region = eye.frame_region(frame_size)
    r0, r1, c0, c1 = region
    # receptor offsets +-26 px, boxes -6 .. +6: 65 x 65 around pixel (40, 38)
    assert region == (8, 73, 6, 71)
    specs = sample_sequence_specs(
        n_sequences=4,
        n_source_frames=5,
        frame_size=frame_size,
        photos=PHOTOS,
        validation_photos=["brick"],
        n_foreground=(2, 3),
        seed=3,
    )
    for spec in specs:
        full = render_cartesian(spec, frame_size, 5)
        part = render_cartesian(spec, frame_size, 5, region=region)
        assert torch.equal(part.lum, full.lum[:, r0:r1, c0:c1])
        assert torch.equal(part.flow, full.flow[..., r0:r1, c0:c1])
        assert torch.equal(part.layer, full.layer[:, r0:r1, c0:c1])
        assert part.layer.max() > 0  # foreground patches inside the crop
        for a, b in zip(render_hex(full, eye), render_hex(part, eye, height=80)):
            assert torch.equal(a, b)


def test_frame_region_leaves_axes_it_cannot_crop():
    # the default eye on the default frame: 403 x 403 of 436 x 417
    assert BoxEye(15, 13).frame_region((436, 417)) == (17, 420, 7, 410)
    # extent 3: the boxes reach 45 px from the centre, beyond the 80 x 76 frame
    assert BoxEye(extent=3, kernel_size=13).frame_region((80, 76)) == (0, 80, 0, 76)
    # frames the eye resizes are not cropped
    assert BoxEye(extent=2, kernel_size=13).frame_region((40, 40)) == (0, 40, 0, 40)
    with pytest.raises(ValueError, match="region"):
        render_cartesian(translation_spec([1.0, 0.0]), (80, 76), 2, region=(0, 90, 0, 10))


def test_dataset_translation_matches_arg_df(tmp_path):
    motion = dict(
        background_speed=(0.02, 0.02),
        background_acceleration=0.0,
        background_rotation=0.0,
        background_zoom=0.0,
    )
    data = small(tmp_path, n_foreground=(0, 0), motion=motion, cache=False, dt=1 / 24)
    for i in range(len(data)):
        row = data.arg_df.iloc[i]
        assert row.n_foreground == 0 and row.speed == pytest.approx(0.02)
        direction = math.radians(row.direction)
        expected = 169 * 0.02 * torch.tensor([math.cos(direction), math.sin(direction)])
        flow = data.cached_sequences[i]["flow"]
        assert torch.allclose(flow, expected[None, :, None].expand_as(flow), atol=1e-4)
    cart = data.cartesian_flow(0)
    assert cart.shape == (8, 2, 80, 76)
    direction = math.radians(data.arg_df.direction[0])
    assert np.allclose(cart[:, 0], 0.02 * math.cos(direction), atol=1e-5)
    assert np.allclose(cart[:, 1], 0.02 * math.sin(direction), atol=1e-5)


# -- dataset ------------------------------------------------------------------------------


def test_item_shapes_and_tasks(tmp_path):
    data = small(tmp_path, dt=1 / 24)
    assert len(data) == 6
    item = data[0]
    assert set(item) == {"lum", "flow"}
    assert item["lum"].shape == (5, 1, 19) and item["flow"].shape == (5, 2, 19)
    assert item["lum"].dtype == torch.float32 and item["flow"].dtype == torch.float32
    assert 0 <= item["lum"].min() and item["lum"].max() <= 1
    data.dt = 1 / 50
    item = data[-1]
    n = math.ceil(50 / 24 * 5)
    assert item["lum"].shape == (n, 1, 19) and item["flow"].shape == (n, 2, 19)
    data.dt = 1 / 100
    assert data[0]["lum"].shape[0] == math.ceil(100 / 24 * 5)
    data.all_frames = True
    assert data[0]["flow"].shape[0] == math.ceil(100 / 24 * 8)

    lum_only = small(tmp_path, tasks=["lum"], dt=1 / 24)
    assert set(lum_only[0]) == {"lum"}
    both = small(tmp_path, tasks=["flow", "lum"], dt=1 / 24)
    assert both.tasks == ["lum", "flow"] and set(both[0]) == {"lum", "flow"}

    loader = torch.utils.data.DataLoader(data, batch_size=2)
    batch = next(iter(loader))
    assert batch["lum"].shape == (2, math.ceil(100 / 24 * 8), 1, 19)


def test_temporal_crop_and_augmentation(tmp_path):
    data = small(tmp_path, dt=1 / 24)
    cached = data.cached_sequences[1]
    with data.augmentation(False):
        item = data[1]
        assert torch.equal(item["lum"], cached["lum"][:5])
        assert torch.equal(item["flow"], cached["flow"][:5])
    assert data.augment is True
    starts = set()
    for _ in range(30):
        lum = data[1]["lum"]
        matches = [s for s in range(4) if torch.equal(lum, cached["lum"][s : s + 5])]
        starts.update(matches)
    assert len(starts) > 1
    item = data.apply_augmentation(cached, start_frame=2)
    assert torch.equal(item["lum"], cached["lum"][2:7])
    data.random_temporal_crop = False
    assert torch.equal(data[1]["lum"], cached["lum"][:5])
    # resampling switches
    data.dt = 1 / 48
    data.resampling = False
    data.interpolate = True
    with data.augmentation(False):
        item = data[1]
    assert item["lum"].shape[0] == 5 and item["flow"].shape[0] == 10
    data.interpolate = False
    data.resampling = True
    with data.augmentation(False):
        item = data[1]
    assert torch.equal(item["flow"][::2], cached["flow"][:5])


def test_determinism(tmp_path):
    a = small(tmp_path, cache=False)
    b = small(tmp_path, cache=False)
    c = small(tmp_path, cache=False, seed=1)
    for i in range(len(a)):
        for key in ("lum", "flow"):
            assert torch.equal(a.cached_sequences[i][key], b.cached_sequences[i][key])
    assert a.arg_df.equals(b.arg_df)
    assert not torch.equal(a.cached_sequences[0]["lum"], c.cached_sequences[0]["lum"])
    assert np.array_equal(a.cartesian_sequence(2), b.cartesian_sequence(2))
    # item-time draws are reproducible too
    assert torch.equal(a[3]["lum"], b[3]["lum"])


def test_split_by_photo(tmp_path):
    data = small(tmp_path, n_sequences=14)
    train, val = data.original_train_and_validation_indices()
    assert sorted(train + val) == list(range(14)) and train and val
    split = data.photo_split()
    assert set(split["validation"]) == {"coins", "chelsea", "gravel"}

    def photos(indices):
        used = set()
        for i in indices:
            row = data.arg_df.iloc[i]
            used.add(row.background)
            used.update(p for p in row.foregrounds.split(",") if p)
        return used

    assert photos(train) <= set(split["train"])
    assert photos(val) <= set(split["validation"])
    assert not photos(train) & photos(val)
    tr, va = data.get_random_data_split(0, 2)
    assert len(tr) + len(va) == 14


def test_cache_hit_and_key(tmp_path, monkeypatch):
    first = small(tmp_path)
    assert first.rendered is not None and first.rendered.path.parent == tmp_path

    def fail(*args, **kwargs):
        raise AssertionError("re-rendered although cached")

    monkeypatch.setattr(photo_flow, "_render_all", fail)
    second = small(tmp_path, dt=1 / 24, augment=False)  # item settings: same cache
    assert second.rendered.path == first.rendered.path
    assert torch.equal(
        second.cached_sequences[0]["flow"], first.cached_sequences[0]["flow"]
    )
    assert second.arg_df.equals(first.arg_df)
    clone = pickle.loads(pickle.dumps(second))  # e.g. DataLoader workers (spawn)
    assert clone.rendered.path == first.rendered.path
    assert torch.equal(clone[0]["lum"], second[0]["lum"])
    monkeypatch.undo()
    third = small(tmp_path, seed=5)
    assert third.rendered.path != first.rendered.path
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2


def test_errors(tmp_path):
    with pytest.raises(ValueError, match=r"invalid tasks \['depth'\].*lum.*flow"):
        small(tmp_path, tasks=["depth"])
    with pytest.raises(ValueError, match="n_frames"):
        small(tmp_path, n_frames=9)
    with pytest.raises(ValueError, match="dt"):
        small(tmp_path, dt=0)
    with pytest.raises(ValueError, match="frame_size"):
        small(tmp_path, frame_size=(50, 50))
    with pytest.raises(ValueError, match="unknown photos"):
        small(tmp_path, photos=["camera", "lena"])
    with pytest.raises(ValueError, match="unknown motion"):
        small(tmp_path, motion=dict(speed=1))
    data = small(tmp_path, cache=False)
    with pytest.raises(ValueError, match="dt"):
        data.dt = -0.1
    with pytest.raises(IndexError):
        data[6]
    with pytest.raises(IndexError):
        data.cartesian_sequence(6)


def test_repr_and_inspection(tmp_path):
    data = small(tmp_path)
    assert repr(data).startswith("MultiTaskPhotoFlow with 6 sequences.")
    assert list(data.arg_df.columns[:3]) == ["index", "name", "background"]
    assert data.cartesian_sequence(0).shape == (8, 80, 76)
    assert data.config.n_frames == 5 and data.config.tasks == ["flow"]
