"""Simulation of stimulus datasets for networks and ensembles, cached per model.

The machinery under :mod:`flyvis.analysis.stimulus_responses` (which
re-exports it), :mod:`flyvis.analysis.currents`,
:mod:`flyvis.analysis.impulse_responses` and
:mod:`flyvis.analysis.optimal_stimuli`: which views to simulate, how stimuli
are cropped to a network's input lattice, NaN-padded tails, and the generic
cached dataset -> ``xr.Dataset`` computation. Source: ``spec/analysis.md`` §2.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
import xarray as xr

from flyvis.analysis import xarray_accessor  # noqa: F401  (registers .custom)
from flyvis.analysis.cache import (
    CACHE_VERSION,
    _render_version,
    cached_call,
    checkpoint_identity,
    to_jsonable,
)

__all__ = ["network_views", "compute_responses", "generic_responses"]


def network_views(network_view_or_ensemble: Any) -> List[Any]:
    """The NetworkViews of a NetworkView, an ensemble or a list, in order.

    Args:
        network_view_or_ensemble: ``NetworkView``; a mapping name ->
            NetworkView (``Ensemble``: its ``values()`` in order); or a list
            or tuple of NetworkViews.

    Returns:
        List of NetworkViews (at least one).

    Raises:
        TypeError: For anything else.
        ValueError: For an empty ensemble.
    """
    obj = network_view_or_ensemble
    if hasattr(obj, "network") and hasattr(obj, "dir") and hasattr(obj, "config"):
        views = [obj]
    elif hasattr(obj, "values") and callable(obj.values):
        views = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        views = list(obj)
    else:
        raise TypeError(
            "expected a NetworkView, an Ensemble (mapping of NetworkViews) or a "
            f"list of NetworkViews, got {type(obj).__name__}."
        )
    if not views:
        raise ValueError("the ensemble holds no networks.")
    for view in views:
        if not (hasattr(view, "network") and hasattr(view, "dir")):
            raise TypeError(f"expected NetworkViews, got {type(view).__name__}.")
    return views


def _movie(item: Any) -> torch.Tensor:
    """A dataset item as a float32 CPU tensor ``(frames, 1, hexals)``."""
    if isinstance(item, dict):
        if "lum" not in item:
            raise ValueError(
                f"dataset items are dicts without 'lum' (keys {list(item)})."
            )
        item = item["lum"]
    movie = torch.as_tensor(item).detach().to("cpu", torch.float32)
    if movie.ndim == 2:
        movie = movie[:, None]
    if movie.ndim != 3:
        raise ValueError(
            f"expected a stimulus (frames, hexals) or (frames, 1, hexals), got {tuple(movie.shape)}."
        )
    return movie


def _nan_tail_start(movie: torch.Tensor) -> int:
    """First frame of the all-NaN tail; raises for NaN elsewhere."""
    nan_frames = torch.isnan(movie).reshape(movie.shape[0], -1).any(dim=1).numpy()
    valid = np.flatnonzero(~nan_frames)
    end = int(valid[-1]) + 1 if valid.size else 0
    if nan_frames[:end].any():
        raise ValueError(
            "stimulus contains NaN frames before its end; only NaN padding at the "
            "end of a sample is supported."
        )
    return end


def _input_lattice(network) -> tuple:
    from flyvis.connectome.connectome import connectome_arrays

    arrays = connectome_arrays(network.connectome)
    r1 = network.input_index()[0].cpu().numpy()
    return arrays, arrays["node_u"][r1], arrays["node_v"][r1]


def _crop_index(n_hexals: int, u_in: np.ndarray, v_in: np.ndarray) -> np.ndarray:
    """Indices of the network's input hexals within a larger stimulus lattice."""
    from flyvis.utils.hex_utils import get_hex_coords, get_hextent

    try:
        u, v = get_hex_coords(get_hextent(n_hexals))
    except Exception as error:
        raise ValueError(
            f"stimulus has {n_hexals} hexals, not a regular hexagonal lattice."
        ) from error
    position = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(u, v))}
    try:
        return np.array([position[(int(a), int(b))] for a, b in zip(u_in, v_in)])
    except KeyError as error:
        raise ValueError(
            f"the network's input lattice is not contained in the stimulus lattice "
            f"of {n_hexals} hexals."
        ) from error


def _cell_index(arrays: Dict[str, np.ndarray], network, cell_index) -> np.ndarray:
    if isinstance(cell_index, str):
        if cell_index != "central":
            raise ValueError(
                f"cell_index must be 'central', None or indices, got {cell_index!r}."
            )
        return np.asarray(network.connectome.central_cells_index[:], dtype=np.int64)
    if cell_index is None:
        return np.arange(len(arrays["node_u"]))
    return np.asarray(cell_index, dtype=np.int64)


def compute_responses(
    network,
    dataset_class,
    dataset_config: Dict[str, Any],
    batch_size: int,
    t_pre: float,
    t_fade_in: float,
    cell_index: Union[str, Sequence[int], None] = "central",
) -> xr.Dataset:
    """Simulates one network on every sample of a dataset (uncached worker).

    Recovers the checkpointed network, builds ``dataset_class(**dataset_config)``,
    starts from a grey (0.5) steady state of ``t_pre`` s (none if
    ``t_pre <= 0``: the dynamics' initial state), optionally fades the first
    frame in over ``t_fade_in`` s, and simulates at ``dataset_config["dt"]``.

    Args:
        network: ``CheckpointedNetwork`` (``init()``, ``recover()``,
            ``checkpoint``).
        dataset_class: Stimulus dataset class.
        dataset_config: Its keyword arguments; must contain ``dt`` (s).
        batch_size: Samples simulated together.
        t_pre: Grey steady-state time before every sample (s).
        t_fade_in: Fade-in time of the first frame (s).
        cell_index: ``"central"`` (the central cell of every type, in type
            order), ``None`` (all cells) or node indices.

    Returns:
        Dataset with ``stimulus (sample, frame, channel, hex_pixel)`` and
        ``responses (network_id=1, sample, frame, neuron)`` in float32, and
        coordinates ``sample`` (+ ``arg_df`` columns), ``cell_type``, ``u``,
        ``v``, ``u_in``, ``v_in``.

    Raises:
        ValueError: For ``dt`` missing, ``batch_size < 1``, NaN inside a
            sample or a stimulus lattice that does not fit the network.
    """
    if "dt" not in dataset_config:
        raise ValueError("dataset_config must contain the time step 'dt' (s).")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    dt = float(dataset_config["dt"])
    net = network.init(eval=True)
    if network.checkpoint is not None:
        network.recover()
    net.eval()
    dataset = dataset_class(**dataset_config)
    arrays, u_in, v_in = _input_lattice(net)
    cells = _cell_index(arrays, net, cell_index)
    n = len(dataset)
    stimuli, responses = [], []
    with torch.no_grad():
        initial = net.steady_state(t_pre, dt, batch_size=1, value=0.5)
        for start in range(0, n, int(batch_size)):
            movies = [
                _movie(dataset[i]) for i in range(start, min(n, start + batch_size))
            ]
            movie = torch.stack(movies)
            if movie.shape[-1] != len(u_in):
                movie = movie[
                    ..., torch.from_numpy(_crop_index(movie.shape[-1], u_in, v_in))
                ]
            ends = [_nan_tail_start(m) for m in movie]
            filled = movie.clone()
            for b, end in enumerate(ends):
                filled[b, end:] = filled[b, max(end - 1, 0)] if end > 0 else 0.5
            filled = torch.nan_to_num(filled, nan=0.5)
            state = net.fade_in_state(t_fade_in, dt, filled[:, 0], state=initial)
            out = net.simulate(filled, dt, initial_state=state)
            out = out[:, :, torch.from_numpy(cells).to(out.device)].float().cpu().numpy()
            for b, end in enumerate(ends):
                out[b, end:] = np.nan
            stimuli.append(movie.numpy())
            responses.append(out)
    coords: Dict[str, Any] = {"sample": np.arange(n)}
    arg_df = getattr(dataset, "arg_df", None)
    if arg_df is not None and len(arg_df) == n:
        for column in arg_df.columns:
            values = arg_df[column].to_numpy()
            if values.dtype.kind == "O":
                # element-wise: entries may be lists or tuples (e.g. columns)
                values = np.array([str(v) for v in values])
            coords[str(column)] = ("sample", values)
    coords.update(
        cell_type=(
            "neuron",
            arrays["cell_types"][arrays["node_type_index"][cells]].astype(str),
        ),
        u=("neuron", arrays["node_u"][cells]),
        v=("neuron", arrays["node_v"][cells]),
        u_in=("hex_pixel", np.asarray(u_in)),
        v_in=("hex_pixel", np.asarray(v_in)),
    )
    return xr.Dataset(
        {
            "stimulus": (
                ("sample", "frame", "channel", "hex_pixel"),
                np.concatenate(stimuli).astype(np.float32),
            ),
            "responses": (
                ("network_id", "sample", "frame", "neuron"),
                np.concatenate(responses)[None].astype(np.float32),
            ),
        },
        coords=coords,
    )


def _dataset_spec(dataset, dataset_config, default_dataset_cls):
    if dataset is not None:
        config = getattr(dataset, "config", None)
        if config is None:
            raise ValueError("the given dataset has no 'config' to rebuild it from.")
        config = dict(config.to_dict() if hasattr(config, "to_dict") else config)
        config.pop("type", None)
        config.setdefault("dt", getattr(dataset, "dt", None))
        return type(dataset), config
    if default_dataset_cls is None:
        raise ValueError("either a dataset or a default_dataset_cls is required.")
    return default_dataset_cls, dict(dataset_config)


def generic_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    dataset_config: Optional[Dict[str, Any]] = None,
    default_dataset_cls=None,
    t_pre: float = 1.0,
    t_fade_in: float = 0.0,
    batch_size: int = 4,
    cell_index: Union[str, Sequence[int], None] = "central",
    recompute: bool = False,
) -> xr.Dataset:
    """Cached responses of one network or an ensemble to a dataset.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A dataset instance; its class and ``config`` (minus
            ``type``) are used. Default: ``default_dataset_cls(**dataset_config)``.
        dataset_config: Config of the default dataset (must contain ``dt``).
        default_dataset_cls: Dataset class used if ``dataset`` is None.
        t_pre: Grey steady-state time of the simulation (s).
        t_fade_in: Fade-in time of the first frame (s).
        batch_size: Samples per simulation batch (not part of the cache key).
        cell_index: See :func:`compute_responses`.
        recompute: Ignore and overwrite cached results.

    Returns:
        The Dataset described in the module docstring, concatenated along
        ``network_id`` (``stimulus`` from the first model).

    Raises:
        TypeError, ValueError: For invalid models or datasets.
    """
    views = network_views(network_view_or_ensemble)
    dataset_class, config = _dataset_spec(
        dataset, dataset_config or {}, default_dataset_cls
    )
    if config.get("dt") is None:
        raise ValueError("the dataset config must contain the time step 'dt' (s).")
    results, names, checkpoints = [], [], []
    module, module_config = None, None
    for view in views:
        net_config = view.config.network.to_dict()
        reuse = module if module_config == to_jsonable(net_config) else None
        handle = view.network(checkpoint="best", network=reuse, lazy=True)
        if handle.checkpoint is None and reuse is not None:
            # no checkpoint to load: the reused module would keep the previous
            # model's parameters, so start from a fresh (untrained) one
            handle = view.network(checkpoint="best", network=None, lazy=True)
        key = {
            "function": "compute_responses",
            "cache_version": CACHE_VERSION,
            "render_version": _render_version(dataset_class),
            "network_class": handle.network_class,
            "network_config": net_config,
            "checkpoint": checkpoint_identity(handle.checkpoint),
            "recover_fn": handle.recover_fn,
            "dataset_class": dataset_class,
            "dataset_config": config,
            "t_pre": t_pre,
            "t_fade_in": t_fade_in,
            "cell_index": cell_index,
        }
        result = cached_call(
            view.dir.path,
            compute_responses,
            key,
            lambda handle=handle: compute_responses(
                handle, dataset_class, config, batch_size, t_pre, t_fade_in, cell_index
            ),
            recompute=recompute,
        )
        if handle.network is not None:
            module, module_config = handle.network, to_jsonable(net_config)
        results.append(result)
        names.append(view.name)
        checkpoints.append(str(handle.checkpoint) if handle.checkpoint else "")
    ds = xr.concat(
        results,
        dim="network_id",
        data_vars="minimal",
        coords="minimal",
        compat="override",
        join="override",
    )
    dt = float(config["dt"])
    n_frames = ds.sizes["frame"]
    ds = ds.assign_coords(
        frame=np.arange(n_frames),
        channel=np.arange(ds.sizes["channel"]),
        hex_pixel=np.arange(ds.sizes["hex_pixel"]),
        neuron=np.arange(ds.sizes["neuron"]),
        time=("frame", np.arange(n_frames) * dt - float(config.get("t_pre", 0.0))),
        network_id=np.arange(len(views)),
        network_name=("network_id", np.array(names, dtype=str)),
        checkpoints=("network_id", np.array(checkpoints, dtype=str)),
    )
    ds.attrs = {
        "config": to_jsonable(config),
        "network_config": to_jsonable(views[0].config.to_dict()),
    }
    return ds
