"""Importing flyvis changes no global state."""

import json
import subprocess
import sys
import textwrap


def test_import_has_no_side_effects(tmp_path):
    root = tmp_path / "not_created"
    code = textwrap.dedent(
        """
        import json, logging, os, sys
        import torch
        before = {
            "device": str(torch.empty(0).device),
            "dtype": str(torch.get_default_dtype()),
            "handlers": len(logging.getLogger().handlers),
            "level": logging.getLogger().level,
            "cwd": sorted(os.listdir(".")),
        }
        import flyvis
        import flyvis.network, flyvis.connectome, flyvis.datasets, flyvis.task
        import flyvis.utils.hex_utils
        after = {
            "device": str(torch.empty(0).device),
            "dtype": str(torch.get_default_dtype()),
            "handlers": len(logging.getLogger().handlers),
            "level": logging.getLogger().level,
            "cwd": sorted(os.listdir(".")),
        }
        print(json.dumps({
            "before": before,
            "after": after,
            "matplotlib": "matplotlib" in sys.modules,
            "root": str(flyvis.root_dir),
        }))
        """
    )
    env = {"FLYVIS_ROOT_DIR": str(root), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["before"] == result["after"]
    assert result["after"]["device"] == "cpu"
    assert not result["matplotlib"], "the core must not import matplotlib"
    assert result["root"] == str(root)
    assert not root.exists(), "import must not create the data root"


def test_plotting_import_keeps_rcparams(tmp_path):
    code = textwrap.dedent(
        """
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib as mpl
        before = dict(mpl.rcParams)
        import flyvis.analysis.visualization
        import flyvis.analysis.visualization.eye_plots
        changed = [k for k, v in mpl.rcParams.items() if before.get(k) != v]
        print(changed)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert out.stdout.strip() == "[]"
