"""ConnectomeView: tables, receptive/projective fields and non-blank plots.

Uses a small connectome (extent 3: 37 hexals per columnar type) so that
compiling and plotting stay fast; receptive fields of central cells are
truncated at this extent, so sums are compared with the full-lattice values
only where the field fits.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from flyvis.analysis.visualization.connectome_view import (  # noqa: E402
    ConnectomeView,
    ProjectiveFields,
    ReceptiveFields,
    get_avgfilt_connectome,
)
from flyvis.analysis.visualization.network_fig import (  # noqa: E402
    WholeNetworkFigure,
    network_layout_axes,
)
from flyvis.utils.hex_utils import get_hex_coords  # noqa: E402


@pytest.fixture(scope="module")
def view(flyvis_root):
    return get_avgfilt_connectome(
        {"type": "ConnectomeFromAvgFilters", "extent": 3, "n_syn_fill": 1}
    )


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def not_blank(fig, tmp_path, name, min_fraction=0.005):
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=50)
    rgba = plt.imread(path)
    rgb = rgba[..., :3] * rgba[..., 3:] + (1 - rgba[..., 3:])
    fraction = (np.abs(rgb - 1).max(-1) > 0.1).mean()
    assert rgb.mean(-1).std() > 0.02, f"{name} is blank"
    assert fraction > min_fraction, f"{name}: {fraction:.4f} non-background pixels"
    return rgb


def test_attributes_and_lookup(view):
    assert isinstance(view, ConnectomeView)
    assert len(view.cell_types_sorted) == 65
    assert view.cell_types_sorted[:3] == ["R1", "R2", "R3"]
    assert view.layout["R1"] == "retina" and view.layout["T4a"] == "output"
    assert view.layout["Mi1"] == "intermediate"
    assert view.node_indexer["T4a"] == view.cell_types_unsorted.index("T4a")
    u, v = view.get_uv("T4a")
    eu, ev = get_hex_coords(3)
    assert np.array_equal(u, eu) and np.array_equal(v, ev)
    u, v = view.get_uv("Lawf1")
    assert np.all(u % 3 == 0) and np.all(v % 2 == 0)
    assert "R1" in view.sources_list("L1") and "Mi1" in view.targets_list("L1")
    assert view.sources_list("L1") == sorted(view.sources_list("L1"))
    assert "Mi1" in view.sources_list("T4a") and view.targets_list("Tm30") == []
    assert view.targets_list("Mi11") == []


def test_unknown_cell_types_suggest_close_matches(view):
    with pytest.raises(ValueError, match="Did you mean.*T4a"):
        view.get_uv("T4x")
    with pytest.raises(ValueError, match="Mi9"):
        view.receptive_field("Mi99", "T4a")
    with pytest.raises(ValueError, match="connected cell type"):
        view.receptive_field("R1", "T4a")  # valid type, not presynaptic to T4a
    with pytest.raises(ValueError, match="mode"):
        view.connectivity_matrix(mode="weights")


def test_receptive_and_projective_field_tables(view):
    rfs = view.receptive_fields_df("T4a")
    assert isinstance(rfs, ReceptiveFields)
    # 12 sources on the full lattice; C2's offsets miss the extent-3 lattice
    assert set(rfs.source_types) <= {
        *("C2", "C3", "CT1(M10)", "Mi1", "Mi4", "Mi9", "Mi10"),
        *("T4a", "T4d", "T5a", "Tm3", "TmY15"),
    }
    assert len(rfs.source_types) >= 11
    mi1 = rfs["Mi1"]
    assert mi1.target_index.nunique() == 1  # one representative cell
    assert (mi1.target_u.iloc[0], mi1.target_v.iloc[0]) == (0, 0)
    # index = global edge index
    assert np.all(view.edges_df.loc[mi1.index, "source_type"] == "Mi1")
    sums = view.receptive_fields_sum("T4a")
    # 28.16 on the full lattice; offsets beyond the extent-3 hexagon are lost
    assert 20 < sums["Mi9"] <= 28.17
    assert sums["Mi9"] == pytest.approx(rfs["Mi9"].n_syn.sum())
    assert rfs.max_extent == max(rfs.extents.values()) <= 3
    prfs = view.projective_fields_df("Mi9")
    assert isinstance(prfs, ProjectiveFields) and "T4a" in prfs.target_types
    psums = view.projective_fields_sum("Mi9")
    assert psums["T4a"] == pytest.approx(prfs["T4a"].n_syn.sum())
    # the projective field of Mi9 onto T4a mirrors T4a's receptive field from Mi9
    rf = rfs["Mi9"]
    pf = prfs["T4a"]
    assert sorted(zip(-rf.du, -rf.dv)) == sorted(zip(-pf.du, -pf.dv))


def test_connectivity_matrix(view, tmp_path):
    matrix = view._central_matrix("n_syn", None, view.cell_types_sorted)
    i, j = view.cell_types_sorted.index("R1"), view.cell_types_sorted.index("L1")
    assert matrix[i, j] == pytest.approx(-40)  # R1 -> L1: 40 synapses, inhibitory
    plus = view._central_matrix("n_syn", "+", view.cell_types_sorted)
    assert np.all(plus >= 0) and plus[i, j] == 0
    count = view._central_matrix("count", None, view.cell_types_sorted)
    assert count[i, j] == -1
    fig = view.connectivity_matrix(
        cell_types=["R1", "L1", "L2", "Mi1", "Mi9", "T4a", "T4b"], figsize=(2, 2)
    )
    assert "Connectivity" in fig.axes[0].get_title()
    not_blank(fig, tmp_path, "connectivity")
    fig = view.connectivity_matrix(
        mode="count", cell_types=["R1", "L1", "L2", "Mi1", "T4a"], figsize=(2, 2)
    )
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][:2] == ["R1", "L1"]
    not_blank(fig, tmp_path, "count")


def test_field_plots_render(view, tmp_path):
    fig = view.receptive_field("Mi9", "T4a")
    ax = fig.axes[0]
    assert ax.get_title() == "Mi9 :→ T4a"
    assert len(ax.patches) == 37  # filled to the extent-3 hexagon
    colours = np.array([p.get_facecolor() for p in ax.patches])
    n_offsets = len(view.receptive_fields_df("T4a")["Mi9"])
    assert (np.abs(colours[:, :3] - 1).max(1) > 0.05).sum() >= n_offsets
    not_blank(fig, tmp_path, "rf")
    fig = view.projective_field("Mi9", "T4a")
    assert fig.axes[0].get_title() == "Mi9 →: T4a"
    not_blank(fig, tmp_path, "pf")
    fig, axes = view.receptive_fields_grid("T4a")
    assert len([a for a in axes if a is not None]) >= 11
    not_blank(fig, tmp_path, "rf_grid")
    fig, axes = view.projective_fields_grid("Mi9", targets=["T4a", "T4b"])
    assert [a.get_title() for a in axes[:2]] == ["Mi9 →: T4a", "Mi9 →: T4b"]
    not_blank(fig, tmp_path, "pf_grid")


def test_hex_layouts_and_network_figure(view, tmp_path):
    fig, ax = view.hex_layout("Lawf1", max_extent=3, fill=True)
    dark = [p for p in ax.patches if np.mean(p.get_facecolor()[:3]) < 0.5]
    assert len(dark) == len(view.get_uv("Lawf1")[0])
    not_blank(fig, tmp_path, "hex_layout")
    fig, axes = view.hex_layout_all(["R1", "Lawf2", "T4a"])
    assert [a.get_title() for a in axes[:3]] == ["R1", "Lawf2", "T4a"]
    not_blank(fig, tmp_path, "hex_layout_all")
    fig = view.network_layout(max_extent=1, figsize=(6, 3))
    assert len(view.network_figure.ax_dict) == 65
    assert len(view.network_figure.edges) == 604
    not_blank(fig, tmp_path, "network_layout", min_fraction=0.05)


def test_whole_network_figure_optional_nodes(view, tmp_path):
    figure = WholeNetworkFigure(
        view,
        video=True,
        rendering=True,
        motion_decoder=True,
        decoded_motion=True,
        pixel_accurate_motion=True,
    )
    names = list(figure.layout)
    assert names[:3] == ["video", "rendering", "R1"]
    assert names[-3:] == ["motion decoder", "decoded motion", "pixel-accurate motion"]
    fig = figure.init_figure(figsize=(8, 4))
    assert set(figure.ax_dict) == set(names)
    x = {n: figure.centres[n][0] for n in names}
    assert x["video"] < x["R1"] < x["Mi1"] < x["T4a"] < x["motion decoder"]
    not_blank(fig, tmp_path, "whole_network")
    fig, axes, _ = network_layout_axes(
        figure.layout, cell_types=["R1", "T4a"], figsize=(2, 1)
    )
    assert len(axes) == 2
    with pytest.raises(ValueError, match="not in the layout"):
        network_layout_axes(figure.layout, cell_types=["R9"])
