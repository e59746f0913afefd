"""Where the time of a training iteration goes: network, decoder, the rest.

Splits the iteration of ``bench_engine.py``'s ``train`` case (batch 4, 40
Euler steps at dt = 0.02 s, ``DecoderGAVP``, ``l2norm``, backward, Adam) into

* ``network``: the network's forward pass and its backward pass for a fixed
  output gradient (what the decoder would send back);
* ``decoder``: the decoder's forward and backward pass and the loss, on a
  detached activity that requires gradients;
* ``iteration``: the whole iteration; ``rest`` = iteration - network -
  decoder (optimizer, ``zero_grad``, stimulus, the graph's bookkeeping).

The three are timed alternately in one process (medians of ``--reps``). With
``--flyvis-python PATH`` the same split runs in flyvis 1.2.0's interpreter
(a separate venv with ``flyvis==1.2.0``; only the API both packages share is
used), and the script prints what a given speed-up of the whole iteration
(``--target``, default 10x) would ask of the network part, given the time of
our decoder and rest:

    python benchmarks/train_breakdown.py --reps 7 --flyvis-python /path/venv/bin/python

Both packages run the same decoder convolutions (the same shapes and
floating-point operations), so the decoder bounds what the network part must
achieve (Amdahl's law).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

# the shared iteration (bench_engine imports only the stdlib at import time)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import _rss_mb, make_train_iteration, run_in_flyvis120  # noqa: E402


def measure(reps: int, default_device: bool = False) -> dict:
    """Times the parts in this interpreter's ``flyvis`` and returns their medians.

    ``default_device``: set torch's default device to the CPU first, as
    ``flyvis120_train_step.py`` does for flyvis 1.2.0.
    """
    import torch

    if default_device:
        torch.set_default_device("cpu")
    from flyvis import Network
    from flyvis.task.decoder import DecoderGAVP
    from flyvis.task.objectives import l2norm

    torch.manual_seed(0)
    network = Network()
    iteration = make_train_iteration(torch, network, DecoderGAVP, l2norm)

    decoder = DecoderGAVP(
        network.connectome, shape=[8, 2], kernel_size=5, const_weight=1e-3
    )
    lum = torch.rand(4, 40, 1, 721)
    flow = torch.randn(4, 40, 2, 721)
    steady = network.steady_state(0.5, 0.02, 4)
    with torch.no_grad():
        network.stimulus.zero(4, 40)
        network.stimulus.add_input(lum)
        activity = network(network.stimulus(), 0.02, state=steady)
    grad = 1e-3 * torch.randn_like(activity)

    def network_part():
        network.stimulus.zero(4, 40)
        network.stimulus.add_input(lum)
        network(network.stimulus(), 0.02, state=steady).backward(grad)

    leaf = activity.detach().requires_grad_(True)

    def decoder_part():
        leaf.grad = None
        l2norm(decoder(leaf), flow).backward()

    parts = {"iteration": iteration, "network": network_part, "decoder": decoder_part}
    for fn in parts.values():
        fn()  # warm-up
    times = {name: [] for name in parts}
    for _ in range(reps):
        for name, fn in parts.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    result = {name: statistics.median(t) for name, t in times.items()}
    result["rest"] = result["iteration"] - result["network"] - result["decoder"]
    result["times"] = times
    result["threads"] = torch.get_num_threads()
    result["peak_rss_mb"] = _rss_mb()
    return result


def _print(label: str, r: dict) -> None:
    share = {k: r[k] / r["iteration"] for k in ("network", "decoder", "rest")}
    print(
        f"{label:13s} iteration {r['iteration'] * 1e3:7.1f} ms | network "
        f"{r['network'] * 1e3:7.1f} ms ({share['network']:.0%}) | decoder "
        f"{r['decoder'] * 1e3:6.1f} ms ({share['decoder']:.0%}) | rest "
        f"{r['rest'] * 1e3:6.1f} ms",
        flush=True,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--flyvis-python", default=None)
    parser.add_argument("--target", type=float, default=10.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reps < 3:
        parser.error("--reps must be at least 3")
    if args.child:
        print(json.dumps(measure(args.reps, default_device=True)))
        return 0

    ours = measure(args.reps)
    _print("ours", ours)
    if not args.flyvis_python:
        print("flyvis 1.2.0: skipped (no --flyvis-python given)")
        print(json.dumps({"ours": ours}, indent=1))
        return 0
    theirs = run_in_flyvis120(
        args.flyvis_python, [__file__, "--child", "--reps", args.reps], "flyvis 1.2.0"
    )
    if theirs is None:
        return 1
    _print("flyvis 1.2.0", theirs)
    for part in ("iteration", "network", "decoder"):
        print(f"{part:9s} ours {theirs[part] / ours[part]:5.1f}x faster", flush=True)
    budget = theirs["iteration"] / args.target
    left = budget - ours["decoder"] - ours["rest"]
    line = (
        f"{args.target:g}x the whole iteration: <= {budget * 1e3:.1f} ms; our decoder "
        f"and rest take {(ours['decoder'] + ours['rest']) * 1e3:.1f} ms"
    )
    if left > 0:
        line += (
            f", so the network part would need <= {left * 1e3:.1f} ms, "
            f"{theirs['network'] / left:.0f}x flyvis 1.2.0's "
            f"(now {theirs['network'] / ours['network']:.1f}x)"
        )
    else:
        line += ": out of reach whatever the network part takes"
    print(line)
    print(json.dumps({"ours": ours, "flyvis120": theirs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
