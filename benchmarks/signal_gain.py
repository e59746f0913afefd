"""How much of the photoreceptor signal reaches the motion pathway of an untrained network.

Simulates the default network (optionally with another initial synapse-strength
scale, ``SynapseCountScaling.scale``, flyvis default 0.01) on photo-flow movies
and prints, per cell type, the mean voltage and the temporal standard deviation
of the voltage (the signal a decoder or a downstream cell can use). With the
default initialisation each synaptic layer passes on about a tenth of its
input's modulation: R1-6 0.078, L1 0.005, Mi1 0.0007, T4a 0.0001.

    python benchmarks/signal_gain.py --scales 0.01 0.03 0.05 [--recenter]

``--recenter`` sets every type's resting potential so that its voltage at grey
(0.5) is 0.5 before measuring (a data-dependent initialisation).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

TYPES = ["R1", "L1", "L2", "Mi1", "Tm3", "Mi4", "Mi9", "Tm1", "Tm9", "T4a", "T5a", "T2"]


def recenter(network, dt: float, target: float = 0.5, n_rounds: int = 8) -> float:
    """Shifts resting potentials so that each type rests at ``target`` at grey."""
    ctype = np.asarray(network.connectome.nodes.type[:].astype(str))
    types = list(network.connectome.unique_cell_types[:].astype(str))
    masks = [torch.as_tensor(ctype == t) for t in types]
    grey = torch.full((1, int(2 / dt), 1, 721), 0.5)
    deviation = float("nan")
    with torch.no_grad():
        for _ in range(n_rounds):
            last = network.simulate(grey, dt)[0, -1]
            v = torch.stack([last[m].mean() for m in masks])
            network.nodes_bias += (target - v).clamp(-1, 1)
            deviation = float((target - v).abs().max())
    return deviation


def main(argv=None) -> int:
    from flyvis import Network
    from flyvis.datasets import MultiTaskPhotoFlow
    from flyvis.utils.config_utils import get_default_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.01, 0.02, 0.03])
    parser.add_argument("--dt", type=float, default=0.02)
    parser.add_argument("--n-movies", type=int, default=4)
    parser.add_argument("--recenter", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    data = MultiTaskPhotoFlow(tasks=["flow"], dt=args.dt)
    with data.augmentation(False):
        movies = torch.stack([data[i]["lum"] for i in range(args.n_movies)])
    config = get_default_config(overrides=["task_name=x", "ensemble_and_network_id=0/0"])
    print(
        f"{args.n_movies} photo-flow movies, dt {args.dt} s; mean voltage ± temporal std"
    )
    print(f"{'scale':>6} {'max|V|':>8} " + " ".join(f"{t:>13}" for t in TYPES))
    for scale in args.scales:
        network_config = config.network.to_dict()
        network_config["edge_config"]["syn_strength"]["scale"] = scale
        network = Network(**network_config, device="cpu")
        note = ""
        if args.recenter:
            note = f"  (recentred, max deviation {recenter(network, args.dt):.3f})"
        ctype = np.asarray(network.connectome.nodes.type[:].astype(str))
        with torch.no_grad():
            state = network.steady_state(1.0, args.dt, len(movies))
            responses = network.simulate(movies, args.dt, initial_state=state)
        skip = int(0.2 / args.dt)
        cells = []
        for t in TYPES:
            x = responses[:, skip:, torch.as_tensor(ctype == t)]
            cells.append(f"{float(x.mean()):6.2f}±{float(x.std(1).mean()):.4f}")
        peak = float(responses.abs().max())
        print(f"{scale:6.3f} {peak:8.3g} " + " ".join(f"{c:>13}" for c in cells) + note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
