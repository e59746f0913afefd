"""Direction tuning of T4/T5 in an untrained network, per initialisation.

Builds an untrained network (flyvis's default initialisation, or synapse
strengths normalised per target type with resting potentials set at grey:
``SynapseCountNormalized`` + ``RestingPotentialAtGrey``), simulates ON and
OFF edges moving in 12 directions (``MovingEdge``, one speed) and prints, per
T4a-d/T5a-d, the DSI (flyvis's definition: peak rectified voltage) and the
preferred direction against the known one, plus the peak-to-peak voltage
modulation of cells along the motion pathway.

    python benchmarks/init_probe.py --default
    python benchmarks/init_probe.py --rest 0.1 --rest-t4t5 0.0 [--gain 0.9]
    # controls: every receptive field mirrored (du, dv -> -du, -dv), or the
    # receptive fields (offsets and synapse counts) permuted among the type
    # pairs (types, pairs and signs kept)
    python benchmarks/init_probe.py --rest 0.1 --rest-t4t5 0.0 --connectome mirror
    python benchmarks/init_probe.py --rest 0.1 --rest-t4t5 0.0 --connectome shuffle --seed 0

Runs in about 10 s on one core (a control connectome compiles once, ~30 s).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

PATHWAY = ["R1", "L1", "L2", "Mi1", "Tm3", "Mi4", "Mi9", "Tm1", "Tm9", "T4a", "T5a"]


class _Handle:
    """The minimal checkpointed-network handle `compute_responses` needs."""

    def __init__(self, network):
        self.network, self.checkpoint = network, None

    def init(self, eval: bool = True):  # noqa: A002 - the handle's interface
        return self.network


def control_connectome(kind: str, seed: int) -> str:
    """Writes a mirrored or shuffled copy of the default connectome JSON.

    Args:
        kind: ``mirror`` (offsets negated) or ``shuffle`` (the offset lists
            permuted among the edge entries).
        seed: Seed of the permutation.

    Returns:
        Path of the written file (under the system's temporary directory).
    """
    import json
    import tempfile
    from pathlib import Path

    from flyvis.connectome.connectome import (
        DEFAULT_CONNECTOME_FILE,
        resolve_connectome_file,
    )

    data = json.loads(resolve_connectome_file(DEFAULT_CONNECTOME_FILE).read_text())
    edges = data["edges"]
    if kind == "mirror":
        for edge in edges:
            edge["offsets"] = [[[-du, -dv], n] for (du, dv), n in edge["offsets"]]
    else:
        order = np.random.default_rng(seed).permutation(len(edges))
        offsets = [edges[i]["offsets"] for i in order]
        for edge, new in zip(edges, offsets):
            edge["offsets"] = new
    path = Path(tempfile.gettempdir()) / f"flyvis_probe_{kind}_{seed}.json"
    path.write_text(json.dumps(data))
    return str(path)


def build(args):
    """The untrained network of the chosen initialisation."""
    from flyvis import Network
    from flyvis.utils.config_utils import get_default_config

    overrides = [
        "task_name=probe",
        "ensemble_and_network_id=0/0",
        f"network.connectome.extent={args.extent}",
    ]
    if args.connectome != "default":
        path = control_connectome(args.connectome, args.seed)
        overrides.append(f"network.connectome.file={path}")
    if not args.default:
        t4t5 = {f"T{k}{d}": args.rest_t4t5 for k in (4, 5) for d in "abcd"}
        by_type = ",".join(f"{k}:{v}" for k, v in t4t5.items())
        overrides += [
            "network/edge_config/syn_strength=normalized",
            "network/node_config/bias=grey",
            f"network.edge_config.syn_strength.gain={args.gain}",
            f"network.node_config.bias.rest={args.rest}",
            "+network.node_config.bias.rest_by_type={" + by_type + "}",
        ]
    config = get_default_config(overrides=overrides)
    return Network(**config.network.to_dict(), device="cpu")


def edge_tuning(network, speed: float, dt: float):
    """T4/T5 tuning table and per-type modulation for moving edges."""
    from flyvis.analysis.direction_selectivity import (
        direction_selectivity_index,
        preferred_direction,
    )
    from flyvis.analysis.response_simulation import compute_responses
    from flyvis.analysis.validation import motion_detector_tuning
    from flyvis.datasets.moving_bar import MovingEdge

    config = dict(
        offsets=[-10, 11],
        intensities=[0, 1],
        speeds=[speed],
        height=80,
        post_pad_mode="continue",
        dt=dt,
        t_pre=1.0,
        t_post=1.0,
    )
    ds = compute_responses(_Handle(network), MovingEdge, config, 24, 1.0, 0.0)
    n = ds.sizes["frame"]
    ds = ds.assign_coords(
        frame=np.arange(n),
        neuron=np.arange(ds.sizes["neuron"]),
        time=("frame", np.arange(n) * dt - 1.0),
        network_id=[0],
    )
    ds.attrs = {"config": config}
    tuning = motion_detector_tuning(
        direction_selectivity_index(ds), preferred_direction(ds)
    )
    responses = ds["responses"][0]
    modulation = (responses.max("frame") - responses.min("frame")).max("sample")
    rest = responses.isel(frame=int(0.9 / dt)).isel(sample=0)
    return tuning, modulation, rest, list(ds["cell_type"].values)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--default", action="store_true", help="flyvis's initialisation")
    parser.add_argument("--rest", type=float, default=0.5, help="resting potential")
    parser.add_argument("--rest-t4t5", type=float, default=0.0)
    parser.add_argument("--gain", type=float, default=0.9, help="summed |w| per cell")
    parser.add_argument("--extent", type=int, default=15)
    parser.add_argument("--speed", type=float, default=19.0, help="columns per second")
    parser.add_argument("--dt", type=float, default=0.01)
    parser.add_argument(
        "--connectome", choices=["default", "mirror", "shuffle"], default="default"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of --connectome shuffle"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.time()
    network = build(args)
    tuning, modulation, rest, types = edge_tuning(network, args.speed, args.dt)
    label = (
        "flyvis default initialisation"
        if args.default
        else f"normalised strengths (gain {args.gain}), rest {args.rest}, "
        f"T4/T5 rest {args.rest_t4t5}"
    )
    if args.connectome != "default":
        name = {"mirror": "mirrored", "shuffle": "shuffled"}[args.connectome]
        seed = f" (seed {args.seed})" if args.connectome == "shuffle" else ""
        label += f", {name} connectome{seed}"
    print(f"{label}; edges at {args.speed} columns/s ({time.time() - start:.0f} s)")
    print(f"{'type':>5} {'DSI':>5} {'PD':>5} {'known':>5} {'error':>5} match")
    for i, cell_type in enumerate(tuning["cell_type"].values):
        row = tuning.isel(network_id=0, neuron=i)
        print(
            f"{cell_type:>5} {float(row['dsi']):5.2f} {float(row['pd']):5.0f} "
            f"{float(row['known_pd']):5.0f} {float(row['angle_error']):5.0f} "
            f"{'yes' if bool(row['match']) else 'no'}"
        )
    within = int((tuning["angle_error"].values[0] <= 45).sum())
    print(
        f"match (DSI > 0.2 and within 45 deg): {int(tuning['match'].values[0].sum())}/8; "
        f"preferred direction within 45 deg: {within}/8"
    )
    print(
        "rest / peak-to-peak modulation: "
        + " ".join(
            f"{t} {float(rest[types.index(t)]):.2f}/{float(modulation[types.index(t)]):.3f}"
            for t in PATHWAY
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
