"""Self-supervised flow objectives on the hex lattice (issue 5)."""

import math

import numpy as np
import pytest
import torch

from flyvis.task import objectives as O
from flyvis.utils.hex_utils import get_hex_coords, hex_to_pixel

EXTENT = 6


def _coords():
    u, v = get_hex_coords(EXTENT)
    x, y = hex_to_pixel(u, v)
    return u, v, x / math.sqrt(3), y / math.sqrt(3)  # neighbour spacing 1


def _scene(shift_x=0.0, shift_y=0.0, n_frames=3):
    """A smooth pattern translating by (shift_x, shift_y) spacings per frame."""
    _, _, x, y = _coords()
    frames = [
        np.sin(0.4 * (x - t * shift_x)) + np.cos(0.3 * (y - t * shift_y))
        for t in range(n_frames)
    ]
    return torch.tensor(np.stack(frames), dtype=torch.float64)[None, :, None]


def _flow(fx, fy, n_frames=3):
    n = len(_coords()[0])
    flow = torch.zeros(1, n_frames, 2, n, dtype=torch.float64)
    flow[:, :, 0], flow[:, :, 1] = fx, fy
    return flow


def test_photometric_zero_for_static_scene_and_zero_flow():
    lum = _scene()
    assert float(O.photometric(_flow(0, 0), None, lum=lum)) == 0.0


def test_photometric_prefers_the_true_translation():
    lum = _scene(shift_x=0.7, shift_y=-0.4)
    right = float(O.photometric(_flow(0.7, -0.4), None, lum=lum))
    zero = float(O.photometric(_flow(0, 0), None, lum=lum))
    wrong = float(O.photometric(_flow(-0.7, 0.4), None, lum=lum))
    assert right < 0.05 * zero and right < 0.05 * wrong
    # linear luminance is interpolated exactly: a translation by any vector is exact
    _, _, x, y = _coords()
    ramp = torch.tensor(np.stack([0.3 * (x - 0.37 * t) - 0.2 * y for t in range(3)]))[
        None, :, None
    ]
    assert float(O.photometric(_flow(0.37, 0.0), None, lum=ramp)) < 1e-9


def test_hex_sample_integer_offsets_are_neighbours():
    u, v, _, _ = _coords()
    values = torch.tensor(u * 100.0 + v)
    du, dv = torch.ones_like(values), torch.zeros_like(values)
    sampled, valid = O.hex_sample(values, du, dv)
    np.testing.assert_allclose(sampled[valid].numpy(), values[valid].numpy() + 100)
    assert (~valid).sum() == 2 * EXTENT + 1  # the border row in +u direction


def test_smoothness_constant_and_linear_fields():
    assert float(O.smoothness1(_flow(1.5, -2.0))) == 0.0
    assert float(O.smoothness2(_flow(1.5, -2.0))) == 0.0
    _, _, x, _ = _coords()
    linear = _flow(torch.tensor(0.1 * x), 0.0)
    assert float(O.smoothness1(linear)) > 0.01
    assert float(O.smoothness2(linear)) == pytest.approx(0.0, abs=1e-9)
    assert float(O.magnitude(_flow(1.5, -2.0))) == pytest.approx(3.5)


def test_gradients_flow_and_combined_objective():
    lum = _scene(shift_x=0.5).float()
    flow = _flow(0.1, 0.0).float().requires_grad_(True)
    fn = O.get_objective(
        {"photometric": 1.0, "smoothness1": {"weight": 0.5}, "magnitude": 0.1}
    )
    loss = fn(flow, None, lum=lum)
    loss.backward()
    assert torch.isfinite(flow.grad).all() and flow.grad.abs().sum() > 0
    # the photometric gradient pushes the x-flow towards the true 0.5
    assert float(flow.grad[:, 1:, 0].sum()) < 0


def test_errors():
    with pytest.raises(ValueError, match="lum="):
        O.photometric(_flow(0, 0), None)
    with pytest.raises(ValueError, match="Valid objectives"):
        O.get_objective("photometrix")
    with pytest.raises(ValueError, match="2, hexals"):
        O.smoothness1(torch.zeros(1, 2, 3, 19))
    with pytest.raises(ValueError, match="matching the flow"):
        O.photometric(_flow(0, 0), None, lum=torch.zeros(1, 3, 1, 7))
