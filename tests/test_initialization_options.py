"""The signal-passing initialisations: SynapseCountNormalized, RestingPotentialAtGrey."""

import numpy as np
import pytest
import torch

from flyvis.network import Network
from flyvis.network.initialization import ParameterConfigError
from flyvis.utils.config_utils import get_default_config


def _network(*overrides, extent=4):
    config = get_default_config(
        overrides=[
            "task_name=x",
            "ensemble_and_network_id=0/0",
            f"network.connectome.extent={extent}",
            "network/edge_config/syn_strength=normalized",
            "network/node_config/bias=grey",
            *overrides,
        ]
    )
    return Network(**config.network.to_dict(), device="cpu")


def _central(net):
    return torch.as_tensor(np.asarray(net.connectome.central_cells_index[:])).long()


@pytest.fixture(scope="module")
def grey_network():
    # extent 15: at small extents the central cells' inputs come from border
    # cells, which get fewer inputs and rest elsewhere
    return _network(
        "+network.node_config.bias.rest_by_type={T4a:0.05,T5c:0.1}", extent=15
    )


def test_weights_follow_synapse_counts_and_sum_to_gain(grey_network):
    net = grey_network
    weight = net.prepare().weight.detach()
    target = net.engine.target.long()
    central = _central(net)
    onto = torch.zeros(net.n_edges, dtype=torch.bool)
    onto[torch.isin(target, central)] = True
    total = torch.zeros(net.n_nodes).index_add_(0, target, weight.abs())[central]
    has_inputs = torch.zeros(net.n_nodes).index_add_(0, target, torch.ones(net.n_edges))
    has_inputs = has_inputs[central] > 0
    torch.testing.assert_close(
        total[has_inputs], torch.full((int(has_inputs.sum()),), 0.9), atol=1e-5, rtol=0
    )
    # |w| / synapse count is one value per target type (proportional to counts)
    count = net.edges_syn_count.detach().exp()[net._index_edges_syn_count]
    ratio = (weight.abs() / count)[onto]
    target_type = net.node_type_index.long()[target[onto]]
    for t in torch.unique(target_type)[:20]:
        r = ratio[target_type == t]
        assert float(r.max() - r.min()) <= 1e-6 * float(r.max())


def test_central_cells_rest_at_the_requested_potentials_at_grey(grey_network):
    net = grey_network
    with torch.no_grad():
        # loops of gain 0.9 relax ~10x slower than a single cell: 20 s
        state = net.steady_state(20.0, 0.02, 1, value=0.5)
    v = state.v[0] if hasattr(state, "v") else state[0]
    rest = torch.full((len(net.cell_types),), 0.5)
    rest[net.cell_types.index("T4a")] = 0.05
    rest[net.cell_types.index("T5c")] = 0.1
    # exact for cells whose inputs all rest too; the few central cells with
    # inputs from far (border) cells that rest elsewhere deviate by < 0.01
    deviation = (v[_central(net)] - rest).abs()
    assert float(deviation.max()) < 0.01
    assert float(deviation.median()) < 1e-3
    # the flyvis default (N(0.5, 0.05) resting potentials) does not do this
    default = Network(device="cpu")
    with torch.no_grad():
        v0 = default.steady_state(20.0, 0.02, 1, value=0.5)
    v0 = v0.v[0] if hasattr(v0, "v") else v0[0]
    assert float((v0[_central(default)] - 0.5).abs().max()) > 0.1


def test_signal_reaches_the_motion_detectors():
    """A grey -> bright step moves T4 cells ~50x more than with flyvis's initialisation."""

    def step_response(net, t4="T4a"):
        movie = torch.full((1, 40, 1, 61), 0.5)
        movie[:, 20:] = 1.0
        with torch.no_grad():
            out = net.simulate(movie, 0.02, initial_state="auto")
        v = out[0, :, _central(net)[net.cell_types.index(t4)]]
        return float(v.max() - v.min())

    normalized = step_response(_network())
    default = step_response(
        Network(connectome=dict(type="ConnectomeFromAvgFilters", extent=4), device="cpu")
    )
    assert normalized > 20 * default


def test_bad_options_are_clear_errors():
    with pytest.raises(ParameterConfigError, match="unknown cell types"):
        _network("+network.node_config.bias.rest_by_type={T9z:0.1}")
    with pytest.raises(ParameterConfigError, match="gain must be positive"):
        _network("network.edge_config.syn_strength.gain=0")
