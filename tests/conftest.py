"""Shared fixtures: an isolated flyvis root and the default network."""

import os
from pathlib import Path

import numpy as np
import pytest

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session", autouse=True)
def flyvis_root(tmp_path_factory):
    """Every test writes under a temporary FLYVIS_ROOT_DIR, never the repository."""
    root = tmp_path_factory.mktemp("flyvis_root")
    previous = os.environ.get("FLYVIS_ROOT_DIR")
    os.environ["FLYVIS_ROOT_DIR"] = str(root)
    yield root
    if previous is None:
        os.environ.pop("FLYVIS_ROOT_DIR", None)
    else:
        os.environ["FLYVIS_ROOT_DIR"] = previous


@pytest.fixture(scope="session")
def golden_tables():
    return np.load(GOLDEN / "golden_tables.npz")


@pytest.fixture(scope="session")
def golden_responses():
    return np.load(GOLDEN / "golden_responses.npz")


@pytest.fixture(scope="session")
def default_network(flyvis_root):
    from flyvis.network import Network

    return Network(device="cpu")
