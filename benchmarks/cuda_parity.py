"""The GPU path against the CPU path: same network, same inputs, same numbers.

The test suite runs on the CPU; this script checks on a machine with a GPU
that the same code (the sparse engine's fused Euler integration and its
hand-written backward, the reference engine, the closed-loop stepper, the
torch ensemble method, ``DecoderGAVP``, the activity penalty's gradient)
gives the CPU's results there. Prints one line per check and a JSON summary;
exits 1 if a check fails.

    python benchmarks/cuda_parity.py                 # --device cuda
    python benchmarks/cuda_parity.py --device cpu    # the script itself: all 0

Tolerances (float32, other summation orders on the GPU): voltages within
1e-4 V, gradients within 1e-3 of their norm.
"""

from __future__ import annotations

import argparse
import json
import sys


def _max_abs(a, b) -> float:
    return float((a.detach().cpu().double() - b.detach().cpu().double()).abs().max())


def _rel(a, b) -> float:
    a, b = a.detach().cpu().double(), b.detach().cpu().double()
    return float((a - b).norm() / b.norm().clamp_min(1e-30))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args(argv)

    import torch

    from flyvis.network import Network
    from flyvis.network.ensemble_simulation import simulate_ensemble
    from flyvis.solver import Penalty
    from flyvis.task.decoder import DecoderGAVP
    from flyvis.task.objectives import l2norm

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"--device {args.device}: torch {torch.__version__} sees no GPU")
        return 1
    checks = []

    def check(name, value, tol):
        ok = value <= tol
        checks.append({"check": name, "value": value, "tolerance": tol, "ok": ok})
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {value:.3g} (<= {tol:g})", flush=True)

    torch.manual_seed(0)
    cpu = Network(device="cpu")
    gpu = Network(device=device)
    gpu.load_state_dict(cpu.state_dict())
    movie = 0.5 + 0.3 * torch.rand(2, 50, 1, 721)

    # 1. simulation without gradients (fused forward), batch 2
    with torch.no_grad():
        state_c = cpu.steady_state(0.5, 0.02, 2)
        state_g = gpu.steady_state(0.5, 0.02, 2)
        check(
            "steady state (V)",
            _max_abs(state_g.nodes.activity, state_c.nodes.activity),
            1e-4,
        )
        v_c = cpu.simulate(movie, 0.02, initial_state=state_c)
        v_g = gpu.simulate(movie.to(device), 0.02, initial_state=state_g)
        check("simulate, batch 2, 50 steps (V)", _max_abs(v_g, v_c), 1e-4)

    # 2. a training iteration's gradients (fused forward + backward, decoder);
    # no dropout, whose random masks differ between devices
    lum = torch.rand(4, 40, 1, 721)
    flow = torch.randn(4, 40, 2, 721)
    grads, losses, activities = [], [], []
    for net in (cpu, gpu):
        torch.manual_seed(1)
        decoder = DecoderGAVP(
            net.connectome, shape=[8, 2], kernel_size=5, const_weight=1e-3, p_dropout=0
        ).to(net.device)
        net.zero_grad()
        steady = net.steady_state(0.5, 0.02, 4)
        net.stimulus.zero(4, 40)
        net.stimulus.add_input(lum.to(net.device))
        activity = net(net.stimulus(), 0.02, state=steady)
        loss = l2norm(decoder(activity), flow.to(net.device))
        loss.backward(retain_graph=True)
        grads.append(
            {k: p.grad.clone() for k, p in net.named_parameters() if p.grad is not None}
        )
        losses.append(loss.detach())
        activities.append(activity)
    check("training: loss (relative)", _rel(losses[1], losses[0]), 1e-4)
    check(
        "training: the same parameters have gradients (number differing)",
        len(set(grads[0]) ^ set(grads[1])),
        0,
    )
    for key in sorted(set(grads[0]) & set(grads[1])):
        check(
            f"training: gradient of {key} (relative)",
            _rel(grads[1][key], grads[0][key]),
            1e-3,
        )

    # 3. the activity penalty's gradient (resting potentials only)
    from pathlib import Path

    import yaml
    from datamate import namespacify

    penalizer = namespacify(
        yaml.safe_load(
            (
                Path(__file__).resolve().parents[1]
                / "flyvis/config/penalizer/penalizer.yaml"
            ).read_text()
        )
    )
    biases = []
    for net, activity in zip((cpu, gpu), activities):
        with torch.no_grad():
            start = net.nodes_bias.detach().clone()
        Penalty(penalizer, net)(activity=activity, iteration=0)
        biases.append(net.nodes_bias.detach() - start.to(net.device))
    check(
        "activity penalty: resting-potential step (relative)",
        _rel(biases[1], biases[0]),
        1e-3,
    )
    gpu.load_state_dict(cpu.state_dict())

    # 4. the reference (gather/scatter) engine on the device against the CPU's sparse one
    ref = Network(device=device, engine="reference")
    ref.load_state_dict(cpu.state_dict())
    with torch.no_grad():
        v_r = ref.simulate(movie[:1].to(device), 0.02, initial_state=None)
        v_c1 = cpu.simulate(movie[:1], 0.02, initial_state=None)
    check("reference engine, batch 1 (V)", _max_abs(v_r, v_c1), 1e-4)
    del ref

    # 5. closed-loop stepper, two eyes, 20 steps
    frame = torch.full((2, 1, 721), 0.5)
    outs = []
    for net in (cpu, gpu):
        stepper = net.stepper(0.002, batch_size=2, initial_state=None)
        for _ in range(20):
            out = stepper.step(frame.to(net.device))
        outs.append(out.clone())  # a view of the stepper's state
    check("closed loop, 20 steps (V)", _max_abs(outs[1], outs[0]), 1e-4)

    # 6. the ensemble's torch method (the GPU's method), 3 parameter sets
    base = cpu.state_dict()
    sets = []
    for _ in range(3):
        sd = {k: v.clone() for k, v in base.items()}
        sd["nodes_bias"] += 0.05 * torch.randn_like(sd["nodes_bias"])
        sets.append(sd)
    with torch.no_grad():
        e_c = simulate_ensemble(cpu, sets, movie[:1, :30], 0.02, initial_state=None)
        e_g = simulate_ensemble(
            gpu,
            [{k: v.to(device) for k, v in sd.items()} for sd in sets],
            movie[:1, :30].to(device),
            0.02,
            initial_state=None,
        )
    check("simulate_ensemble, 3 models (V)", _max_abs(e_g, e_c), 1e-4)

    failed = [c["check"] for c in checks if not c["ok"]]
    print(
        json.dumps({"device": str(device), "checks": checks, "failed": failed}, indent=1)
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
