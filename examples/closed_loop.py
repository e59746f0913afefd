"""Closed-loop stepping: two eyes simulated step by step at 500 Hz.

A body simulator renders each eye's view after every step, so the network
must advance one Euler step at a time from the latest photoreceptor input.
``network.stepper`` expands the parameters once and keeps the state.

Run: .venv/bin/python examples/closed_loop.py [n_steps]
"""

import sys
import time

import torch

from flyvis import Network

n_steps = int(sys.argv[1]) if len(sys.argv) > 1 else 500
dt = 1 / 500  # 500 Hz
network = Network()
stepper = network.stepper(dt=dt, batch_size=2)  # two eyes; starts from 1 s of grey


def render_eyes(step: int, heading: float) -> torch.Tensor:
    """Toy world: a grating whose phase follows the agent's heading."""
    u = torch.arange(721, dtype=torch.float32)
    phase = heading + 0.05 * step
    left = 0.5 + 0.4 * torch.sin(0.3 * u + phase)
    right = 0.5 + 0.4 * torch.sin(0.3 * u - phase)
    return torch.stack([left, right])[:, None]  # (2 eyes, 1, 721 hexals)


heading = 0.0
start = time.perf_counter()
for step in range(n_steps):
    stepper.step(render_eyes(step, heading))
    # toy controller: turn towards the eye with more T4c depolarisation
    t4c = stepper.cell_type("T4c").mean(dim=1)  # (2,)
    heading += 0.01 * float(t4c[0] - t4c[1])
elapsed = time.perf_counter() - start
print(f"{n_steps} steps in {elapsed:.2f} s: {1e3 * elapsed / n_steps:.2f} ms per step")
print(f"final heading {heading:.4f} rad")
