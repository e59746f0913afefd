"""``Task``: dataset, decoders, losses and data loaders of a training run.

Built from the ``task`` section of the training config (``config/task/*.yaml``).

Differences to flyvis 1.2.0 (deliberate):

* the random k-fold split passes ``seed`` as the seed and shuffles (flyvis
  passed the seed into the ``shuffle`` argument, so ``seed=0`` gave an
  unshuffled split);
* the training sampler draws from an explicit ``torch.Generator`` seeded with
  ``seed``, so the batch order is reproducible;
* an unknown dataset ``type`` raises (listing the valid names) instead of
  falling back to the base class.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Dict, Mapping, Optional, Tuple

import torch
from datamate import Namespace, namespacify
from torch.utils.data import DataLoader, SubsetRandomSampler

from flyvis.utils.class_utils import forward_subclass

__all__ = ["Task", "init_decoder"]

logger = logging.getLogger(__name__)


def _dataset_base():
    """``MultiTaskDataset`` with all packaged subclasses registered."""
    import flyvis.datasets  # noqa: F401 - registers the dataset subclasses
    from flyvis.datasets.datasets import MultiTaskDataset

    for module in ("flyvis.datasets.sintel", "flyvis.datasets.photo_flow"):
        try:
            __import__(module)
        except ImportError as error:  # pragma: no cover - optional modules
            logger.debug("could not import %s: %s", module, error)
    return MultiTaskDataset


def init_decoder(
    decoder: Mapping[str, Mapping[str, Any]], connectome: Any
) -> Dict[str, torch.nn.Module]:
    """Builds one decoder per task from a mapping task -> decoder config.

    Args:
        decoder: E.g. ``{"flow": {"type": "DecoderGAVP", "shape": [8, 2], ...}}``.
        connectome: The network's connectome (passed to each decoder).

    Returns:
        Mapping task -> decoder module (in the order of ``decoder``).

    Raises:
        UnknownTypeError: If a ``type`` names no ``ActivityDecoder`` subclass.
    """
    from flyvis.task.decoder import ActivityDecoder

    decoder = copy.deepcopy(dict(decoder or {}))
    return {
        task: forward_subclass(
            ActivityDecoder, dict(config), extra={"connectome": connectome}
        )
        for task, config in decoder.items()
    }


class Task:
    """Multi-task dataset, decoders, losses and data loaders.

    Args:
        dataset: Config of a ``MultiTaskDataset`` subclass: ``type`` names the
            class (e.g. ``"MultiTaskSintel"``, ``"MultiTaskPhotoFlow"``), the
            other keys are constructor arguments.
        decoder: Mapping task -> decoder config (built by :meth:`init_decoder`).
        loss: Mapping task -> name of a function in ``flyvis.task.objectives``
            (``"l2norm"``, ``"epe"``).
        task_weights: Mapping task -> loss weight; default 1 for every task.
        batch_size: Training batch size.
        n_iters: Number of optimisation iterations of a training run.
        n_folds: Number of folds of the random split.
        fold: Fold used for validation in the random split.
        seed: Seed of the random split and of the training sampler.
        original_split: Use the dataset's fixed train/validation split
            (``dataset.original_train_and_validation_indices()``).

    Attributes:
        dataset: The dataset instance.
        decoder: The decoder configs.
        losses: Namespace task -> loss function.
        task_weights, task_weights_sum: Loss weights and their sum.
        train_seq_index, val_seq_index: Indices of the split.
        train_data: Shuffled training batches (``drop_last=True``).
        train_batch: The first training batch in fixed order.
        val_data: All validation sequences, one per batch.
        val_batch: The first ``batch_size`` validation sequences.
        overfit_data: Sequence 0 only (batch size 1).

    Raises:
        ValueError: If the training or validation set of the split is empty,
            or the dataset ``type`` is unknown (valid names listed).
    """

    def __init__(
        self,
        dataset: Mapping[str, Any],
        decoder: Mapping[str, Any],
        loss: Mapping[str, str],
        task_weights: Optional[Mapping[str, float]] = None,
        batch_size: int = 4,
        n_iters: int = 250_000,
        n_folds: int = 4,
        fold: int = 1,
        seed: int = 0,
        original_split: bool = False,
    ):
        from flyvis.task import objectives
        from flyvis.utils.dataset_utils import IndexSampler

        self.dataset = forward_subclass(_dataset_base(), dict(dataset))
        self.decoder = namespacify(copy.deepcopy(dict(decoder or {})))
        self.task_weights, self.task_weights_sum = self.init_task_weights(task_weights)
        self.losses = Namespace(
            {task: _objective(objectives, name) for task, name in loss.items()}
        )
        self.batch_size = int(batch_size)
        self.n_iters = int(n_iters)
        self.n_folds = n_folds
        self.fold = fold
        self.seed = seed
        self.original_split = original_split

        if original_split:
            train, val = self.dataset.original_train_and_validation_indices()
        else:
            train, val = self.dataset.get_random_data_split(
                fold, n_folds, shuffle=True, seed=seed
            )
        self.train_seq_index = [int(i) for i in train]
        self.val_seq_index = [int(i) for i in val]
        for name, index in (
            ("training", self.train_seq_index),
            ("validation", self.val_seq_index),
        ):
            if not index:
                split = (
                    "the original split (scenes by name)"
                    if original_split
                    else f"fold {fold} of {n_folds}"
                )
                raise ValueError(
                    f"the {name} set is empty: {split} of the {len(self.dataset)} sequences "
                    f"of {type(self.dataset).__name__} selects none. Use "
                    "original_split=false (a random k-fold split) or more sequences."
                )

        self.generator = torch.Generator().manual_seed(int(seed))
        self.train_data = DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=SubsetRandomSampler(self.train_seq_index, generator=self.generator),
            drop_last=True,
        )
        self.train_batch = DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=IndexSampler(self.train_seq_index[: self.batch_size]),
            drop_last=False,
        )
        self.val_data = DataLoader(
            self.dataset, batch_size=1, sampler=IndexSampler(self.val_seq_index)
        )
        self.val_batch = DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=IndexSampler(self.val_seq_index[: self.batch_size]),
        )
        self.overfit_data = DataLoader(self.dataset, sampler=IndexSampler([0]))

    def init_task_weights(
        self, task_weights: Optional[Mapping[str, float]] = None
    ) -> Tuple[Dict[str, float], float]:
        """Loss weights per task and their sum.

        Args:
            task_weights: Mapping task -> weight, or ``None`` for weight 1 each.

        Returns:
            ``(weights, sum(weights.values()))``.
        """
        if task_weights is None:
            weights = {task: 1.0 for task in self.dataset.tasks}
        else:
            weights = {task: float(w) for task, w in dict(task_weights).items()}
        return weights, sum(weights.values())

    def init_decoder(self, connectome: Any) -> Dict[str, torch.nn.Module]:
        """Builds the decoders (one per task) for a connectome.

        Args:
            connectome: The network's connectome.

        Returns:
            Mapping task -> decoder module.
        """
        return init_decoder(self.decoder, connectome)

    def loss(
        self, input: torch.Tensor, target: torch.Tensor, task: str, **kwargs: Any
    ) -> torch.Tensor:
        """Weighted loss of one task.

        Args:
            input: Prediction ``(samples, frames, channels, hexals)``.
            target: Ground truth of the same shape.
            task: The task name (selects loss function and weight).
            **kwargs: Passed to the loss function.

        Returns:
            ``task_weights[task] * losses[task](input, target) / task_weights_sum``.
        """
        return (
            self.task_weights[task]
            * self.losses[task](input, target, **kwargs)
            / self.task_weights_sum
        )

    def __repr__(self) -> str:
        return (
            f"Task(dataset={type(self.dataset).__name__}, tasks={list(self.losses)}, "
            f"batch_size={self.batch_size}, n_iters={self.n_iters}, "
            f"n_train={len(self.train_seq_index)}, n_val={len(self.val_seq_index)})"
        )


def _objective(objectives: Any, name: str):
    """Looks up a loss function by name in ``flyvis.task.objectives``."""
    getter = getattr(objectives, "get_objective", None)
    if getter is not None:
        return getter(name)
    if not hasattr(objectives, name):
        valid = ", ".join(getattr(objectives, "__all__", []))
        raise ValueError(f"unknown loss {name!r}; valid losses: {valid}")
    return getattr(objectives, name)
