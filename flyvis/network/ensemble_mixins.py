"""Simulation, decoding and parameter access of an :class:`~flyvis.network.ensemble.Ensemble`.

Kept apart from ``ensemble.py`` (loading, access, ranking) to keep modules small.
Every method works on the models in the ensemble's current ``names`` order.
"""

import logging
import warnings
from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch

from flyvis.utils.chkpt_utils import load_checkpoint

__all__ = ["SimulationMixin", "check_ensemble_movie"]

logger = logging.getLogger(__name__)


def check_ensemble_movie(movie_input: Any) -> torch.Tensor:
    """Validates a movie for ensemble simulation.

    Args:
        movie_input: Luminance ``(batch, frames, 1, hexals)`` (tensor or array).

    Returns:
        The movie as a float32 CPU tensor.

    Raises:
        ValueError: For a movie that is not 4-D or contains NaN (e.g. NaN-padded
            ``MovingEdge`` items of different durations).
    """
    movie = torch.as_tensor(
        np.asarray(movie_input) if not torch.is_tensor(movie_input) else movie_input
    ).to(torch.float32)
    if movie.ndim != 4:
        raise ValueError(
            f"movie_input must be 4-D (batch, frames, 1, hexals), got shape "
            f"{tuple(movie.shape)}; add a batch axis with movie[None]."
        )
    n_nan = int(torch.isnan(movie).sum())
    if n_nan:
        raise ValueError(
            f"movie_input contains {n_nan} NaN values of {movie.numel()}. Stimuli padded "
            "with NaN (e.g. MovingEdge items of different durations stacked together) "
            "must be trimmed to their valid frames or filled with grey (0.5) first."
        )
    return movie


def _fade_in_movie(
    movie: torch.Tensor, dt: float, t_fade_in: float = 1.0
) -> torch.Tensor:
    """The frames of ``Network.fade_in_state``: grey ramped to the first frame."""
    n = int(t_fade_in / dt)
    ramp = torch.linspace(0, 1, n)[None, :, None, None]
    return (ramp * (movie[:, :1] - 0.5) + 0.5).to(torch.float32)


class SimulationMixin:
    """Simulation, decoding and parameters over all models of an ensemble."""

    def yield_networks(self) -> Iterator[torch.nn.Module]:
        """Yields each model's network with its best checkpoint loaded.

        One module is built for the first model and reused (parameters
        overwritten) for the others.

        Yields:
            The network, in eval mode.
        """
        network = None
        for view in self.values():
            network = view.init_network(network=network)
            yield network

    def yield_decoders(self) -> Iterator[Dict[str, torch.nn.Module]]:
        """Yields each model's decoders (one reused dict) with the best checkpoint.

        Raises:
            ValueError: If the models' configs differ.
        """
        if not self.check_configs_match():
            raise ValueError("model configs differ: cannot reuse one decoder.")
        decoder = None
        for view in self.values():
            decoder = view.init_decoder(decoder=decoder)
            yield decoder

    def check_configs_match(self) -> bool:
        """True if every model's stored config equals the first one.

        A difference only in ``network_name`` / ``ensemble_and_network_id`` is
        ignored. Mismatches are logged.
        """
        ignore = {"network_name", "ensemble_and_network_id"}

        def strip(config):
            return {k: v for k, v in config.to_dict().items() if k not in ignore}

        views = self.values()
        first = strip(views[0].config)
        match = True
        for view in views[1:]:
            if strip(view.config) != first:
                logger.warning("Config of %s differs from %s.", view.name, views[0].name)
                match = False
        return match

    def simulate(
        self,
        movie_input: Any,
        dt: float,
        fade_in: bool = True,
        batched: bool = False,
    ) -> Iterator[np.ndarray]:
        """Responses of every model to a movie.

        Args:
            movie_input: Luminance ``(batch, frames, 1, hexals)``, grey = 0.5.
            dt: Integration step in seconds (``IntegrationWarning`` if > 1/50).
            fade_in: Start from the state after fading in the first frame over
                1 s from the resting potentials; else from the 1 s grey steady
                state (``"auto"``).
            batched: Simulate all models in one batched call
                (:func:`~flyvis.network.ensemble_simulation.simulate_ensemble`);
                same results as the per-model loop, 2.3-4.8x faster for 8
                models and a single movie on 2 CPU cores (the numba kernel).

        Returns:
            Iterator over models of voltages ``(batch, frames, n_cells)``
            (numpy); ``np.array(list(...))`` is ``(n_models, batch, frames, n_cells)``.

        Raises:
            ValueError: For a movie that is not 4-D, contains NaN, or ``dt <= 0``.
        """
        from flyvis.network.network import IntegrationWarning, _check_dt

        movie = check_ensemble_movie(movie_input)
        dt = _check_dt(dt)
        if dt > 1 / 50:
            warnings.warn(
                f"dt={dt} s is coarser than 1/50 s; responses may be inaccurate.",
                IntegrationWarning,
                stacklevel=2,
            )
        if batched:
            return self._simulate_batched(movie, dt, fade_in)
        return self._simulate_loop(movie, dt, fade_in)

    def _simulate_loop(self, movie, dt, fade_in) -> Iterator[np.ndarray]:
        from tqdm.auto import tqdm

        networks = iter(self.yield_networks())
        for _ in tqdm(range(len(self)), desc="Simulating network"):
            # warnings are silenced only while simulating (warned once above),
            # never across the yield into the caller's code
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=Warning)
                network = next(networks)
                state = "auto"
                if fade_in:
                    state = network.fade_in_state(1.0, dt, movie[:, 0])
                result = network.simulate(movie, dt, initial_state=state).cpu().numpy()
            yield result

    def _simulate_batched(self, movie, dt, fade_in) -> Iterator[np.ndarray]:
        from flyvis.network.ensemble_simulation import simulate_ensemble

        network = self.values()[0].init_network()
        sets = self._network_states(device=network.device)
        if fade_in:
            ramp = _fade_in_movie(movie, dt)
            full = torch.cat([ramp, movie], dim=1)
            out = simulate_ensemble(network, sets, full, dt, initial_state=None)
            out = out[:, :, ramp.shape[1] :]
        else:
            out = simulate_ensemble(network, sets, movie, dt, initial_state="auto")
        for response in out:
            yield response.cpu().numpy()

    def simulate_from_dataset(
        self,
        dataset: Any,
        dt: float,
        indices: Optional[Sequence[int]] = None,
        t_pre: float = 1.0,
        t_fade_in: float = 0.0,
        default_stim_key: str = "lum",
        batch_size: int = 1,
        central_cell_only: bool = True,
    ) -> Iterator[np.ndarray]:
        """Responses of every model to (some) items of a stimulus dataset.

        Each sample starts from ``t_pre`` seconds of grey, then fades in its
        first frame over ``t_fade_in`` seconds.

        Args:
            dataset: Indexable; items are dicts holding ``default_stim_key``
                (or tensors) of shape ``(frames, 1, hexals)``.
            dt: Integration step in seconds.
            indices: Items to simulate (default: all).
            t_pre: Grey pre-period in seconds.
            t_fade_in: Fade-in duration in seconds.
            default_stim_key: Key of the stimulus in dict items.
            batch_size: Items simulated together.
            central_cell_only: Keep only the central cell of each type.

        Returns:
            Iterator over models of ``(n_stimuli, frames, cells)`` arrays.

        Raises:
            ValueError: For items of different lengths within one batch, NaN
                frames or bad shapes.
        """
        indices = list(range(len(dataset)) if indices is None else indices)
        batches = [
            indices[i : i + batch_size] for i in range(0, len(indices), batch_size)
        ]

        def stim(i):
            item = dataset[i]
            x = item[default_stim_key] if isinstance(item, dict) else item
            return torch.as_tensor(x).to(torch.float32)

        def run():
            central = None
            for network in self.yield_networks():
                if central_cell_only and central is None:
                    central = torch.as_tensor(network.connectome.central_cells_index[:])
                results = []
                for batch in batches:
                    movie = check_ensemble_movie(torch.stack([stim(i) for i in batch]))
                    state = network.steady_state(t_pre, dt, movie.shape[0])
                    state = network.fade_in_state(t_fade_in, dt, movie[:, 0], state=state)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        r = network.simulate(movie, dt, initial_state=state).cpu()
                    results.append(r[..., central] if central is not None else r)
                out = torch.cat(results).numpy()
                yield out.reshape(len(indices), -1, out.shape[-1])

        return run()

    def decode(self, movie_input: Any, dt: float) -> Iterator[Any]:
        """Decoder predictions of every model for a movie.

        Args:
            movie_input: Luminance ``(batch, frames, 1, hexals)``.
            dt: Integration step in seconds.

        Returns:
            Iterator over models of predictions (numpy), e.g. flow
            ``(batch, frames, 2, hexals)``; a dict task -> array for several tasks.
        """
        responses = self.simulate(movie_input, dt)

        def run():
            for view, response in zip(self.values(), responses):
                decoders = view.init_decoder()
                x = torch.as_tensor(response).to(view.device)
                with torch.no_grad():
                    out = {t: d(x).cpu().numpy() for t, d in decoders.items()}
                yield next(iter(out.values())) if len(out) == 1 else out

        return run()

    # ------------------------------------------------------------ parameters
    def _network_states(self, device: Any = "cpu") -> List[Dict[str, torch.Tensor]]:
        """Each model's best-checkpoint ``"network"`` state dict."""
        states = []
        for view in self.values():
            path = view.get_checkpoint("best")
            if path is None:
                raise FileNotFoundError(f"{view.name}: no best checkpoint.")
            states.append(load_checkpoint(path, map_location=device)["network"])
        first = states[0]
        for view, state in zip(self.values()[1:], states[1:]):
            for key, value in first.items():
                other = state.get(key)
                if other is None or tuple(other.shape) != tuple(value.shape):
                    shape = None if other is None else tuple(other.shape)
                    raise ValueError(
                        f"parameter {key!r} has shape {shape} in {view.name} but "
                        f"{tuple(value.shape)} in {self.values()[0].name}: the models "
                        "belong to different connectomes or network configs."
                    )
        return states

    def parameters(self) -> Dict[str, np.ndarray]:
        """Every network parameter of every model, stacked.

        Returns:
            Dict state-dict key (e.g. ``"nodes_bias"``) -> ``(n_models, n_values)``.

        Raises:
            ValueError: If parameter shapes differ between models.
        """
        key = ("parameters", tuple(self.names))
        if key not in self.cache:
            states = self._network_states()
            self.cache[key] = {
                k: np.stack([s[k].detach().cpu().numpy() for s in states])
                for k in states[0]
            }
        return {k: v.copy() for k, v in self.cache[key].items()}

    def parameter_keys(self) -> Dict[str, list]:
        """Group keys of every parameter (cell types, ``(source, target)`` pairs...).

        Returns:
            Dict ``"nodes_<name>"`` / ``"edges_<name>"`` -> list of keys, in the
            order of the values in :meth:`parameters`.
        """
        network = self.values()[0].init_network()
        keys = {}
        for table, params in (
            ("nodes", network.node_params),
            ("edges", network.edge_params),
        ):
            for name, param in params.items():
                inner = getattr(param, "parameter", param)
                keys[f"{table}_{name}"] = list(getattr(inner, "keys", None) or param.keys)
        return keys
