"""Benchmark: building the default ``MovingEdge()`` from an empty rendering cache.

Each repetition runs in a fresh subprocess with its own empty temporary
``FLYVIS_ROOT_DIR`` (so nothing is cached and the peak RSS, from
``resource.getrusage``, is that of the build alone). Measured: wall time of
``MovingEdge(device="cpu")`` (12 angles x 1 width x 2 intensities x 21
offsets rendered, written to the datamate cache and loaded) and of reading
every item once (144 samples x 1078 frames x 721 hexals, all 6 speeds), plus
the import time and the peak RSS of the process.

flyvis 1.2.0 reference on this class of CPU: 45-60 min, 7.8 GB peak.

    python benchmarks/bench_moving_edge.py              # 3 repetitions
    python benchmarks/bench_moving_edge.py --reps 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def run_once() -> dict:
    """Builds MovingEdge() in this process (expects an empty FLYVIS_ROOT_DIR)."""
    t0 = time.perf_counter()
    import torch

    from flyvis.datasets.moving_bar import MovingEdge

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    dataset = MovingEdge(device="cpu")
    t_build = time.perf_counter() - t1
    t2 = time.perf_counter()
    n_nan = 0
    for i in range(len(dataset)):
        n_nan += int(torch.isnan(dataset[i][:, 0]).sum())
    t_items = time.perf_counter() - t2
    return {
        "samples": len(dataset),
        "frames": int(dataset[0].shape[0]),
        "hexals": int(dataset[0].shape[1]),
        "nan_frames_total": n_nan,
        "import_s": t_import,
        "build_s": t_build,
        "all_items_s": t_items,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", type=str, default=None, help="write results here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_once()))
        return
    runs = []
    for _ in range(args.reps):
        with tempfile.TemporaryDirectory() as root:
            env = dict(os.environ, FLYVIS_ROOT_DIR=root)
            out = subprocess.run(
                [sys.executable, __file__, "--child"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary = {
        "benchmark": "MovingEdge() default, empty cache",
        "command": f"{sys.executable} benchmarks/bench_moving_edge.py --reps {args.reps}",
        "reps": args.reps,
        "build_s_median": statistics.median(r["build_s"] for r in runs),
        "all_items_s_median": statistics.median(r["all_items_s"] for r in runs),
        "import_s_median": statistics.median(r["import_s"] for r in runs),
        "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
        "runs": runs,
    }
    print(json.dumps(summary, indent=2))
    print(
        f"| MovingEdge() empty cache | build {summary['build_s_median']:.2f} s "
        f"| all 144 items {summary['all_items_s_median']:.2f} s "
        f"| import {summary['import_s_median']:.2f} s "
        f"| peak RSS {summary['peak_rss_mb_max']:.0f} MB |"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
