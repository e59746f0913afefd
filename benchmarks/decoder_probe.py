"""Probe: can the decoder's half of a training iteration get cheaper?

``DecoderGAVP`` (``shape=[8, 2]``, kernel 5) on the benchmark's activity
(batch 4, 40 frames, the default network) takes about half of a training
iteration, most of it in its two hexagonal convolutions. This script times its
forward + backward pass (``l2norm`` loss, gradients to the activity and the
decoder's parameters) in three variants and reports what each costs and
changes:

* ``float32``: the default.
* ``conv_dtype="bfloat16"``: the decoder's option that runs its convolutions
  in bfloat16 (oneDNN; fast on CPUs with AVX512-BF16 or AMX) and everything
  else in float32, so dropout draws the same masks. Printed with the relative
  error of the gradient that reaches the network, against float32.
* ``autocast``: the whole module under ``torch.autocast("cpu", bfloat16)``
  for comparison. Batch norm, softplus and dropout then run in bfloat16 too,
  and dropout draws different masks (bfloat16 random numbers), so its
  gradient differs from float32 by far more than rounding.
* ``compile`` (``--compile``): ``torch.compile`` of the module (inductor needs
  a C++ compiler), with its compile time and the RSS it adds.

Results on the 2-core development machine are in ``benchmarks/README.md``.
Run on an idle machine:

    .venv/bin/python benchmarks/decoder_probe.py [--compile]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10, help="timed repetitions")
    parser.add_argument("--compile", action="store_true", help="also torch.compile")
    args = parser.parse_args(argv)

    import torch

    from flyvis.network import Network
    from flyvis.task.decoder import DecoderGAVP
    from flyvis.task.objectives import l2norm

    torch.manual_seed(0)
    network = Network(device="cpu")
    decoder = DecoderGAVP(network.connectome, shape=[8, 2], kernel_size=5)
    fast = DecoderGAVP(
        network.connectome, shape=[8, 2], kernel_size=5, conv_dtype="bfloat16"
    )
    fast.load_state_dict(decoder.state_dict())
    activity = (0.5 * torch.randn(4, 40, network.n_nodes)).requires_grad_()
    flow = torch.randn(4, 40, 2, 721)

    def run(module, autocast=False):
        torch.manual_seed(1)  # the same dropout masks in every variant
        module.zero_grad()
        activity.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            prediction = module(activity)
        loss = l2norm(prediction.float(), flow)
        loss.backward()
        return activity.grad.clone()

    def timed(module, autocast=False):
        for _ in range(2):
            run(module, autocast)
        times = []
        for _ in range(args.reps):
            start = time.perf_counter()
            run(module, autocast)
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e3

    def error(grad):
        return 100 * float((grad - reference).norm() / reference.norm())

    reference = run(decoder)
    t32 = timed(decoder)
    print(f"float32     forward + backward {t32:7.1f} ms")
    grad = run(fast)
    t16 = timed(fast)
    print(
        f"bfloat16    forward + backward {t16:7.1f} ms ({t32 / t16:.2f}x); gradient "
        f"to the network off by {error(grad):.2f} % (relative norm)"
    )
    grad = run(decoder, autocast=True)
    ta = timed(decoder, autocast=True)
    print(
        f"autocast    forward + backward {ta:7.1f} ms ({t32 / ta:.2f}x); gradient "
        f"to the network off by {error(grad):.2f} % (other dropout masks)"
    )
    if args.compile:
        before = _rss_mb()
        compiled = torch.compile(decoder)
        start = time.perf_counter()
        run(compiled)
        first = time.perf_counter() - start
        tc = timed(compiled)
        print(
            f"compile     forward + backward {tc:7.1f} ms ({t32 / tc:.2f}x); first "
            f"call {first:.1f} s, RSS +{_rss_mb() - before:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
