"""The example notebooks run with a real Jupyter kernel on small settings.

Each notebook in ``examples/`` has one cell tagged ``parameters``; it is
replaced by the small settings below before execution (papermill style).
The stored notebooks (with outputs) come from ``scripts/build_notebooks.py``.
"""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

EXAMPLES = Path(__file__).parent.parent / "examples"

# notebook -> (parameters cell for the test, strings its outputs must contain)
SMALL = {
    "01_connectome.ipynb": (
        "extent = 4",
        ["65 cell types, 3,865 cells", "Mi1 -> T4c"],
    ),
    "02_optic_flow_task.ipynb": (
        "n_sequences = 8\nn_eval = 2\noverfit_iters = 3",
        [
            "dataset: offline photo-flow movies",
            "EPE of the best model",
            "single-batch EPE",
            "models; task errors",
        ],
    ),
    "03_custom_stimuli.ipynb": (
        "n_sequences = 2\nextent = 4",
        [
            "random walk of blocks (2, 20, 64, 64)",
            "movie at dt = 1/100:",
            "ensemble responses",
        ],
    ),
    "04_flash_and_moving_edge_responses.ipynb": (
        "dt = 1 / 50\nspeeds = (19,)",
        ["FRI median", "t4t5_direction_match", "polarity_accuracy", "median t4t5"],
    ),
    "05_ensemble_clustering.ipynb": (
        "dt = 1 / 50\nn_epochs = 50\nn_init = 2\nspeeds = (19,)",
        ["clips", "clusters (model positions):", "stored-style clustering:"],
    ),
    "06_training.ipynb": (
        "n_iters = 4\nbatch_size = 2\nn_sequences = 8",
        ["EPE before training", "EPE after training", "checkpoints:"],
    ),
}


def test_every_notebook_has_small_settings_and_one_parameters_cell():
    notebooks = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))
    assert notebooks == sorted(SMALL)
    for name in notebooks:
        notebook = nbformat.read(EXAMPLES / name, as_version=4)
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        # stored with outputs (figures render on a hosting page), no errors
        outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
        assert outputs and not [o for o in outputs if o.output_type == "error"], name


# notebooks that take minutes even on small settings (UMAP's first compilation,
# naturalistic responses of every model): run with -m slow (CI does)
SLOW = {"05_ensemble_clustering.ipynb"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(SMALL)],
)
def test_notebook_executes(name, tmp_path, monkeypatch, flyvis_root):
    parameters, expected = SMALL[name]
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = parameters
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError if any cell raises
    text = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, "a cell did not run"
        for output in cell.outputs:
            text.append(output.get("text", ""))
            text.append(str(output.get("data", {}).get("text/plain", "")))
    joined = "\n".join(text)
    for snippet in expected:
        assert snippet in joined, f"{name}: {snippet!r} missing from the outputs"
