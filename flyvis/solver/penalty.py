"""Training penalties: activity penalty on resting potentials, parameter penalties.

See ``flyvis.solver`` and ``spec/solver.md`` §3.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Mapping, Optional

import numpy as np
import torch
from datamate import Namespace, namespacify
from torch import nn

__all__ = ["Penalty", "asymmetric_weighting"]

from flyvis.solver.utils import _asdict, _device, get_optimizer_class

logger = logging.getLogger(__name__)


# -- penalties -------------------------------------------------------------------------


class Penalty:
    """Penalties with their own optimisers, applied after each training step.

    * Activity penalty (parameters whose config has ``penalize: {activity:
      true}``, by default the resting potentials ``nodes_bias``): pushes the
      temporal mean (after the first quarter of the frames) of every central
      cell's activity towards ``activity_baseline``::

          a = activity[:, n_frames // 4:, central_cells_index].mean(1)   # (N, 65)
          x = activity_baseline - a
          w = below_w * relu(x) - above_w * relu(-x)
          penalty = activity_penalty * mean(w ** 2)

      As in flyvis 1.2.0 the penalised parameters' gradients are *not* zeroed
      before this backward pass, so the step of the penalty optimiser also
      contains the task-loss gradient of the same iteration.
    * Parameter penalties (``penalize: {function: weight_decay | prior,
      kwargs: {lambda: ...}}``), active only if some kwarg is truthy
      (``lambda: 0`` disables them).

    Args:
        penalty: The ``penalizer`` config (``activity_penalty: {...}``,
            ``optim: SGD``).
        network: The network (penalised parameters are its attributes
            ``nodes_<name>`` / ``edges_<name>``).
    """

    def __init__(self, penalty: Mapping[str, Any], network: nn.Module):
        self.penalty = namespacify(_asdict(penalty))
        self.network = network
        central = np.asarray(network.connectome.central_cells_index[:])
        self.central_cells_index = torch.as_tensor(
            central, dtype=torch.long, device=_device(network)
        )
        self.parameter_config = self.get_configs()
        self.optim_class = get_optimizer_class(self.penalty.get("optim", "SGD") or "SGD")
        self.parameter_optim: Optional[torch.optim.Optimizer] = None
        self.activity_optim: Optional[torch.optim.Optimizer] = None
        self.init_optim()
        self.init_hparams()

    def get_configs(self) -> Namespace:
        """``penalize`` configs of the network parameters, by parameter name."""
        config = self.network.config
        configs = Namespace()
        for prefix, section in (("nodes", "node_config"), ("edges", "edge_config")):
            for name, param_config in _asdict(config.get(section)).items():
                if isinstance(param_config, Mapping) and param_config.get("penalize"):
                    configs[f"{prefix}_{name}"] = namespacify(param_config["penalize"])
        return configs

    def _function_configs(self) -> Dict[str, Namespace]:
        return {n: c for n, c in self.parameter_config.items() if c.get("function")}

    def init_optim(self) -> None:
        """Creates ``parameter_optim`` and ``activity_optim`` (lr set by the scheduler).

        The activity penalty steps only trainable parameters: with a frozen
        network there is no ``activity_optim``, so no penalty step and no
        retained autograd graph.
        """
        function_params = [
            getattr(self.network, name)
            for name, cfg in self._function_configs().items()
            if any(bool(v) for v in _asdict(cfg.get("kwargs")).values())
        ]
        if function_params:
            self.parameter_optim = self.optim_class(function_params, lr=1e-3)
        activity_params = [
            param
            for name, cfg in self.parameter_config.items()
            if cfg.get("activity", False)
            and (param := getattr(self.network, name)).requires_grad
        ]
        if activity_params:
            self.activity_optim = self.optim_class(activity_params, lr=1e-3)

    @property
    def optimizers(self) -> Dict[str, torch.optim.Optimizer]:
        """The existing penalty optimisers by name (``parameter_optim``, ``activity_optim``)."""
        return {
            name: optim
            for name in ("parameter_optim", "activity_optim")
            if (optim := getattr(self, name)) is not None
        }

    def init_hparams(self) -> None:
        """Reads the activity-penalty hyperparameters.

        Raises:
            ValueError: If an activity penalty is configured but all its
                weights and the baseline are zero or missing.
        """
        hp = namespacify(_asdict(self.penalty.get("activity_penalty")))
        self.activity_penalty = hp.get("activity_penalty")
        self.activity_baseline = hp.get("activity_baseline")
        self.activity_penalty_stop_iter = hp.get("stop_iter")
        self.below_baseline_penalty_weight = hp.get("below_baseline_penalty_weight")
        self.above_baseline_penalty_weight = hp.get("above_baseline_penalty_weight")
        if self.activity_optim is not None and not any(
            [
                self.activity_penalty,
                self.activity_baseline,
                self.below_baseline_penalty_weight,
                self.above_baseline_penalty_weight,
            ]
        ):
            raise ValueError(
                "Activity penalty is enabled but no activity penalty parameters are set."
            )

    def __call__(self, activity: torch.Tensor, iteration: int) -> None:
        """Applies the penalties after a training step.

        Args:
            activity: Network activity ``(N, T, n_nodes)`` of the step (with
                its autograd graph).
            iteration: Current iteration; the activity penalty is switched off
                permanently once ``iteration >= stop_iter``.
        """
        if self.parameter_optim is not None:
            self.param_penalty_step()
        if self.activity_optim is not None:
            stop = self.activity_penalty_stop_iter
            if stop is None or iteration < stop:
                self.activity_penalty_step(activity, retain_graph=False)
            else:
                self.activity_optim = None

    def activity_penalty_value(self, activity: torch.Tensor) -> torch.Tensor:
        """The activity penalty (see class docstring) as a scalar tensor.

        Args:
            activity: Network activity ``(N, T, n_nodes)``.

        Returns:
            ``activity_penalty * mean(w ** 2)`` (with the graph of ``activity``).
        """
        n_frames = activity.shape[1]
        mean = activity[:, n_frames // 4 :, self.central_cells_index].mean(dim=1)
        x = self.activity_baseline - mean
        w = asymmetric_weighting(
            x, self.below_baseline_penalty_weight, self.above_baseline_penalty_weight
        )
        return self.activity_penalty * (w**2).mean()

    def activity_penalty_step(self, activity: torch.Tensor, retain_graph: bool = True):
        """One optimiser step on the activity penalty (see class docstring).

        Args:
            activity: Network activity ``(N, T, n_nodes)`` with autograd graph.
            retain_graph: Keep the graph after the backward pass.

        Returns:
            The penalty value (detached tensor).
        """
        penalty = self.activity_penalty_value(activity)
        # gradients of the penalised parameters only (as flyvis 1.2.0, added to
        # the task-loss gradients they hold): a full backward() would also
        # compute the synapse and time-constant gradients through the network
        # (the weight-gradient SDDMM), which no optimiser uses
        params = [
            p for group in self.activity_optim.param_groups for p in group["params"]
        ]
        grads = torch.autograd.grad(
            penalty, params, retain_graph=retain_graph, allow_unused=True
        )
        for param, grad in zip(params, grads):
            if grad is None:
                continue
            if param.grad is None:
                param.grad = grad
            else:
                param.grad.add_(grad)
        self.activity_optim.step()
        self.network.clamp()
        return penalty.detach()

    def param_penalty_step(self):
        """One optimiser step on the sum of the parameter penalties.

        Returns:
            The penalty value (detached tensor).
        """
        self.parameter_optim.zero_grad()
        penalty = 0.0
        for name, cfg in self._function_configs().items():
            penalty = penalty + getattr(self, cfg.function)(name, cfg)
        if isinstance(penalty, torch.Tensor) and penalty.requires_grad:
            penalty.backward()
            self.parameter_optim.step()
            self.network.clamp()
            return penalty.detach()
        return torch.as_tensor(penalty)

    def weight_decay(self, param: str, config: Mapping[str, Any]) -> torch.Tensor:
        """``lambda * sum(w ** 2)`` of the parameter ``param`` (experimental)."""
        return config["kwargs"]["lambda"] * (getattr(self.network, param) ** 2).sum()

    def prior(self, param: str, config: Mapping[str, Any]) -> torch.Tensor:
        """``lambda * sum((w - w0) ** 2)`` with ``w0`` the configured ``value`` (experimental).

        ``w0`` is ``kwargs.w0`` if given, else the ``value`` (or ``mean``) of
        the parameter's node/edge config.
        """
        kwargs = _asdict(config["kwargs"])
        w0 = kwargs.get("w0")
        if w0 is None:
            section, _, name = param.partition("_")
            param_config = _asdict(
                self.network.config.get(
                    "node_config" if section == "nodes" else "edge_config"
                )
            ).get(name, {})
            w0 = param_config.get("value", param_config.get("mean"))
        if w0 is None:
            raise ValueError(f"prior penalty of {param}: no 'value' to pull towards")
        return kwargs["lambda"] * ((getattr(self.network, param) - w0) ** 2).sum()

    def _chkpt(self) -> Dict[str, Dict[str, Any]]:
        return {name: optim.state_dict() for name, optim in self.optimizers.items()}

    def __repr__(self) -> str:
        return (
            f"Penalty(\n  parameter_config={self.parameter_config.to_dict()},\n"
            f"  activity_penalty={self.activity_penalty}, "
            f"activity_baseline={self.activity_baseline}, "
            f"stop_iter={self.activity_penalty_stop_iter}, "
            f"below_baseline_penalty_weight={self.below_baseline_penalty_weight}, "
            f"above_baseline_penalty_weight={self.above_baseline_penalty_weight},\n"
            f"  optimizers={list(self.optimizers)}\n)"
        )


def asymmetric_weighting(
    tensor: torch.Tensor, gamma: float, delta: float
) -> torch.Tensor:
    """``gamma * relu(t) - delta * relu(-t)``."""
    return gamma * torch.relu(tensor) - delta * torch.relu(-tensor)


# -- schedules -------------------------------------------------------------------------
