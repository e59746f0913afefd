"""A tiny ensemble trained in the tests themselves (shared by several test modules).

Networks of connectome extent 2 (1,203 cells) trained for a few iterations on six
tiny offline photo-flow sequences. Writes the flyvis 1.2.0 layout
``<results_dir>/flow/<ensemble_id>/<model_id>/``.
"""

from pathlib import Path
from typing import List, Sequence


def tiny_overrides(renderings, name, n_iters=4, extra: Sequence[str] = ()) -> List[str]:
    """Hydra overrides for a network of extent 2 on 6 tiny photo-flow sequences."""
    return [
        "task_name=flow",
        f"ensemble_and_network_id={name}",
        "task=photoflow",
        "network.connectome.extent=2",
        "task.dataset.n_sequences=6",
        "task.dataset.frame_size=[80,80]",
        "task.dataset.n_frames=5",
        "task.dataset.n_source_frames=8",
        f"task.n_iters={n_iters}",
        "task.batch_size=2",
        f"+task.dataset.root={renderings}",
        "+task.dataset.device=cpu",
        *extra,
    ]


def train_tiny_ensemble(
    renderings, ensemble_id: str = "0000", n_models: int = 3, n_iters: int = 4
) -> Path:
    """Trains ``n_models`` tiny networks and returns the ensemble dir.

    Model ``i`` draws its initial resting potentials with seed ``i`` and its
    data order and dropout with ``torch.manual_seed(i)``, so the models differ.

    ``flyvis.results_dir`` must already point to a temporary directory.
    """
    import torch

    import flyvis
    from flyvis.solver import MultiTaskSolver
    from flyvis.utils.config_utils import get_default_config

    for i in range(n_models):
        name = f"{ensemble_id}/{i:03}"
        # models differ in their initial resting potentials and data order
        extra = [f"network.node_config.bias.seed={i}"]
        config = get_default_config(
            tiny_overrides(renderings, name, n_iters=n_iters, extra=extra)
        )
        torch.manual_seed(i)
        MultiTaskSolver(config=config, device="cpu").train(progress=False)
    return Path(flyvis.results_dir) / "flow" / ensemble_id
