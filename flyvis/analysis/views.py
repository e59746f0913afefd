"""The analysis-layer views: ``NetworkView``, ``Ensemble`` with response analyses.

The core classes :class:`flyvis.network.network_view.NetworkView` and
:class:`flyvis.network.ensemble.Ensemble` load checkpoints, simulate and rank
models; they never import :mod:`flyvis.analysis`. The subclasses here add what
flyvis 1.2.0's views also offer: the cached stimulus-response datasets
(``flash_responses``, ``moving_edge_responses``, ...), ``connectome_view``,
clustering, response norms and task-error colours. ``flyvis.NetworkView``,
``flyvis.Ensemble`` and ``flyvis.network.NetworkView``/``Ensemble`` resolve to
these classes (a lazy re-export at the package level).

Example::

    from flyvis.network import NetworkView     # this module's NetworkView
    view = NetworkView("flow/0000/000")
    edges = view.moving_edge_responses()       # xarray dataset, cached on disk

Source: flyvis 1.2.0 ``flyvis.network`` views (spec ``ensembles.md``).
"""

import importlib
import pickle
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

import numpy as np

from flyvis.network import ensemble as _ensemble
from flyvis.network import network_view as _network_view
from flyvis.utils.names import check_name

__all__ = ["NetworkView", "Ensemble", "TaskError", "RESPONSE_METHODS"]


def _response_forwarder(method: str, module: str = "flyvis.analysis.stimulus_responses"):
    """A method forwarding ``self`` and its arguments to ``module.method``."""

    def forward(self, *args, **kwargs):
        return getattr(importlib.import_module(module), method)(self, *args, **kwargs)

    forward.__name__ = forward.__qualname__ = method
    forward.__doc__ = (
        f"Responses computed by :func:`{module}.{method}` for this view.\n\n"
        f"Args:\n    *args: Passed to ``{method}`` after ``self``.\n"
        f"    **kwargs: Passed to ``{method}``.\n\n"
        f"Returns:\n    What ``{module}.{method}`` returns (an ``xarray`` "
        "dataset of stimuli and responses)."
    )
    return forward


RESPONSE_METHODS = (
    "flash_responses",
    "moving_edge_responses",
    "moving_edge_currents",
    "moving_bar_responses",
    "naturalistic_stimuli_responses",
    "central_impulses_responses",
    "spatial_impulses_responses",
    "optimal_stimulus_responses",
)


@dataclass
class TaskError:
    """Task error of each model and the colours that encode it.

    Attributes:
        values: Minimum validation loss per model ``(n_models,)``.
        colors: RGBA colour per model ``(n_models, 4)`` (best = darkest).
        cmap: The (truncated) colormap.
        norm: ``matplotlib.colors.Normalize`` over the values.
        scalarmappable: ``ScalarMappable(norm, cmap)`` for colourbars.
    """

    values: np.ndarray
    colors: np.ndarray
    cmap: Any
    norm: Any
    scalarmappable: Any


class NetworkView(_network_view.NetworkView):
    """A trained network's view with flyvis 1.2.0's analysis methods.

    Takes the arguments of :class:`flyvis.network.network_view.NetworkView`.
    Adds :attr:`connectome_view` and the cached response methods
    ``flash_responses``, ``moving_edge_responses``, ``moving_edge_currents``,
    ``moving_bar_responses``, ``naturalistic_stimuli_responses``,
    ``central_impulses_responses``, ``spatial_impulses_responses`` and
    ``optimal_stimulus_responses`` (each forwards to the function of the same
    name in :mod:`flyvis.analysis.stimulus_responses` with this view first).
    """

    @property
    def connectome_view(self) -> Any:
        """A :class:`~flyvis.analysis.visualization.connectome_view.ConnectomeView` of the connectome."""
        view = self.__dict__.get("_connectome_view")
        if view is None:
            from flyvis.analysis.visualization.connectome_view import ConnectomeView

            view = self._connectome_view = ConnectomeView(self.connectome)
        return view


for _method in RESPONSE_METHODS:
    setattr(NetworkView, _method, _response_forwarder(_method))


class _EnsembleAnalysisMixin:
    """Clustering and response norms over all models of an ensemble."""

    def clustering(self, cell_type: str) -> Any:
        """UMAP + Gaussian-mixture clustering of the models for one cell type.

        Loads ``<ensemble>/umap_and_clustering/<cell_type>.pickle`` if present,
        else computes it (slow, not stored) with
        :func:`flyvis.analysis.clustering.compute_umap_and_clustering`.

        Args:
            cell_type: A cell type of the connectome, e.g. ``"T4c"``.

        Returns:
            A ``GaussianMixtureClustering`` (``.labels``, ``.embedding.mask``).

        Raises:
            ValueError: Inside ``ratio``/``select_items`` contexts, or for an
                unknown cell type (close matches suggested).
        """
        if self.in_context:
            raise ValueError("clustering is not available in context")
        if self.names != self._directory_order():
            # a stored clustering lists its models in directory order
            raise ValueError(
                "clustering needs the models in directory order (as loaded); this "
                "ensemble is sorted or a subset: use a freshly loaded Ensemble."
            )
        cell_type = check_name(cell_type, self.cell_types)
        path = self.dir.path / "umap_and_clustering" / f"{cell_type}.pickle"
        if path.is_file():
            with open(path, "rb") as f:
                return pickle.load(f)
        from flyvis.analysis.clustering import compute_umap_and_clustering

        return compute_umap_and_clustering(self, cell_type)

    def _directory_order(self) -> list:
        """Names of the loaded models in directory order (the order of loading)."""
        return sorted(dict.keys(self), key=lambda name: name.rsplit("/", 1)[-1])

    def cluster_indices(self, cell_type: str) -> Dict[int, np.ndarray]:
        """Cluster id -> model positions, cluster 0 having the lowest mean task error.

        Models masked out of the embedding are omitted.

        Args:
            cell_type: A cell type of the connectome.

        Returns:
            Dict cluster id -> sorted array of model positions in the ensemble.

        Raises:
            ValueError: ``"stored clustering does not match ensemble"`` if the
                number of clustered models differs from the embedding mask or
                exceeds the ensemble size; or an unknown cell type.
        """
        from flyvis.analysis.clustering import get_cluster_to_indices

        clustering = self.clustering(cell_type)
        labels = np.asarray(clustering.labels).reshape(-1)
        embedding = getattr(clustering, "embedding", None)
        mask = getattr(embedding, "mask", None)
        mask = np.ones(len(labels), bool) if mask is None else np.asarray(mask, bool)
        # one label per clustered model (masked-out models carry INVALID_INT)
        if len(mask) != len(labels) or len(mask) > len(self):
            raise ValueError("stored clustering does not match ensemble")
        errors = self.min_validation_losses()[: len(mask)]
        return get_cluster_to_indices(mask, labels, errors)

    def responses_norm(
        self,
        rectified: bool = False,
        force_recompute: bool = False,
        store: bool = True,
        **kwargs,
    ) -> np.ndarray:
        """Per-model, per-cell-type response normalisation constants.

        Forwards to :func:`flyvis.analysis.response_norms.response_norms`
        (``**kwargs`` too, e.g. ``dataset=`` for the naturalistic movies).

        Returns:
            ``(n_models, 1, 1, n_cell_types)`` array.
        """
        from flyvis.analysis.response_norms import response_norms

        return response_norms(
            self,
            rectified=rectified,
            force_recompute=force_recompute,
            store=store,
            **kwargs,
        )


class Ensemble(_EnsembleAnalysisMixin, _ensemble.Ensemble):
    """An ensemble of :class:`NetworkView` objects with analyses and colours.

    Takes the arguments of :class:`flyvis.network.ensemble.Ensemble`. Adds
    :meth:`task_error` (values and colours), :meth:`clustering`,
    :meth:`cluster_indices`, :meth:`responses_norm` and the cached response
    methods of :class:`NetworkView` (over all models, stacked along
    ``sample``), except ``optimal_stimulus_responses``.
    """

    view_class = NetworkView

    def task_error(
        self,
        cmap: Any = "Blues_r",
        truncate: Optional[Mapping[str, Any]] = None,
        vmin: Optional[float] = None,
        vmax: Optional[float] = None,
    ) -> TaskError:
        """Task error per model and colours encoding it (best = darkest).

        Args:
            cmap: Colormap (name or object).
            truncate: ``truncate_colormap`` arguments (default ``{"minval": 0.0,
                "maxval": 0.9, "n": 256}``, so the worst model is not white).
            vmin: Lower limit of the norm (default: minimum task error).
            vmax: Upper limit of the norm (default: maximum task error).

        Returns:
            A :class:`TaskError`.
        """
        from flyvis.analysis.visualization.color_utils import get_cmap, truncate_colormap
        from flyvis.analysis.visualization.plt_utils import get_norm, get_scalarmapper

        values = self.min_validation_losses()
        cmap = truncate_colormap(
            get_cmap(cmap), **(truncate or {"minval": 0.0, "maxval": 0.9, "n": 256})
        )
        norm = get_norm(
            vmin=vmin if vmin is not None else np.nanmin(values),
            vmax=vmax if vmax is not None else np.nanmax(values),
        )
        scalarmappable, norm = get_scalarmapper(cmap=cmap, norm=norm)
        colors = scalarmappable.to_rgba(values)
        return TaskError(values, colors, cmap, norm, scalarmappable)


for _method in RESPONSE_METHODS:
    if _method != "optimal_stimulus_responses":
        setattr(Ensemble, _method, _response_forwarder(_method))
del _method
