"""Hex augmentations: test vectors, group properties, BoxEye equivariance, pipeline."""

import math

import numpy as np
import pytest
import torch

from flyvis.datasets.augmentation import utils as aug_utils
from flyvis.datasets.augmentation.hex import (
    ContrastBrightness,
    GammaCorrection,
    HexFlip,
    HexRotate,
    PixelNoise,
)
from flyvis.datasets.rendering import BoxEye

VALUES = torch.arange(7)[None, None]  # (frames=1, channels=1, hexals=7)

ROTATIONS = {
    0: [0, 1, 2, 3, 4, 5, 6],
    1: [1, 4, 0, 3, 6, 2, 5],
    2: [4, 6, 1, 3, 5, 0, 2],
    3: [6, 5, 4, 3, 2, 1, 0],
    4: [5, 2, 6, 3, 0, 4, 1],
    5: [2, 0, 5, 3, 1, 6, 4],
}
FLIPS = {0: [0, 1, 2, 3, 4, 5, 6], 1: [0, 2, 1, 3, 5, 4, 6], 2: [5, 6, 2, 3, 4, 0, 1]}
FLIPS[3] = [4, 1, 6, 3, 0, 5, 2]
FLIP_FLOW_ANGLE = {0: 0, 1: 180, 2: 300, 3: 60}


def unit_flow(n_hexals=7, angle_deg=0.0, frames=1):
    a = math.radians(angle_deg)
    flow = torch.zeros(frames, 2, n_hexals)
    flow[:, 0], flow[:, 1] = math.cos(a), math.sin(a)
    return flow


def angles(flow):
    return torch.rad2deg(torch.atan2(flow[:, 1], flow[:, 0])) % 360


# -- test vectors -------------------------------------------------------------------


@pytest.mark.parametrize("n_rot", range(6))
def test_rotation_vectors(n_rot):
    out = HexRotate(1, n_rot=n_rot)(VALUES)
    assert out.flatten().tolist() == ROTATIONS[n_rot]
    assert (
        VALUES.flatten()[aug_utils.rotation_permutation_index(1, n_rot)].tolist()
        == ROTATIONS[n_rot]
    )
    flow = HexRotate(1).transform(unit_flow(), n_rot=n_rot)
    assert torch.allclose(angles(flow), torch.full((1, 7), 60.0 * n_rot), atol=1e-4)
    assert torch.allclose(flow.norm(dim=1), torch.ones(1, 7))


@pytest.mark.parametrize("axis", range(4))
def test_flip_vectors(axis):
    flip = HexFlip(1, axis=axis)
    assert flip(VALUES).flatten().tolist() == FLIPS[axis]
    flow = flip(unit_flow())
    assert torch.allclose(
        angles(flow), torch.full((1, 7), float(FLIP_FLOW_ANGLE[axis])), atol=1e-4
    )
    if axis:
        perm = aug_utils.flip_permutation_index(1, axis)
        assert VALUES.flatten()[perm].tolist() == FLIPS[axis]


def test_matrices():
    r = aug_utils.rotation_matrix(math.pi / 3)
    assert r.dtype == torch.float32 and r.shape == (2, 2)
    assert torch.allclose(
        r @ torch.tensor([1.0, 0]), torch.tensor([0.5, math.sqrt(3) / 2])
    )
    r3 = aug_utils.rotation_matrix(math.pi / 3, three_d=True)
    assert r3.shape == (3, 3) and r3[2, 2] == 1 and torch.equal(r3[:2, :2], r)
    f = aug_utils.flip_matrix(math.pi / 2)
    assert torch.allclose(
        f @ torch.tensor([1.0, 2.0]), torch.tensor([-1.0, 2.0]), atol=1e-6
    )
    assert aug_utils.flip_matrix(0.3, three_d=True).shape == (3, 3)
    u, v = aug_utils.rotate_Nx60(np.array([1]), np.array([0]), 1)
    assert (int(u[0]), int(v[0])) == (0, 1)
    with pytest.raises(ValueError, match=r"axis must be in \[1, 2, 3\]"):
        aug_utils.flip_permutation_index(1, 4)
    with pytest.raises(ValueError, match="axis must be in"):
        HexFlip(1).axis = 5
    with pytest.raises(ValueError, match="not in flip_axes"):
        HexFlip(1, flip_axes=[0, 1]).axis = 2
    with pytest.raises(ValueError, match="invalid flip axes"):
        HexFlip(1, flip_axes=[0, 4])


# -- group properties -----------------------------------------------------------------


def random_sequence(extent, channels, frames=3, seed=0):
    n = 1 + 3 * extent * (extent + 1)
    return torch.randn(frames, channels, n, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_six_rotations_are_identity(channels):
    seq = random_sequence(3, channels)
    rotate = HexRotate(3, n_rot=1)
    out = seq
    for _ in range(6):
        out = rotate(out)
    assert torch.allclose(out, seq, atol=1e-5)
    # composition: rot(a) rot(b) = rot(a + b)
    for a in range(6):
        for b in range(6):
            ab = HexRotate(3, n_rot=b)(HexRotate(3, n_rot=a)(seq))
            assert torch.allclose(ab, HexRotate(3, n_rot=a + b)(seq), atol=1e-5)


@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("axis", [1, 2, 3])
def test_flips_are_involutions(channels, axis):
    seq = random_sequence(3, channels)
    flip = HexFlip(3, axis=axis)
    assert not torch.allclose(flip(seq), seq)
    assert torch.allclose(flip(flip(seq)), seq, atol=1e-6)


def test_flips_and_rotations_form_the_dihedral_group():
    seq = random_sequence(2, 2, frames=1)
    results = []
    for axis in range(4):
        for n in range(6):
            results.append(HexRotate(2, n_rot=n)(HexFlip(2, axis=axis)(seq)))
    distinct = []
    for r in results:
        if not any(torch.allclose(r, d, atol=1e-5) for d in distinct):
            distinct.append(r)
    assert len(distinct) == 12
    # flips across axes 2 and 3 are axis-1 flips followed by rotations
    for axis in (2, 3):
        target = HexFlip(2, axis=axis)(seq)
        assert any(
            torch.allclose(
                HexRotate(2, n_rot=n)(HexFlip(2, axis=1)(seq)), target, atol=1e-5
            )
            for n in range(6)
        )


def test_batched_and_numpy_inputs():
    seq = random_sequence(2, 2)
    batched = torch.stack([seq, 2 * seq])
    rotate = HexRotate(2, n_rot=2)
    out = rotate(batched)
    assert torch.allclose(out[1], 2 * rotate(seq), atol=1e-5)
    array = rotate(seq.numpy())
    assert isinstance(array, np.ndarray) and np.allclose(array, rotate(seq).numpy())
    with pytest.raises(ValueError, match="hexals"):
        rotate(torch.zeros(1, 1, 8))
    with pytest.raises(ValueError, match="2 or 3 channels"):
        rotate(torch.zeros(1, 4, 19))
    # 2-D input is a scalar field (only permuted)
    assert rotate(torch.arange(19.0)[None]).shape == (1, 19)


# -- sampling with explicit generators ------------------------------------------------


def test_rotation_sampling_distribution():
    rotate = HexRotate(1, p_rot=5 / 6)
    rng = np.random.default_rng(0)
    counts = np.zeros(6)
    for _ in range(1200):
        rotate.set_or_sample(generator=rng)
        counts[rotate.n_rot] += 1
    assert np.all(np.abs(counts / 1200 - 1 / 6) < 0.05)
    rotate.p_rot = 0
    rotate.set_or_sample(generator=rng)
    assert rotate.n_rot == 0
    rotate.set_or_sample(4)
    assert rotate.n_rot == 4


def test_flip_sampling_uses_allowed_axes_only():
    rng = np.random.default_rng(1)
    flip = HexFlip(1, p_flip=1.0, flip_axes=[0, 2])
    drawn = set()
    for _ in range(50):
        flip.set_or_sample(generator=rng)
        drawn.add(flip.axis)
    assert drawn == {2}
    flip = HexFlip(1, p_flip=3 / 4, flip_axes=[0, 1, 2, 3])
    counts = np.zeros(4)
    for _ in range(1200):
        flip.set_or_sample(generator=rng)
        counts[flip.axis] += 1
    assert np.all(np.abs(counts / 1200 - 1 / 4) < 0.05)


def test_same_generator_state_same_draws():
    draws = []
    for _ in range(2):
        rng = np.random.default_rng(7)
        rotate, flip, jitter = HexRotate(1), HexFlip(1), ContrastBrightness()
        values = []
        for _ in range(20):
            rotate.set_or_sample(generator=rng)
            flip.set_or_sample(generator=rng)
            jitter.set_or_sample(generator=rng)
            values.append((rotate.n_rot, flip.axis, jitter.contrast_factor))
        draws.append(values)
    assert draws[0] == draws[1]
    # torch generators work too
    rotate = HexRotate(1, p_rot=1)
    rotate.set_or_sample(generator=torch.Generator().manual_seed(0))
    assert 1 <= rotate.n_rot <= 5


# -- photometric ------------------------------------------------------------------------


def test_contrast_brightness():
    jitter = ContrastBrightness(0.5, 0.5)
    x = torch.tensor([0.0, 1, 1, 1, 1, 0, 0])
    assert torch.allclose(jitter(x), torch.tensor([0.5, 1, 1, 1, 1, 0.5, 0.5]))
    assert jitter(torch.tensor([-1.0])).item() == 0.0
    assert torch.equal(ContrastBrightness()(x), x)  # no factor set: identity
    jitter = ContrastBrightness(contrast_std=0.2, brightness_std=0.1)
    jitter.set_or_sample(generator=np.random.default_rng(0))
    assert jitter.contrast_factor > 0 and jitter.brightness_factor != 0
    jitter.set_or_sample(2.0, 0.0)
    assert torch.allclose(jitter(torch.tensor([0.25, 0.75])), torch.tensor([0.0, 1.0]))
    off = ContrastBrightness(contrast_std=None, brightness_std=None)
    off.set_or_sample(generator=np.random.default_rng(0))
    assert torch.equal(off(x), x)
    # brightness only (flyvis would ignore it): c = 1
    bright = ContrastBrightness(contrast_std=None, brightness_std=0.1)
    bright.set_or_sample(generator=np.random.default_rng(0))
    assert bright.contrast_factor == 1.0
    assert torch.allclose(
        bright(x + 0.5), (x + 0.5 + bright.brightness_factor).clamp(min=0)
    )


def test_pixel_noise_deterministic_after_draw():
    x = torch.full((4, 1, 19), 0.5)
    noise = PixelNoise(0.08)
    noise.set_or_sample(generator=np.random.default_rng(3))
    a, b = noise(x), noise(x)
    assert torch.equal(a, b) and not torch.equal(a, x)
    assert abs((a - x).std().item() - 0.08) < 0.03
    assert noise(torch.zeros(100)).min() >= 0
    noise.set_or_sample(generator=np.random.default_rng(4))
    assert not torch.equal(noise(x), a)
    assert torch.equal(PixelNoise(None)(x), x)
    noise.set_or_sample(std=0.5)
    assert noise.std == 0.5


def test_gamma():
    x = torch.tensor([0.0, 0.25, 1.0])
    assert torch.allclose(GammaCorrection(2)(x), x**2)
    assert torch.equal(GammaCorrection(1)(x), x)
    with pytest.raises(ValueError, match="Gamma must be positive"):
        GammaCorrection(-1)
    gamma = GammaCorrection(1, std=0.3)
    gamma.set_or_sample(generator=np.random.default_rng(0))
    assert gamma.gamma >= 0 and gamma.gamma != 1
    gamma = GammaCorrection(1, std=None)
    gamma.set_or_sample(generator=np.random.default_rng(0))
    assert gamma.gamma == 1.0


# -- equivariance with rendering ---------------------------------------------------------

EXTENT, SIZE = 4, 201
CENTER = SIZE // 2


def _coordinates():
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    return (cols - CENTER).astype(float), -(rows - CENTER).astype(float)  # x right, y up


def _image(x, y):
    return (
        0.5
        + 0.2 * np.sin(2 * np.pi * (0.8 * x + 0.3 * y) / 150)
        + 0.1 * np.cos(2 * np.pi * (-0.2 * x + 0.9 * y) / 110)
    )


def _flow(x, y):
    """A smooth, non-uniform flow field (px/frame, x right, y up)."""
    return np.stack([0.3 + 0.004 * y + 0.002 * x, -0.2 + 0.003 * x])


def _rotate_points(angle, x, y):
    c, s = math.cos(angle), math.sin(angle)
    return c * x - s * y, s * x + c * y


def _reflect(angle, x, y):
    c, s = math.cos(2 * angle), math.sin(2 * angle)
    return c * x + s * y, s * x - c * y


def _render(eye, lum, flow):
    lum_hex = eye(torch.tensor(lum, dtype=torch.float32)[None, None])[0]
    flow_hex = torch.cat(
        [
            eye(torch.tensor(flow[i], dtype=torch.float32)[None, None], ftype="sum")[0]
            for i in range(2)
        ],
        dim=1,
    )
    return lum_hex, flow_hex / 169


def _transformed_scene(point_map, vector_map):
    """Movie and flow after a linear map of the image plane (maps are involutive
    or given as the inverse point map and the forward vector map)."""
    x, y = _coordinates()
    xs, ys = point_map(x, y)
    flow = _flow(xs, ys)
    fx, fy = vector_map(flow[0], flow[1])
    return _image(xs, ys), np.stack([fx, fy])


@pytest.mark.parametrize("n_rot", [1, 2, 4, 5])
def test_rotation_matches_rendering_the_rotated_movie(n_rot):
    eye = BoxEye(extent=EXTENT, kernel_size=13)
    x, y = _coordinates()
    lum, flow = _render(eye, _image(x, y), _flow(x, y))
    a = n_rot * math.pi / 3
    lum_rot, flow_rot = _render(
        eye,
        *_transformed_scene(
            lambda x, y: _rotate_points(-a, x, y), lambda u, v: _rotate_points(a, u, v)
        ),
    )
    errors = {}
    for m in range(6):
        rotate = HexRotate(EXTENT, n_rot=m)
        errors[m] = (
            (rotate(lum) - lum_rot).abs().max().item(),
            (rotate(flow) - flow_rot).abs().max().item(),
        )
    # the lattice of BoxEye is only approximately hexagonal: small residual
    assert errors[n_rot][0] < 0.08 and errors[n_rot][1] < 0.06
    for m, (e_lum, e_flow) in errors.items():
        if m != n_rot:
            assert e_lum > 0.2 and e_flow > 0.2


def test_half_turn_and_axis1_flip_are_exact_on_boxeye():
    eye = BoxEye(extent=EXTENT, kernel_size=13)
    x, y = _coordinates()
    lum, flow = _render(eye, _image(x, y), _flow(x, y))
    lum_rot, flow_rot = _render(
        eye,
        *_transformed_scene(
            lambda x, y: _rotate_points(-math.pi, x, y),
            lambda u, v: _rotate_points(math.pi, u, v),
        ),
    )
    rotate = HexRotate(EXTENT, n_rot=3)
    assert torch.allclose(rotate(lum), lum_rot, atol=1e-5)
    assert torch.allclose(rotate(flow), flow_rot, atol=1e-5)
    for axis, angle in aug_utils.FLIP_ANGLES.items():
        a = math.radians(angle)
        lum_f, flow_f = _render(
            eye,
            *_transformed_scene(
                lambda x, y, a=a: _reflect(a, x, y), lambda u, v, a=a: _reflect(a, u, v)
            ),
        )
        flip = HexFlip(EXTENT, axis=axis)
        tol = 1e-5 if axis == 1 else 0.08
        assert (flip(lum) - lum_f).abs().max() < tol
        assert (flip(flow) - flow_f).abs().max() < tol


# -- the item pipeline on MultiTaskPhotoFlow --------------------------------------------

PHOTO = dict(
    boxfilter=dict(extent=2, kernel_size=13),
    frame_size=(80, 76),
    n_sequences=3,
    n_source_frames=8,
    n_frames=5,
    device="cpu",
    photos=["camera", "coins", "moon", "clock"],
    cache=False,
)


@pytest.fixture(scope="module")
def photo():
    from flyvis.datasets.photo_flow import MultiTaskPhotoFlow

    return MultiTaskPhotoFlow(
        **PHOTO,
        dt=1 / 24,
        p_flip=0.5,
        p_rot=0.5,
        flip_axes=[0, 1, 2, 3],
        contrast_std=0.2,
        brightness_std=0.1,
        gaussian_white_noise=0.08,
        gamma_std=0.1,
    )


def test_photoflow_pipeline_shares_one_draw(photo):
    cached = photo.cached_sequences[1]
    seen = set()
    for _ in range(12):
        item = photo.apply_augmentation(cached)
        start = photo.temporal_crop.start
        flow = cached["flow"][start : start + 5]
        expected = HexRotate(2, n_rot=photo.rotate.n_rot)(
            HexFlip(2, axis=photo.flip.axis)(flow)
        )
        assert torch.allclose(item["flow"], expected, atol=1e-6)
        lum = cached["lum"][start : start + 5]
        lum = photo.gamma_correct(photo.jitter(photo.noise(lum)))
        lum = HexRotate(2, n_rot=photo.rotate.n_rot)(
            HexFlip(2, axis=photo.flip.axis)(lum)
        )
        assert torch.allclose(item["lum"], lum, atol=1e-6)
        seen.add((photo.rotate.n_rot, photo.flip.axis))
    assert len(seen) > 2
    with photo.augmentation(False):
        item = photo[1]
        assert torch.equal(item["lum"], cached["lum"][:5])
        assert torch.equal(item["flow"], cached["flow"][:5])
    assert photo.augment and photo.flip.augment and photo.noise.augment


def test_photoflow_accepts_sintel_keys_and_is_deterministic():
    from flyvis.datasets.photo_flow import MultiTaskPhotoFlow

    sintel_keys = dict(
        vertical_splits=3,
        center_crop_fraction=0.7,
        p_flip=0.5,
        p_rot=0.5,
        contrast_std=0.2,
        brightness_std=0.1,
        gaussian_white_noise=0.08,
        gamma_std=None,
        _init_cache=True,
        unittest=False,
        flip_axes=[0, 1, 2, 3],
        task_weights=None,
    )
    a = MultiTaskPhotoFlow(**PHOTO, **sintel_keys)
    b = MultiTaskPhotoFlow(**PHOTO, **sintel_keys)
    for key in range(3):
        ia, ib = a[key], b[key]
        assert torch.equal(ia["lum"], ib["lum"]) and torch.equal(ia["flow"], ib["flow"])
    assert a.config.p_rot == 0.5 and a.config.flip_axes == [0, 1, 2, 3]
    # attribute updates reach exactly one augmentation
    a.contrast_std = 0.5
    assert a.jitter.contrast_std == 0.5 and a.jitter.brightness_std == 0.1
    assert a.config.contrast_std == 0.5
    a.gaussian_white_noise = None
    assert a.noise.std is None
    a.p_flip = 0
    assert a.flip.p_flip == 0
