"""Source of examples/01_connectome.ipynb (the connectome, its cell types and the inputs of T4c)."""

from cells import code, md

CELLS = [
    md(
        """
# The connectome

The network is built from the FIB-25/FIB-19 connectome of the fly's optic
lobe, averaged over columns into one spatial filter per pair of cell types
(Lappalainen et al., Nature 2024). This notebook compiles it onto the
hexagonal lattice of the eye and looks at its cell types, its connectivity
and the receptive fields of the motion detector T4c.
"""
    ),
    code(
        """
# parameters: lattice radius in columns (15: 721 columns, the full eye)
extent = 15
""",
        parameters=True,
    ),
    code(
        """
import matplotlib.pyplot as plt
import numpy as np

from flyvis.connectome import ConnectomeFromAvgFilters, ConnectomeView

connectome = ConnectomeFromAvgFilters(
file="fib25-fib19_v2.2.json", extent=extent, n_syn_fill=1
)
n_nodes = len(connectome.nodes.type[:])
n_edges = len(connectome.edges.source_index[:])
cell_types = [t.decode() for t in connectome.unique_cell_types[:]]
print(f"{len(cell_types)} cell types, {n_nodes:,} cells, {n_edges:,} synapse sets")
print("input types:", [t.decode() for t in connectome.input_cell_types[:]])
print("number of output types:", len(connectome.output_cell_types[:]))
"""
    ),
    md(
        """
## Connectivity between cell types

Synapse counts summed over all offsets, per pair of types (rows: presynaptic,
columns: postsynaptic; red excitatory, blue inhibitory).
"""
    ),
    code(
        """
view = ConnectomeView(connectome)
fig = view.connectivity_matrix("n_syn")
"""
    ),
    md(
        """
## The inputs of T4c

T4c is the ON motion detector tuned to upward motion. Its strongest inputs
and their spatial filters (synapses per offset on the hexagonal lattice):
"""
    ),
    code(
        """
inputs = view.receptive_fields_sum("T4c")
total = sum(inputs.values())
for source, n in sorted(inputs.items(), key=lambda kv: -kv[1])[:6]:
print(f"{source:>9s} -> T4c: {n:7.1f} synapses ({n / total:.0%})")
"""
    ),
    code(
        """
fig = view.receptive_fields_grid("T4c", sources=["Mi1", "Tm3", "Mi4", "Mi9", "C3", "CT1(M10)"])
"""
    ),
]
