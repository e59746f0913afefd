"""Baselines of the optic-flow task without the connectome: how learnable is the data?

Three measurements on the validation movies of a training config (Hydra
overrides as for ``flyvis train-single``, e.g. ``task=photoflow
network.connectome.extent=4 task.dataset.n_sequences=480``):

    # EPE of predicting zero flow and of predicting the mean flow vector
    python benchmarks/flow_baselines.py constant task=photoflow

    # Lucas-Kanade on the hex movies: R^2 of the frame-mean flow explained by a
    # linear map of the global gradient-based velocity estimate (an upper bound
    # style check that the input movies and the flow targets agree)
    python benchmarks/flow_baselines.py lk task=photoflow ...

    # an unconstrained convolutional network on lagged luminance frames
    # (the "no connectome" control), trained with Adam on the training movies
    python benchmarks/flow_baselines.py ann --iters 3000 task=photoflow ...

Every command prints its figures; nothing is written to disk except the
rendered movies (cached under the data root as for training).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

#: Lags (integration steps) of the luminance channels of the ANN control.
LAGS = (0, 1, 2, 4, 8)


def make_task(overrides):
    """The ``Task`` of a training config (dataset, split, loaders)."""
    from flyvis.task.tasks import Task
    from flyvis.utils.config_utils import get_default_config

    config = get_default_config(
        ["task_name=baselines", "ensemble_and_network_id=0000/000", *overrides]
    )
    keys = (
        "dataset decoder loss task_weights batch_size n_iters n_folds fold seed "
        "original_split"
    ).split()
    return Task(**{k: config.task[k] for k in keys}), int(
        config.network.connectome.extent
    )


def validation_items(task):
    with task.dataset.augmentation(False):
        return [task.dataset[i] for i in task.val_seq_index]


def constant(task, _extent, _args) -> None:
    flows = torch.stack([item["flow"] for item in validation_items(task)])
    zero = flows.norm(dim=2).mean().item()
    mean = flows.mean(dim=(0, 1, 3), keepdim=True)
    const = (flows - mean).norm(dim=2).mean().item()
    print(f"validation movies: {len(flows)}, flow {tuple(flows.shape[1:])}")
    print(f"zero-flow EPE {zero:.4f}")
    print(
        f"mean-vector EPE {const:.4f} ({const / zero:.3f} of zero flow; mean "
        f"{[round(v, 3) for v in mean.flatten().tolist()]})"
    )


def _map_index(extent: int):
    from flyvis.utils.hex_utils import hex_map_index

    index, height, width = hex_map_index(extent)
    return torch.from_numpy(index), height, width


def lucas_kanade(task, extent, _args) -> None:
    index, height, width = _map_index(extent)
    features, targets = [], []
    for item in validation_items(task):
        lum, flow = item["lum"][:, 0], item["flow"]
        n = lum.shape[0]
        grid = torch.full((n, height * width), float("nan"))
        grid[:, index] = lum
        grid = grid.view(n, height, width)
        du = (grid[:, 2:, 1:-1] - grid[:, :-2, 1:-1]) / 2
        dv = (grid[:, 1:-1, 2:] - grid[:, 1:-1, :-2]) / 2
        for k in range(0, n - 2, 2):
            dt = (grid[k + 2, 1:-1, 1:-1] - grid[k, 1:-1, 1:-1]) / 2
            a, b, c = du[k], dv[k], dt
            ok = ~(a.isnan() | b.isnan() | c.isnan())
            grad = torch.stack([a[ok], b[ok]], 1)
            velocity = -torch.linalg.solve(
                grad.T @ grad + 1e-6 * torch.eye(2), grad.T @ c[ok]
            )
            features.append(velocity.numpy())
            targets.append(flow[k + 1].mean(-1).numpy())
    x = np.c_[np.array(features), np.ones(len(features))]
    y = np.array(targets)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    r2 = 1 - ((y - x @ coef) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    print(f"{len(y)} frames: R^2 of the mean flow (x, y) from Lucas-Kanade {r2.round(3)}")


class LaggedConvNet(nn.Module):
    """Three hexagonal-map convolutions on luminance frames lagged by ``LAGS`` steps.

    Args:
        extent: Extent of the hexagonal lattice.
        hidden: Channels of the two hidden layers.
        kernel_size: Convolution kernel size.
    """

    def __init__(self, extent: int, hidden: int = 16, kernel_size: int = 5):
        super().__init__()
        self.index, self.height, self.width = _map_index(extent)
        pad = kernel_size // 2
        self.c1 = nn.Conv2d(len(LAGS), hidden, kernel_size, padding=pad)
        self.c2 = nn.Conv2d(hidden, hidden, kernel_size, padding=pad)
        self.c3 = nn.Conv2d(hidden, 2, kernel_size, padding=pad)

    def forward(self, lum: torch.Tensor) -> torch.Tensor:
        """Flow ``(N, T, 2, hexals)`` from luminance ``(N, T, 1, hexals)``."""
        n, t = lum.shape[:2]
        x = lum[:, :, 0]
        x = x - x.mean(dim=(1, 2), keepdim=True)
        lagged = [
            torch.cat([x[:, :1].expand(n, lag, x.shape[-1]), x[:, : t - lag]], 1)
            if lag
            else x
            for lag in LAGS
        ]
        x = torch.stack(lagged, 2).reshape(n * t, len(LAGS), -1)
        grid = x.new_zeros(n * t, len(LAGS), self.height * self.width)
        grid[:, :, self.index] = x
        grid = grid.view(n * t, len(LAGS), self.height, self.width)
        y = self.c3(F.softplus(self.c2(F.softplus(self.c1(grid)))))
        return y.view(n, t, 2, -1)[..., self.index]


def ann(task, extent, args) -> None:
    torch.manual_seed(args.seed)
    model = LaggedConvNet(extent)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    items = validation_items(task)

    def validate() -> tuple:
        model.eval()
        with torch.no_grad():
            errors = [
                (model(i["lum"][None]) - i["flow"][None]).norm(dim=2).mean().item()
                for i in items
            ]
            zeros = [i["flow"].norm(dim=1).mean().item() for i in items]
        model.train()
        return float(np.mean(errors)), float(np.mean(zeros))

    val, zero = validate()
    print(f"ANN: {n_params} parameters; validation EPE {val:.4f} (zero flow {zero:.4f})")
    start, iteration = time.time(), 0
    while iteration < args.iters:
        for batch in task.train_data:
            loss = (model(batch["lum"]) - batch["flow"]).norm(dim=2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            iteration += 1
            if iteration % args.every == 0 or iteration == args.iters:
                val, zero = validate()
                print(
                    f"{iteration:6d} train EPE {loss.item():.4f} validation EPE "
                    f"{val:.4f} ({val / zero:.3f} of zero flow) "
                    f"{time.time() - start:.0f} s",
                    flush=True,
                )
            if iteration >= args.iters:
                break


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["constant", "lk", "ann"])
    parser.add_argument("--iters", type=int, default=3000, help="ANN iterations")
    parser.add_argument("--lr", type=float, default=1e-3, help="ANN learning rate")
    parser.add_argument("--every", type=int, default=500, help="ANN validation period")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args, overrides = parser.parse_known_args(argv)
    torch.set_num_threads(args.threads)
    task, extent = make_task(overrides)
    {"constant": constant, "lk": lucas_kanade, "ann": ann}[args.command](
        task, extent, args
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
