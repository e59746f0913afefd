"""Hyper-parameter schedules (learning rates, penalty rate, ``dt``) over iterations.

See ``flyvis.solver`` and ``spec/solver.md`` §4.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

import numpy as np
import torch
from datamate import namespacify
from torch import nn

__all__ = ["HyperParamScheduler", "SchedulerFunction"]

from flyvis.solver.penalty import Penalty
from flyvis.solver.utils import _asdict

logger = logging.getLogger(__name__)


@dataclass
class SchedulerFunction:
    """One scheduled hyperparameter: ``function(start, stop, steps)`` over iterations."""

    start: float
    stop: float
    steps: int
    function: str
    array: Optional[np.ndarray] = None

    def __post_init__(self):
        if not isinstance(self.function, str):
            raise TypeError("function must be a name")


_SCHEDULE_KEYS = {"start", "stop", "steps", "function"}


def _pad(
    values: np.ndarray, length: int, value: float, front: bool = False
) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    missing = length - len(values)
    if missing <= 0:
        return values
    fill = np.full(missing, value, dtype=float)
    return np.concatenate([fill, values] if front else [values, fill])


class HyperParamScheduler:
    """Sets hyperparameters (learning rates, ``dt``, ...) as functions of the iteration.

    Every entry of the scheduler config with exactly the keys ``start, stop,
    steps, function`` becomes an array of length ``n_iters + 1``; calling the
    scheduler with an iteration sets each value (past the end of an array the
    last value is used). Other entries (e.g. ``chkpt_every_epoch``) are ignored.

    Settable keys: ``dt`` (``task.dataset.dt``), ``lr_net`` (optimiser group
    0, and ``lr_net * lr_scale`` for groups with an ``lr_scale``), ``lr_dec``
    (the other groups 1..), ``lr_pen`` (penalty optimisers),
    ``relu_leak`` (the activation's ``negative_slope``), ``activity_penalty``
    (the penalty weight); any other key just becomes an attribute.

    Args:
        scheduler: The scheduler config; ``sched_stop_iter`` (default
            ``task.n_iters``) ends the schedules early.
        network: The network.
        task: The task (provides ``n_iters`` and the dataset).
        optimizer: The solver's optimiser.
        penalizer: The :class:`Penalty` (may be ``None``).
    """

    _settable = ("dt", "lr_net", "lr_dec", "lr_pen", "relu_leak", "activity_penalty")

    def __init__(
        self,
        scheduler: Mapping[str, Any],
        network: Optional[nn.Module],
        task: Any,
        optimizer: Optional[torch.optim.Optimizer],
        penalizer: Optional[Penalty],
    ):
        self.scheduler = namespacify(_asdict(scheduler))
        self.network = network
        self.task = task
        self.optimizer = optimizer
        self.penalizer = penalizer
        self.n_iters = int(task.n_iters)
        self.stop_iter = int(self.scheduler.get("sched_stop_iter", None) or self.n_iters)
        self.scheduled_params: Dict[str, SchedulerFunction] = {}
        self._current_iteration = 0
        for key, cfg in self.scheduler.items():
            if not isinstance(cfg, Mapping) or set(cfg.keys()) != _SCHEDULE_KEYS:
                continue
            try:
                param = SchedulerFunction(**dict(cfg))
            except TypeError:
                continue
            function = getattr(self, param.function, None)
            if function is None or param.function.startswith("_"):
                raise ValueError(
                    f"unknown schedule function {param.function!r} for {key!r}; valid: "
                    f"{', '.join(self.schedule_functions())}"
                )
            param.array = function(
                self.stop_iter, self.n_iters, param.start, param.stop, int(param.steps)
            )
            self.scheduled_params[key] = param

    @staticmethod
    def schedule_functions() -> List[str]:
        """Names of the available schedule functions."""
        return [
            "linear",
            "stepwise",
            "stepwise_2ndhalf",
            "stepwise_half",
            "steponential",
            "steponential_inv",
            "exponential",
            "exponential_half",
        ]

    def __call__(self, iteration: int) -> None:
        """Sets every scheduled hyperparameter to its value at ``iteration``."""
        self._current_iteration = iteration
        for key, param in self.scheduled_params.items():
            try:
                value = param.array[iteration]
            except IndexError:
                if iteration >= self.stop_iter:
                    value = param.array[-1]
                else:
                    raise
            setattr(self, key, float(value))
        logger.debug("%r", self)

    def __repr__(self) -> str:
        values = {key: getattr(self, key, None) for key in self.scheduled_params}
        return (
            f"Scheduler. Iteration: {self._current_iteration}/{self.n_iters}.\n"
            f"Current values: {values}."
        )

    # settable hyperparameters
    @property
    def dt(self) -> Optional[float]:
        """Integration time step (sets ``task.dataset.dt``)."""
        return getattr(self, "_dt", None)

    @dt.setter
    def dt(self, value: float) -> None:
        self._dt = value
        if self.task is not None:
            self.task.dataset.dt = value

    @property
    def lr_net(self) -> Optional[float]:
        """Learning rate of the network (optimiser group 0)."""
        return getattr(self, "_lr_net", None)

    @lr_net.setter
    def lr_net(self, value: float) -> None:
        self._lr_net = value
        if self.optimizer is not None:
            self.optimizer.param_groups[0]["lr"] = value
            # network parameters with their own learning-rate factor (optim.lr_scale)
            for group in self.optimizer.param_groups[1:]:
                if "lr_scale" in group:
                    group["lr"] = value * group["lr_scale"]

    @property
    def lr_dec(self) -> Optional[float]:
        """Learning rate of the decoders (optimiser groups 1..)."""
        return getattr(self, "_lr_dec", None)

    @lr_dec.setter
    def lr_dec(self, value: float) -> None:
        self._lr_dec = value
        if self.optimizer is not None:
            for group in self.optimizer.param_groups[1:]:
                if "lr_scale" not in group:
                    group["lr"] = value

    @property
    def lr_pen(self) -> Optional[float]:
        """Learning rate of the penalty optimisers."""
        return getattr(self, "_lr_pen", None)

    @lr_pen.setter
    def lr_pen(self, value: float) -> None:
        self._lr_pen = value
        if self.penalizer is not None:
            for optim in self.penalizer.optimizers.values():
                for group in optim.param_groups:
                    group["lr"] = value

    @property
    def relu_leak(self) -> Optional[float]:
        """``negative_slope`` of the network's activation, if it has one."""
        return getattr(self, "_relu_leak", None)

    @relu_leak.setter
    def relu_leak(self, value: float) -> None:
        self._relu_leak = value
        activation = getattr(getattr(self.network, "dynamics", None), "activation", None)
        if activation is not None and hasattr(activation, "negative_slope"):
            activation.negative_slope = value

    @property
    def activity_penalty(self) -> Optional[float]:
        """Weight of the activity penalty (sets ``penalizer.activity_penalty``)."""
        return getattr(self, "_activity_penalty", None)

    @activity_penalty.setter
    def activity_penalty(self, value: float) -> None:
        self._activity_penalty = value
        if self.penalizer is not None:
            self.penalizer.activity_penalty = value

    # schedule functions: (stop_iter S, n_iterations N, start, stop, steps k) -> (>= N+1,)
    @staticmethod
    def linear(stop_iter, n_iterations, start, stop, steps) -> np.ndarray:
        """``linspace(start, stop, S)``, end-padded with ``stop`` to ``N + 1``."""
        values = np.linspace(start, stop, int(stop_iter))
        return _pad(values, n_iterations + 1, stop)

    @staticmethod
    def stepwise(stop_iter, n_iterations, start, stop, steps) -> np.ndarray:
        """``linspace(start, stop, k)`` each repeated ``int(S / k)`` times, end-padded with ``stop``."""
        values = np.linspace(start, stop, steps).repeat(int(stop_iter / steps))
        return _pad(values, n_iterations + 1, stop)

    @staticmethod
    def stepwise_2ndhalf(stop_iter, n_iterations, start, stop, steps) -> np.ndarray:
        """Steps in the second half: repeated ``int((S / 2) / k)``, front-padded with ``start``."""
        values = np.linspace(start, stop, steps).repeat(int((stop_iter / 2) / steps))
        return _pad(values, n_iterations + 1, start, front=True)

    @staticmethod
    def stepwise_half(stop_iter, n_iterations, start, stop, steps) -> np.ndarray:
        """Steps in the first half: repeated ``int((S / 2) / k)``, end-padded with ``stop``."""
        values = np.linspace(start, stop, steps).repeat(int((stop_iter / 2) / steps))
        return _pad(values, n_iterations + 1, stop)

    @staticmethod
    def steponential(stop_iter, n_iterations, start, stop, steps) -> np.ndarray:
        """Geometric decay: ``start / x**i`` with ``x = (1 / stop) ** (1 / k)``, i = 0..k-1.

        Equals ``start * stop ** (i / k)`` (``stop`` is a decay factor); each
        value repeated ``int(S / k)`` times, end-padded with the last value.
        """
        x = (1 / stop) ** (1 / steps)
        levels = np.array([start / x**i for i in range(steps)], dtype=float)
        values = levels.repeat(int(stop_iter / steps))
        return _pad(values, n_iterations + 1, levels[-1])

    @staticmethod
    def steponential_inv(stop_iter, n_iterations, start, stop, steps) -> np.ndarray:
        """Geometric growth, the inverse of :meth:`steponential`.

        Our definition (the 1.2.0 version raised ``ZeroDivisionError``): with
        ``x = (1 / stop) ** (1 / k)`` the levels are ``start * x**i``
        (= ``start * stop ** (-i / k)``), i = 0..k-1: each step multiplies by
        ``x`` where :meth:`steponential` divides by it, so with ``stop < 1``
        the value grows from ``start`` towards ``start / stop``. Each level is
        repeated ``int(S / k)`` times; end-padded with the last level.
        """
        x = (1 / stop) ** (1 / steps)
        levels = np.array([start * x**i for i in range(steps)], dtype=float)
        values = levels.repeat(int(stop_iter / steps))
        return _pad(values, n_iterations + 1, levels[-1])

    @staticmethod
    def exponential(stop_iter, n_iterations, start, stop, steps) -> np.ndarray:
        """``start * exp(-t / tau)``, t = 0..S-1, ``tau = -S / (ln(stop + 1e-15) - ln(start))``; end-padded with ``stop``."""
        tau = -stop_iter / (np.log(stop + 1e-15) - np.log(start))
        values = start * np.exp(-np.arange(int(stop_iter)) / tau)
        return _pad(values, n_iterations + 1, stop)

    @staticmethod
    def exponential_half(stop_iter, n_iterations, start, stop, steps) -> np.ndarray:
        """As :meth:`exponential` over the first half: t = 0..int(S/2)-1, ``tau = -int(S/2) / (ln stop - ln start)``."""
        half = int(stop_iter / 2)
        tau = -half / (np.log(stop) - np.log(start))
        values = start * np.exp(-np.arange(half) / tau)
        return _pad(values, n_iterations + 1, stop)
