"""Writes the example notebooks in ``examples/`` and executes them in place.

The notebooks are kept with their outputs (figures included) so that they
read well on a hosting page; this script is their source. Each has one cell
tagged ``parameters`` (papermill style) that ``tests/test_notebooks.py``
replaces with small settings.

    .venv/bin/python scripts/build_notebooks.py            # write + execute all
    .venv/bin/python scripts/build_notebooks.py 01         # only 01_*.ipynb
    .venv/bin/python scripts/build_notebooks.py --no-run   # write only
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def md(text: str):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str, parameters: bool = False):
    cell = nbformat.v4.new_code_cell(text.strip())
    if parameters:
        cell.metadata["tags"] = ["parameters"]
    return cell


NOTEBOOKS = {
    "01_connectome.ipynb": [
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
    ],
    "06_training.ipynb": [
        md(
            """
# Training from Python

`MultiTaskSolver` trains a network and its decoder on the optic-flow task,
checkpoints them and evaluates them; `NetworkView` reopens the results
directory. The offline photo-flow movies ship with the package, so this runs
anywhere. The settings are the CPU recipe `+experiment=cpu_flow` (a network of
extent 4 initialised to pass signals on, batches of 32 movies; about 6 minutes
on 2 CPU cores): see `docs/training.md` for what was measured.
"""
        ),
        code(
            """
# parameters
n_iters = 1200         # training iterations
batch_size = 32        # movies per iteration
n_sequences = 480      # photo-flow movies (train + validation)
""",
            parameters=True,
        ),
        code(
            """
import matplotlib.pyplot as plt
import numpy as np

from flyvis.network import NetworkView
from flyvis.solver import MultiTaskSolver
from flyvis.utils.config_utils import get_default_config

config = get_default_config(
    overrides=[
        "+experiment=cpu_flow",
        "task_name=flow",
        "ensemble_and_network_id=0100/000",
        f"task.n_iters={n_iters}",
        f"task.batch_size={batch_size}",
        f"task.dataset.n_sequences={n_sequences}",
    ]
)
solver = MultiTaskSolver(config=config, delete_if_exists=True)
before = solver.evaluate()["flow"]
print(f"validation EPE before training: {before['epe']:.4f} (zero flow {before['epe_zero']:.4f})")
"""
        ),
        code(
            """
solver.train(progress=False)
after = solver.evaluate()["flow"]
print(f"validation EPE after training:  {after['epe']:.4f} (zero flow {after['epe_zero']:.4f})")
"""
        ),
        md(
            """
## What the solver wrote

Loss per iteration and validation EPE per checkpoint, with the EPE of
predicting zero flow on the same movies:
"""
        ),
        code(
            """
view = NetworkView(solver.dir.path)  # reopen the results directory
loss = np.asarray(view.dir.loss[:]).ravel()
epe = np.asarray(view.dir.validation.epe[:]).ravel()
zero = np.asarray(view.dir.validation.epe_zero[:]).ravel()
iters = np.asarray(view.dir.validation.iteration[:]).ravel()
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
axes[0].plot(loss, lw=0.5)
axes[0].set(xlabel="iteration", ylabel="training loss")
axes[1].plot(iters, epe, "o-", label="model")
axes[1].plot(iters, zero, "k--", label="zero flow")
axes[1].set(xlabel="iteration", ylabel="validation EPE")
axes[1].legend()
fig.tight_layout()
print("checkpoints:", len(view.checkpoints.paths))
"""
        ),
        code(
            """
network = view.init_network()  # the best checkpoint by validation EPE
decoder = view.init_decoder()["flow"]
print(type(network).__name__, network.num_parameters, type(decoder).__name__)
"""
        ),
    ],
}


def write(name: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=NOTEBOOKS[name])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = EXAMPLES / name
    nbformat.write(notebook, path)
    return path


def execute(path: Path, parameters: str | None = None, timeout: int = 1800) -> float:
    """Executes a notebook in place (optionally with a replaced parameters cell).

    Returns:
        The wall time in seconds.
    """
    notebook = nbformat.read(path, as_version=4)
    if parameters is not None:
        for cell in notebook.cells:
            if "parameters" in cell.metadata.get("tags", []):
                cell.source = parameters
    start = time.time()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    nbformat.write(notebook, path)
    return time.time() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="prefixes of notebooks to build")
    parser.add_argument("--no-run", action="store_true")
    args = parser.parse_args(argv)
    names = [
        n for n in NOTEBOOKS if not args.only or any(n.startswith(p) for p in args.only)
    ]
    for name in names:
        path = write(name)
        if not args.no_run:
            print(f"{name}: executed in {execute(path):.0f} s", flush=True)
        else:
            print(f"{name}: written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
