"""Synaptic input currents onto central target cells (``spec/analysis.md`` §10).

For every stimulus, frame and target cell type, the activity of the central
target cell and the current of every edge onto it, grouped by presynaptic
type: ``current_e(t) = w_e * f(V_source(e)(t))`` with ``w = sign * syn_count *
syn_strength`` and ``f`` the network's activation (ReLU). Summed over all edges
of a target cell the currents equal the synaptic input of the dynamics
(``network.target_sum``).

Results are cached per model and checkpoint (:mod:`flyvis.analysis.cache`).
The analysis view ``MovingEdgeCurrentView`` of flyvis 1.2.0 is not provided.

Source: Lappalainen et al., Nature 2024 (Fig. 4, "Currents").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
import xarray as xr

__all__ = [
    "TargetData",
    "ExperimentData",
    "edge_currents",
    "central_input_edges",
    "compute_currents",
    "stimulus_responses_currents",
    "moving_edge_currents",
    "DEFAULT_TARGET_TYPES",
]

#: Target cell types of ``moving_edge_currents`` by default.
DEFAULT_TARGET_TYPES = ("T4a", "T4b", "T4c", "T4d", "T5a", "T5b", "T5c", "T5d", "TmY3")


@dataclass
class TargetData:
    """Currents onto the central cell of one target type.

    Attributes:
        activity_central: Per stimulus, the central cell's voltage ``(n_frames,)``.
        source_data: Presynaptic type -> per stimulus the currents of its
            edges onto the central cell ``(n_frames, n_edges)``.
    """

    activity_central: List[np.ndarray]
    source_data: Dict[str, List[np.ndarray]] = field(default_factory=dict)


@dataclass
class ExperimentData:
    """Currents of one model for one stimulus dataset.

    Attributes:
        config: The dataset config.
        checkpoint: The checkpoint path.
        target_data: Target type -> :class:`TargetData`.
        arg_df: Stimulus parameters per sample (``pandas.DataFrame``) or None.
    """

    config: Dict[str, Any]
    checkpoint: str
    target_data: Dict[str, TargetData]
    arg_df: Any = None


def edge_currents(
    network: Any, voltages: torch.Tensor, edges: Any, params: Any = None
) -> torch.Tensor:
    """Currents ``w_e * f(V_source(e))`` of selected edges.

    Args:
        network: A ``Network``.
        voltages: ``(..., n_nodes)`` voltages.
        edges: Edge indices ``(n,)`` (edge-table order).
        params: ``network.prepare()`` output (computed if None).

    Returns:
        ``(..., n)`` currents.
    """
    params = network.prepare() if params is None else params
    edges = torch.as_tensor(np.asarray(edges), dtype=torch.long, device=voltages.device)
    source = network.engine.source.long().index_select(0, edges)
    rates = network.dynamics.activation(voltages)
    return rates.index_select(-1, source) * params.weight.index_select(0, edges)


def central_input_edges(network: Any, target_type: str) -> Dict[str, np.ndarray]:
    """Edges onto the central cell of a type, grouped by presynaptic type.

    Args:
        network: A ``Network``.
        target_type: Cell type.

    Returns:
        Dict source type -> edge indices (in connectome source-type order).

    Raises:
        ValueError: For an unknown cell type.
    """
    from flyvis.connectome.connectome import connectome_arrays
    from flyvis.utils.names import check_name

    arrays = connectome_arrays(network.connectome)
    types = [str(t) for t in arrays["cell_types"]]
    target_type = check_name(target_type, types)
    central = np.asarray(network.connectome.central_cells_index[:])
    cell = int(central[types.index(target_type)])
    target = network.engine.target.long().cpu().numpy()
    source = network.engine.source.long().cpu().numpy()
    edges = np.flatnonzero(target == cell)
    source_types = arrays["node_type_index"][source[edges]]
    return {types[t]: edges[source_types == t] for t in np.unique(source_types)}


def compute_currents(
    network: Any,
    dataset_class: Any,
    dataset_config: Dict[str, Any],
    target_cell_types: Sequence[str],
    t_pre: float = 1.0,
    t_fade_in: float = 0.0,
    dt: Optional[float] = None,
) -> xr.Dataset:
    """Simulates one network and records central-cell activity and input currents.

    Every sample starts from a grey (0.5) steady state of ``t_pre`` s and is
    simulated alone (NaN-padded tails are not simulated and stay NaN).

    Args:
        network: ``CheckpointedNetwork``.
        dataset_class: Stimulus dataset class.
        dataset_config: Its keyword arguments (with ``dt``).
        target_cell_types: Target types.
        t_pre: Grey steady-state time (s).
        t_fade_in: Fade-in time of the first frame (s).
        dt: Time step (default ``dataset_config["dt"]``).

    Returns:
        Dataset with ``activity_{i} (sample, frame)`` and ``current_{i}_{j}
        (sample, frame, edge_{i}_{j})`` for target ``i`` and source ``j``
        (names in ``attrs["targets"]`` and ``attrs["sources"]``).

    Raises:
        ValueError: For unknown cell types or a missing ``dt``.
    """
    from flyvis.analysis.response_simulation import (
        _crop_index,
        _input_lattice,
        _movie,
        _nan_tail_start,
    )

    dt = float(dataset_config.get("dt") if dt is None else dt)
    net = network.init(eval=True)
    if network.checkpoint is not None:
        network.recover()
    net.eval()
    dataset = dataset_class(**dataset_config)
    _, u_in, v_in = _input_lattice(net)
    groups = {t: central_input_edges(net, t) for t in target_cell_types}
    central = np.asarray(net.connectome.central_cells_index[:])
    from flyvis.connectome.connectome import connectome_arrays

    types = [str(t) for t in connectome_arrays(net.connectome)["cell_types"]]
    n = len(dataset)
    activity = {t: [] for t in groups}
    currents = {(t, s): [] for t, g in groups.items() for s in g}
    n_frames = 0
    with torch.no_grad():
        params = net.prepare()
        initial = net.steady_state(t_pre, dt, batch_size=1, value=0.5)
        for i in range(n):
            movie = _movie(dataset[i])[None]
            if movie.shape[-1] != len(u_in):
                index = torch.from_numpy(_crop_index(movie.shape[-1], u_in, v_in))
                movie = movie[..., index]
            end = _nan_tail_start(movie[0])
            n_frames = max(n_frames, movie.shape[1])
            valid = movie[:, :end]
            state = net.fade_in_state(t_fade_in, dt, valid[:, 0], state=initial)
            v = net.simulate(valid, dt, initial_state=state)[0]  # (end, nodes)
            for t, g in groups.items():
                cell = int(central[types.index(t)])
                activity[t].append(v[:, cell].float().cpu().numpy())
                for s, edges in g.items():
                    c = edge_currents(net, v, edges, params).float().cpu().numpy()
                    currents[(t, s)].append(c)

    def pad(arrays, shape):
        out = np.full((n, n_frames) + shape, np.nan, np.float32)
        for k, a in enumerate(arrays):
            out[k, : len(a)] = a
        return out

    data = {}
    targets = list(groups)
    sources = {t: list(g) for t, g in groups.items()}
    for i, t in enumerate(targets):
        data[f"activity_{i}"] = (("sample", "frame"), pad(activity[t], ()))
        for j, s in enumerate(sources[t]):
            arr = pad(currents[(t, s)], (len(groups[t][s]),))
            data[f"current_{i}_{j}"] = (("sample", "frame", f"edge_{i}_{j}"), arr)
    coords: Dict[str, Any] = {"sample": np.arange(n)}
    arg_df = getattr(dataset, "arg_df", None)
    if arg_df is not None and len(arg_df) == n:
        for column in arg_df.columns:
            values = arg_df[column].to_numpy()
            coords[str(column)] = (
                "sample",
                values.astype(str) if values.dtype.kind == "O" else values,
            )
    return xr.Dataset(
        data,
        coords=coords,
        attrs={"targets": targets, "sources": [sources[t] for t in targets]},
    )


def _experiment_data(ds: xr.Dataset, config, checkpoint) -> ExperimentData:
    import pandas as pd

    targets = list(ds.attrs["targets"])
    sources = [list(s) for s in ds.attrs["sources"]]
    n = ds.sizes["sample"]
    lengths = []
    target_data = {}
    for i, t in enumerate(targets):
        act = ds[f"activity_{i}"].values
        if not lengths:
            lengths = [int(np.isfinite(a).sum()) for a in act]
        source_data = {
            s: [ds[f"current_{i}_{j}"].values[k, : lengths[k]] for k in range(n)]
            for j, s in enumerate(sources[i])
        }
        target_data[t] = TargetData([act[k, : lengths[k]] for k in range(n)], source_data)
    columns = [c for c in ds.coords if c != "sample" and ds[c].dims == ("sample",)]
    arg_df = pd.DataFrame({c: ds[c].values for c in columns}) if columns else None
    return ExperimentData(dict(config), checkpoint, target_data, arg_df)


def stimulus_responses_currents(
    network_view_or_ensemble: Any,
    dataset_class: Any,
    dataset_config: Dict[str, Any],
    target_cell_types: Sequence[str] = DEFAULT_TARGET_TYPES,
    t_pre: float = 1.0,
    t_fade_in: float = 0.0,
    recompute: bool = False,
) -> List[ExperimentData]:
    """Cached :func:`compute_currents` of every model for any stimulus dataset.

    Args:
        network_view_or_ensemble: ``NetworkView``, ``Ensemble`` or list of views.
        dataset_class: Stimulus dataset class.
        dataset_config: Its config (with ``dt``).
        target_cell_types: Target types.
        t_pre: Grey steady-state time (s).
        t_fade_in: Fade-in time (s).
        recompute: Ignore cached results.

    Returns:
        One :class:`ExperimentData` per model, in order.
    """
    from flyvis.analysis.cache import (
        CACHE_VERSION,
        _render_version,
        cached_call,
        checkpoint_identity,
    )
    from flyvis.analysis.response_simulation import network_views

    target_cell_types = list(target_cell_types)
    out = []
    for view in network_views(network_view_or_ensemble):
        handle = view.network(checkpoint="best", lazy=True)
        key = {
            "function": "compute_currents",
            "cache_version": CACHE_VERSION,
            "render_version": _render_version(dataset_class),
            "network_class": handle.network_class,
            "network_config": view.config.network.to_dict(),
            "checkpoint": checkpoint_identity(handle.checkpoint),
            "recover_fn": handle.recover_fn,
            "dataset_class": dataset_class,
            "dataset_config": dataset_config,
            "target_cell_types": target_cell_types,
            "t_pre": t_pre,
            "t_fade_in": t_fade_in,
        }
        ds = cached_call(
            view.dir.path,
            compute_currents,
            key,
            lambda handle=handle: compute_currents(
                handle, dataset_class, dataset_config, target_cell_types, t_pre, t_fade_in
            ),
            recompute=recompute,
        )
        out.append(_experiment_data(ds, dataset_config, str(handle.checkpoint or "")))
    return out


def moving_edge_currents(
    network_view_or_ensemble: Any,
    target_cell_types: Sequence[str] = DEFAULT_TARGET_TYPES,
    dataset: Any = None,
    speeds: Sequence[float] = (19,),
    offsets: Sequence[int] = (-10, 11),
    angles: Sequence[float] = (0, 45, 90, 180, 225, 270),
    dt: float = 1 / 200,
) -> List[ExperimentData]:
    """Input currents onto central target cells during moving ON/OFF edges.

    Default dataset: ``MovingEdge(widths=[80], offsets, intensities=[0, 1],
    speeds, height=80, bar_loc_horizontal=0, shuffle_offsets=False,
    post_pad_mode="continue", t_pre=1, t_post=1, dt, angles)``; 1 s grey
    steady state.

    Args:
        network_view_or_ensemble: ``NetworkView``, ``Ensemble`` or list of views.
        target_cell_types: Target types.
        dataset: A dataset (with ``config``) to use instead.
        speeds: Edge speeds (columns/s).
        offsets: ``(start, stop)`` edge positions.
        angles: Directions (degrees).
        dt: Time step (s).

    Returns:
        One :class:`ExperimentData` per model.
    """
    from flyvis.analysis.response_simulation import _dataset_spec
    from flyvis.datasets.moving_bar import MovingEdge

    config = dict(
        widths=[80],
        offsets=list(offsets),
        intensities=[0, 1],
        speeds=list(speeds),
        height=80,
        bar_loc_horizontal=0.0,
        shuffle_offsets=False,
        post_pad_mode="continue",
        t_pre=1.0,
        t_post=1.0,
        dt=dt,
        angles=list(angles),
    )
    dataset_class, config = _dataset_spec(dataset, config, MovingEdge)
    return stimulus_responses_currents(
        network_view_or_ensemble, dataset_class, config, target_cell_types, 1.0, 0.0
    )
