"""Validation table of an ensemble (markdown) and polar T4/T5 plots of its best model.

    python benchmarks/validation_table.py flow/0000 [--plots docs/img/validation_best]

Per model: the checkpoint with minimal validation EPE (its iteration), that
EPE, the EPE of predicting zero flow on the same movies and their ratio, and
`validate_models`' scores (`t4t5_direction_match`, `polarity_accuracy`,
`ds_accuracy`) with moving edges at ``--speeds`` columns/s and flashes, both
at ``--dt``. The last row holds the medians. ``--plots PREFIX`` writes
``PREFIX_T4.png`` and ``PREFIX_T5.png`` (the best model's peak responses to
ON edges for T4a-d and OFF edges for T5a-d). Responses are cached per model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def model_row(view) -> dict:
    """Best-checkpoint EPEs of one model (from its validation curves)."""
    from flyvis.utils.chkpt_utils import read_h5

    folder = Path(view.dir.path) / "validation"
    epe = read_h5(folder / "epe.h5").reshape(-1)
    best = int(np.nanargmin(epe))
    zero, iteration = (folder / "epe_zero.h5", folder / "iteration.h5")
    return {
        "iteration": int(read_h5(iteration).reshape(-1)[best])
        if iteration.is_file()
        else best,
        "epe": float(epe[best]),
        "zero": float(read_h5(zero).reshape(-1)[best])
        if zero.is_file()
        else float("nan"),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble", help="ensemble name, e.g. flow/0000")
    parser.add_argument("--speeds", type=float, nargs="+", default=[19.0])
    parser.add_argument("--dt", type=float, default=1 / 100)
    parser.add_argument("--plots", help="file prefix of the polar T4/T5 plots")
    args = parser.parse_args(argv)

    from flyvis.analysis.validation import validate_models
    from flyvis.network import EnsembleView

    start = time.time()
    ensemble = EnsembleView(args.ensemble)
    report = validate_models(
        ensemble,
        edge_kwargs=dict(speeds=tuple(args.speeds), dt=args.dt),
        flash_kwargs=dict(dt=args.dt),
    )
    n_polarity = report.attrs.get("n_known_polarity", 32)
    rows = []
    print(
        "| model | best checkpoint (iteration) | val EPE | zero-flow EPE | ratio "
        "| t4t5_direction_match | polarity_accuracy | ds_accuracy |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for i, name in enumerate(ensemble.names):
        row = model_row(ensemble[name])
        row.update(
            match=int(report.t4t5_direction_match.values[i]),
            polarity=float(report.polarity_accuracy.values[i]),
            ds=float(report.ds_accuracy.values[i]),
        )
        rows.append(row)
        print(
            f"| {name} | {row['iteration']} | {row['epe']:.4f} | {row['zero']:.4f} "
            f"| {row['epe'] / row['zero']:.3f} | {row['match']}/8 "
            f"| {row['polarity']:.3f} ({round(row['polarity'] * n_polarity)}/{n_polarity}) "
            f"| {row['ds']:.3f} |"
        )

    def median(key):
        return float(np.median([r[key] for r in rows]))

    ratio = float(np.median([r["epe"] / r["zero"] for r in rows]))
    print(
        f"| **median** | | {median('epe'):.4f} | {median('zero'):.4f} | {ratio:.3f} "
        f"| {median('match'):.1f}/8 | {median('polarity'):.3f} | {median('ds'):.3f} |"
    )
    if args.plots:
        import matplotlib

        matplotlib.use("Agg")
        from flyvis.analysis.moving_bar_responses import plot_T4_tuning, plot_T5_tuning

        best = ensemble[ensemble.names[0]]
        edges = best.moving_edge_responses(speeds=tuple(args.speeds), dt=args.dt)
        for kind, plot in (("T4", plot_T4_tuning), ("T5", plot_T5_tuning)):
            fig, _ = plot(edges)
            fig.savefig(f"{args.plots}_{kind}.png", dpi=150, bbox_inches="tight")
            print(f"wrote {args.plots}_{kind}.png")
    print(f"({time.time() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
