"""The documentation site builds warning-free and documents the public API."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    yield out
    shutil.rmtree(out, ignore_errors=True)


def _text(html_file: Path) -> str:
    return re.sub(r"<[^>]+>", " ", html_file.read_text())


@pytest.mark.parametrize(
    "page, names",
    [
        ("api/network/index.html", ["flyvis.network.network.Network", "NetworkStepper"]),
        ("api/solver/index.html", ["MultiTaskSolver", "HyperParamScheduler"]),
        ("api/views/index.html", ["EnsembleView", "NetworkView"]),
        ("api/datasets/index.html", ["BoxEye", "MultiTaskSintel", "MovingEdge"]),
    ],
)
def test_api_pages_list_public_classes(site, page, names):
    text = _text(site / page)
    for name in names:
        assert name in text, f"{name} missing from {page}"
    # docstrings are rendered, not just names
    assert "Args" in text or "Parameters" in text


def test_migration_page(site):
    text = _text(site / "differences" / "index.html")
    assert "Deliberate differences from flyvis 1.2.0" in text


def test_notebooks_are_rendered_with_their_outputs(site):
    text = _text(site / "notebooks" / "01_connectome" / "index.html")
    # the stored output of a code cell, not only the code
    assert "45,669 cells" in text
    assert "Mi1 -&gt; T4c" in text or "Mi1 -> T4c" in text
    assert "<img" in (site / "notebooks" / "01_connectome" / "index.html").read_text()
    # every example notebook is in the site (docs/notebooks links to examples/)
    examples = REPO / "examples"
    for notebook in sorted(examples.glob("*.ipynb")):
        page = site / "notebooks" / notebook.stem / "index.html"
        assert page.is_file(), notebook.name
        assert "<img" in page.read_text(), notebook.name
    table = _text(
        site / "notebooks" / "04_flash_and_moving_edge_responses" / "index.html"
    )
    assert "t4t5_direction_match" in table and "flow/0000/000" in table
