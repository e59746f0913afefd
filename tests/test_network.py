"""Network: parity with flyvis 1.2.0, analytic dynamics, gradients, errors."""

import numpy as np
import pytest
import torch

from flyvis.network import IntegrationWarning, Network, NetworkState
from flyvis.network.dynamics import PPNeuronIGRSynapses, integrate
from flyvis.network.engine import SynapticEngine

ATOL = 1e-5


def test_parameter_count_and_state_dict(default_network):
    net = default_network
    assert (net.num_parameters.free, net.num_parameters.fixed) == (734, 2959)
    assert list(net.state_dict()) == [
        "nodes_bias",
        "nodes_time_const",
        "edges_sign",
        "edges_syn_count",
        "edges_syn_strength",
    ]
    assert net.n_nodes == 45669 and net.n_edges == 1513231


def test_initial_parameters_match_golden(default_network, golden_tables):
    g = golden_tables
    sd = {k: v.detach().numpy() for k, v in default_network.state_dict().items()}
    np.testing.assert_array_equal(sd["nodes_bias"], g["param_bias"])
    np.testing.assert_array_equal(sd["nodes_time_const"], g["param_time_const"])
    np.testing.assert_array_equal(sd["edges_sign"], g["param_sign"])
    np.testing.assert_allclose(sd["edges_syn_count"], g["param_syn_count_log"], atol=1e-6)
    np.testing.assert_allclose(
        sd["edges_syn_strength"], g["param_syn_strength"], rtol=1e-6
    )
    bias = default_network.node_params.bias
    assert bias.keys[:3] == ["R1", "R2", "R3"]
    assert bias["R1"] == sd["nodes_bias"][0]
    strength = default_network.edge_params.syn_strength
    np.testing.assert_array_equal(
        np.array([k[:2] for k in strength.keys]), g["param_syn_strength_keys"]
    )
    np.testing.assert_array_equal(
        strength.indices.numpy(), g["param_edge_index_syn_strength"]
    )
    weight = default_network.prepare().weight.detach().numpy()
    np.testing.assert_allclose(weight, g["edge_weight"], atol=1e-7)


@pytest.mark.parametrize("engine", ["sparse", "reference"])
def test_responses_match_golden(engine, default_network, golden_responses):
    g = golden_responses
    net = (
        default_network
        if engine == "sparse"
        else Network(engine="reference", device="cpu")
    )
    dt = float(g["dt"])
    steady = net.steady_state(t_pre=1.0, dt=dt, batch_size=1, value=0.5)
    np.testing.assert_allclose(steady.v[0].numpy(), g["steady_state_activity"], atol=ATOL)
    grating = torch.from_numpy(g["stim_grating"])[None, :, None]
    resp = net.simulate(grating, dt, initial_state=steady)
    np.testing.assert_allclose(resp[0].numpy(), g["resp_grating"], atol=ATOL)
    step = torch.from_numpy(g["stim_step"])[None, :, None]
    resp = net.simulate(step, dt, initial_state=steady)
    np.testing.assert_allclose(
        resp[0][:, net.connectome.central_cells_index[:]].numpy(),
        g["resp_step_central"],
        atol=ATOL,
    )
    np.testing.assert_allclose(resp[0, -1].numpy(), g["resp_step_last"], atol=ATOL)
    fade = net.fade_in_state(0.5, dt, grating[:, 0], state=steady)
    np.testing.assert_allclose(fade.v[0].numpy(), g["fade_in_state_activity"], atol=ATOL)
    zero = net(torch.zeros(1, 5, net.n_nodes), dt)
    np.testing.assert_allclose(
        zero[0].detach().numpy(), g["resp_zero_input_from_bias"], atol=ATOL
    )
    init = net.dynamics.initial_state(net.prepare(), 1)
    np.testing.assert_allclose(init[0].detach().numpy(), g["initial_activity_bias"])


def _tiny_engine(n_nodes, source, target, name="sparse"):
    return SynapticEngine(torch.tensor(source), torch.tensor(target), n_nodes, name=name)


def test_sparse_engine_derives_edge_indices_and_transpose():
    # the sparse engine stores only the CSR layouts: source/target (edge-table
    # order) and the transposed values are derived from them
    gen = torch.Generator().manual_seed(0)
    n, n_edges = 7, 40
    source = torch.randint(0, n, (n_edges,), generator=gen)
    target = torch.randint(0, n, (n_edges,), generator=gen)
    sparse = SynapticEngine(source, target, n)
    assert "_source" not in sparse._buffers and "perm_t" not in sparse._buffers
    assert not sparse._derived_cache  # nothing derived until asked for
    assert torch.equal(sparse.source.long(), source)
    assert sparse.source is sparse.source  # derived once, then cached
    assert torch.equal(sparse.target.long(), target)
    operator = sparse.prepare(torch.randn(n_edges, generator=gen))
    dense = torch.zeros(n, n).index_put_(
        (target, source), operator.weight.detach(), accumulate=True
    )
    assert torch.allclose(operator.matrix.to_dense(), dense)
    assert torch.allclose(operator.matrix_t.to_dense(), dense.t())


class _TinyNet:
    def __init__(self, engine):
        self.engine = engine


def _params(dynamics, engine, bias, tau, weight):
    return dynamics.prepare(
        {
            "nodes_bias": bias,
            "nodes_time_const": tau,
            "edges_sign": torch.ones_like(weight),
            "edges_syn_count": torch.ones_like(weight),
            "edges_syn_strength": weight,
        },
        _TinyNet(engine),
    )


def test_single_node_relaxes_exponentially():
    dyn = PPNeuronIGRSynapses()
    engine = _tiny_engine(1, [], [])
    tau, dt, b = 0.05, 1e-4, 0.3
    params = _params(dyn, engine, torch.tensor([b]), torch.tensor([tau]), torch.zeros(0))
    v0 = torch.tensor([[1.0]], dtype=torch.float64)
    n = 1000
    out = integrate(dyn, v0.float(), params, torch.zeros(1, n, 1), dt)[0, :, 0]
    t = dt * torch.arange(1, n + 1)
    exact = b + (1.0 - b) * torch.exp(-t / tau)
    # global Euler error is bounded by (V0 - b) * dt / tau
    assert torch.allclose(out, exact.float(), atol=(1.0 - b) * dt / tau)
    euler = b + (1.0 - b) * (1 - dt / tau) ** torch.arange(1, n + 1, dtype=torch.float64)
    assert torch.allclose(out.double(), euler, atol=1e-5)


def test_tau_is_floored_at_dt():
    dyn = PPNeuronIGRSynapses()
    engine = _tiny_engine(1, [], [])
    params = _params(
        dyn, engine, torch.tensor([0.2]), torch.tensor([0.001]), torch.zeros(0)
    )
    out = integrate(
        dyn, torch.tensor([[5.0]]), params, torch.full((1, 1, 1), 0.3), dt=0.02
    )
    assert torch.allclose(out[0, 0], torch.tensor([0.5]))  # jumps to b + x


@pytest.mark.parametrize("engine_name", ["sparse", "reference"])
def test_two_node_chain_reaches_analytic_steady_state(engine_name):
    dyn = PPNeuronIGRSynapses()
    engine = _tiny_engine(2, [0], [1], engine_name)
    bias = torch.tensor([0.1, -0.2])
    w = torch.tensor([0.7])
    params = _params(dyn, engine, bias, torch.tensor([0.05, 0.02]), w)
    x = torch.zeros(1, 2000, 2)
    x[..., 0] = 0.5
    out = integrate(dyn, torch.zeros(1, 2), params, x, dt=0.005)
    v0 = 0.1 + 0.5
    v1 = -0.2 + 0.7 * max(v0, 0)
    assert torch.allclose(out[0, -1], torch.tensor([v0, v1]), atol=1e-5)
    # inhibition below zero is rectified: a negative presynaptic voltage has no effect
    params = _params(
        dyn, engine, torch.tensor([-1.0, 0.3]), torch.tensor([0.05, 0.05]), w
    )
    out = integrate(dyn, torch.zeros(1, 2), params, torch.zeros(1, 2000, 2), dt=0.005)
    assert torch.allclose(out[0, -1], torch.tensor([-1.0, 0.3]), atol=1e-5)


def test_steady_state_under_constant_input_is_a_fixed_point(default_network):
    net = default_network
    dt = 0.01
    steady = net.steady_state(t_pre=4.0, dt=dt, batch_size=1, value=0.5)
    grey = torch.full((1, 20, 1, 721), 0.5)
    resp = net.simulate(grey, dt, initial_state=steady)
    drift = (resp[0, -1] - steady.v[0]).abs().max()
    assert drift < 1e-3


@pytest.fixture(scope="module")
def small_network():
    return Network(
        connectome=dict(type="ConnectomeFromAvgFilters", extent=1), device="cpu"
    )


@pytest.mark.parametrize("engine_name", ["sparse", "reference"])
def test_gradcheck_float64_small_connectome(engine_name, small_network):
    net = Network(
        connectome=dict(type="ConnectomeFromAvgFilters", extent=1),
        engine=engine_name,
        device="cpu",
    ).double()
    index = {k: getattr(net, f"_index_{k}") for k in dict(net.named_parameters())}
    sign = net.edges_sign.detach()
    count = net.edges_syn_count.detach().exp()
    torch.manual_seed(0)
    x = 0.5 + 0.1 * torch.rand(1, 3, net.n_nodes, dtype=torch.float64)
    readout = torch.randn(net.n_nodes, dtype=torch.float64)

    def simulate(bias, tau, strength, inputs):
        params = net.dynamics.prepare(
            {
                "nodes_bias": bias[index["nodes_bias"]],
                "nodes_time_const": tau[index["nodes_time_const"]],
                "edges_sign": sign[index["edges_sign"]],
                "edges_syn_count": count[index["edges_syn_count"]],
                "edges_syn_strength": strength[index["edges_syn_strength"]],
            },
            net,
        )
        v0 = net.dynamics.initial_state(params, 1)
        return integrate(net.dynamics, v0, params, inputs, 0.02) @ readout

    args = (
        net.nodes_bias.detach().clone().requires_grad_(),
        (net.nodes_time_const.detach() + 0.01).requires_grad_(),
        net.edges_syn_strength.detach().clone().requires_grad_(),
        x.requires_grad_(),
    )
    assert torch.autograd.gradcheck(simulate, args, eps=1e-6, atol=1e-5, fast_mode=True)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sparse_and_reference_gradients_agree_on_default_network(dtype):
    torch.manual_seed(1)
    movie = (0.5 + 0.2 * torch.rand(2, 6, 1, 721)).to(dtype)
    readout = torch.randn(45669, dtype=dtype)
    grads, outputs = [], []
    for engine in ("sparse", "reference"):
        net = Network(engine=engine, device="cpu").to(dtype)
        steady = net.steady_state(0.2, 0.02, 2)
        net.stimulus.zero(2, 6)
        net.stimulus.buffer = net.stimulus.buffer.to(dtype)
        net.stimulus.add_input(movie)
        out = net(net.stimulus(), 0.02, state=steady)
        (out @ readout).pow(2).sum().backward()
        outputs.append(out.detach())
        grads.append(
            {k: p.grad.clone() for k, p in net.named_parameters() if p.requires_grad}
        )
    assert set(grads[0]) == {"nodes_bias", "nodes_time_const", "edges_syn_strength"}
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-5, rtol=0)
    rtol = 1e-8 if dtype == torch.float64 else 1e-4
    for key in grads[0]:
        scale = grads[1][key].abs().max()
        torch.testing.assert_close(
            grads[0][key], grads[1][key], rtol=rtol, atol=rtol * scale
        )


def test_edge_order_does_not_matter():
    torch.manual_seed(0)
    n, e = 30, 200
    source, target = torch.randint(0, n, (e,)), torch.randint(0, n, (e,))
    weight = torch.randn(e, requires_grad=True)
    r = torch.rand(3, n, requires_grad=True)
    perm = torch.randperm(e)
    results = []
    for order in (torch.arange(e), perm):
        engine = SynapticEngine(source[order], target[order], n)
        out = engine.prepare(weight[order])(r)
        gw, gr = torch.autograd.grad(out.pow(2).sum(), (weight, r))
        results.append((out, gw, gr))
    for a, b in zip(results[0], results[1]):
        torch.testing.assert_close(a, b)


def test_simulate_shapes_states_and_warning(default_network):
    net = default_network
    movie = torch.full((2, 4, 1, 721), 0.5)
    out = net.simulate(movie, 0.02, initial_state=None)
    assert out.shape == (2, 4, 45669) and not out.requires_grad
    states = net.simulate(movie, 0.02, as_states=True)
    assert len(states) == 4 and isinstance(states[0], NetworkState)
    assert states[0].nodes.activity.shape == (2, 45669)
    la = net.simulate(movie, 0.02, as_layer_activity=True)
    assert la["T4c"].shape == (2, 4, 721)
    with pytest.warns(IntegrationWarning):
        net.simulate(movie, 0.05, initial_state=None)
    assert all(
        p.requires_grad == (k != "edges_sign" and k != "edges_syn_count")
        for k, p in net.named_parameters()
    )


def test_bad_inputs_are_clear_errors(default_network):
    net = default_network
    with pytest.raises(ValueError, match=r"\(sample, frame, 1, hexals\)"):
        net.simulate(torch.zeros(4, 1, 721), 0.02)
    with pytest.raises(ValueError, match="has 700 hexals"):
        net.simulate(torch.zeros(1, 4, 1, 700), 0.02)
    with pytest.raises(ValueError, match="dt must be a positive"):
        net.simulate(torch.zeros(1, 4, 1, 721), 0.0)
    with pytest.raises(ValueError, match="dt must be a positive"):
        net(torch.zeros(1, 4, net.n_nodes), -0.01)
    bad = torch.zeros(1, 4, 1, 721)
    bad[0, 1, 0, 3] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        net.simulate(bad, 0.02)
    with pytest.raises(ValueError, match=r"\(batch, frames, 45669\)"):
        net(torch.zeros(1, 4, 10), 0.02)
    with pytest.raises(ValueError, match="stimulus requires shape"):
        net.stimulus.add_input(torch.zeros(1, 4, 721))


def test_unknown_types_list_valid_ones(small_network):
    with pytest.raises(ValueError, match="valid types: .*PPNeuronIGRSynapses"):
        Network(
            connectome=dict(type="ConnectomeFromAvgFilters", extent=1),
            dynamics=dict(type="NoSuchDynamics"),
        )
    with pytest.raises(ValueError, match="unknown connectome type 'Nope'"):
        Network(connectome=dict(type="Nope"))
    # a partial connectome config replaces the default: the error says so
    with pytest.raises(ValueError, match=r"no 'type' \(given keys: \['extent'\]\)"):
        Network(connectome=dict(extent=4))
    with pytest.raises(ValueError, match="valid types: .*RestingPotential"):
        Network(
            connectome=dict(type="ConnectomeFromAvgFilters", extent=1),
            node_config=dict(bias=dict(type="Bogus")),
        )
    with pytest.raises(ValueError, match="unknown activation"):
        Network(
            connectome=dict(type="ConnectomeFromAvgFilters", extent=1),
            dynamics=dict(type="PPNeuronIGRSynapses", activation=dict(type="swish")),
        )


def test_clamp_keeps_strengths_non_negative(small_network):
    net = small_network
    with torch.no_grad():
        net.edges_syn_strength[:3] = -1.0
    net.clamp()
    assert (net.edges_syn_strength >= 0).all()


def test_symmetric_parameters_are_tied():
    net = Network(
        connectome=dict(type="ConnectomeFromAvgFilters", extent=1),
        node_config=dict(
            bias=dict(
                type="RestingPotential",
                initial_dist="Normal",
                mean=0.5,
                std=0.05,
                seed=0,
                mode="sample",
                requires_grad=True,
                symmetric=[["T4a", "T4b", "T4c", "T4d"]],
            ),
            time_const=dict(
                type="TimeConstant", initial_dist="Value", value=0.05, requires_grad=True
            ),
        ),
        device="cpu",
    )
    net.clamp()
    b = net.node_params.bias
    values = [float(b[t].detach()) for t in ("T4a", "T4b", "T4c", "T4d")]
    assert max(values) - min(values) < 1e-7


def test_stepper_matches_simulate(default_network):
    net = default_network
    torch.manual_seed(3)
    movie = 0.5 + 0.3 * torch.rand(2, 7, 1, 721)
    dt = 0.01
    steady = net.steady_state(1.0, dt, 2)
    expected = net.simulate(movie, dt, initial_state=steady)
    stepper = net.stepper(dt, batch_size=2, initial_state=steady)
    steps = torch.stack([stepper.step(movie[:, t]).clone() for t in range(7)], 1)
    torch.testing.assert_close(steps, expected, atol=1e-6, rtol=0)
    assert stepper.cell_type("T4c").shape == (2, 721)
    auto = net.stepper(dt, batch_size=2)
    torch.testing.assert_close(auto.state.v, steady.v.expand(2, -1))
    with pytest.raises(ValueError, match="batch size"):
        stepper.step(movie[:1, 0])
    with pytest.raises(ValueError, match="hexals"):
        stepper.step(torch.zeros(2, 1, 720))
    with pytest.raises(ValueError, match="unknown cell type"):
        stepper.cell_type("T4e")


@pytest.mark.parametrize("batch", [1, 3])
def test_fused_stepper_equals_generic_euler_step(small_network, batch):
    """Dark steps, resets, hooks and parameter refreshes: fused vs generic path."""
    net = small_network
    torch.manual_seed(4)
    n_hex = net._n_hexals()
    frames = 0.5 + 0.3 * torch.rand(6, batch, 1, n_hex)
    dt = 0.01

    def run(fused: bool):
        stepper = net.stepper(dt, batch_size=batch, initial_state=None)
        assert stepper._fused is not None  # the sparse engine's fused step
        if not fused:
            stepper._fused = None
        out = [stepper.step(frames[0]).clone(), stepper.step(None).clone()]
        stepper.reset(net.steady_state(0.3, dt, batch))
        out.append(stepper.step(frames[1]).clone())
        net.register_state_hook(lambda state: state.v.clamp(max=0.01))
        try:
            out.append(stepper.step(frames[2]).clone())
        finally:
            net.clear_state_hooks()
        with torch.no_grad():
            net.nodes_bias += 0.05
        stepper.refresh()
        out += [stepper.step(frames[t]).clone() for t in (3, 4, 5)]
        with torch.no_grad():
            net.nodes_bias -= 0.05
        return torch.stack(out)

    fused, generic = run(True), run(False)
    torch.testing.assert_close(fused, generic, atol=1e-6, rtol=0)
    assert fused[3].max() <= 0.01 < fused[2].max()  # the hook acted


@pytest.mark.parametrize("method", ["torch", "auto"])  # auto: the numba kernel
def test_simulate_ensemble_equals_loop_over_models(method):
    from functools import partial

    from flyvis.network import ensemble_simulation

    simulate_ensemble = partial(ensemble_simulation.simulate_ensemble, method=method)

    net = Network(
        connectome=dict(type="ConnectomeFromAvgFilters", extent=2), device="cpu"
    )
    torch.manual_seed(0)
    base = {k: v.clone() for k, v in net.state_dict().items()}
    sets = []
    for _ in range(3):
        sd = {k: v.clone() for k, v in base.items()}
        sd["nodes_bias"] += 0.1 * torch.randn_like(sd["nodes_bias"])
        sd["nodes_time_const"] *= torch.exp(
            0.3 * torch.randn_like(sd["nodes_time_const"])
        )
        sd["edges_syn_strength"] *= torch.exp(
            0.3 * torch.randn_like(sd["edges_syn_strength"])
        )
        sets.append(sd)
    movie = 0.5 + 0.3 * torch.rand(2, 12, 1, 19)
    batched = simulate_ensemble(net, sets, movie, 0.01)
    looped = []
    for sd in sets:
        net.load_state_dict(sd)
        looped.append(net.simulate(movie, 0.01))
    net.load_state_dict(base)
    torch.testing.assert_close(batched, torch.stack(looped), atol=1e-5, rtol=0)
    # a batch of 3 (run model by model on the CPU) and of 2 movies agree
    three = simulate_ensemble(net, sets, torch.cat([movie, movie[:1]]), 0.01)
    torch.testing.assert_close(three[:, :2], batched, atol=1e-5, rtol=0)
    torch.testing.assert_close(three[:, 2], batched[:, 0], atol=1e-5, rtol=0)
    # starting from the resting potentials, with a batch of one movie (the
    # state buffers must not alias the resting potentials)
    from_rest = simulate_ensemble(net, sets, movie[:1], 0.01, initial_state=None)
    for i, sd in enumerate(sets):
        net.load_state_dict(sd)
        torch.testing.assert_close(
            from_rest[i],
            net.simulate(movie[:1], 0.01, initial_state=None),
            atol=1e-5,
            rtol=0,
        )
    net.load_state_dict(base)
    # differing fixed parameters fall back to the loop and still agree
    sets[1] = dict(sets[1], edges_syn_count=sets[1]["edges_syn_count"] + 0.1)
    mixed = simulate_ensemble(net, sets, movie, 0.01, initial_state=None)
    net.load_state_dict(sets[1])
    torch.testing.assert_close(mixed[1], net.simulate(movie, 0.01, initial_state=None))
    net.load_state_dict(base)
    with pytest.raises(ValueError, match="different connectome"):
        simulate_ensemble(net, [{**base, "nodes_bias": torch.zeros(3)}], movie, 0.01)


def test_differentiable_movie_over_several_optimisation_steps(small_network):
    """Optimising a movie through the network's reused stimulus buffer works."""
    net = small_network
    n_hexals = net.stimulus.n_input_elements
    movie = torch.full((1, 3, 1, n_hexals), 0.5, requires_grad=True)
    optim = torch.optim.Adam([movie], lr=0.01)
    for _ in range(3):
        optim.zero_grad()
        net.stimulus.zero(1, 3)
        net.stimulus.add_input(movie)
        net(net.stimulus(), 0.02).sum().backward()
        optim.step()
    assert movie.grad is not None and torch.isfinite(movie.grad).all()
    assert movie.grad.abs().sum() > 0


def test_inplace_change_of_fused_output_is_an_autograd_error(small_network):
    """The fused path saves its output for backward: in-place edits are caught."""
    net = small_network
    x = 0.1 * torch.rand(2, 4, net.n_nodes)
    out = net(x, 0.02)
    assert out.grad_fn is not None and "Fused" in type(out.grad_fn).__name__
    out.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize(
    "batch, n_frames, input_grad", [(4, 45, False), (1, 170, False), (3, 31, True)]
)
def test_weight_gradient_over_several_chunks_matches_reference(
    batch, n_frames, input_grad
):
    """Steps are processed in chunks of ~40 columns, the first one partial.

    Outputs, parameter gradients and (for a batch of 3: chunks of 14 steps,
    the first of 3) input gradients equal the reference engine's.
    """
    torch.manual_seed(5)
    n_nodes = Network(
        connectome=dict(type="ConnectomeFromAvgFilters", extent=1), device="cpu"
    ).n_nodes
    x0 = 0.2 * torch.rand(batch, n_frames, n_nodes, dtype=torch.float64)
    readout = torch.randn(n_nodes, dtype=torch.float64)
    grads, outputs = [], []
    for engine in ("sparse", "reference"):
        net = Network(
            connectome=dict(type="ConnectomeFromAvgFilters", extent=1),
            engine=engine,
            device="cpu",
        ).double()
        x = x0.clone().requires_grad_(input_grad)
        out = net(x, 0.02)
        (out @ readout).pow(2).sum().backward()
        outputs.append(out.detach())
        grads.append(
            {k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None}
        )
        if input_grad:
            grads[-1]["input"] = x.grad.clone()
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-10, atol=1e-12)
    assert ("input" in grads[0]) == input_grad
    for key in grads[0]:
        torch.testing.assert_close(grads[0][key], grads[1][key], rtol=1e-8, atol=1e-10)


def test_gradient_for_some_parameters_skips_the_weight_gradient(
    small_network, monkeypatch
):
    """``autograd.grad`` for the resting potentials only (the activity penalty).

    The fused backward asks the engine which gradients are used: the weight
    gradient (SDDMM) is not computed, and the resting-potential gradient equals
    that of a full ``backward()``.
    """
    from flyvis.network import fused

    net = small_network
    x = 0.1 * torch.rand(3, 9, net.n_nodes, generator=torch.Generator().manual_seed(2))
    net.zero_grad()
    out = net(x, 0.02)
    loss = (out - 0.05).square().mean()
    loss.backward(retain_graph=True)
    full = net.nodes_bias.grad.clone()
    assert net.edges_syn_strength.grad.abs().sum() > 0

    class NoWeightGradient:
        def __init__(self, *args, **kwargs):
            raise AssertionError("weight gradient computed for a bias-only gradient")

    monkeypatch.setattr(fused, "_ChunkedWeightGrad", NoWeightGradient)
    (bias_only,) = torch.autograd.grad(loss, [net.nodes_bias], retain_graph=True)
    torch.testing.assert_close(bias_only, full, rtol=1e-6, atol=0)
    # a full backward still needs it
    with pytest.raises(AssertionError, match="weight gradient computed"):
        loss.backward()
    net.zero_grad()
