"""Edge groups: weights computed once per group of edges that share all edge parameters."""

import numpy as np
import pytest
import torch

from flyvis.network import Network
from flyvis.network.dynamics import PPNeuronIGRSynapses
from flyvis.network.engine import SynapticEngine


class _PerEdgeDynamics(PPNeuronIGRSynapses):
    """The default dynamics without the grouped fast path (edges expanded)."""

    elementwise_edges = False


def _small(dynamics=None, dtype=torch.float64):
    net = Network(
        connectome=dict(type="ConnectomeFromAvgFilters", extent=2), device="cpu"
    ).to(dtype)
    if dynamics is not None:
        net.dynamics = dynamics
    return net


def _forward(net, movie):
    """Differentiable response ``(batch, frames, n_nodes)`` to a movie."""
    net.stimulus.zero(*movie.shape[:2])
    net.stimulus.buffer = net.stimulus.buffer.to(movie.dtype)
    net.stimulus.add_input(movie)
    return net(net.stimulus(), 0.02)


def test_default_network_has_one_group_per_type_pair_and_offset(default_network):
    engine = default_network.engine
    assert engine.has_edge_groups and engine.n_groups == 2355
    # the per-edge parameter index is recovered from the groups
    index = default_network._index_edges_syn_count
    assert index.shape == (1513231,) and index.dtype == torch.long
    assert int(index.max()) == 2354
    api = default_network.param_api()["edges"]
    assert torch.equal(api["syn_count"].indices, index)
    assert len(torch.unique(api["syn_strength"].indices)) == 604
    # every edge of a group has the same parameter slots
    group = engine.edge_group.long()
    for name in ("sign", "syn_count", "syn_strength"):
        slots = api[name].indices
        first = torch.full((engine.n_groups,), -1, dtype=torch.long)
        first[group] = slots
        assert torch.equal(first[group], slots)


def test_grouped_and_per_edge_paths_agree_in_float64():
    torch.manual_seed(0)
    grouped = _small()
    per_edge = _small(_PerEdgeDynamics())
    with torch.no_grad():
        for net in (grouped, per_edge):
            net.edges_syn_strength.copy_(
                grouped.edges_syn_strength
                * (1 + torch.rand_like(grouped.edges_syn_strength))
            )
    per_edge.load_state_dict(grouped.state_dict())
    params = grouped.prepare()
    assert params.synapses.grouped
    assert not per_edge.prepare().synapses.grouped
    # the lazily expanded per-edge weights equal the per-edge computation
    torch.testing.assert_close(params.weight, per_edge.prepare().weight, rtol=0, atol=0)

    movie = 0.5 + 0.2 * torch.rand(2, 7, 1, 19, dtype=torch.float64)
    readout = torch.randn(grouped.n_nodes, dtype=torch.float64)
    outputs, grads = [], []
    for net in (grouped, per_edge):
        net.zero_grad()
        out = _forward(net, movie)
        (out @ readout).pow(2).sum().backward()
        outputs.append(out.detach())
        grads.append(
            {k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None}
        )
    torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-12, atol=1e-12)
    assert set(grads[0]) == {"nodes_bias", "nodes_time_const", "edges_syn_strength"}
    for key in grads[0]:
        torch.testing.assert_close(grads[0][key], grads[1][key], rtol=1e-10, atol=1e-12)


def test_gradcheck_through_the_grouped_forward_pass():
    net = _small()
    torch.manual_seed(1)
    movie = 0.5 + 0.2 * torch.rand(1, 4, 1, 19, dtype=torch.float64)
    readout = torch.randn(net.n_nodes, dtype=torch.float64)
    names = ("nodes_bias", "nodes_time_const", "edges_syn_strength")
    originals = {n: getattr(net, n) for n in names}

    def run(bias, tau, strength):
        # swap the parameters for the checked inputs, then restore them
        for name, value in zip(names, (bias, tau, strength)):
            net._parameters[name] = value
        try:
            return _forward(net, movie) @ readout
        finally:
            net._parameters.update(originals)

    args = (
        net.nodes_bias.detach().clone().requires_grad_(),
        (net.nodes_time_const.detach() + 0.01).requires_grad_(),
        (net.edges_syn_strength.detach() * 3).requires_grad_(),
    )
    with torch.enable_grad():
        assert torch.autograd.gradcheck(run, args, eps=1e-6, atol=1e-6, fast_mode=True)


def test_edge_group_errors_are_clear():
    engine = SynapticEngine(torch.tensor([0, 1, 2]), torch.tensor([1, 2, 0]), 3)
    assert not engine.has_edge_groups
    with pytest.raises(ValueError, match="set_edge_groups"):
        engine.prepare(torch.ones(2), grouped=True)
    with pytest.raises(ValueError, match="shape"):
        engine.set_edge_groups(torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="numbered"):
        engine.set_edge_groups(torch.tensor([0, 2, 2]))
    engine.set_edge_groups(torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match=r"grouped weight must have shape \(2,\)"):
        engine.prepare(torch.ones(3), grouped=True)
    operator = engine.prepare(torch.tensor([2.0, -1.0]), grouped=True)
    np.testing.assert_array_equal(operator.weight.numpy(), [2.0, -1.0, 2.0])
    # s_i = sum_e w_e r_src(e): node 1 <- node 0 (w 2), node 2 <- node 1 (w -1),
    # node 0 <- node 2 (w 2)
    out = operator(torch.tensor([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(out.numpy(), [[6.0, 2.0, -2.0]])


def test_grouped_network_survives_deepcopy_and_pickle():
    import copy
    import pickle

    net = _small(dtype=torch.float32)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone.engine.n_groups == net.engine.n_groups
        assert torch.equal(clone._index_edges_syn_strength, net._index_edges_syn_strength)
        assert torch.equal(clone.prepare().weight, net.prepare().weight)
        movie = torch.full((1, 3, 1, 19), 0.7)
        torch.testing.assert_close(
            clone.simulate(movie, 0.02, initial_state=None),
            net.simulate(movie, 0.02, initial_state=None),
        )
