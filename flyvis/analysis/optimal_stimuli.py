"""Optimal and regularised optimal stimuli of a cell type (``spec/analysis.md`` §8).

* :meth:`FindOptimalStimuli.optimal_stimuli`: the naturalistic sample with the
  largest central response of a cell type, re-simulated after 1 s of grey.
* :meth:`FindOptimalStimuli.regularized_optimal_stimuli`: that stimulus
  optimised with Adam to keep the central response while pushing pixels to
  grey: ``l2_act * sum_t (r(t) - r_target(t))^2 + l2_stim * sum (s - 0.5)^2``.

``GenerateOptimalStimuli`` and ``plot_stim_response`` of flyvis 1.2.0 are not
provided.

Source: Lappalainen et al., Nature 2024 (Fig. 3, "Optimal stimuli").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np
import torch

__all__ = [
    "OptimalStimulus",
    "RegularizedOptimalStimulus",
    "FindOptimalStimuli",
    "optimal_stimulus_responses",
]


@dataclass
class OptimalStimulus:
    """A stimulus and the responses of all cells of a type.

    Attributes:
        stimulus: ``(1, n_frames, 1, n_hexals)``.
        response: ``(1, n_frames, 1, n_cells_of_type)``.
    """

    stimulus: np.ndarray
    response: np.ndarray


@dataclass
class RegularizedOptimalStimulus:
    """Result of :meth:`FindOptimalStimuli.regularized_optimal_stimuli`.

    Attributes:
        stimulus: The unregularised :class:`OptimalStimulus`.
        regularized_stimulus: ``(1, n_frames, 1, n_hexals)``.
        response: Responses of all cells of the type ``(1, n_frames, 1, n_cells)``.
        central_predicted_response: Central response to the regularised stimulus ``(n_frames,)``.
        central_target_response: Central response to the optimal stimulus ``(n_frames,)``.
        losses: ``(n_iters,)`` total loss per step.
    """

    stimulus: OptimalStimulus
    regularized_stimulus: np.ndarray
    response: np.ndarray
    central_predicted_response: np.ndarray
    central_target_response: np.ndarray
    losses: np.ndarray


class FindOptimalStimuli:
    """Finds (regularised) optimal naturalistic stimuli of cell types.

    Args:
        network_view: A ``NetworkView`` (best checkpoint; parameters frozen).
        stimuli: Naturalistic dataset yielding ``{"lum": (frames, 1, hexals)}``
            with a ``config``; ``"default"``: ``AugmentedSintel(tasks=["lum"],
            dt=1/100, temporal_split=True)`` (needs MPI-Sintel).
    """

    def __init__(self, network_view: Any, stimuli: Any = "default"):
        self.network_view = network_view
        self.network = network_view.init_network()
        for p in self.network.parameters():
            p.requires_grad_(False)
        if isinstance(stimuli, str) and stimuli == "default":
            from flyvis.datasets.sintel import AugmentedSintel

            stimuli = AugmentedSintel(tasks=["lum"], dt=1 / 100, temporal_split=True)
        self.stimuli = stimuli
        self.cell_types = list(network_view.cell_types)

    def _type_index(self, cell_type: str):
        from flyvis.utils.names import check_name

        cell_type = check_name(cell_type, self.cell_types)
        layer = self.network.connectome.nodes.layer_index[cell_type][:]
        central = int(
            self.network.connectome.central_cells_index[:][
                self.cell_types.index(cell_type)
            ]
        )
        layer = np.asarray(layer)
        return cell_type, layer, int(np.flatnonzero(layer == central)[0])

    def _simulate(self, movie: torch.Tensor, dt: float) -> torch.Tensor:
        net = self.network
        with torch.no_grad():
            state = net.steady_state(1.0, dt, batch_size=movie.shape[0], value=0.5)
        state = getattr(state, "v", state)
        state = state.detach() if torch.is_tensor(state) else state
        # fresh input tensor (the network's Stimulus buffer is reused in place,
        # which would chain the autograd graphs of successive steps)
        movie = movie.to(net.device)
        index = net.input_index()
        x = movie.new_zeros(movie.shape[0], movie.shape[1], net.n_nodes)
        x[:, :, index.reshape(-1)] = movie[:, :, 0].repeat(1, 1, index.shape[0])
        return net(x, dt, state=state)

    def optimal_stimuli(
        self, cell_type: str, dt: float = 1 / 100, indices: Optional[Sequence[int]] = None
    ) -> OptimalStimulus:
        """The dataset sample with the largest central response of ``cell_type``.

        Args:
            cell_type: Cell type.
            dt: Time step (s) of the re-simulation.
            indices: Dataset indices the responses belong to (default all).

        Returns:
            :class:`OptimalStimulus` of the sample, re-simulated after 1 s grey.

        Raises:
            ValueError: For an unknown cell type.
        """
        from flyvis.analysis.naturalistic_responses import (
            naturalistic_stimuli_responses,
        )
        from flyvis.analysis.response_simulation import (
            _crop_index,
            _input_lattice,
            _movie,
        )

        cell_type, layer, _ = self._type_index(cell_type)
        ds = naturalistic_stimuli_responses(self.network_view, dataset=self.stimuli)
        r = ds["responses"].isel(network_id=0)
        neuron = [str(t) for t in r["cell_type"].values].index(cell_type)
        values = np.nan_to_num(r.isel(neuron=neuron).values, nan=-np.inf)
        sample = int(np.unravel_index(np.argmax(values), values.shape)[0])
        if indices is not None:
            sample = int(list(indices)[sample])
        movie = _movie(self.stimuli[sample])
        movie = movie[torch.isfinite(movie).reshape(len(movie), -1).all(1)][None]
        _, u_in, v_in = _input_lattice(self.network)
        if movie.shape[-1] != len(u_in):  # larger stimulus lattice: crop
            movie = movie[..., torch.from_numpy(_crop_index(movie.shape[-1], u_in, v_in))]
        with torch.no_grad():
            v = self._simulate(movie, dt)
        response = v[..., torch.as_tensor(layer)].cpu().numpy()[:, :, None]
        return OptimalStimulus(movie.numpy(), response)

    def regularized_optimal_stimuli(
        self,
        cell_type: str,
        l2_act: float = 1,
        lr: float = 1e-2,
        l2_stim: float = 1,
        n_iters: int = 100,
        dt: float = 1 / 100,
        indices: Optional[Sequence[int]] = None,
    ) -> RegularizedOptimalStimulus:
        """Optimal stimulus pushed towards grey while keeping the central response.

        Args:
            cell_type: Cell type.
            l2_act: Weight of the central-response deviation.
            lr: Adam learning rate.
            l2_stim: Weight of the stimulus deviation from grey (0.5).
            n_iters: Optimisation steps.
            dt: Time step (s).
            indices: See :meth:`optimal_stimuli`.

        Returns:
            :class:`RegularizedOptimalStimulus`.
        """
        optimal = self.optimal_stimuli(cell_type, dt, indices)
        _, layer, central = self._type_index(cell_type)
        cell = int(layer[central])
        target = torch.as_tensor(optimal.response[0, :, 0, central])
        stim = torch.as_tensor(optimal.stimulus).clone().requires_grad_(True)
        optimizer = torch.optim.Adam([stim], lr=lr)
        losses = []
        with self.network.enable_grad(True):
            for _ in range(int(n_iters)):
                optimizer.zero_grad()
                r = self._simulate(stim, dt)[0, :, cell].cpu()
                loss = (
                    l2_act * ((r - target) ** 2).sum()
                    + l2_stim * ((stim - 0.5) ** 2).mean(0).sum()
                )
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
        with torch.no_grad():
            v = self._simulate(stim.detach(), dt)
        return RegularizedOptimalStimulus(
            stimulus=optimal,
            regularized_stimulus=stim.detach().numpy(),
            response=v[..., torch.as_tensor(layer)].cpu().numpy()[:, :, None],
            central_predicted_response=v[0, :, cell].cpu().numpy(),
            central_target_response=target.numpy(),
            losses=np.asarray(losses),
        )


def optimal_stimulus_responses(
    network_view: Any,
    cell_type: str,
    dataset: Any = None,
    dt: float = 1 / 100,
    **kwargs: Any,
) -> RegularizedOptimalStimulus:
    """Regularised optimal stimulus of a cell type for one network (not cached).

    Args:
        network_view: A ``NetworkView``.
        cell_type: Cell type.
        dataset: Naturalistic dataset (default ``AugmentedSintel``, needs MPI-Sintel).
        dt: Time step (s).
        **kwargs: Passed to :meth:`FindOptimalStimuli.regularized_optimal_stimuli`.

    Returns:
        :class:`RegularizedOptimalStimulus`.
    """
    finder = FindOptimalStimuli(network_view, "default" if dataset is None else dataset)
    return finder.regularized_optimal_stimuli(cell_type, dt=dt, **kwargs)
