"""One training iteration of flyvis 1.2.0 itself, through its public API.

Run by ``bench_engine.py --flyvis-python PATH`` with the interpreter of a
separate virtual environment that has ``flyvis==1.2.0`` installed (this package
never imports flyvis 1.2.0, and this file is never imported by it). Prints one
JSON line: the median time of ``--reps`` iterations after one warm-up, and the
peak RSS of the process.

The iteration is the one of ``bench_engine.py``'s ``train`` case: batch 4,
40 Euler steps at dt = 0.02 s from a grey steady state, ``DecoderGAVP``
(``shape=[8, 2]``, ``kernel_size=5``, ``const_weight=0.001``), ``l2norm``,
backward, one Adam step, ``Network.clamp``.

    FLYVIS_ROOT_DIR=/tmp/fv120-root /path/to/venv/bin/python \\
        benchmarks/flyvis120_train_step.py --reps 5
"""

import argparse
import json
import resource
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    import torch

    torch.set_default_device("cpu")
    from flyvis import Network
    from flyvis.task.decoder import DecoderGAVP
    from flyvis.task.objectives import l2norm

    torch.manual_seed(0)
    start = time.perf_counter()
    network = Network()
    build = time.perf_counter() - start
    decoder = DecoderGAVP(
        network.connectome, shape=[8, 2], kernel_size=5, const_weight=1e-3
    )
    optimizer = torch.optim.Adam([*network.parameters(), *decoder.parameters()], lr=1e-5)
    lum = torch.rand(4, 40, 1, 721)
    flow = torch.randn(4, 40, 2, 721)
    steady = network.steady_state(0.5, 0.02, 4)

    def iteration():
        network.stimulus.zero(4, 40)
        network.stimulus.add_input(lum)
        optimizer.zero_grad()
        activity = network(network.stimulus(), 0.02, state=steady)
        l2norm(decoder(activity), flow).backward()
        optimizer.step()
        network.clamp()

    iteration()  # warm-up
    times = []
    for _ in range(args.reps):
        start = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "case": "train",
                "engine": "flyvis 1.2.0",
                "threads": torch.get_num_threads(),
                "unit": "s per iteration",
                "value": statistics.median(times),
                "times": times,
                "network_build_s": build,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
