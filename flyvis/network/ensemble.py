"""``Ensemble``: a dict of :class:`NetworkView` objects for the models of an ensemble.

An ensemble is a results directory ``<results_dir>/<task>/<ensemble:04d>`` with
one ``NetworkDir`` per model (``000``, ``001``, ...), as written by
:class:`flyvis.solver.MultiTaskSolver` or by flyvis 1.2.0. ``Ensemble`` loads
the views, ranks the models by task error (minimum validation loss) and
simulates, decodes and analyses all models.

Example::

    ensemble = Ensemble("flow/0000")
    best = ensemble[ensemble.argsort()[:10]]          # sub-ensemble of the 10 best
    responses = np.array(list(ensemble.simulate(movie, dt=1 / 100)))

Source: flyvis 1.2.0 ``flyvis.network.ensemble`` (spec ``ensembles.md`` §3).
"""

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, List, Mapping, Optional

import numpy as np
from cachetools import FIFOCache

from flyvis.network.directories import EnsembleDir, NetworkDir, resolve_results_path
from flyvis.network.ensemble_mixins import SimulationMixin
from flyvis.network.network_view import NetworkView, default_connectome_getter
from flyvis.utils.chkpt_utils import (
    best_checkpoint_default_fn,
    check_loss_name,
    read_h5,
    recover_network,
    resolve_checkpoints,
)
from flyvis.utils.names import check_name

__all__ = ["Ensemble", "model_paths"]

logger = logging.getLogger(__name__)


def _is_model_dir(path: Path) -> bool:
    return path.is_dir() and path.name.isdigit()


def model_paths(path: Path) -> List[Path]:
    """The model directories of an ensemble directory (numeric names, sorted).

    Args:
        path: The ensemble directory.

    Returns:
        Sorted model directory paths.

    Raises:
        FileNotFoundError: If ``path`` is not a directory.
        ValueError: If it holds no numeric model directory.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"Ensemble directory not found at {path}.")
    paths = sorted((p for p in path.iterdir() if _is_model_dir(p)), key=lambda p: p.name)
    if not paths:
        raise ValueError(
            f"No model directories (numeric names like '000') in {path}: "
            "expected a trained ensemble <results>/<task>/<ensemble>/<model>."
        )
    return paths


def _resolve(path: Any, root_dir: Optional[Path]) -> List[Path]:
    """Model paths for each accepted ``path`` type (spec §3.1).

    Relative names are joined to ``root_dir``; without one they are looked up in
    the results directory and then among the shipped models
    (:func:`~flyvis.network.directories.resolve_results_path`).
    """

    def join(relative: Any) -> Path:
        if Path(relative).is_absolute():
            return Path(relative)
        if root_dir is not None:
            return root_dir / relative
        return resolve_results_path(relative)

    if isinstance(path, EnsembleDir):
        return model_paths(path.path)
    if isinstance(path, os.PathLike) and not isinstance(path, (str, bytes)):
        path = Path(path)
        return model_paths(join(path))
    if isinstance(path, str):
        return model_paths(join(path))
    if isinstance(path, Iterable) and not isinstance(path, (bytes, Mapping)):
        paths: List[Path] = []
        for elem in path:
            if isinstance(elem, np.str_):
                elem = str(elem)
            if isinstance(elem, str) and len(Path(elem).parts) == 3:
                paths.append(join(elem))
            elif isinstance(elem, str) and len(Path(elem).parts) == 2:
                paths.extend(model_paths(join(elem)))
            elif isinstance(elem, Path):
                paths.append(elem)
            else:
                raise ValueError(
                    f"Unsupported ensemble element {elem!r}: expected 'task/ensemble/model', "
                    "'task/ensemble' or a Path."
                )
        if not paths:
            raise ValueError("Empty iterable of models: an ensemble needs at least one.")
        if len({p.parent for p in paths}) > 1:
            raise NotImplementedError("Multiple ensemble paths found")
        return paths
    raise TypeError(f"Unsupported path type: {type(path)}")


def _check_model_dir(path: Path, validation_subdir: str, loss_file_name: str) -> None:
    """Raises a clear error for a model directory that cannot be used."""
    if not (path / "_meta.yaml").is_file():
        raise ValueError(f"NetworkDir not found at {path} (no _meta.yaml).")
    if not resolve_checkpoints(path).paths:
        raise ValueError(
            f"Model directory {path} has no checkpoints (expected chkpts/chkpt_00000 "
            "...): training did not run or was interrupted before the first checkpoint."
        )
    folder = path / validation_subdir
    if not folder.is_dir() or not any(
        (folder / f"{n}.h5").is_file() for n in (loss_file_name, "loss")
    ):
        raise ValueError(
            f"Model directory {path} has no validation losses "
            f"({validation_subdir}/{loss_file_name}.h5 or {validation_subdir}/loss.h5): "
            "the models cannot be ranked and no best checkpoint can be selected."
        )


class Ensemble(SimulationMixin, dict):
    """A dictionary of :class:`NetworkView` objects, one per model of an ensemble.

    Args:
        path: ``"task/ensemble"`` (relative to ``root_dir``), a ``Path``, an
            ``EnsembleDir`` or an iterable of ``"task/ensemble/model"`` names,
            ``"task/ensemble"`` names or ``Path`` objects (one parent only).
        network_class: Network class (default ``flyvis.network.Network``).
        root_dir: Results directory relative names are resolved against
            (default: the flyvis results directory at call time, then the
            ensemble shipped with the package, e.g. ``"flow/0000"``).
        connectome_getter: ``getter(connectome_config)`` -> connectome.
        checkpoint_mapper: ``mapper(network_dir)`` -> ``Checkpoints``.
        best_checkpoint_fn: ``fn(path, **kwargs)`` -> best checkpoint path.
        best_checkpoint_fn_kwargs: Default ``{"validation_subdir": "validation",
            "loss_file_name": "epe"}``.
        recover_fn: ``fn(network, checkpoint)`` loading network parameters.
        try_sort: Sort the models by task error after loading.
        device: Device of networks and decoders (default ``flyvis.device``).

    Attributes:
        names: Model names ``"task/ensemble/model"`` in the current order.
        name: The ensemble name(s) ``"task/ensemble"``.
        dir: The ``EnsembleDir``.
        model_index: Positions of the current models in the loaded ensemble.
        connectome: The first model's connectome.

    Raises:
        FileNotFoundError: If the ensemble directory does not exist.
        ValueError: For an empty ensemble directory or a model directory
            without ``_meta.yaml``, checkpoints or validation losses.
        TypeError: For an unsupported ``path`` type.

    Loading reads only small files: nothing is written to disk.

    This core class simulates, decodes and ranks models; the ensemble users get
    from ``flyvis.Ensemble``/``flyvis.network.Ensemble`` is
    :class:`flyvis.analysis.views.Ensemble`, which adds the cached response
    analyses, clustering and task-error colours.
    """

    #: Class of the per-model views (the analysis layer's subclass uses its own).
    view_class = NetworkView

    def __init__(
        self,
        path: Any,
        network_class: Any = None,
        root_dir: Optional[Any] = None,
        connectome_getter: Callable = default_connectome_getter,
        checkpoint_mapper: Callable = resolve_checkpoints,
        best_checkpoint_fn: Callable = best_checkpoint_default_fn,
        best_checkpoint_fn_kwargs: Optional[Mapping[str, Any]] = None,
        recover_fn: Callable = recover_network,
        try_sort: bool = False,
        device: Any = None,
    ):
        super().__init__()
        root = Path(root_dir) if root_dir is not None else None
        kwargs = dict(
            network_class=network_class,
            root_dir=root_dir,
            connectome_getter=connectome_getter,
            checkpoint_mapper=checkpoint_mapper,
            best_checkpoint_fn=best_checkpoint_fn,
            best_checkpoint_fn_kwargs=dict(
                best_checkpoint_fn_kwargs
                if best_checkpoint_fn_kwargs is not None
                else {"validation_subdir": "validation", "loss_file_name": "epe"}
            ),
            recover_fn=recover_fn,
            device=device,
        )
        paths = _resolve(path, root)
        self._init_args = dict(path=path, try_sort=try_sort, **kwargs)
        self._view_kwargs = {k: v for k, v in kwargs.items() if k != "root_dir"}
        bkw = self._view_kwargs["best_checkpoint_fn_kwargs"]
        for p in paths:  # validate everything before building any view
            _check_model_dir(
                p,
                bkw.get("validation_subdir", "validation"),
                bkw.get("loss_file_name", "epe"),
            )
        self._load([(p, None) for p in paths])
        self.dir = EnsembleDir(paths[0].parent)
        if try_sort:
            self.sort()

    # ------------------------------------------------------------- loading
    def _load(self, items: List[Any]) -> None:
        """Stores views for ``(path, view_or_None)`` items; sets the bookkeeping."""
        from tqdm.auto import tqdm

        self._broken: List[str] = []
        names: List[str] = []
        previous = logging.root.manager.disable
        logging.disable(logging.INFO)
        try:
            fresh = any(view is None for _, view in items)
            for p, view in tqdm(items, desc="Loading ensemble", disable=not fresh):
                try:
                    view = view or self.view_class(NetworkDir(p), **self._view_kwargs)
                except AttributeError as error:
                    logger.warning("Skipping %s: %s", p, error)
                    self._broken.append(str(p))
                    continue
                dict.__setitem__(self, view.name, view)
                names.append(view.name)
        finally:
            logging.disable(previous)
        if not names:
            raise ValueError("No model of the ensemble could be loaded.")
        self.names = names
        self.model_index = np.arange(len(names))
        self.name = ", ".join(dict.fromkeys("/".join(n.split("/")[:2]) for n in names))
        logger.info("Loaded %s networks.", len(names))
        self.cache = FIFOCache(maxsize=3)
        self.in_context = False

    @property
    def connectome(self) -> Any:
        """The connectome of the first model."""
        return dict.__getitem__(self, self.names[0]).connectome

    @property
    def cell_types(self) -> List[str]:
        """The unique cell types of the connectome (``str``)."""
        return dict.__getitem__(self, self.names[0]).cell_types

    def _subset(self, names: Iterable[str]) -> "Ensemble":
        """A new ensemble of the given models, sharing views and options."""
        new = type(self).__new__(type(self))
        dict.__init__(new)
        # absolute model directories: a sub-ensemble can be rebuilt (e.g.
        # EnsembleView(sub)) wherever its models live and whatever results_dir is
        paths = [Path(dict.__getitem__(self, n).dir.path) for n in names]
        new._init_args = dict(self._init_args, path=paths)
        new._view_kwargs = self._view_kwargs
        new._load([(None, dict.__getitem__(self, n)) for n in names])
        new.dir = self.dir
        return new

    # ------------------------------------------------- dict / sequence API
    def __getitem__(self, key: Any) -> Any:
        """A view (int or name) or a sub-ensemble (slice, list or array).

        Sub-ensembles keep this ensemble's options (checkpoint selection,
        device, ...) and share its views.

        Raises:
            ValueError: For an unknown name (close matches suggested) or an
                unsupported key.
            IndexError: For an int out of range.
        """
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return dict.__getitem__(self, self.names[key])
        if isinstance(key, slice):
            return self._subset(self.names[key])
        if isinstance(key, (list, tuple, np.ndarray)):
            array = np.asarray(key)
            if array.dtype.kind in "US":
                return self._subset([check_name(k, self.names, "model") for k in array])
            if array.dtype != bool and array.dtype.kind not in "iu":
                raise ValueError(
                    f"index array must be integer, boolean or names: {key!r}"
                )
            return self._subset(np.array(self.names)[array].tolist())
        if isinstance(key, str):
            return dict.__getitem__(self, check_name(key, self.names, "model"))
        raise ValueError(key)

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __contains__(self, key: object) -> bool:
        return key in self.names

    def keys(self) -> List[str]:
        """The model names in the current order."""
        return list(self.names)

    def values(self) -> List[NetworkView]:
        """The views in the current order."""
        return [dict.__getitem__(self, n) for n in self.names]

    def items(self) -> Iterator:
        """``(name, view)`` pairs in the current order."""
        return iter([(n, dict.__getitem__(self, n)) for n in self.names])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dir.path})"

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self.names))

    # ------------------------------------------- validation losses, ranking
    def validation_file(
        self,
        validation_subdir: Optional[str] = None,
        loss_file_name: Optional[str] = None,
    ) -> tuple:
        """``(validation_subdir, loss_file_name)`` with the first model's defaults."""
        kw = dict.__getitem__(self, self.names[0]).best_checkpoint_fn_kwargs
        return (
            validation_subdir or kw.get("validation_subdir", "validation"),
            loss_file_name or kw.get("loss_file_name", "epe"),
        )

    def validation_losses(
        self, subdir: Optional[str] = None, file: Optional[str] = None
    ) -> np.ndarray:
        """Validation losses of all models, one value per checkpoint.

        Falls back to ``loss.h5`` (with a one-time warning) if ``file`` is missing.

        Args:
            subdir: Validation folder (default ``"validation"``).
            file: Loss file name without ``.h5`` (default ``"epe"``).

        Returns:
            ``(n_models, n_checkpoints)`` (NaN-padded if the counts differ).

        Raises:
            FileNotFoundError: Naming the model whose file is missing.
        """
        subdir, file = self.validation_file(subdir, file)
        key = ("validation_losses", subdir, file, tuple(self.names))
        if key not in self.cache:
            losses = []
            for view in self.values():
                folder = view.dir.path / subdir
                path = folder / f"{check_loss_name(folder, file)}.h5"
                if not path.is_file():
                    raise FileNotFoundError(f"{view.name}: no validation file {path}")
                losses.append(np.atleast_1d(read_h5(path).astype(float)).reshape(-1))
            out = np.full((len(losses), max(len(v) for v in losses)), np.nan)
            for i, v in enumerate(losses):
                out[i, : len(v)] = v
            self.cache[key] = out
        return self.cache[key].copy()

    def min_validation_losses(
        self, subdir: Optional[str] = None, file: Optional[str] = None
    ) -> np.ndarray:
        """Task error of each model: its minimum validation loss, ``(n_models,)``."""
        losses = self.validation_losses(subdir, file)
        return losses if losses.ndim == 1 else np.nanmin(losses, axis=1)

    def sort(
        self,
        validation_subdir: Optional[str] = None,
        loss_file_name: Optional[str] = None,
    ) -> None:
        """Sorts ``names`` by task error, best first (errors are logged)."""
        try:
            order = self.argsort(validation_subdir, loss_file_name)
            self.names = list(np.array(self.names)[order])
            self.model_index = self.model_index[order]
        except Exception as error:  # noqa: BLE001 - spec: logged, not raised
            logger.warning("Could not sort the ensemble: %s", error)

    def argsort(
        self,
        validation_subdir: Optional[str] = None,
        loss_file_name: Optional[str] = None,
    ) -> np.ndarray:
        """Indices that sort the models by task error (best first)."""
        return np.argsort(
            self.min_validation_losses(validation_subdir, loss_file_name), kind="stable"
        )

    def zorder(
        self,
        validation_subdir: Optional[str] = None,
        loss_file_name: Optional[str] = None,
    ) -> np.ndarray:
        """Plot z-order per model: ``len`` for the best model, 1 for the worst."""
        return len(self) - self.argsort(validation_subdir, loss_file_name).argsort()

    @contextmanager
    def _restore(self):
        state = (list(self.names), self.model_index.copy(), self.in_context)
        try:
            yield
        finally:
            self.names, self.model_index, self.in_context = state

    @contextmanager
    def rank_by_validation_error(self, reverse: bool = False):
        """Context: models sorted by task error (worst first if ``reverse``)."""
        with self._restore():
            order = self.argsort()
            order = order[::-1] if reverse else order
            self.names = list(np.array(self.names)[order])
            self.model_index = self.model_index[order]
            yield

    @contextmanager
    def ratio(self, best: Optional[float] = None, worst: Optional[float] = None):
        """Context: keep the best ``best`` and/or worst ``worst`` fraction of models.

        Args:
            best: Fraction in [0, 1] of the best models to keep.
            worst: Fraction in [0, 1] of the worst models to keep.

        Raises:
            ValueError: If ``best + worst > 1`` or a fraction is outside [0, 1].
        """
        for value in (best, worst):
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"ratio fractions must lie in [0, 1], got {value}.")
        if (best or 0) + (worst or 0) > 1:
            raise ValueError(f"best + worst must be <= 1, got {best} + {worst}.")
        with self._restore():
            order = self.argsort()
            n = len(order)
            keep = []
            if best is not None:
                keep.extend(order[: int(best * n)])
            if worst is not None and int(worst * n) > 0:
                keep.extend(order[-int(worst * n) :])
            if best is None and worst is None:
                keep = list(range(n))
            keep = np.asarray(keep, dtype=int)
            if n and not len(keep):
                raise ValueError(
                    f"ratio(best={best}, worst={worst}) keeps no model of {n}; "
                    f"fractions must reach at least 1/{n}."
                )
            self.names = list(np.array(self.names)[keep])
            self.model_index = self.model_index[keep]
            self.in_context = True
            yield

    @contextmanager
    def select_items(self, indices: Any = None):
        """Context: keep the models given by int, slice, ints or names (None: all)."""
        if indices is None:
            yield
            return
        with self._restore():
            if isinstance(indices, (int, np.integer)):
                positions = np.array([indices])
            elif isinstance(indices, slice):
                positions = np.arange(len(self))[indices]
            else:
                array = np.asarray(indices)
                if array.dtype.kind in "US":
                    positions = np.array(
                        [
                            self.names.index(check_name(k, self.names, "model"))
                            for k in array
                        ]
                    )
                else:
                    positions = np.arange(len(self))[array]
            self.names = list(np.array(self.names)[positions])
            self.model_index = self.model_index[positions]
            self.in_context = True
            yield

    def _clear_cache(self) -> None:
        """Empties the in-memory cache (a plain dict afterwards)."""
        self.cache = {}

    def _clear_memory(self) -> None:
        """Clears every model's joblib disk cache."""
        for view in self.values():
            view._clear_memory()
