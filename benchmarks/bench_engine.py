"""Benchmarks of the network engine: training, simulation, closed loop, ensembles.

Every case runs in a fresh subprocess (so that its peak RSS is its own), for the
default sparse engine and the gather/scatter reference engine, and reports the
median of at least 5 repetitions after one warm-up.

    python benchmarks/bench_engine.py                # all cases, table + JSON
    python benchmarks/bench_engine.py --cases train  # some cases
    python benchmarks/bench_engine.py --reps 7 --json results.json
    python benchmarks/bench_engine.py --cases ensemble --rounds 3  # interleaved rounds

    # also flyvis 1.2.0 itself (installed in a separate venv), training case
    python benchmarks/bench_engine.py --cases train --flyvis-python /path/venv/bin/python

Cases (default network: 45,669 cells, 1,513,231 synapse sets):

* ``train``: one training iteration: batch 4, 40 Euler steps at dt = 0.02 s,
  ``DecoderGAVP``, ``l2norm``, backward, Adam step.
* ``train_bf16``: the same with ``DecoderGAVP(..., conv_dtype="bfloat16")``
  (the decoder's convolutions in bfloat16; not a flyvis 1.2.0 option).
* ``train_solver``: the whole iteration of ``MultiTaskSolver.train`` with the
  default configuration: ``train`` plus the activity penalty's step (the
  default ``penalizer``: SGD on the resting potentials, after
  ``loss.backward(retain_graph=True)``), as flyvis 1.2.0's solver runs it.
* ``simulate_b1`` / ``simulate_b4``: ``Network.simulate`` of 100 steps at
  dt = 0.01 s (from a given state, no gradients), per step.
* ``closed_loop``: one ``NetworkStepper.step`` for batch 2 (two eyes).
* ``ensemble``: 8 parameter sets, batch 1, 100 steps:
  ``simulate_ensemble`` (default method: the numba kernel on the CPU) vs a
  loop over 8 networks (``load_state_dict`` + ``simulate``); "reference" here
  means the loop. ``ensemble_torch``: the same with ``method="torch"``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES = (
    "train",
    "train_bf16",
    "simulate_b1",
    "simulate_b4",
    "closed_loop",
    "ensemble",
    "ensemble_torch",
    "train_solver",
)

#: The solver's default ``penalizer`` config (the same in flyvis 1.2.0), read
#: from this repository by both interpreters (flyvis 1.2.0's venv cannot import
#: this package).
PENALIZER_YAML = (
    Path(__file__).resolve().parents[1] / "flyvis/config/penalizer/penalizer.yaml"
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timeit(fn, reps: int, sync=None) -> list:
    """Wall-clock times of ``reps`` calls of ``fn`` after one warm-up call.

    ``sync`` (e.g. ``torch.cuda.synchronize``) is called before each clock
    reading, so that queued GPU work is counted.
    """
    sync = sync or (lambda: None)
    fn()  # warm-up
    times = []
    for _ in range(reps):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times


def make_train_iteration(torch, network, decoder_class, l2norm, penalty_class=None):
    """The timed training iteration, for this package or flyvis 1.2.0 alike.

    Batch 4, 40 Euler steps at dt = 0.02 s from a grey steady state,
    ``decoder_class(connectome, shape=[8, 2], kernel_size=5,
    const_weight=1e-3)``, ``l2norm``, backward, one Adam step; with
    ``penalty_class``, also the step of the default activity penalty after a
    backward pass that retains the graph, as ``MultiTaskSolver.train`` runs
    it. Uses only the API both packages share.

    Args:
        torch: The ``torch`` module of the running interpreter.
        network: A ``Network``.
        decoder_class: ``DecoderGAVP``.
        l2norm: The ``l2norm`` objective.
        penalty_class: ``Penalty`` of the solver, or ``None`` (no penalty).

    Returns:
        A function running one iteration.
    """
    decoder = decoder_class(
        network.connectome, shape=[8, 2], kernel_size=5, const_weight=1e-3
    )
    optim = torch.optim.Adam([*network.parameters(), *decoder.parameters()], lr=1e-5)
    lum = torch.rand(4, 40, 1, 721)
    flow = torch.randn(4, 40, 2, 721)
    steady = network.steady_state(0.5, 0.02, 4)
    penalty = None
    if penalty_class is not None:
        import yaml  # PyYAML and datamate: dependencies of both packages
        from datamate import namespacify

        config = namespacify(yaml.safe_load(PENALIZER_YAML.read_text()))
        penalty = penalty_class(config, network)

    def iteration():
        network.stimulus.zero(4, 40)
        network.stimulus.add_input(lum)
        optim.zero_grad()
        activity = network(network.stimulus(), 0.02, state=steady)
        l2norm(decoder(activity), flow).backward(retain_graph=penalty is not None)
        optim.step()
        if penalty is not None:
            penalty(activity=activity, iteration=0)

    return iteration


def run_case(case: str, engine: str, reps: int, device: str = "cpu") -> dict:
    """Runs one case in this process and returns its measurements.

    On a CUDA ``device`` the tensors are created there (this child process's
    default device), the clock waits for the GPU, and the peak GPU memory is
    reported next to the peak RSS.
    """
    import torch

    from flyvis.network import Network

    cuda = torch.device(device).type == "cuda"
    if cuda and not torch.cuda.is_available():
        raise SystemExit(f"--device {device}: torch {torch.__version__} sees no GPU")
    if cuda:  # a child process of its own; a default device costs every op time
        torch.set_default_device(device)
    sync = torch.cuda.synchronize if cuda else None
    torch.manual_seed(0)
    result = {
        "case": case,
        "engine": engine,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "threads": torch.get_num_threads(),
    }
    if case in ("ensemble", "ensemble_torch"):
        from flyvis.network.ensemble_simulation import simulate_ensemble

        net = Network(device=device)
        base = {k: v.clone() for k, v in net.state_dict().items()}
        sets = []
        for _ in range(8):
            sd = {k: v.clone() for k, v in base.items()}
            sd["nodes_bias"] += 0.05 * torch.randn_like(sd["nodes_bias"])
            sd["edges_syn_strength"] *= torch.exp(
                0.2 * torch.randn_like(sd["edges_syn_strength"])
            )
            sets.append(sd)
        movie = 0.5 + 0.3 * torch.rand(1, 100, 1, 721)
        method = "torch" if case == "ensemble_torch" else "auto"
        if engine == "sparse":

            def fn():
                simulate_ensemble(
                    net, sets, movie, 0.01, initial_state=None, method=method
                )
        else:

            def fn():
                for sd in sets:
                    net.load_state_dict(sd)
                    net.simulate(movie, 0.01, initial_state=None)

        times = _timeit(fn, reps, sync)
        result.update(
            unit="s per ensemble (8 models, 100 steps)", value=statistics.median(times)
        )
    else:
        net = Network(device=device, engine=engine)
        if case in ("train", "train_bf16", "train_solver"):
            from functools import partial

            from flyvis.solver import Penalty
            from flyvis.task.decoder import DecoderGAVP
            from flyvis.task.objectives import l2norm

            decoder_class = DecoderGAVP
            if case == "train_bf16":
                decoder_class = partial(DecoderGAVP, conv_dtype="bfloat16")
            penalty = Penalty if case == "train_solver" else None
            fn = make_train_iteration(torch, net, decoder_class, l2norm, penalty)
            times = _timeit(fn, reps, sync)
            result.update(unit="s per iteration", value=statistics.median(times))
        elif case in ("simulate_b1", "simulate_b4"):
            batch = 1 if case.endswith("b1") else 4
            movie = 0.5 + 0.3 * torch.rand(batch, 100, 1, 721)
            state = net.steady_state(0.2, 0.01, batch)
            times = _timeit(
                lambda: net.simulate(movie, 0.01, initial_state=state), reps, sync
            )
            result.update(unit="ms per step", value=statistics.median(times) / 100 * 1e3)
        elif case == "closed_loop":
            stepper = net.stepper(0.002, batch_size=2, initial_state=None)
            frame = torch.full((2, 1, 721), 0.5)

            def fn():
                for _ in range(50):
                    stepper.step(frame)

            times = _timeit(fn, reps, sync)
            result.update(unit="ms per step", value=statistics.median(times) / 50 * 1e3)
        else:
            raise ValueError(f"unknown case {case!r}; valid: {', '.join(CASES)}")
    result["times"] = times
    result["peak_rss_mb"] = _rss_mb()
    if cuda:
        result["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def run_flyvis120(python, case: str, reps: int, pause: float):
    """flyvis 1.2.0's iteration of ``case``, run by another interpreter (or None).

    ``case`` is ``"train"`` or ``"train_solver"``. Prints why it was skipped
    when ``python`` is not given or the run fails.
    """
    if not python:
        print(f"flyvis 1.2.0 ({case}): skipped (no --flyvis-python given)")
        return None
    time.sleep(pause)
    script = Path(__file__).with_name("flyvis120_train_step.py")
    return run_in_flyvis120(
        python, [script, "--reps", reps, "--case", case], f"flyvis 1.2.0 ({case})"
    )


def run_in_flyvis120(python, args, label: str):
    """Runs ``python *args`` in flyvis 1.2.0's venv; its last output line as JSON.

    flyvis 1.2.0 writes its connectome cache under a temporary data root (its
    working directory too). Prints ``label`` and the last line of the error
    output and returns ``None`` if the run fails.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="flyvis120-root-") as root:
        try:
            out = subprocess.run(
                [python, *map(str, args)],
                capture_output=True,
                text=True,
                env=dict(os.environ, FLYVIS_ROOT_DIR=root),
                cwd=root,
            )
        except OSError as error:  # no such interpreter, not executable
            print(f"{label}: failed ({python}): {error}")
            return None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"{label}: failed ({python}): {last}")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--device",
        default="cpu",
        help="torch device of every case (e.g. cuda); flyvis 1.2.0's iteration "
        "runs only with --device cpu",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--pause",
        type=float,
        default=3.0,
        help="seconds to wait before each case process, so that the kernel has "
        "reclaimed the previous one's memory (the reference training peaks at "
        "2.8 GB)",
    )
    parser.add_argument(
        "--flyvis-python",
        default=None,
        help="interpreter of a separate venv with flyvis==1.2.0 installed: its "
        "training iteration (benchmarks/flyvis120_train_step.py; with the "
        "penalty step for train_solver) runs in the same "
        "run and is printed next to ours with the ratio",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every case (and flyvis 1.2.0) this many times, interleaved, "
        "and print medians and the range of the per-round ratios: on a machine "
        "whose speed drifts, a ratio within one round is steadier than one "
        "taken across minutes",
    )
    parser.add_argument(
        "--child", nargs=2, metavar=("CASE", "ENGINE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.reps < 5:
        parser.error("--reps must be at least 5")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.child:
        print(json.dumps(run_case(args.child[0], args.child[1], args.reps, args.device)))
        return 0
    rounds = []
    for number in range(1, args.rounds + 1):
        if args.rounds > 1:
            print(f"round {number} of {args.rounds}", flush=True)
        results = _run_round(args)
        if results is None:
            return 1
        rounds.append(results)
    summary = _summary(rounds) if args.rounds > 1 else []
    report = rounds[0] if args.rounds == 1 else {"rounds": rounds, "summary": summary}
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


#: flyvis 1.2.0's iteration that each of our training cases is compared with
ANCHORS = {"train": "train", "train_bf16": "train", "train_solver": "train_solver"}


def _run_round(args):
    """Every case for both engines, then flyvis 1.2.0's iterations; printed rows."""
    results = []
    for case in args.cases:
        row = {"case": case}
        for engine in ("sparse", "reference"):
            time.sleep(args.pause)
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    case,
                    engine,
                    "--reps",
                    str(args.reps),
                    "--device",
                    args.device,
                ],
                capture_output=True,
                text=True,
                env=dict(os.environ),
            )
            if out.returncode != 0:
                print(out.stderr, file=sys.stderr)
                return None
            res = json.loads(out.stdout.strip().splitlines()[-1])
            row[engine] = res
            row["unit"] = res["unit"]
        row["speedup"] = row["reference"]["value"] / row["sparse"]["value"]
        results.append(row)
        memory = ""
        if "peak_gpu_mb" in row["sparse"]:
            memory = (
                f" | peak GPU memory {row['sparse']['peak_gpu_mb']:.0f} / "
                f"{row['reference']['peak_gpu_mb']:.0f} MB"
            )
        print(
            f"{case:12s} sparse {row['sparse']['value']:.4g} | reference "
            f"{row['reference']['value']:.4g} {row['unit']} | speedup {row['speedup']:.1f}x | "
            f"peak RSS {row['sparse']['peak_rss_mb']:.0f} / {row['reference']['peak_rss_mb']:.0f} MB"
            + memory,
            flush=True,
        )
    if args.device != "cpu":
        if args.flyvis_python:
            print(
                f"flyvis 1.2.0: skipped (runs with --device cpu only; got {args.device})"
            )
        return results
    flyvis120 = {}
    for case in (c for c in ANCHORS if c in args.cases):
        anchor = ANCHORS[case]
        if anchor not in flyvis120:
            flyvis120[anchor] = run_flyvis120(
                args.flyvis_python, anchor, args.reps, args.pause
            )
            if flyvis120[anchor] is not None:
                results.append(
                    {"case": f"{anchor}_vs_flyvis120", "flyvis120": flyvis120[anchor]}
                )
        theirs = flyvis120[anchor]
        if theirs is None:
            continue
        ours = next(r for r in results if r["case"] == case)["sparse"]
        ratio = theirs["value"] / ours["value"]
        print(
            f"{case:12s} flyvis 1.2.0 {theirs['value']:.4g} s per iteration | "
            f"ours {ours['value']:.4g} | {ratio:.1f}x faster | peak RSS "
            f"{theirs['peak_rss_mb']:.0f} MB (ours {ours['peak_rss_mb']:.0f})",
            flush=True,
        )
    return results


def _summary(rounds) -> list:
    """Per case over the rounds: medians, the range of the ratios, the largest peak RSS.

    A ratio is taken within each round (both sides measured within the same
    few minutes), so a slow spell of the machine moves both sides of it.
    """

    def spread(values):
        return f"{statistics.median(values):.1f}x ({min(values):.1f}-{max(values):.1f})"

    summary = []
    print(f"\nsummary of {len(rounds)} rounds (medians; ratios per round, min-max):")
    cases = [r["case"] for r in rounds[0] if "sparse" in r]
    for case in cases:
        rows = [next(r for r in results if r["case"] == case) for results in rounds]
        ours = [r["sparse"]["value"] for r in rows]
        entry = {
            "case": case,
            "unit": rows[0]["unit"],
            "sparse": statistics.median(ours),
            "reference": statistics.median(r["reference"]["value"] for r in rows),
            "speedups": [r["speedup"] for r in rows],
            "peak_rss_mb": max(r["sparse"]["peak_rss_mb"] for r in rows),
        }
        line = (
            f"{case:12s} sparse {entry['sparse']:.4g} | reference "
            f"{entry['reference']:.4g} {entry['unit']} | speedup "
            f"{spread(entry['speedups'])} | peak RSS {entry['peak_rss_mb']:.0f} MB"
        )
        anchor = ANCHORS.get(case)
        theirs = [
            next((r for r in results if r["case"] == f"{anchor}_vs_flyvis120"), None)
            for results in rounds
        ]
        if anchor and all(theirs):
            values = [t["flyvis120"]["value"] for t in theirs]
            entry["flyvis120"] = statistics.median(values)
            entry["vs_flyvis120"] = [v / o for v, o in zip(values, ours)]
            entry["flyvis120_peak_rss_mb"] = max(
                t["flyvis120"]["peak_rss_mb"] for t in theirs
            )
            line += (
                f" | flyvis 1.2.0 {entry['flyvis120']:.4g} s, ours "
                f"{spread(entry['vs_flyvis120'])} faster"
            )
        print(line, flush=True)
        summary.append(entry)
    return summary


if __name__ == "__main__":
    sys.exit(main())
