"""Connectome compilation: parity with flyvis 1.2.0 tables, hull filling, caching."""

import json
import time

import numpy as np
import pytest

from flyvis.connectome import (
    ConnectomeFromAvgFilters,
    compile_connectome,
    connectome_arrays,
    fill_hull,
    load_connectome_json,
    resolve_connectome_file,
)


@pytest.fixture(scope="module")
def connectome():
    return ConnectomeFromAvgFilters()


def test_node_tables_match_golden(connectome, golden_tables):
    g = golden_tables
    assert len(connectome.nodes.index[:]) == 45669
    np.testing.assert_array_equal(connectome.nodes.u[:], g["node_u"])
    np.testing.assert_array_equal(connectome.nodes.v[:], g["node_v"])
    np.testing.assert_array_equal(connectome.nodes.type[:].astype(str), g["node_type"])
    np.testing.assert_array_equal(
        connectome.central_cells_index[:], g["central_cells_index"]
    )
    np.testing.assert_array_equal(
        connectome.unique_cell_types[:].astype(str), g["unique_cell_types"]
    )
    for key in ("input_cell_types", "output_cell_types", "intermediate_cell_types"):
        np.testing.assert_array_equal(connectome[key][:].astype(str), g[key])


def test_edge_tables_match_golden_in_construction_order(connectome, golden_tables):
    g = golden_tables
    edges = connectome.edges
    assert len(edges.source_index[:]) == 1513231
    np.testing.assert_array_equal(edges.source_index[:], g["edge_source_index"])
    np.testing.assert_array_equal(edges.target_index[:], g["edge_target_index"])
    np.testing.assert_array_equal(edges.du[:], g["edge_du"])
    np.testing.assert_array_equal(edges.dv[:], g["edge_dv"])
    np.testing.assert_array_equal(edges.sign[:], g["edge_sign"])
    np.testing.assert_array_equal(edges.n_syn[:], g["edge_n_syn"])
    np.testing.assert_array_equal(edges.n_syn_certainty[:], g["edge_n_syn_certainty"])
    np.testing.assert_array_equal(edges.source_type_index[:], g["edge_source_type_index"])
    # du = target - source
    np.testing.assert_array_equal(edges.target_u[:] - edges.source_u[:], edges.du[:])


def test_key_numbers(connectome):
    a = connectome_arrays(connectome)
    pairs = np.unique(a["source_type_index"] * 65 + a["target_type_index"])
    offsets = np.unique(
        np.stack([a["source_type_index"], a["target_type_index"], a["du"], a["dv"]]),
        axis=1,
    )
    assert len(pairs) == 604 and offsets.shape[1] == 2355
    assert (a["sign"] > 0).sum() == 983980 and (a["sign"] < 0).sum() == 529251
    assert len(connectome.nodes.layer_index["Lawf1"][:]) == 123
    central = set(connectome.central_cells_index[:].tolist())
    assert np.isin(a["target_index"], list(central)).sum() == 2310


def test_spec_examples_of_edge_counts(connectome):
    a = connectome_arrays(connectome)
    types = list(a["cell_types"])

    def count(src, tar):
        s, t = types.index(src), types.index(tar)
        return int(((a["source_type_index"] == s) & (a["target_type_index"] == t)).sum())

    assert count("R1", "L1") == 721
    assert count("Mi1", "T4a") == 15026
    assert count("Lawf1", "Lawf1") == 0
    assert count("Lawf2", "Lawf2") == 339


def test_fill_hull_boundary_convention():
    spec = load_connectome_json(resolve_connectome_file("fib25-fib19_v2.2.json"))
    n_offsets = sum(len(e["offsets"]) for e in spec.edges)
    n_filled = sum(len(fill_hull(e["offsets"], 1)) for e in spec.edges)
    assert n_offsets == 2140 and n_filled == 2378
    rejected = {
        ("T4c", "TmY4"): [(3, -4), (4, -4)],
        ("Tm1", "TmY15"): [(1, -1)],
        ("TmY9", "TmY9"): [(1, -2), (2, -2)],
    }
    for edge in spec.edges:
        key = (edge["src"], edge["tar"])
        if key in rejected:
            filled = {tuple(o[0]) for o in fill_hull(edge["offsets"], 1)}
            for point in rejected[key]:
                assert point not in filled
    assert fill_hull([[[0, 0], 2], [[2, 0], 1], [[0, 2], 1]], 0) == [
        [[0, 0], 2],
        [[2, 0], 1],
        [[0, 2], 1],
    ]
    # a triangle (0,0),(2,0),(0,2): interior (1,0),(0,1) on edges, (1,1) on the hypotenuse
    filled = fill_hull([[[0, 0], 2], [[2, 0], 1], [[0, 2], 1]], 1)
    assert [tuple(o[0]) for o in filled[3:]] == [(0, 1), (1, 1)]


def test_cached_connectome_is_reused_and_fast(connectome):
    start = time.perf_counter()
    again = ConnectomeFromAvgFilters(
        dict(file="fib25-fib19_v2.2.json", extent=15, n_syn_fill=1)
    )
    assert time.perf_counter() - start < 0.5
    assert again.path == connectome.path
    assert again.config.type == "ConnectomeFromAvgFilters"
    other = ConnectomeFromAvgFilters(extent=1)
    assert other.path != connectome.path
    assert len(other.nodes.index[:]) == 63 * 7 + 2 * 1


def test_small_extent_tables():
    spec = load_connectome_json(resolve_connectome_file("fib25-fib19_v2.2.json"))
    c = compile_connectome(spec, extent=1, n_syn_fill=1)
    assert c.n_nodes == 63 * 7 + 2
    assert (np.abs(c.node_u[c.edge_target_index]) <= 1).all()
    assert (
        c.node_u[c.edge_target_index] - c.node_u[c.edge_source_index] == c.edge_du
    ).all()


def test_missing_connectome_file_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="not found; looked at"):
        ConnectomeFromAvgFilters(file="no_such_connectome.json", extent=1)


def test_invalid_connectome_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nodes": [], "edges": []}))
    with pytest.raises(ValueError, match="lacks the top-level key"):
        load_connectome_json(bad)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(
        json.dumps(
            {
                "nodes": [{"name": "A", "pattern": ["stride", [1, 1]]}],
                "edges": [
                    {"src": "A", "tar": "B", "offsets": [], "alpha": 1, "lambda_mult": 1}
                ],
                "input_units": ["A"],
                "output_units": [],
            }
        )
    )
    with pytest.raises(ValueError, match="unknown cell type 'B'"):
        load_connectome_json(unknown)
    with pytest.raises(ValueError, match="extent"):
        compile_connectome(
            load_connectome_json(resolve_connectome_file("fib25-fib19_v2.2.json")),
            extent=-1,
        )


def test_connectome_pickles_as_a_reference_to_its_directory():
    import pickle

    c = ConnectomeFromAvgFilters(extent=1)
    again = pickle.loads(pickle.dumps(c))
    assert again.path == c.path and again.config.extent == 1
    np.testing.assert_array_equal(again.nodes.u[:], c.nodes.u[:])
