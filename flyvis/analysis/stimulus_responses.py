"""Responses of trained networks to stimulus datasets, as labelled ``xr.Dataset``.

``spec/analysis.md`` §2. Every public function accepts a ``NetworkView`` or an
ensemble (a mapping name -> NetworkView such as ``Ensemble``, or a list of
NetworkViews) and returns::

    Dataset
      stimulus  (sample, frame, channel, hex_pixel)   float32
      responses (network_id, sample, frame, neuron)   float32
      coords: sample (+ one per arg_df column), frame, time (along frame),
              channel, hex_pixel, u_in, v_in (along hex_pixel), neuron,
              cell_type, u, v (along neuron), network_id, network_name,
              checkpoints (along network_id)
      attrs: config (dataset config), network_config (first model's config)

Results are cached per model and checkpoint on disk
(:mod:`flyvis.analysis.cache`); the key covers the network config, the
checkpoint file's content, the dataset class and config, ``t_pre``,
``t_fade_in`` and ``cell_index`` (not ``batch_size``).

Stimuli rendered on a larger hexagonal lattice than the network's input (e.g.
721-hexal moving edges for a small test network) are cropped to the network's
input lattice. NaN-padded sample tails (moving bars/edges of fast speeds) are
not simulated: responses there are NaN.
"""

from __future__ import annotations

import logging
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

logger = logging.getLogger(__name__)

__all__ = [
    "compute_responses",
    "generic_responses",
    "flash_responses",
    "moving_edge_responses",
    "moving_bar_responses",
    "naturalistic_stimuli_responses",
    "central_impulses_responses",  # noqa: F822 (module __getattr__)
    "spatial_impulses_responses",  # noqa: F822 (module __getattr__)
    "network_views",
    "moving_edge_currents",
    "optimal_stimulus_responses",
]


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


def _extent(views) -> int:
    try:
        return int(views[0].config.network.connectome.extent)
    except AttributeError:
        return 15


def flash_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    radius: Sequence[int] = (-1, 6),
    dt: float = 1 / 200,
    batch_size: int = 4,
) -> xr.Dataset:
    """Responses to full-field and disc flashes (``Flashes``), 1 s grey first.

    Default dataset: ``Flashes(dynamic_range=[0, 1], t_stim=1, t_pre=1,
    dt, radius, alternations=(0, 1, 0))`` rendered at the network's
    connectome extent: 4 samples x 600 frames, time -1 ... 2 s.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A ``Flashes`` instance to use instead.
        radius: Disc radii in columns (-1 = full field).
        dt: Time step (s).
        batch_size: Samples per simulation batch.

    Returns:
        The response Dataset (``baseline``, ``intensity``, ``radius`` along
        ``sample``).
    """
    from flyvis.datasets.flashes import Flashes

    views = network_views(network_view_or_ensemble)
    config = dict(
        boxfilter=dict(extent=_extent(views), kernel_size=13),
        dynamic_range=[0, 1],
        t_stim=1.0,
        t_pre=1.0,
        dt=dt,
        radius=list(radius),
        alternations=[0, 1, 0],
    )
    return generic_responses(views, dataset, config, Flashes, 1.0, 0.0, batch_size)


def moving_edge_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    speeds: Sequence[float] = (2.4, 4.8, 9.7, 13, 19, 25),
    offsets: Sequence[int] = (-10, 11),
    dt: float = 1 / 200,
    batch_size: int = 4,
    angles: Optional[Sequence[float]] = None,
) -> xr.Dataset:
    """Responses to full-height ON and OFF edges moving in 12 directions.

    Default dataset: ``MovingEdge(offsets, intensities=[0, 1], speeds,
    height=80, post_pad_mode="continue", dt, t_pre=1, t_post=1)``; 1 s grey
    steady state. 144 samples (angle x intensity x speed) of 1078 frames,
    NaN where a fast edge's sample has ended.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A ``MovingEdge`` instance to use instead.
        speeds: Speeds (columns/s).
        offsets: ``(start, stop)`` edge positions (LEDs of 2.25°).
        dt: Time step (s).
        batch_size: Samples per simulation batch.
        angles: Directions (degrees); default the dataset's 0, 30, ..., 330.

    Returns:
        The response Dataset (``angle``, ``width``, ``intensity``,
        ``t_stim``, ``speed`` along ``sample``).
    """
    from flyvis.datasets.moving_bar import MovingEdge

    config = dict(
        offsets=list(offsets),
        intensities=[0, 1],
        speeds=list(speeds),
        height=80,
        post_pad_mode="continue",
        dt=dt,
        t_pre=1.0,
        t_post=1.0,
    )
    if angles is not None:
        config["angles"] = list(angles)
    return generic_responses(
        network_view_or_ensemble, dataset, config, MovingEdge, 1.0, 0.0, batch_size
    )


def moving_bar_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    dt: float = 1 / 200,
    batch_size: int = 4,
) -> xr.Dataset:
    """Responses to moving bars of widths 1, 2, 4 LEDs (432 samples).

    Default dataset: ``MovingBar(widths=[1, 2, 4], offsets=(-10, 11),
    intensities=[0, 1], speeds=[2.4, 4.8, 9.7, 13, 19, 25], height=9,
    post_pad_mode="continue", dt, t_pre=1, t_post=1)``; 1 s grey.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: A ``MovingBar`` instance to use instead.
        dt: Time step (s).
        batch_size: Samples per simulation batch.

    Returns:
        The response Dataset.
    """
    from flyvis.datasets.moving_bar import MovingBar

    config = dict(
        widths=[1, 2, 4],
        offsets=[-10, 11],
        intensities=[0, 1],
        speeds=[2.4, 4.8, 9.7, 13, 19, 25],
        height=9,
        post_pad_mode="continue",
        dt=dt,
        t_pre=1.0,
        t_post=1.0,
    )
    return generic_responses(
        network_view_or_ensemble, dataset, config, MovingBar, 1.0, 0.0, batch_size
    )


def sintel_available() -> bool:
    """Whether MPI-Sintel's training data lies at ``flyvis.sintel_dir``.

    Returns:
        True if ``training/final`` and ``training/flow`` exist there.
    """
    import flyvis

    root = flyvis.data_dir("sintel_dir").expanduser()
    return all((root / "training" / kind).is_dir() for kind in ("final", "flow"))


def photo_flow_naturalistic_dataset(dt: float = 1 / 100):
    """Naturalistic movies without Sintel: the offline real-photo flow movies.

    48 sequences of 19 source frames at 24 Hz (about 0.8 s, 80 frames at
    ``dt = 1/100``) on the 721-hexal eye, without augmentation, luminance only:
    the stand-in for ``AugmentedSintel`` when MPI-Sintel is not on disk.

    Args:
        dt: Time step in seconds.

    Returns:
        A ``MultiTaskPhotoFlow`` dataset (rendered once, cached on disk).
    """
    from flyvis.datasets.photo_flow import MultiTaskPhotoFlow

    logger.warning(
        "MPI-Sintel not found at flyvis.sintel_dir; naturalistic responses use the "
        "offline photo-flow movies instead (put Sintel there to use it)."
    )
    return MultiTaskPhotoFlow(
        tasks=["lum"],
        boxfilter=dict(extent=15, kernel_size=13),
        n_frames=19,
        dt=dt,
        augment=False,
        random_temporal_crop=False,
    )


def naturalistic_stimuli_responses(
    network_view_or_ensemble: Any,
    dataset=None,
    dt: float = 1 / 100,
    batch_size: int = 4,
    indices: Optional[Sequence[int]] = None,
) -> xr.Dataset:
    """Responses to naturalistic movies, first frame faded in over 2 s.

    Default dataset: ``AugmentedSintel(tasks=["lum"], interpolate=False,
    boxfilter={extent 15, kernel_size 13}, temporal_split=True, dt,
    indices)`` (2268 samples x 80 frames) when MPI-Sintel is at
    ``flyvis.sintel_dir``; without it (and without ``indices``), our offline
    real-photo movies (:func:`photo_flow_naturalistic_dataset`). ``t_pre=0`` and
    ``t_fade_in=2`` s: the fade-in starts from the dynamics' initial state.

    Args:
        network_view_or_ensemble: See :func:`network_views`.
        dataset: Any dataset yielding ``{"lum": (frames, 1, hexals)}`` items
            and having a ``config``.
        dt: Time step (s).
        batch_size: Samples per simulation batch.
        indices: Subset of Sintel samples.

    Returns:
        The response Dataset.
    """
    from flyvis.datasets.sintel import AugmentedSintel

    if dataset is None and indices is None and not sintel_available():
        dataset = photo_flow_naturalistic_dataset(dt)
    config = dict(
        tasks=["lum"],
        interpolate=False,
        boxfilter=dict(extent=15, kernel_size=13),
        temporal_split=True,
        dt=dt,
        indices=None if indices is None else list(indices),
    )
    return generic_responses(
        network_view_or_ensemble, dataset, config, AugmentedSintel, 0.0, 2.0, batch_size
    )


def moving_edge_currents(network_view_or_ensemble: Any, *args, **kwargs):
    """Input currents during moving edges; see :func:`flyvis.analysis.currents.moving_edge_currents`."""
    from flyvis.analysis.currents import moving_edge_currents as _currents

    return _currents(network_view_or_ensemble, *args, **kwargs)


def optimal_stimulus_responses(network_view: Any, *args, **kwargs):
    """Regularised optimal stimulus; see :func:`flyvis.analysis.optimal_stimuli.optimal_stimulus_responses`."""
    from flyvis.analysis.optimal_stimuli import optimal_stimulus_responses as _optimal

    return _optimal(network_view, *args, **kwargs)


def __getattr__(name: str):
    # impulse responses live in flyvis.analysis.impulse_responses (kept importable
    # from here, as in flyvis)
    if name in ("central_impulses_responses", "spatial_impulses_responses"):
        from flyvis.analysis import impulse_responses

        return getattr(impulse_responses, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
