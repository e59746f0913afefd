"""Tests of flyvis.utils: activity_utils, nodes_edges_utils, checks, the lazy package."""

import copy
import pickle
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from flyvis.utils.activity_utils import (
    CentralActivity,
    LayerActivity,
    SourceCurrentView,
)
from flyvis.utils.hex_utils import get_hex_coords, strided_hex_coords
from flyvis.utils.nodes_edges_utils import (
    CellTypeArray,
    NodeIndexer,
    get_index_mapping_lists,
    layout,
    nodes_list_sorting_on_off_unknown,
    order_node_type_list,
    sort_by_mapping_lists,
)

ALL_TYPES = (
    "R1 R2 R3 R4 R5 R6 R7 R8 L1 L2 L3 L4 L5 Lawf1 Lawf2 Am C2 C3 CT1(Lo1) CT1(M10) "
    "Mi1 Mi2 Mi3 Mi4 Mi9 Mi10 Mi11 Mi12 Mi13 Mi14 Mi15 T1 T2 T2a T3 T4a T4b T4c T4d "
    "T5a T5b T5c T5d Tm1 Tm2 Tm3 Tm4 Tm5Y Tm5a Tm5b Tm5c Tm9 Tm16 Tm20 Tm28 Tm30 "
    "TmY3 TmY4 TmY5a TmY9 TmY10 TmY13 TmY14 TmY15 TmY18"
).split()


def make_fake_connectome(types, inputs, outputs, extent=2, strided=None):
    """Small connectome-like object with the attributes the views read.

    Nodes are type-major and hexal-ordered (as in flyvis); strided types live
    on a (3, 2) sub-lattice. Strings are stored as byte arrays like on disk.
    """
    strided = strided or {}
    node_type, node_u, node_v, layer_index, central = [], [], [], {}, []
    start = 0
    for t in types:
        if t in strided:
            u, v = strided_hex_coords(extent, *strided[t])
        else:
            u, v = get_hex_coords(extent)
        layer_index[t] = np.arange(start, start + len(u), dtype=np.int64)
        central.append(start + int(np.flatnonzero((u == 0) & (v == 0))[0]))
        node_type += [t] * len(u)
        node_u.append(u)
        node_v.append(v)
        start += len(u)
    intermediate = [t for t in types if t not in inputs and t not in outputs]
    return SimpleNamespace(
        unique_cell_types=np.array(types, dtype="S8"),
        input_cell_types=np.array(inputs, dtype="S8"),
        output_cell_types=np.array(outputs, dtype="S8"),
        intermediate_cell_types=np.array(intermediate, dtype="S8"),
        central_cells_index=np.array(central, dtype=np.int64),
        nodes=SimpleNamespace(
            index=np.arange(start, dtype=np.int64),
            type=np.array(node_type, dtype="S8"),
            u=np.concatenate(node_u),
            v=np.concatenate(node_v),
            layer_index=layer_index,
        ),
        config=SimpleNamespace(extent=extent),
    )


TYPES = ["R1", "R2", "L1", "Lawf1", "T4a", "T4b", "T5a"]
INPUTS = ["R1", "R2"]
OUTPUTS = ["T4a", "T4b", "T5a"]


@pytest.fixture(scope="module")
def fake():
    # extent 2: 19 hexals per type, Lawf1 on the (3, 2) sub-lattice: 3 hexals
    return make_fake_connectome(
        TYPES, INPUTS, OUTPUTS, extent=2, strided={"Lawf1": (3, 2)}
    )


@pytest.fixture(scope="module")
def n_nodes(fake):
    return len(fake.nodes.index)


@pytest.fixture(scope="module")
def real_connectome():
    from flyvis.connectome import ConnectomeFromAvgFilters

    # the default connectome, cached under the session's FLYVIS_ROOT_DIR (conftest)
    return ConnectomeFromAvgFilters(file="fib25-fib19_v2.2.json", extent=15, n_syn_fill=1)


# ---------------------------------------------------------------- LayerActivity


def test_fake_layout(fake, n_nodes):
    assert n_nodes == 6 * 19 + 3
    assert len(fake.nodes.layer_index["Lawf1"]) == 3


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_layer_activity_types(fake, n_nodes, backend):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, n_nodes))
    if backend == "torch":
        x = torch.from_numpy(x)
    la = LayerActivity(x, fake)
    for t in TYPES:
        expected = np.asarray(x)[..., fake.nodes.layer_index[t]]
        assert np.array_equal(np.asarray(la[t]), expected)
        assert np.array_equal(np.asarray(getattr(la, t)), expected)
        assert type(la[t]) is type(x)
    assert la.T4a.shape == (2, 3, 19)
    assert la.Lawf1.shape == (2, 3, 3)
    stacked = la[["L1", "T5a"]]
    assert stacked.shape == (2, 3, 2, 19)
    assert np.array_equal(np.asarray(stacked[..., 1, :]), np.asarray(la.T5a))
    assert la[("R1", "R2")].shape == (2, 3, 2, 19)
    assert la.input.shape == (2, 3, 2, 19)
    assert la.output.shape == (2, 3, 3, 19)
    assert np.array_equal(np.asarray(la.output[..., 2, :]), np.asarray(la.T5a))
    assert np.array_equal(np.asarray(la.input[..., 0, :]), np.asarray(la.R1))
    assert la[:] is x or np.array_equal(np.asarray(la[:]), np.asarray(x))


def test_layer_activity_attributes(fake, n_nodes):
    la = LayerActivity(None, fake)
    assert la.n_nodes == n_nodes
    assert list(la.unique_cell_types) == TYPES
    assert list(la.input_cell_types) == INPUTS
    assert list(la.output_cell_types) == OUTPUTS
    assert la.input_indices.shape == (2, 19)
    assert la.output_indices.shape == (3, 19)
    assert la.connectome is fake
    assert len(la) == len(TYPES)
    assert list(la) == TYPES
    assert "T4a" in la
    assert set(TYPES) <= set(dir(la))
    assert all(t in repr(la) for t in TYPES)
    with pytest.raises(RuntimeError, match="update"):
        _ = la.T4a


def test_layer_activity_any_leading_dims(fake, n_nodes):
    la = LayerActivity(np.arange(n_nodes), fake)
    assert la.T4a.shape == (19,)
    assert np.array_equal(la.T4a, fake.nodes.layer_index["T4a"])
    la.update(np.zeros((1, 2, 3, 4, n_nodes)))
    assert la.output.shape == (1, 2, 3, 4, 3, 19)


def test_layer_activity_update(fake, n_nodes):
    la = LayerActivity(None, fake, use_central=False)
    a, b = torch.zeros(2, n_nodes), torch.ones(2, n_nodes)
    la.update(a)
    assert la.T4a.sum() == 0
    la.update(b)
    assert la.T4a.sum() == 2 * 19
    assert la.activity is b
    la.update(None)
    assert la.activity is None


def test_layer_activity_autograd(fake, n_nodes):
    x = torch.randn(2, n_nodes, dtype=torch.float64, requires_grad=True)
    la = LayerActivity(x, fake)
    la.output.sum().backward()
    grad = x.grad.numpy()
    out_nodes = np.concatenate([fake.nodes.layer_index[t] for t in OUTPUTS])
    mask = np.zeros(n_nodes, bool)
    mask[out_nodes] = True
    assert np.all(grad[:, mask] == 1) and np.all(grad[:, ~mask] == 0)


@pytest.mark.parametrize("keepref", [False, True])
def test_layer_activity_central(fake, n_nodes, keepref):
    # flyvis 1.2.0 raised AttributeError for keepref=False with use_central=True
    x = np.random.default_rng(1).normal(size=(4, n_nodes))
    la = LayerActivity(x, fake, keepref=keepref, use_central=True)
    central = la.central
    assert isinstance(central, CentralActivity)
    for i, t in enumerate(TYPES):
        assert np.array_equal(central[t], x[:, fake.central_cells_index[i]])
    assert central.T4a.shape == (4,)
    # the central view follows updates
    la.update(2 * x)
    assert np.array_equal(la.central.T4a, 2 * x[:, fake.central_cells_index[4]])


def test_layer_activity_temporary_array(fake, n_nodes):
    # a temporary array stays viewable (a reference is kept)
    la = LayerActivity(np.ones((2, n_nodes)), fake)
    assert la.T4a.shape == (2, 19) and la.central.T4a.shape == (2,)


def test_layer_activity_use_central_false(fake, n_nodes):
    la = LayerActivity(np.zeros((1, n_nodes)), fake, use_central=False)
    with pytest.raises(AttributeError, match="use_central=False"):
        _ = la.central


def test_layer_activity_errors(fake, n_nodes):
    la = LayerActivity(np.zeros((2, n_nodes)), fake)
    with pytest.raises(ValueError, match="T4a"):
        la["T4e"]
    with pytest.raises(ValueError, match="Did you mean"):
        _ = la.T4e
    # unknown attribute behaves like a missing attribute for hasattr/getattr
    assert not hasattr(la, "T4e")
    assert getattr(la, "T4e", None) is None
    with pytest.raises(ValueError):
        la["L2+L4"]  # virtual types are not supported
    with pytest.raises(ValueError):
        la[3]
    with pytest.raises(ValueError, match="Lawf1"):
        la[["T4a", "Lawf1"]]  # different sizes cannot be stacked
    with pytest.raises(ValueError, match=str(n_nodes)):
        LayerActivity(np.zeros((2, n_nodes + 1)), fake)
    with pytest.raises(ValueError, match="last axis"):
        la.update(torch.zeros(3))
    with pytest.raises(ValueError, match="last axis"):
        la.update(np.float64(1.0))


def test_layer_activity_copy_and_pickle(fake, n_nodes):
    la = LayerActivity(torch.arange(n_nodes, dtype=torch.float32), fake)
    la2 = copy.deepcopy(la)
    assert torch.equal(la2.T4a, la.T4a)
    la3 = pickle.loads(pickle.dumps(la))
    assert torch.equal(la3.T5a, la.T5a)


def test_layer_activity_bytes_keys(fake, n_nodes):
    la = LayerActivity(np.arange(n_nodes), fake)
    assert np.array_equal(la[b"T4a"], la["T4a"])
    assert la[np.array(["T4a", "T4b"])].shape == (2, 19)


# -------------------------------------------------------------- CentralActivity


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_central_activity(fake, n_nodes, backend):
    x = np.random.default_rng(2).normal(size=(3, 5, n_nodes))
    if backend == "torch":
        x = torch.from_numpy(x)
    ca = CentralActivity(x, fake)
    xn = np.asarray(x)
    for i, t in enumerate(TYPES):
        assert np.array_equal(np.asarray(ca[t]), xn[..., fake.central_cells_index[i]])
    assert ca.T4a.shape == (3, 5)
    assert ca[["T4a", "T5a"]].shape == (3, 5, 2)
    assert ca.input.shape == (3, 5, 2, 1)
    assert ca.output.shape == (3, 5, 3, 1)
    assert np.array_equal(np.asarray(ca.output[..., 1, 0]), np.asarray(ca.T4b))
    assert ca.activity.shape == (3, 5, len(TYPES))
    assert isinstance(ca.index, NodeIndexer)
    assert ca.index.T4a == 4
    assert ca.index[["R1", "T5a"]] == [0, 6]


def test_central_activity_already_reduced(fake):
    x = np.arange(len(TYPES) * 2).reshape(2, len(TYPES))
    ca = CentralActivity(x, fake)
    assert ca.activity is x
    assert np.array_equal(ca.L1, x[:, 2])


def test_central_activity_errors(fake, n_nodes):
    with pytest.raises(ValueError, match="last axis"):
        CentralActivity(np.zeros((2, 11)), fake)
    ca = CentralActivity(np.zeros((2, n_nodes)), fake)
    with pytest.raises(ValueError, match="Did you mean: T5a"):
        ca["T5x"]


# ------------------------------------------------------------ SourceCurrentView


def test_source_current_view():
    class FakeRFs(dict):
        target_type = "T4a"
        source_types = ["Mi1", "Tm3"]

    rfs = FakeRFs(
        Mi1=SimpleNamespace(index=np.array([0, 2, 4])),
        Tm3=SimpleNamespace(index=np.array([1, 3])),
    )
    currents = np.arange(20).reshape(4, 5)
    view = SourceCurrentView(rfs, currents)
    assert np.array_equal(view.Mi1, currents[:, [0, 2, 4]])
    assert np.array_equal(view["Tm3"], currents[:, [1, 3]])
    view.update(torch.from_numpy(currents))
    assert torch.equal(view.Tm3, torch.from_numpy(currents[:, [1, 3]]))
    assert view.target_type == "T4a"
    with pytest.raises(ValueError, match="Mi1"):
        view["Mi2"]


# ----------------------------------------------------------- nodes_edges_utils


def test_order_node_type_list_flyvis_types():
    shuffled = list(np.random.default_rng(0).permutation(ALL_TYPES))
    ordered, index = order_node_type_list(shuffled)
    assert list(ordered) == ALL_TYPES
    assert list(np.array(shuffled)[index]) == ALL_TYPES
    # bytes work too (and are returned as given)
    ordered_b, _ = order_node_type_list(np.array(shuffled, dtype="S8"))
    assert [t.decode() for t in ordered_b] == ALL_TYPES


def test_order_node_type_list_details():
    ordered, _ = order_node_type_list(["Mi10", "Mi9", "TmY10", "TmY3", "X1", "R2"])
    assert list(ordered) == ["R2", "Mi9", "Mi10", "TmY3", "TmY10", "X1"]
    assert order_node_type_list(None) == (None, None)
    with pytest.raises(ValueError, match="duplicated"):
        order_node_type_list(["R1", "Rx"], groups=[r"R", r"R\d"])


def test_nodes_list_sorting_on_off_unknown():
    """ON types first, then OFF, then unknown polarity; order kept within each."""
    ordered = nodes_list_sorting_on_off_unknown()
    assert sorted(ordered) == sorted(ALL_TYPES)
    assert ordered[:18] == [
        "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "L5", "C3", "CT1(M10)",
        "Mi1", "Mi4", "T4a", "T4b", "T4c", "T4d", "Tm3",
    ]  # fmt: skip
    assert ordered[18:32] == [
        "L1", "L2", "L3", "L4", "CT1(Lo1)", "Mi9", "T5a", "T5b", "T5c", "T5d",
        "Tm1", "Tm2", "Tm4", "Tm9",
    ]  # fmt: skip
    assert nodes_list_sorting_on_off_unknown(["Am", "T5a", b"T4a", "X"]) == [
        "T4a",
        "T5a",
        "Am",
        "X",
    ]


def test_utils_lazy_submodules_import_and_missing_ones_say_so():
    """Every advertised flyvis.utils submodule imports; 1.2.0-only ones explain."""
    import flyvis.utils as utils
    from flyvis.analysis import reference_tables

    for name in sorted(utils._SUBMODULES):
        assert getattr(utils, name).__name__ == f"flyvis.utils.{name}"
    assert reference_tables.polarity is utils.groundtruth_utils.polarity
    with pytest.raises(AttributeError, match="not part of this package"):
        _ = utils.df_utils
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        _ = utils.nonsense


def test_index_mapping_lists():
    a, b = ["x", "y", "z"], ["z", "x", "y"]
    assert get_index_mapping_lists(a, b) == [2, 0, 1]
    arr = np.array([[0, 1, 2], [3, 4, 5]])
    assert np.array_equal(sort_by_mapping_lists(a, b, arr, axis=1), arr[:, [2, 0, 1]])
    t = torch.from_numpy(arr)
    assert torch.equal(sort_by_mapping_lists(a, b, t, axis=1), t[:, [2, 0, 1]])


def test_node_indexer(fake):
    idx = NodeIndexer(fake)
    assert idx.T4a == 4 and idx["R1"] == 0
    assert idx[["L1", "T5a"]] == [2, 6]
    assert np.array_equal(idx.central_cells_index, fake.central_cells_index)
    assert list(idx.unique_cell_types) == TYPES
    idx2 = NodeIndexer(unique_cell_types=TYPES)
    assert idx2.central_cells_index is None and idx2.Lawf1 == 3
    with pytest.raises(ValueError):
        NodeIndexer()
    with pytest.raises(ValueError):
        NodeIndexer(fake, TYPES)
    with pytest.raises(ValueError, match="T4a"):
        _ = idx.T4x


def test_cell_type_array():
    cta = CellTypeArray(np.arange(6).reshape(2, 3), cell_types=["a", "b", "c"])
    assert np.array_equal(cta.b, [[1], [4]])
    assert np.array_equal(cta[["c", "a"]], [[2, 0], [5, 3]])
    cta["a"] = np.array([[10], [20]])
    assert np.array_equal(cta.array[:, 0], [10, 20])
    assert cta.shape == (2, 3) and cta.keys() == ["a", "b", "c"]
    lazy = CellTypeArray(None, cell_types=["a", "b"], dim=0)
    lazy["b"] = np.ones((1, 4))
    assert lazy.shape == (2, 4) and lazy.array[1].sum() == 4
    sub = cta.from_cell_types(["c"])
    assert sub.shape == (2, 1)


def test_layout():
    assert layout["R1"] == "retina" and layout["Mi15"] == "intermediate"
    assert layout["TmY18"] == "output" and len(layout) == 65


# ------------------------------------------------------------- real connectome


def test_real_connectome_views(real_connectome):
    c = real_connectome
    x = torch.randn(2, 3, 45669)
    la = LayerActivity(x, c)
    assert la.n_nodes == 45669
    assert len(la) == 65 and list(la) == ALL_TYPES
    assert la.T4a.shape == (2, 3, 721)
    assert la.Lawf1.shape == (2, 3, 123)
    assert la[["L1", "L2"]].shape == (2, 3, 2, 721)
    assert la.input.shape == (2, 3, 8, 721)
    assert la.output.shape == (2, 3, 34, 721)
    assert la.input_indices.shape == (8, 721)
    assert la.output_indices.shape == (34, 721)
    assert torch.equal(la.T4a, x[..., 721 * 35 - 2 * (721 - 123) : 721 * 36 - 2 * 598])
    ca = la.central
    assert ca.T4a.shape == (2, 3)
    assert ca.output.shape == (2, 3, 34, 1)
    assert torch.equal(ca.L1, x[..., 721 * 8 + 360])
    assert torch.equal(ca.Lawf1, x[..., 9434])
    ca2 = CentralActivity(x.numpy(), c)
    assert ca2.input.shape == (2, 3, 8, 1)
    assert np.array_equal(ca2.T4a, ca.T4a.numpy())


# ---------------------------------------------------------------------- checks


def test_all_finite():
    from flyvis.utils.checks import all_finite

    x = torch.rand(3, 1000)
    assert all_finite(x) and all_finite(x.double()) and all_finite(x[:0])
    for bad in (float("nan"), float("inf"), -float("inf")):
        y = x.clone()
        y[2, 17] = bad
        assert not all_finite(y)
        assert not all_finite(y.requires_grad_())
    # finite entries whose sum overflows float32: every entry is then tested
    big = torch.full((4,), 3e38)
    assert not torch.isfinite(big.sum()) and all_finite(big)
    assert all_finite(torch.arange(5)) and all_finite(torch.ones(2, dtype=torch.bool))
