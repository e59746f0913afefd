"""Writes the example notebooks in ``examples/`` and executes them in place.

The notebooks are kept with their outputs (figures included) so that they
read well on a hosting page; their cells are defined in
``scripts/notebooks/`` (one module per notebook) and this script writes them. Each has one cell
tagged ``parameters`` (papermill style) that ``tests/test_notebooks.py``
replaces with small settings.

    .venv/bin/python scripts/build_notebooks.py            # write + execute all
    .venv/bin/python scripts/build_notebooks.py 01         # only 01_*.ipynb
    .venv/bin/python scripts/build_notebooks.py --no-run   # write only

The kernels run with ``FLYVIS_ROOT_DIR=.cache/notebook-root`` (``--root``), so the
notebooks use the shipped ensemble even where ``data/results/flow/0000`` exists.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SOURCE_DIR = Path(__file__).resolve().parent / "notebooks"


# notebook file name -> module in scripts/notebooks holding its cells
SOURCES = {
    "01_connectome.ipynb": "n01_connectome",
    "02_optic_flow_task.ipynb": "n02_optic_flow",
    "03_custom_stimuli.ipynb": "n03_custom_stimuli",
    "04_flash_and_moving_edge_responses.ipynb": "n04_responses",
    "05_ensemble_clustering.ipynb": "n05_clustering",
    "06_training.ipynb": "n06_training",
}


def write(name: str) -> Path:
    if str(SOURCE_DIR) not in sys.path:
        sys.path.insert(0, str(SOURCE_DIR))
    cells = importlib.import_module(SOURCES[name]).CELLS
    notebook = nbformat.v4.new_notebook(cells=cells)
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
    for cell in notebook.cells:
        # progress-bar widgets (tqdm.auto) show as a frozen bar on a hosting page
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if "application/vnd.jupyter.widget-view+json" not in o.get("data", {})
            ]
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)
    return time.time() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="prefixes of notebooks to build")
    parser.add_argument("--no-run", action="store_true")
    parser.add_argument(
        "--root",
        default=str(EXAMPLES.parent / ".cache" / "notebook-root"),
        help="FLYVIS_ROOT_DIR of the kernels (default: .cache/notebook-root, so that "
        "the shipped ensemble is used and caches are kept between builds)",
    )
    args = parser.parse_args(argv)
    # the kernels inherit the environment: a data root without results of its
    # own, and no progress bars in the stored outputs
    os.environ["FLYVIS_ROOT_DIR"] = args.root
    os.environ["TQDM_DISABLE"] = "1"
    names = [
        n for n in SOURCES if not args.only or any(n.startswith(p) for p in args.only)
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
