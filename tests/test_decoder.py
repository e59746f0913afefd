"""Tests of flyvis.task (decoders, objectives) and flyvis.utils.nn_utils."""

import copy
import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from flyvis.task import (
    ActivityDecoder,
    Conv2dConstWeight,
    Conv2dHexSpace,
    DecoderGAVP,
    GlobalAvgPool,
    epe,
    get_objective,
    l2norm,
)
from flyvis.task.decoder import init_decoder
from flyvis.utils.activity_utils import LayerActivity
from flyvis.utils.hex_utils import get_hex_coords
from flyvis.utils.nn_utils import NumberOfParams, n_params, simulation

OUTPUT_TYPES = (
    "T1 T2 T2a T3 T4a T4b T4c T4d T5a T5b T5c T5d Tm1 Tm2 Tm3 Tm4 Tm5Y Tm5a Tm5b "
    "Tm5c Tm9 Tm16 Tm20 Tm28 Tm30 TmY3 TmY4 TmY5a TmY9 TmY10 TmY13 TmY14 TmY15 TmY18"
).split()

STATE_DICT_KEYS = [
    "base.0.weight",
    "base.0.bias",
    "base.1.weight",
    "base.1.bias",
    "base.1.running_mean",
    "base.1.running_var",
    "base.1.num_batches_tracked",
    "decoder.0.weight",
    "decoder.0.bias",
]

FLOW_CONFIG = dict(
    type="DecoderGAVP",
    shape=[8, 2],
    kernel_size=5,
    const_weight=0.001,
    n_out_features=None,
    p_dropout=0.5,
)


def make_fake_connectome(types, inputs, outputs, extent=2):
    """Small connectome-like object (type-major nodes, byte-string types)."""
    u, v = get_hex_coords(extent)
    n = len(u)
    layer_index = {
        t: np.arange(i * n, (i + 1) * n, dtype=np.int64) for i, t in enumerate(types)
    }
    return SimpleNamespace(
        unique_cell_types=np.array(types, dtype="S8"),
        input_cell_types=np.array(inputs, dtype="S8"),
        output_cell_types=np.array(outputs, dtype="S8"),
        central_cells_index=np.array([i * n + n // 2 for i in range(len(types))]),
        nodes=SimpleNamespace(
            index=np.arange(len(types) * n, dtype=np.int64),
            type=np.repeat(np.array(types, dtype="S8"), n),
            u=np.tile(u, len(types)),
            v=np.tile(v, len(types)),
            layer_index=layer_index,
        ),
        config=SimpleNamespace(extent=extent),
    )


@pytest.fixture(scope="module")
def fake34():
    """34 output types (as in flyvis) on an extent-2 lattice (19 hexals)."""
    return make_fake_connectome(["R1", "L1", *OUTPUT_TYPES], ["R1"], OUTPUT_TYPES)


@pytest.fixture(scope="module")
def tiny():
    """2 output types on an extent-1 lattice (7 hexals): 4 types, 28 nodes."""
    return make_fake_connectome(["R1", "L1", "T4a", "T5a"], ["R1"], ["T4a", "T5a"], 1)


@pytest.fixture(scope="module")
def real_connectome():
    from flyvis.connectome import ConnectomeFromAvgFilters

    # the default connectome, cached under the session's FLYVIS_ROOT_DIR (conftest)
    return ConnectomeFromAvgFilters(file="fib25-fib19_v2.2.json", extent=15, n_syn_fill=1)


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    # the tensors here are tiny: OpenMP start-up dominates (badly on loaded machines)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def n_nodes_of(connectome):
    return len(connectome.nodes.index)


# --------------------------------------------------------------------- nn_utils


def test_n_params_and_repr():
    lin = nn.Linear(3, 2)
    assert n_params(lin) == NumberOfParams(free=8, fixed=0)
    lin.bias.requires_grad_(False)
    assert n_params(lin) == NumberOfParams(free=6, fixed=2)
    assert (
        repr(NumberOfParams(free=7427, fixed=0)) == "NumberOfParams(free=7427, fixed=0)"
    )


def test_simulation_context_restores_even_on_error():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    net[0].bias.requires_grad_(False)
    net.train()
    with simulation(net) as same:
        assert same is net
        assert not net.training and not net[1].training
        assert not any(p.requires_grad for p in net.parameters())
    assert net.training and net[1].training
    assert net[0].weight.requires_grad and not net[0].bias.requires_grad
    with pytest.raises(RuntimeError):
        with simulation(net):
            raise RuntimeError("boom")
    assert net.training and net[0].weight.requires_grad


# ------------------------------------------------------------- building blocks


def test_hex_mask_k5():
    conv = Conv2dHexSpace(2, 3, 5, const_weight=1.0, padding=2)
    mask = conv.mask
    assert mask.shape == (3, 2, 5, 5)
    assert "mask" not in dict(conv.named_buffers())
    zeros = {(0, 0), (0, 1), (1, 0), (3, 4), (4, 3), (4, 4)}
    for i in range(5):
        for j in range(5):
            expected = 0.0 if (i, j) in zeros else 1.0
            assert torch.all(mask[..., i, j] == expected)
            assert torch.all(conv.weight[..., i, j] == expected)
    assert int(mask[0, 0].sum()) == 19
    assert torch.all(conv.bias == 1.0)


def test_masked_taps_stay_zero_after_optimizer_step():
    torch.manual_seed(0)
    conv = Conv2dHexSpace(2, 3, 5, const_weight=None, padding=2)
    opt = torch.optim.Adam(conv.parameters(), lr=0.1)
    x = torch.randn(4, 2, 7, 7)
    for _ in range(3):
        opt.zero_grad()
        out = conv(x)
        masked = conv.weight.detach()[conv.mask == 0]
        assert masked.numel() == 3 * 2 * 6 and torch.all(masked == 0)
        out.pow(2).sum().backward()
        opt.step()
    conv(x)
    assert torch.all(conv.weight.detach()[conv.mask == 0] == 0)
    assert torch.all(conv.weight.detach()[conv.mask == 1] != 0)


def test_hexconv_kernel_sizes():
    with pytest.raises(ValueError, match="^4 is even. Must be odd.$"):
        Conv2dHexSpace(1, 1, 4)
    one = Conv2dHexSpace(1, 1, 1, const_weight=0.5)
    assert one.mask is None and torch.all(one.weight == 0.5)
    assert Conv2dHexSpace(1, 1, 3).mask[0, 0].sum() == 7


def test_conv2d_const_weight():
    conv = Conv2dConstWeight(2, 3, 3, const_weight=0.25)
    assert torch.all(conv.weight == 0.25) and torch.all(conv.bias == 0.25)
    default = Conv2dConstWeight(2, 3, 3)
    assert not torch.all(default.weight == default.weight.flatten()[0])


def test_global_avg_pool():
    x = torch.arange(12.0).reshape(3, 4)
    assert torch.equal(GlobalAvgPool()(x), x.mean(-1))


# ------------------------------------------------------------------- DecoderGAVP


def test_default_decoder_params_and_state_dict(fake34, caplog):
    with caplog.at_level(logging.INFO, logger="flyvis.task.decoder"):
        dec = init_decoder(FLOW_CONFIG, fake34)
    assert isinstance(dec, DecoderGAVP) and isinstance(dec, ActivityDecoder)
    assert dec.num_parameters == NumberOfParams(free=7427, fixed=0)
    assert repr(dec.num_parameters) == "NumberOfParams(free=7427, fixed=0)"
    assert sum(p.numel() for p in dec.parameters()) == 7427
    assert list(dec.state_dict()) == STATE_DICT_KEYS
    assert "Initialized decoder with NumberOfParams(free=7427, fixed=0) parameters." in (
        caplog.text
    )
    assert isinstance(dec.base[0], Conv2dHexSpace) and dec.base[0].in_channels == 34
    assert isinstance(dec.base[1], nn.BatchNorm2d)
    assert isinstance(dec.base[2], nn.Softplus)
    assert isinstance(dec.base[3], nn.Dropout) and dec.base[3].p == 0.5
    assert dec.decoder[0].out_channels == 3 and len(dec.head) == 0
    assert dec.H == dec.W == 5
    assert isinstance(dec.dvs_channels, LayerActivity)
    assert torch.all(dec.base[0].bias == 0.001)
    # the config is not modified
    assert FLOW_CONFIG["type"] == "DecoderGAVP"


def test_state_dict_roundtrip(fake34):
    a = init_decoder(FLOW_CONFIG, fake34)
    b = init_decoder({**FLOW_CONFIG, "const_weight": None}, fake34)
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, 2, n_nodes_of(fake34))
    a.eval(), b.eval()
    assert torch.equal(a(x), b(x))


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(shape=[8, 2]), (2, 3, 2, 19)),
        (dict(shape=[8, 1]), (2, 3, 1, 19)),
        (dict(shape=[8, 3], n_out_features=2), (2, 3, 3, 2)),
        (dict(shape=[8, 2], normalize_last=False, batch_norm=False, p_dropout=0), None),
        (dict(shape=[2]), (2, 3, 2, 19)),
        (dict(shape=[0, 2]), (2, 3, 2, 19)),
        (dict(shape=[4, 6, 2], activation="ReLU"), (2, 3, 2, 19)),
    ],
)
def test_output_shapes(fake34, kwargs, expected):
    dec = DecoderGAVP(fake34, kernel_size=5, **kwargs)
    out = dec(torch.randn(2, 3, n_nodes_of(fake34)))
    assert out.shape == (expected or (2, 3, 2, 19))


def test_bfloat16_convolutions_match_float32(fake34):
    """conv_dtype="bfloat16": same parameters, float32 in and out, close values."""
    torch.manual_seed(3)
    kwargs = dict(shape=[8, 2], kernel_size=5, p_dropout=0.0)
    ref = DecoderGAVP(fake34, **kwargs)
    fast = DecoderGAVP(fake34, conv_dtype="bfloat16", **kwargs)
    assert fast.decoder[0].compute_dtype == torch.bfloat16
    assert ref.decoder[0].compute_dtype is None
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, n_nodes_of(fake34), dtype=torch.float32)
    target = torch.randn(2, 3, 2, 19)
    grads, outs = [], []
    for dec in (ref, fast):
        xi = x.clone().requires_grad_()
        out = dec(xi)
        ((out - target) ** 2).sum().backward()
        outs.append(out.detach())
        grads.append([xi.grad, *(q.grad for q in dec.parameters())])
    assert outs[1].dtype == torch.float32
    assert all(g.dtype == torch.float32 for g in grads[1])
    torch.testing.assert_close(outs[1], outs[0], rtol=0.03, atol=0.03)
    # the bias of the first convolution (followed by batch norm) has ~0 gradient
    for i, (a, b) in enumerate(zip(grads[1], grads[0])):
        if i == 2:
            continue
        assert float((a - b).norm() / b.norm()) < 0.03, i
    with pytest.raises(ValueError, match="conv_dtype"):
        DecoderGAVP(fake34, conv_dtype="float16", **kwargs)


def test_empty_base_batchnorm_in_decoder(fake34):
    dec = DecoderGAVP(fake34, shape=[2], kernel_size=3)
    assert len(dec.base) == 0
    assert (
        isinstance(dec.decoder[0], nn.BatchNorm2d) and dec.decoder[0].num_features == 34
    )
    assert list(dec.state_dict())[:2] == ["decoder.0.weight", "decoder.0.bias"]
    assert dec.num_parameters.free == 2 * 34 + 34 * 3 * 9 + 3


def test_bad_inputs(fake34):
    dec = DecoderGAVP(fake34, shape=[8, 2], kernel_size=5)
    n = n_nodes_of(fake34)
    with pytest.raises(ValueError, match="shape"):
        dec(torch.randn(2, n))
    with pytest.raises(ValueError, match=str(n)):
        dec(torch.randn(2, 3, n + 1))
    with pytest.raises(ValueError, match="torch.Tensor"):
        dec(np.zeros((2, 3, n), dtype=np.float32))
    with pytest.raises(ValueError, match="^6 is even. Must be odd.$"):
        DecoderGAVP(fake34, shape=[8, 2], kernel_size=6)
    with pytest.raises(ValueError, match="DecoderGAVP"):
        init_decoder({"type": "NoSuchDecoder"}, fake34)


def naive_hexconv(x, weight, bias, extent, u, v):
    """Reference hexagonal cross-correlation on a dict of hexals.

    x: (C_in, n_hex) in canonical hexal order, weight (C_out, C_in, k, k) with
    row = du + k // 2 and column = dv + k // 2; hexals outside the lattice are 0.
    """
    pos = {(a, b): i for i, (a, b) in enumerate(zip(u.tolist(), v.tolist()))}
    k = weight.shape[-1]
    r = k // 2
    out = np.zeros((weight.shape[0], len(u)))
    for i, (a, b) in enumerate(zip(u.tolist(), v.tolist())):
        acc = bias.copy()
        for du in range(-r, r + 1):
            for dv in range(-r, r + 1):
                j = pos.get((a + du, b + dv))
                if j is not None:
                    acc += weight[:, :, du + r, dv + r] @ x[:, j]
        out[:, i] = acc
    return out


def test_scatter_and_hex_convolution_match_reference(tiny):
    torch.manual_seed(1)
    dec = DecoderGAVP(
        tiny,
        shape=[2],
        kernel_size=3,
        batch_norm=False,
        normalize_last=False,
        p_dropout=0,
    ).double()
    n = n_nodes_of(tiny)
    x = torch.randn(2, 3, n, dtype=torch.float64)
    out = dec(x).detach().numpy()
    u, v = get_hex_coords(1)
    conv = dec.decoder[0]
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    la = LayerActivity(x.numpy(), tiny)
    rect = np.maximum(la.output, 0)  # (2, 3, 2 types, 7)
    for s in range(2):
        for t in range(3):
            expected = naive_hexconv(rect[s, t], w, b, 1, u, v)
            np.testing.assert_allclose(out[s, t], expected, rtol=1e-12, atol=1e-12)


def test_normalize_last(fake34):
    torch.manual_seed(2)
    dec = DecoderGAVP(fake34, shape=[8, 2], kernel_size=5, p_dropout=0).eval()
    raw = {}
    dec.decoder.register_forward_hook(lambda m, i, o: raw.setdefault("out", o))
    out = dec(torch.randn(1, 2, n_nodes_of(fake34)))
    raw_map = raw["out"].reshape(2, 3, 25)
    index = dec.map_index(torch.device("cpu"))
    raw_hex = raw_map[..., index].reshape(1, 2, 3, 19)
    divisor = torch.nn.functional.softplus(raw_hex[:, :, 2:]) + 1
    assert torch.all(divisor >= 1)
    torch.testing.assert_close(out, raw_hex[:, :, :2] / divisor)
    assert torch.all(out.abs() <= raw_hex[:, :, :2].abs() + 1e-7)


def test_gradcheck_tiny(tiny):
    torch.manual_seed(3)
    dec = DecoderGAVP(tiny, shape=[3, 2], kernel_size=3, p_dropout=0).double().eval()
    x = torch.randn(1, 1, n_nodes_of(tiny), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(dec, (x,), eps=1e-6, atol=1e-5)


def test_two_forwards_then_backward(fake34):
    # re-masking in forward must not invalidate pending autograd graphs
    dec = DecoderGAVP(fake34, shape=[8, 2], kernel_size=5)
    x = torch.randn(1, 2, n_nodes_of(fake34))
    loss = dec(x).sum() + dec(x).sum()
    loss.backward()
    assert dec.base[0].weight.grad is not None


def test_decoder_training_step_and_deepcopy(fake34):
    torch.manual_seed(4)
    dec = init_decoder(FLOW_CONFIG, fake34)
    opt = torch.optim.Adam(dec.parameters(), lr=1e-2)
    x = torch.randn(2, 3, n_nodes_of(fake34))
    y = torch.randn(2, 3, 2, 19)
    for _ in range(2):
        opt.zero_grad()
        loss = l2norm(dec(x), y)
        loss.backward()
        opt.step()
    dec(x)
    for conv in (dec.base[0], dec.decoder[0]):
        assert torch.all(conv.weight.detach()[conv.mask == 0] == 0)
    dec2 = copy.deepcopy(dec).eval()
    dec.eval()
    assert torch.equal(dec(x), dec2(x))


def test_activity_decoder_base(tiny):
    dec = ActivityDecoder(tiny)
    x = torch.randn(1, 2, n_nodes_of(tiny))
    view = dec(x)
    assert view is dec.dvs_channels and view.output.shape == (1, 2, 2, 7)
    assert (dec.H, dec.W) == (3, 3)
    assert dec.u.min() == 0 and dec.v.min() == 0
    assert dec.num_parameters == NumberOfParams(0, 0)


# -------------------------------------------------------------------- objectives


def test_objectives_hand_computed():
    y = torch.zeros(2, 1, 2, 3)
    x = torch.zeros(2, 1, 2, 3)
    x[0, 0, :, 0] = torch.tensor([3.0, 4.0])  # sample 0: one vector of length 5
    x[1, 0, 0, 1] = 1.0  # sample 1: one vector of length 1
    x[1, 0, 1, 2] = 2.0  # and one of length 2
    # l2norm: mean(5, sqrt(1 + 4)) ; epe: mean over 6 hexal vectors (5, 0, 0, 0, 1, 2)
    torch.testing.assert_close(l2norm(x, y), torch.tensor((5 + 5**0.5) / 2))
    torch.testing.assert_close(epe(x, y), torch.tensor(8 / 6))
    assert l2norm(x, y, some_kwarg=1).ndim == 0


def test_objectives_zero_and_positive():
    a = torch.randint(0, 10, (2, 3, 2, 5))
    b = a.clone()
    b[0, 0, 0, 0] += 1
    for fn in (l2norm, epe):
        assert fn(a, a) == 0
        assert fn(a, b) > 0
    r1 = torch.randint(0, 5, (3, 4, 2, 7)).float()
    r2 = torch.randint(5, 10, (3, 4, 2, 7)).float()
    assert l2norm(r1, r2) > 0 and epe(r1, r2) > 0


def test_objectives_gradient_finite_at_zero():
    a = torch.randn(2, 2, 2, 3, requires_grad=True)
    for fn in (l2norm, epe):
        fn(a, a.detach()).backward()
        assert torch.all(torch.isfinite(a.grad))
        a.grad = None


def test_objectives_shape_errors():
    with pytest.raises(ValueError, match="same shape"):
        l2norm(torch.zeros(1, 2, 2, 3), torch.zeros(1, 2, 2, 4))
    with pytest.raises(ValueError, match="samples, frames, ndim, hexals"):
        epe(torch.zeros(2, 2, 3), torch.zeros(2, 2, 3))


def test_get_objective():
    assert get_objective("l2norm") is l2norm and get_objective("epe") is epe
    with pytest.raises(ValueError, match="l2norm, epe"):
        get_objective("mse")


# ------------------------------------------------------------- real connectome


def test_real_connectome_default_decoder(real_connectome):
    torch.manual_seed(5)
    dec = init_decoder(FLOW_CONFIG, real_connectome)
    assert dec.num_parameters == NumberOfParams(free=7427, fixed=0)
    assert list(dec.state_dict()) == STATE_DICT_KEYS
    assert (dec.H, dec.W) == (31, 31)
    x = torch.randn(2, 4, 45669)
    out = dec(x)
    assert out.shape == (2, 4, 2, 721)
    out.pow(2).mean().backward()
    # input channels = rectified output-type voltages, all columns
    la = LayerActivity(x, real_connectome, use_central=False)
    assert dec.dvs_channels.output_indices.shape == (34, 721)
    assert torch.equal(
        x[..., dec.dvs_channels.output_indices[0]], la.T1
    )  # first output type is T1
    feats = init_decoder(
        dict(type="DecoderGAVP", shape=[8, 3], kernel_size=5, n_out_features=2),
        real_connectome,
    )
    assert feats(x).shape == (2, 4, 3, 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_decoder_on_cuda(fake34):
    dec = init_decoder(FLOW_CONFIG, fake34).cuda()
    x = torch.randn(2, 3, n_nodes_of(fake34), device="cuda")
    out = dec(x)
    assert out.device.type == "cuda" and out.shape == (2, 3, 2, 19)
    out.sum().backward()
    assert dec.base[0].mask.device.type == "cpu"
    la = LayerActivity(x, fake34)
    assert la.output.device.type == "cuda" and la.central.T4a.shape == (2, 3)


def test_task_init_decoder_builds_a_dict_of_decoders(fake34):
    import flyvis.task
    from flyvis.task.tasks import init_decoder as tasks_init_decoder

    # as in flyvis 1.2.0, flyvis.task.init_decoder is the dict-of-decoders variant
    assert flyvis.task.init_decoder is tasks_init_decoder
    decoders = flyvis.task.init_decoder({"flow": FLOW_CONFIG}, fake34)
    assert set(decoders) == {"flow"} and isinstance(decoders["flow"], DecoderGAVP)


def test_dropout_zeroes_a_fraction_p_and_rescales_the_rest():
    from flyvis.task.decoder import Dropout

    torch.manual_seed(0)
    drop = Dropout(0.3)
    x = torch.full((200, 1000), 2.0, requires_grad=True)
    y = drop(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.7) < 0.005
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 2.0 / 0.7))
    y.sum().backward()
    torch.testing.assert_close(x.grad, kept.float() / 0.7)
    assert drop.eval()(x) is x
    assert Dropout(0.0).train()(x) is x
    assert not Dropout(1.0).train()(x).any()


@pytest.mark.parametrize("extent", [1, 2, 15])
def test_hex_map_index_is_the_decoder_layout(extent):
    from flyvis.utils.hex_utils import get_hex_coords, hex_map_index

    index, height, width = hex_map_index(extent)
    u, v = get_hex_coords(extent)
    assert (height, width) == (2 * extent + 1, 2 * extent + 1)
    assert len(np.unique(index)) == len(u) and index.min() >= 0
    assert index.max() < height * width
    np.testing.assert_array_equal(np.divmod(index, width), (u + extent, v + extent))


def test_cell_types_subset_reads_only_those_types(fake34):
    t4t5 = ["T4a", "T4b", "T4c", "T4d", "T5a", "T5b", "T5c", "T5d"]
    torch.manual_seed(0)
    dec = DecoderGAVP(fake34, shape=[4, 2], kernel_size=3, p_dropout=0, cell_types=t4t5)
    dec.eval()
    assert dec.n_output_types == 8 and dec.base[0].weight.shape[1] == 8
    n = n_nodes_of(fake34)
    x = torch.rand(2, 3, n)
    out = dec(x)
    index = fake34.nodes.layer_index
    # the activity of any other output type does not change the prediction ...
    other = x.clone()
    other[..., index["Tm3"]] += 5.0
    assert torch.equal(dec(other), out)
    # ... that of a selected one does
    changed = x.clone()
    changed[..., index["T5d"]] += 5.0
    assert not torch.allclose(dec(changed), out)
    with pytest.raises(ValueError, match="unknown: R1"):
        DecoderGAVP(fake34, shape=[8, 2], kernel_size=5, cell_types=["T4a", "R1"])
    with pytest.raises(ValueError, match="distinct"):
        DecoderGAVP(fake34, shape=[8, 2], kernel_size=5, cell_types=["T4a", "T4a"])
    with pytest.raises(ValueError, match="non-empty"):
        DecoderGAVP(fake34, shape=[8, 2], kernel_size=5, cell_types=[])


def test_type_dropout_drops_whole_types_per_movie(fake34):
    t4t5 = ["T4a", "T4b", "T4c", "T4d", "T5a", "T5b", "T5c", "T5d"]
    torch.manual_seed(0)
    p = 0.5
    dec = DecoderGAVP(
        fake34,
        shape=[4, 2],
        kernel_size=3,
        p_dropout=0,
        cell_types=t4t5,
        p_type_dropout=p,
    )
    seen = []
    dec.base.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    n_samples, n_frames = 6, 3
    x = torch.rand(n_samples, n_frames, n_nodes_of(fake34)) + 0.1  # all positive
    dec.eval()
    dec(x)
    reference = seen.pop().unflatten(0, (n_samples, n_frames))
    dec.train()
    dec(x)
    dropped = seen.pop().unflatten(0, (n_samples, n_frames))
    on_map = reference != 0
    ratio = dropped[on_map] / reference[on_map]
    # every kept value is scaled by 1 / (1 - p), every dropped one is 0 ...
    assert torch.all((ratio == 0) | torch.isclose(ratio, torch.tensor(1 / (1 - p))))
    # ... and a type is kept or dropped as a whole for all frames and hexals of a movie
    kept = (dropped != 0).any(dim=(1, 3, 4))  # (n_samples, n_types)
    for n in range(n_samples):
        for c in range(8):
            block = dropped[n, :, c][on_map[n, :, c]]
            assert torch.all(block != 0) if kept[n, c] else torch.all(block == 0)
    assert 0 < kept.float().mean() < 1
    with pytest.raises(ValueError, match=r"p_type_dropout must be in \[0, 1\)"):
        DecoderGAVP(fake34, shape=[8, 2], kernel_size=5, p_type_dropout=1.0)
