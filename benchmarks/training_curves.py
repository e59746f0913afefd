"""Learning curves of training recipes: validation EPE vs zero flow, T4/T5 tuning.

Two sub-commands:

    # train one recipe (a list of Hydra overrides, see RECIPES) into
    # results/recipes/<ensemble>/000, one torch thread per process
    python benchmarks/training_curves.py train baseline --ensemble 0001 --iters 1000

    # print the curves of trained models: per checkpoint the validation EPE, the
    # EPE of predicting zero flow on the same movies, and the DSI / preferred
    # direction of T4a-d (ON edges) and T5a-d (OFF edges)
    python benchmarks/training_curves.py curves data/results/recipes/0001/000 ... \
        [--every 2] [--json curves.json] [--plot curves.png]

The T4/T5 probe is a reduced moving-edge protocol (12 directions, ON and OFF
edges, ``--speeds`` columns/s, ``--dt`` s); `flyvis.analysis.validation.validate_models`
runs the full one. Results are cached per checkpoint in the model directory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# name -> Hydra overrides of `flyvis train-single task=photoflow scheduler=photoflow`
TRANSLATION = [
    "task.dataset.n_sequences=480",
    "+task.dataset.motion={background_rotation:0.0,background_zoom:0.0,"
    "background_acceleration:0.0,background_speed:[0.003,0.02]}",
    "task.dataset.n_foreground=[0,1]",
]


def _lr(start: float, stop: float) -> list:
    return [
        f"scheduler.lr_net.start={start}",
        f"scheduler.lr_net.stop={stop}",
        f"scheduler.lr_dec.start={start}",
        f"scheduler.lr_dec.stop={stop}",
    ]


RECIPES = {
    # the packaged quick-start schedule (10x flyvis's learning rates)
    "baseline": [],
    "lr5e-3": _lr(5e-3, 5e-4),
    "lr2e-2": _lr(2e-2, 2e-3),
    "many_sequences": ["task.dataset.n_sequences=480", *_lr(5e-3, 5e-4)],
    "translation": [*TRANSLATION],
    "translation_lr2e-3": [*TRANSLATION, *_lr(2e-3, 2e-4)],
}


def train(args) -> int:
    if args.recipe not in RECIPES:
        print(f"unknown recipe {args.recipe!r}; choose from {sorted(RECIPES)}")
        return 2
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    cmd = [
        str(Path(sys.executable).with_name("flyvis")),
        "train-single",
        "task=photoflow",
        "scheduler=photoflow",
        "task_name=recipes",
        f"ensemble_and_network_id={args.ensemble}/000",
        f"task.n_iters={args.iters}",
        f"scheduler.chkpt_every_epoch={args.chkpt_every_epoch}",
        f"description=recipe {args.recipe}",
        *RECIPES[args.recipe],
        *args.overrides,
    ]
    print(" ".join(cmd), flush=True)
    start = time.time()
    rc = subprocess.call(cmd, env=env)
    print(f"recipe {args.recipe}: exit {rc} after {time.time() - start:.0f} s")
    return rc


def _read(path: Path):
    import h5py

    if not path.is_file():
        return None
    with h5py.File(path, "r") as f:
        return np.asarray(f[next(iter(f.keys()))][()]).reshape(-1)


def model_curve(path: Path, every: int, speeds, dt: float) -> dict:
    from flyvis.analysis.moving_bar_responses import (
        direction_selectivity_index,
        preferred_direction,
    )
    from flyvis.analysis.stimulus_responses import moving_edge_responses
    from flyvis.analysis.validation import motion_detector_tuning
    from flyvis.network import NetworkView

    view = NetworkView(path)
    iterations = _read(path / "validation" / "iteration.h5")
    epe = _read(path / "validation" / "epe.h5")
    zero = _read(path / "validation" / "epe_zero.h5")
    chkpts = view.checkpoints.paths
    rows = []
    positions = list(range(0, len(chkpts), every))
    if positions and positions[-1] != len(chkpts) - 1:
        positions.append(len(chkpts) - 1)
    for i in positions:
        checkpoint = chkpts[i]
        probe = NetworkView(path, best_checkpoint_fn=lambda *_, c=checkpoint, **__: c)
        edges = moving_edge_responses(probe, speeds=tuple(speeds), dt=dt, batch_size=12)
        tuning = motion_detector_tuning(
            direction_selectivity_index(edges), preferred_direction(edges)
        )
        rows.append(
            {
                "checkpoint": i,
                "iteration": int(iterations[i]) if iterations is not None else None,
                "val_epe": float(epe[i]) if epe is not None else None,
                "zero_epe": float(zero[i])
                if zero is not None and i < len(zero)
                else None,
                "dsi": tuning["dsi"].values[0].round(4).tolist(),
                "pd": tuning["pd"].values[0].round(1).tolist(),
                "match": int(tuning["match"].values[0].sum()),
            }
        )
    return {
        "model": str(path),
        "cell_types": list(tuning["cell_type"].values),
        "rows": rows,
    }


def print_curve(curve: dict) -> None:
    print(f"\n{curve['model']}")
    types = curve["cell_types"]
    print(
        f"{'iter':>6} {'val EPE':>8} {'zero':>7} {'ratio':>6} {'match':>5}  "
        + " ".join(f"{t:>9}" for t in types)
    )
    for row in curve["rows"]:
        ratio = (
            row["val_epe"] / row["zero_epe"]
            if row["zero_epe"] and row["val_epe"]
            else None
        )
        cells = " ".join(f"{d:4.2f}@{p:3.0f}" for d, p in zip(row["dsi"], row["pd"]))
        print(
            f"{row['iteration']!s:>6} {row['val_epe'] or float('nan'):8.4f} "
            f"{row['zero_epe'] or float('nan'):7.4f} "
            f"{ratio if ratio is not None else float('nan'):6.3f} {row['match']:>5}  {cells}"
        )


def plot(curves: list, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for curve in curves:
        rows = curve["rows"]
        it = [r["iteration"] for r in rows]
        label = "/".join(Path(curve["model"]).parts[-3:])
        ratio = [r["val_epe"] / r["zero_epe"] if r["zero_epe"] else np.nan for r in rows]
        ax1.plot(it, ratio, marker="o", label=label)
        ax2.plot(it, [np.mean(r["dsi"]) for r in rows], marker="o", label=label)
    ax1.axhline(1.0, color="k", lw=0.8, ls="--")
    ax1.set(xlabel="iteration", ylabel="val EPE / zero-flow EPE")
    ax2.set(xlabel="iteration", ylabel="mean DSI of T4a-d/T5a-d")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def curves(args) -> int:
    import torch

    torch.set_num_threads(args.threads)
    results = []
    for model in args.models:
        start = time.time()
        curve = model_curve(Path(model).resolve(), args.every, args.speeds, args.dt)
        print_curve(curve)
        print(f"({time.time() - start:.0f} s)", flush=True)
        results.append(curve)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.plot:
        plot(results, args.plot)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train one recipe")
    t.add_argument("recipe")
    t.add_argument("--ensemble", required=True, help="ensemble id, e.g. 0001")
    t.add_argument("--iters", type=int, default=1000)
    t.add_argument("--chkpt-every-epoch", type=int, default=10)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("overrides", nargs="*", help="extra Hydra overrides")
    c = sub.add_parser("curves", help="print the learning curves of trained models")
    c.add_argument("models", nargs="+")
    c.add_argument("--every", type=int, default=1, help="every n-th checkpoint")
    c.add_argument("--speeds", type=float, nargs="+", default=[19.0])
    c.add_argument("--dt", type=float, default=1 / 100)
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--json")
    c.add_argument("--plot")
    args = parser.parse_args(argv)
    return train(args) if args.command == "train" else curves(args)


if __name__ == "__main__":
    sys.exit(main())
