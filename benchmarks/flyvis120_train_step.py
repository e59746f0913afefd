"""One training iteration of flyvis 1.2.0 itself, through its public API.

Run by ``bench_engine.py --flyvis-python PATH`` with the interpreter of a
separate virtual environment that has ``flyvis==1.2.0`` installed (this package
never imports flyvis 1.2.0, and this file is never imported by it). Prints one
JSON line: the median time of ``--reps`` iterations after one warm-up, and the
peak RSS of the process.

The iteration is the one of ``bench_engine.py``'s ``train`` case: batch 4,
40 Euler steps at dt = 0.02 s from a grey steady state, ``DecoderGAVP``
(``shape=[8, 2]``, ``kernel_size=5``, ``const_weight=0.001``), ``l2norm``,
backward, one Adam step (``bench_engine.make_train_iteration``, shared with
our ``train`` case). ``--case train_solver`` adds the step of the default
activity penalty (``flyvis.solver.Penalty``), as ``MultiTaskSolver.train``
runs it.

    FLYVIS_ROOT_DIR=/tmp/fv120-root /path/to/venv/bin/python \\
        benchmarks/flyvis120_train_step.py --reps 5 [--case train_solver]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

# the iteration, timing and RSS helpers of bench_engine (stdlib-only at import)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import _rss_mb, _timeit, make_train_iteration  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--case", choices=("train", "train_solver"), default="train")
    args = parser.parse_args()

    import torch

    torch.set_default_device("cpu")
    from flyvis import Network
    from flyvis.solver import Penalty
    from flyvis.task.decoder import DecoderGAVP
    from flyvis.task.objectives import l2norm

    torch.manual_seed(0)
    start = time.perf_counter()
    network = Network()
    build = time.perf_counter() - start
    penalty = Penalty if args.case == "train_solver" else None
    times = _timeit(
        make_train_iteration(torch, network, DecoderGAVP, l2norm, penalty), args.reps
    )
    print(
        json.dumps(
            {
                "case": args.case,
                "engine": "flyvis 1.2.0",
                "threads": torch.get_num_threads(),
                "unit": "s per iteration",
                "value": statistics.median(times),
                "times": times,
                "network_build_s": build,
                "peak_rss_mb": _rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
