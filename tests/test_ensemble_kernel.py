"""The numba ensemble kernel (hexagonal convolutions) against the torch path and a loop."""

import numpy as np
import pytest
import torch

from flyvis.network import Network, ensemble_kernel
from flyvis.network.ensemble_simulation import simulate_ensemble

pytestmark = pytest.mark.skipif(
    not ensemble_kernel.numba_available(), reason="numba is not installed"
)


def _network(extent):
    return Network(
        connectome=dict(type="ConnectomeFromAvgFilters", extent=extent), device="cpu"
    )


def _parameter_sets(network, n_models, seed=0):
    generator = torch.Generator().manual_seed(seed)
    base = {k: v.clone() for k, v in network.state_dict().items()}
    sets = []
    for _ in range(n_models):
        sd = {k: v.clone() for k, v in base.items()}
        for key, scale in (("nodes_time_const", 0.3), ("edges_syn_strength", 0.3)):
            noise = torch.randn(sd[key].shape, generator=generator)
            sd[key] = sd[key] * torch.exp(scale * noise)
        sd["nodes_bias"] += 0.1 * torch.randn(sd["nodes_bias"].shape, generator=generator)
        sets.append(sd)
    return base, sets


@pytest.mark.parametrize("initial_state", ["auto", None])
def test_kernel_equals_torch_path_and_loop(initial_state):
    # a batch of 2 movies; at extent 2, two cell types (13, 14: 3 cells each)
    # are not on consecutive positions and are updated cell by cell
    net = _network(2)
    h = ensemble_kernel.structure(net)
    by_cell = [
        t
        for t in range(h.n_types)
        if (h.seg_len[h.type_seg[t] : h.type_seg[t + 1]] == 1).all()
    ]
    assert by_cell == [13, 14]
    base, sets = _parameter_sets(net, 9)
    movie = 0.5 + 0.3 * torch.rand(
        2, 11, 1, 19, generator=torch.Generator().manual_seed(1)
    )
    kernel = simulate_ensemble(net, sets, movie, 0.01, initial_state, method="numba")
    torch_path = simulate_ensemble(net, sets, movie, 0.01, initial_state, method="torch")
    assert kernel.shape == (9, 2, 11, net.n_nodes) and kernel.dtype == torch.float32
    torch.testing.assert_close(kernel, torch_path, atol=2e-6, rtol=0)
    for i in (0, 8):
        net.load_state_dict(sets[i])
        looped = net.simulate(movie, 0.01, initial_state=initial_state)
        torch.testing.assert_close(kernel[i], looped, atol=2e-6, rtol=0)
    net.load_state_dict(base)
    assert kernel[:, 0].std(0).max() > 1e-3  # the models differ


def test_filters_cover_every_synapse_set_of_the_default_connectome():
    net = Network(device="cpu")
    h = ensemble_kernel.structure(net)
    assert h is not None and ensemble_kernel.structure(net) is h  # cached
    assert len(h.filters) == 2355 and h.n_types == 65
    # every filter covers each target cell whose source cell exists
    cells = set(zip(h.cell_type, net.connectome.nodes.u[:], net.connectome.nodes.v[:]))
    u, v = net.connectome.nodes.u[:], net.connectome.nodes.v[:]
    covered = 0
    for t, s, du, dv in h.filters[::50]:
        targets = np.flatnonzero(h.cell_type == t)
        covered_f = sum((s, u[i] + du, v[i] + dv) in cells for i in targets)
        edges = np.sum(
            (h.cell_type[net.engine.target.numpy()] == t)
            & (h.cell_type[net.engine.source.numpy()] == s)
            & (u[net.engine.source.numpy()] - u[net.engine.target.numpy()] == du)
            & (v[net.engine.source.numpy()] - v[net.engine.target.numpy()] == dv)
        )
        assert covered_f == edges
        covered += covered_f
    assert covered > 0


def test_method_is_checked_and_numba_refused_where_it_does_not_apply():
    net = _network(1)
    base, sets = _parameter_sets(net, 2)
    movie = torch.full((1, 3, 1, 7), 0.5)
    with pytest.raises(ValueError, match="method must be"):
        simulate_ensemble(net, sets, movie, 0.01, method="fast")
    # differing synapse counts: the kernel needs them shared by the models
    sets[1] = dict(sets[1], edges_syn_count=sets[1]["edges_syn_count"] + 0.1)
    with pytest.raises(ValueError, match="differ in synapse signs or counts"):
        simulate_ensemble(net, sets, movie, 0.01, method="numba")
    # the default ("auto") takes the torch method, which falls back to the
    # loop, and still agrees with it
    mixed = simulate_ensemble(net, sets, movie, 0.01, initial_state=None)
    net.load_state_dict(sets[1])
    torch.testing.assert_close(mixed[1], net.simulate(movie, 0.01, initial_state=None))
    net.load_state_dict(base)


def test_kernel_is_the_default_on_the_cpu(monkeypatch):
    net = _network(1)
    _, sets = _parameter_sets(net, 2)
    calls = []
    original = ensemble_kernel.simulate
    monkeypatch.setattr(
        ensemble_kernel,
        "simulate",
        lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs),
    )
    movie = torch.full((1, 2, 1, 7), 0.5)
    simulate_ensemble(net, sets, movie, 0.01, method="torch")
    assert calls == []
    simulate_ensemble(net, sets, movie, 0.01)
    assert calls == [1]
    simulate_ensemble(net, sets, movie, 0.01, method="numba")
    assert calls == [1, 1]


def test_torch_method_with_all_movies_at_once_as_on_cuda(monkeypatch):
    """The CUDA layout (one column per model and movie), run on the CPU."""
    from flyvis.network import ensemble_simulation

    monkeypatch.setattr(ensemble_simulation, "_movies_per_chunk", lambda d, b: b)
    net = _network(1)
    base, sets = _parameter_sets(net, 3)
    movie = 0.5 + 0.3 * torch.rand(3, 5, 1, 7, generator=torch.Generator().manual_seed(4))
    wide = simulate_ensemble(net, sets, movie, 0.01, "auto", method="torch")
    for i, sd in enumerate(sets):
        net.load_state_dict(sd)
        looped = net.simulate(movie, 0.01, initial_state="auto")
        torch.testing.assert_close(wide[i], looped, atol=2e-6, rtol=0)
    net.load_state_dict(base)
