"""Training: ``MultiTaskSolver``, activity/parameter ``Penalty``, ``HyperParamScheduler``.

The solver trains a :class:`flyvis.network.Network` end-to-end with one decoder
per task on a :class:`flyvis.task.tasks.Task`, and stores everything in a
``NetworkDir`` laid out as flyvis 1.2.0 lays it out (``chkpts/chkpt_00000``,
``loss.h5``, ``validation/loss.h5``, ...), so that directories written by either
implementation open in both.

Minimal use::

    from flyvis.utils.config_utils import get_default_config
    config = get_default_config(["task_name=flow", "ensemble_and_network_id=0045/000",
                                 "task=photoflow", "task.n_iters=100"])
    solver = MultiTaskSolver(config=config)
    solver.train()

Differences to flyvis 1.2.0 (checkpoint RNG states, exact ``n_iters``, atomic
checkpoints, working ``recover``): see docs/training.md.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import numpy as np
import torch
from datamate import Namespace
from datamate import delete_if_exists as datamate_delete_if_exists
from torch import nn

from flyvis.network.directories import NetworkDir
from flyvis.solver.evaluation import evaluate_tasks
from flyvis.solver.penalty import Penalty
from flyvis.solver.results_io import ResultsWriter
from flyvis.solver.resume import (
    best_recorded_loss,
    rng_state,
    select_checkpoint,
    set_rng_state,
    warm_start_network,
)
from flyvis.solver.scheduler import HyperParamScheduler
from flyvis.solver.utils import _asdict, get_optimizer_class, init_optimizer
from flyvis.utils.chkpt_utils import (
    load_checkpoint,
    read_h5,
    recover_decoder,
    recover_network,
    recover_optimizer,
    recover_penalty_optimizers,
    resolve_checkpoints,
    save_checkpoint,
)

__all__ = ["MultiTaskSolver", "get_optimizer_class"]

logger = logging.getLogger(__name__)


class MultiTaskSolver(ResultsWriter):
    """Trains a network with task decoders and stores it in a ``NetworkDir``.

    Args:
        name: Directory name relative to the results directory, e.g.
            ``"flow/0045/000"``; default ``config["network_name"]``.
        config: The training config (``network``, ``task``, ``optim``,
            ``penalizer``, ``scheduler``, ...; see
            :func:`flyvis.utils.config_utils.get_default_config`). If ``None``,
            the config stored in the existing directory ``name`` is used. An
            optional ``warm_start: {network: "flow/0007/000", checkpoint:
            "best"}`` initialises a run without checkpoints with another
            model's network parameters (see
            :func:`flyvis.solver.resume.warm_start_network`); an ensemble
            name stands for the model of the same number.
        init_network: Build the network.
        init_decoder: Build the decoders.
        init_task: Build the task (datasets and losses).
        init_optim: Build the optimiser.
        init_penalties: Build the penalties.
        init_scheduler: Build the hyperparameter scheduler.
        delete_if_exists: Rebuild the directory from scratch if it exists.
        device: Device of network and decoders; default ``flyvis.device``.

    Attributes:
        dir: The ``NetworkDir``; ``path``, ``config`` (the stored config).
        network, task, decoder, optimizer, penalty, scheduler: The components.
        iteration: Number of completed training iterations.
        checkpoints: Indices of the checkpoints found at construction.
    """

    def __init__(
        self,
        name: str = "",
        config: Optional[Union[Mapping[str, Any], Namespace]] = None,
        init_network: bool = True,
        init_decoder: bool = True,
        init_task: bool = True,
        init_optim: bool = True,
        init_penalties: bool = True,
        init_scheduler: bool = True,
        delete_if_exists: bool = False,
        device: Optional[Union[str, torch.device]] = None,
    ):
        import flyvis

        if config is None:
            if not name:
                raise ValueError(
                    "MultiTaskSolver needs a config or the name of an existing network"
                )
            directory = NetworkDir(name)
            if directory.config is None or directory.config.get("type") != "NetworkDir":
                raise ValueError(f"NetworkDir not found at {directory.path}")
            config = directory.config.to_dict()
        config = _asdict(config)
        config.pop("type", None)
        name = name or config.get("network_name", "")
        if not isinstance(name, str) or not name or "???" in name:
            raise ValueError(
                f"invalid network name {name!r}: pass name= or set task_name and "
                "ensemble_and_network_id in the config"
            )
        self.name = name
        config.pop("delete_if_exists", None)
        # datamate's context (not a config key: a key would be stored in _meta.yaml
        # when the directory is new and break the config match on reopening)
        with datamate_delete_if_exists(bool(delete_if_exists)):
            self.dir = NetworkDir(name, config)
        self.path = self.dir.path
        self.config = self.dir.config
        self.device = flyvis.select_device(device)

        self.iteration = 0
        self._val_loss = float("inf")
        self.checkpoint_path = self.path / "chkpts"
        self.checkpoints = resolve_checkpoints(self.dir).indices
        self._last_chkpt_ind = -1
        self._curr_chkpt_ind = -1
        self._pending: Dict[str, List[float]] = {}
        self._modified = False

        self.network = None
        self.task = None
        self.decoder: Dict[str, nn.Module] = {}
        self.optimizer = None
        self.penalty = None
        self.scheduler = None
        self._initialized: List[str] = []
        self._init_solver(
            init_network=init_network,
            init_decoder=init_decoder,
            init_task=init_task,
            init_optim=init_optim,
            init_penalties=init_penalties,
            init_scheduler=init_scheduler,
        )
        warm = _asdict(self.config.get("warm_start") or {})
        if warm.get("network") and not self.checkpoints and self.network is not None:
            # a fresh run initialised from another model (resumed runs recover
            # their own checkpoints instead)
            warm_start_network(
                self.network,
                warm["network"],
                warm.get("checkpoint", "best"),
                model_id=Path(str(self.config.network_name)).name,
            )
        logger.info("Initialized solver at %s.", self.path)

    # -- construction ------------------------------------------------------------------

    def _init_solver(
        self,
        init_network: bool = True,
        init_decoder: bool = True,
        init_task: bool = True,
        init_optim: bool = True,
        init_penalties: bool = True,
        init_scheduler: bool = True,
    ) -> None:
        from flyvis.network import Network
        from flyvis.task.tasks import Task

        config = self.config
        if init_network:
            self.network = Network(**_asdict(config.network), device=self.device)
            self._initialized.append("network")
        if init_task:
            self.task = Task(**_asdict(config.task))
            self._initialized.append("task")
            if init_decoder and self.network is not None:
                self.decoder = {
                    task: module.to(self.device)
                    for task, module in self.task.init_decoder(
                        self.network.connectome
                    ).items()
                }
                self._initialized.append("decoder")
        if init_optim and self.network is not None:
            self.optimizer = init_optimizer(config.optim, self.network, self.decoder)
            self._initialized.append("optim")
        if init_penalties and self.network is not None:
            self.penalty = Penalty(config.get("penalizer", {}), self.network)
            self._initialized.append("penalties")
        if init_scheduler and self.task is not None:
            self.scheduler = HyperParamScheduler(
                config.get("scheduler", {}),
                self.network,
                self.task,
                self.optimizer,
                self.penalty,
            )
            self.scheduler(self.iteration)
            self._initialized.append("scheduler")

    # -- helpers -----------------------------------------------------------------------

    @property
    def tasks(self) -> List[str]:
        """Names of the tasks (in dataset order)."""
        return list(self.task.dataset.tasks)

    def _train(self) -> None:
        self.network.train()
        for module in self.decoder.values():
            module.train()

    def _eval(self) -> None:
        self.network.eval()
        for module in self.decoder.values():
            module.eval()

    def _to_device(self, data: Mapping[str, Any]) -> Dict[str, Any]:
        return {
            key: value.to(self.device) if isinstance(value, torch.Tensor) else value
            for key, value in data.items()
        }

    def _steady_state(self, t_pre: float, batch_size: int):
        with torch.no_grad():
            return self.network.steady_state(
                t_pre=t_pre, dt=self.task.dataset.dt, batch_size=batch_size, value=0.5
            )

    def _simulate(self, lum: torch.Tensor, state: Any) -> torch.Tensor:
        n_samples, n_frames = lum.shape[:2]
        self.network.stimulus.zero(n_samples, n_frames)
        self.network.stimulus.add_input(lum)
        return self.network(self.network.stimulus(), self.task.dataset.dt, state=state)

    @staticmethod
    def _loss_kwargs(data: Mapping[str, Any]) -> Dict[str, Any]:
        """Keyword arguments of the objectives: the input frames and the item's own."""
        return {"lum": data["lum"], **(data.get("loss_kwargs", {}) or {})}

    def _evaluation_activity(self, dataloader, t_pre: float):
        """Yields ``(data, activity)`` per batch, in eval mode without augmentation.

        The grey steady state (``t_pre`` s) is computed once per batch size; train
        mode is restored when the iteration ends or is abandoned.
        """
        self._eval()
        steady: Dict[int, Any] = {}
        try:
            with self.task.dataset.augmentation(False):
                for data in dataloader:
                    data = self._to_device(data)
                    batch_size = data["lum"].shape[0]
                    with torch.no_grad():
                        if batch_size not in steady:
                            steady[batch_size] = self._steady_state(t_pre, batch_size)
                        activity = self._simulate(data["lum"], steady[batch_size])
                    yield data, activity
        finally:
            self._train()

    # -- training ----------------------------------------------------------------------

    def train(
        self,
        overfit: bool = False,
        initial_checkpoint: bool = True,
        progress: bool = True,
    ) -> None:
        """Trains until ``iteration == task.n_iters``.

        Epoch structure as in flyvis 1.2.0: the steady state (grey 0.5 input
        for ``config.t_pre_train`` = 0.5 s) is computed once per epoch without
        gradient; schedules advance only between epochs; checkpoints are
        written before training (``initial_checkpoint``), after epochs 0,
        ``chkpt_every_epoch``, ... and after the last one. Unlike 1.2.0 the
        last epoch is cut so that exactly ``task.n_iters`` iterations run.

        Args:
            overfit: Train on sequence 0 only without augmentation
                (``task.overfit_data``).
            initial_checkpoint: Write a checkpoint before the first iteration.
            progress: Show a tqdm progress bar.

        Raises:
            OverflowError: If the loss or the activity becomes NaN or infinite.
            ValueError: If the training loader yields no batch (fewer training
                sequences than ``batch_size``).
        """
        from tqdm.auto import tqdm

        n_iters = self.task.n_iters
        if self.iteration >= n_iters:
            return
        if initial_checkpoint:
            self.checkpoint()
        if getattr(self, "_resume_rng", None) is not None:
            set_rng_state(self, self._resume_rng)
            self._resume_rng = None

        loader = self.task.overfit_data if overfit else self.task.train_data
        if len(loader) == 0:
            raise ValueError(
                f"the training loader is empty: {len(self.task.train_seq_index)} training "
                f"sequences for batch size {self.task.batch_size}"
            )
        n_epochs = math.ceil((n_iters - self.iteration) / len(loader))
        first_epoch = self.iteration // len(loader)  # resumed runs keep the numbering
        chkpt_every_epoch = int(self.config.scheduler.get("chkpt_every_epoch", 300) or 1)
        t_pre = self.config.get("t_pre_train", 0.5)
        start_time = time.time()
        tasks = self.tasks

        retain_graph = (
            self.penalty is not None and self.penalty.activity_optim is not None
        )
        self._train()
        bar = tqdm(
            total=n_iters,
            initial=self.iteration,
            desc="training",
            disable=not progress,
            dynamic_ncols=True,
        )
        try:
            with self.task.dataset.augmentation(not overfit):
                for epoch in range(first_epoch, first_epoch + n_epochs):
                    steady = {}
                    for data in loader:
                        if self.iteration >= n_iters:
                            break
                        data = self._to_device(data)
                        batch_size = data["lum"].shape[0]
                        if batch_size not in steady:
                            steady[batch_size] = self._steady_state(t_pre, batch_size)
                        self.optimizer.zero_grad()
                        activity = self._simulate(data["lum"], steady[batch_size])
                        kwargs = self._loss_kwargs(data)
                        losses = {
                            task: self.task.loss(
                                self.decoder[task](activity), data[task], task, **kwargs
                            )
                            for task in tasks
                        }
                        loss = sum(losses.values())
                        loss.backward(retain_graph=retain_graph)
                        self.optimizer.step()
                        if self.penalty is not None:
                            self.penalty(activity=activity, iteration=self.iteration)
                        else:
                            self.network.clamp()

                        loss_value = float(loss.detach())
                        act = activity.detach()
                        act_mean = float(act.mean())
                        if not (math.isfinite(loss_value) and math.isfinite(act_mean)):
                            raise OverflowError("Invalid values encountered in trace.")
                        self._record("loss", loss_value)
                        for task in tasks:
                            self._record(f"loss_{task}", float(losses[task].detach()))
                        self._record("activity", act_mean)
                        self._record("activity_min", float(act.min()))
                        self._record("activity_max", float(act.max()))
                        self.iteration += 1
                        bar.update(1)
                        bar.set_postfix(loss=f"{loss_value:.4g}", epoch=epoch)
                        del activity, loss, losses

                    last = (
                        epoch + 1 == first_epoch + n_epochs or self.iteration >= n_iters
                    )
                    if not last and self.scheduler is not None:
                        self.scheduler(self.iteration)
                    if epoch % chkpt_every_epoch == 0 or last:
                        self._flush()
                        self.checkpoint()
                    if last:
                        break
        finally:
            bar.close()
            elapsed = time.time() - start_time
            previous = 0.0
            if (self.path / "time_trained.h5").is_file():
                previous = float(
                    np.asarray(read_h5(self.path / "time_trained.h5")).reshape(-1)[-1]
                )
            self._write("time_trained", elapsed + previous)
        logger.info("Finished training (%d iterations).", self.iteration)

    def checkpoint(self) -> None:
        """Evaluates on the four test loaders and writes ``chkpts/chkpt_<index:05d>``.

        The validation loss decides ``best_chkpt_index``; ``chkpt_index``,
        ``chkpt_iter`` (``iteration - 1``) and ``dt`` are recorded. The file is
        written atomically with flyvis 1.2.0's keys.
        """
        self._last_chkpt_ind += 1
        self._curr_chkpt_ind += 1
        val_loss = self.test(self.task.val_data, "validation", track_loss=True)
        self.test(self.task.val_batch, "validation_batch", track_loss=True)
        self.test(self.task.train_data, "training", track_loss=True)
        self.test(self.task.train_batch, "training_batch", track_loss=True)

        chkpt = {
            "network": self.network.state_dict(),
            "decoder": {
                task: module.state_dict() for task, module in self.decoder.items()
            },
            "optim": self.optimizer.state_dict() if self.optimizer is not None else {},
            "time": time.ctime(),
            "val_loss": float(val_loss),
            "iteration": self.iteration - 1,
            "dt": float(self.task.dataset.dt),
        }
        if self.penalty is not None:
            chkpt.update(self.penalty._chkpt())
        chkpt["rng"] = rng_state(self)
        save_checkpoint(chkpt, self.checkpoint_path / f"chkpt_{self._last_chkpt_ind:05}")
        self.checkpoints = resolve_checkpoints(self.dir).indices

        self._extend("chkpt_index", np.array([self._last_chkpt_ind]))
        self._extend("chkpt_iter", np.array([self.iteration - 1]))
        self._write("dt", float(self.task.dataset.dt))
        if val_loss < self._val_loss:
            self._write("best_chkpt_index", self._last_chkpt_ind)
            self._val_loss = float(val_loss)
        logger.info(
            "Checkpoint %d at iteration %d: validation loss %.5g.",
            self._last_chkpt_ind,
            self.iteration,
            val_loss,
        )

    @torch.no_grad()
    def test(
        self,
        dataloader,
        subdir: str = "validation",
        track_loss: bool = False,
        t_pre: float = 0.25,
    ) -> float:
        """Mean loss over a loader (no gradient, eval mode, no augmentation).

        Args:
            dataloader: E.g. ``task.val_data``.
            subdir: Folder of the network directory for the tracked values.
            track_loss: Append ``loss_<task>``, ``iteration``, ``loss`` and
                ``epe`` (the flow task's end-point error, else the mean over
                tasks) and, for a flow task, ``epe_zero`` (the EPE of
                predicting zero flow) to ``<subdir>/``.
            t_pre: Duration of the grey steady-state warm-up (s).

        Returns:
            The mean over tasks of the per-task mean (weighted) loss.
        """
        results = evaluate_tasks(self, dataloader, t_pre=t_pre)
        val_loss = float(np.mean([r["loss"] for r in results.values()]))
        if track_loss:
            for task, values in results.items():
                self._extend(f"{subdir}/loss_{task}", np.array([values["loss"]]))
            self._extend(f"{subdir}/iteration", np.array([self.iteration]))
            self._extend(f"{subdir}/loss", np.array([val_loss]))
            if "flow" in results:
                epe_value = results["flow"]["epe"]
                # the zero-flow predictor's EPE on the same movies (a baseline)
                zero = results["flow"]["epe_zero"]
                self._extend(f"{subdir}/epe_zero", np.array([zero]))
            else:
                epe_value = float(np.mean([r["epe"] for r in results.values()]))
            self._extend(f"{subdir}/epe", np.array([epe_value]))
        return val_loss

    def evaluate(
        self, dataloader=None, t_pre: float = 0.25
    ) -> Dict[str, Dict[str, float]]:
        """Loss, EPE and the EPE of the zero predictor per task (nothing is written).

        Args:
            dataloader: Default ``task.val_data``.
            t_pre: Duration of the grey steady-state warm-up (s).

        Returns:
            ``{task: {"loss": ..., "epe": ..., "epe_zero": ...}}``.
        """
        return evaluate_tasks(self, dataloader or self.task.val_data, t_pre=t_pre)

    # -- recovery ----------------------------------------------------------------------

    def recover(
        self,
        network: bool = True,
        decoder: bool = True,
        optimizer: bool = True,
        penalty: bool = True,
        checkpoint: Union[str, int] = "best",
        validation_subdir: str = "validation",
        loss_file_name: str = "loss",
        strict: bool = True,
        force: bool = False,
    ) -> None:
        """Loads a checkpoint into the initialised components.

        Args:
            network: Load the network parameters.
            decoder: Load the decoder parameters.
            optimizer: Load the optimiser state.
            penalty: Load the penalty optimiser states.
            checkpoint: ``"best"`` (lowest value of
                ``<validation_subdir>/<loss_file_name>.h5``) or a position in
                the sorted checkpoint list (``-1`` = last).
            validation_subdir: Folder of the validation files.
            loss_file_name: Validation file used for ``"best"``.
            strict: Strict loading of the decoder states.
            force: Reload even if the checkpoint is already loaded.

        After loading, ``iteration`` is the number of completed iterations at
        the checkpoint, the schedules are set for it, new checkpoints continue
        the numbering and ``best_chkpt_index`` compares against the best
        validation loss recorded so far.
        """
        checkpoints = resolve_checkpoints(self.dir)
        if not checkpoints.paths:
            logger.warning("No checkpoint found in %s.", self.checkpoint_path)
            return
        if not any([network, decoder, optimizer, penalty]):
            return
        path, index = select_checkpoint(
            self.path, checkpoints, checkpoint, validation_subdir, loss_file_name
        )
        if index == self._curr_chkpt_ind and not force:
            logger.info("Checkpoint %d is already loaded.", index)
            return
        self._last_chkpt_ind = checkpoints.indices[-1]
        self._curr_chkpt_ind = index

        state = load_checkpoint(path, map_location=self.device)
        self.iteration = int(state["iteration"]) + 1
        self._val_loss = best_recorded_loss(
            self.path / validation_subdir, state.pop("val_loss", float("inf"))
        )

        if network and self.network is not None:
            recover_network(self.network, state)
        if decoder and self.decoder:
            recover_decoder(self.decoder, state, strict=strict)
        if optimizer and self.optimizer is not None:
            recover_optimizer(self.optimizer, state)
        if penalty and self.penalty is not None:
            recover_penalty_optimizers(self.penalty.optimizers, state)
        if optimizer and self.optimizer is not None:
            # resuming: train() restores the random states of the checkpoint, so
            # evaluations in between do not change the draws of the training
            self._resume_rng = state.get("rng")
        if self.scheduler is not None:
            self.scheduler(self.iteration)
        logger.info(
            "Recovered checkpoint %d (%s) at iteration %d.", index, path, self.iteration
        )

    def __repr__(self) -> str:
        return (
            f"MultiTaskSolver(name={self.name!r}, path={str(self.path)!r}, "
            f"iteration={self.iteration}, initialized={self._initialized})"
        )
