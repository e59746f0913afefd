"""``EnsembleView``: an :class:`~flyvis.analysis.views.Ensemble` with plotting methods.

matplotlib is imported inside the plotting methods only.

Example::

    ensemble = EnsembleView("flow/0000")
    fig, ax = ensemble.training_loss()
    fig, axes = ensemble.node_parameters("bias")

``flyvis.EnsembleView`` and ``flyvis.network.EnsembleView`` resolve to this
class (flyvis 1.2.0 keeps it in ``flyvis.network.ensemble_view``; the core
package ``flyvis.network`` never imports the analysis layer).

Source: flyvis 1.2.0 ``flyvis.network.ensemble_view`` (spec ``ensembles.md`` §4).
"""

from typing import Any, List, Optional, Sequence

import numpy as np

from flyvis.analysis.views import Ensemble
from flyvis.utils.names import check_name, check_names

__all__ = ["EnsembleView"]


class EnsembleView(Ensemble):
    """An ensemble with plots of losses, task errors and parameters.

    Args:
        path: As for :class:`Ensemble`, or an existing ``Ensemble`` (its views
            and options are reused).
        *args: Passed to :class:`Ensemble`.
        **kwargs: Passed to :class:`Ensemble`.
    """

    def __init__(self, path: Any, *args: Any, **kwargs: Any):
        if isinstance(path, Ensemble) and not args and not kwargs:
            self.__dict__.update(path._subset(path.names).__dict__)
            dict.__init__(self)
            for name, view in zip(path.names, path.values()):
                dict.__setitem__(self, name, view)
            return
        if isinstance(path, Ensemble):
            init = {**path._init_args, **kwargs}
            super().__init__(init.pop("path"), *args, **init)
            return
        super().__init__(path, *args, **kwargs)

    def training_loss(self, **kwargs: Any):
        """Training loss curves of all models, coloured by task error.

        Args:
            **kwargs: Passed to ``plots.loss_curves`` (e.g. ``smooth``, ``fig``, ``ax``).

        Returns:
            ``(fig, ax)``.
        """
        from flyvis.analysis.visualization import plots
        from flyvis.utils.chkpt_utils import read_h5

        task_error = self.task_error()
        losses = []
        for view in self.values():
            path = view.dir.path / "loss.h5"
            losses.append(read_h5(path) if path.is_file() else np.array([np.nan]))
        kwargs.setdefault("cbar", True)
        return plots.loss_curves(
            losses,
            colors=kwargs.pop("colors", task_error.colors),
            cmap=kwargs.pop("cmap", task_error.cmap),
            norm=kwargs.pop("norm", task_error.norm),
            xlabel=kwargs.pop("xlabel", "iterations"),
            ylabel=kwargs.pop("ylabel", "training loss"),
            **kwargs,
        )

    def validation_loss(
        self,
        validation_subdir: Optional[str] = None,
        loss_file_name: Optional[str] = None,
        **kwargs: Any,
    ):
        """Validation loss per checkpoint of all models, coloured by task error.

        Args:
            validation_subdir: Validation folder (default ``"validation"``).
            loss_file_name: Loss file (default ``"epe"``).
            **kwargs: Passed to ``plots.loss_curves``.

        Returns:
            ``(fig, ax)``.
        """
        from flyvis.analysis.visualization import plots

        task_error = self.task_error()
        losses = self.validation_losses(validation_subdir, loss_file_name)
        kwargs.setdefault("cbar", True)
        kwargs.setdefault("smooth", 0)
        return plots.loss_curves(
            list(losses),
            colors=kwargs.pop("colors", task_error.colors),
            cmap=kwargs.pop("cmap", task_error.cmap),
            norm=kwargs.pop("norm", task_error.norm),
            xlabel=kwargs.pop("xlabel", "checkpoints"),
            ylabel=kwargs.pop("ylabel", "validation loss"),
            **kwargs,
        )

    def task_error_histogram(self, **kwargs: Any):
        """Histogram of the task errors (one bin per model).

        Args:
            **kwargs: Passed to ``plots.histogram``.

        Returns:
            ``(fig, ax)``.
        """
        from flyvis.analysis.visualization import plots

        return plots.histogram(
            self.min_validation_losses(),
            xlabel=kwargs.pop("xlabel", "task error"),
            ylabel=kwargs.pop("ylabel", "number models"),
            **kwargs,
        )

    def _parameter(self, table: str, key: str) -> tuple:
        params = self.parameters()
        valid = [k.split("_", 1)[1] for k in params if k.startswith(f"{table}_")]
        key = check_name(key, valid, what=f"{table[:-1]} parameter")
        return params[f"{table}_{key}"], self.parameter_keys()[f"{table}_{key}"]

    def node_parameters(self, key: str, max_per_ax: int = 34, **kwargs: Any):
        """Violins of a node parameter per cell type across models.

        Args:
            key: Parameter name, e.g. ``"bias"`` or ``"time_const"``.
            max_per_ax: Cell types per axis.
            **kwargs: Passed to ``plots.violins``.

        Returns:
            ``(fig, axes)``.

        Raises:
            ValueError: For an unknown parameter name (close matches suggested).
        """
        from flyvis.analysis.visualization import plots

        values, keys = self._parameter("nodes", key)
        return plots.violins(
            [str(k) for k in keys],
            _by_variable(values),
            ylabel=kwargs.pop("ylabel", key),
            max_per_ax=max_per_ax,
            **kwargs,
        )

    def edge_parameters(self, key: str, max_per_ax: int = 120, **kwargs: Any):
        """Violins of an edge parameter per ``source->target`` pair across models.

        Args:
            key: Parameter name, e.g. ``"syn_strength"``.
            max_per_ax: Pairs per axis.
            **kwargs: Passed to ``plots.violins``.

        Returns:
            ``(fig, axes)``.

        Raises:
            ValueError: For an unknown parameter name (close matches suggested).
        """
        from flyvis.analysis.visualization import plots

        values, keys = self._parameter("edges", key)
        names = [
            "->".join(str(p) for p in k[:2]) if isinstance(k, tuple) else str(k)
            for k in keys
        ]
        return plots.violins(
            names,
            _by_variable(values),
            ylabel=kwargs.pop("ylabel", key),
            max_per_ax=max_per_ax,
            **kwargs,
        )

    def dead_or_alive(self, **kwargs: Any):
        """Heatmap (models x cell types) of cells never depolarised above 0.

        Uses ``naturalistic_stimuli_responses()`` (slow: all models, all
        sequences).

        Args:
            **kwargs: Passed to ``plots.heatmap_uniform``/``heatmap``.

        Returns:
            ``(fig, ax, cbar, matrix)``; ``matrix`` is ``(n_models, n_cell_types)``
            with 1 where the cell type stays <= 0.
        """
        from flyvis.analysis.visualization import plots

        responses = self.naturalistic_stimuli_responses()["responses"]
        values = np.asarray(responses.values)
        cell_types = [str(c) for c in responses["cell_type"].values]
        # (models, samples, frames, cells) -> dead per model and cell
        dead = (values < 0).all(axis=tuple(range(1, values.ndim - 1))).astype(float)
        types = self.cell_types
        matrix = np.stack(
            [
                dead[:, [i for i, c in enumerate(cell_types) if c == t]].max(axis=1)
                for t in types
            ],
            axis=1,
        )
        out = plots.heatmap(
            matrix, types, ylabels=list(self.names), cbar_label="dead", **kwargs
        )
        fig, ax, cbar = (tuple(out) + (None,))[:3]
        return fig, ax, cbar, matrix

    def flash_response_index(self, cell_types: Optional[Sequence[str]] = None, **kwargs):
        """Flash response indices (radius 6) per cell type as violins.

        Args:
            cell_types: Cell types to show, in this order (default: all).
            **kwargs: Passed to ``flyvis.analysis.flash_responses.plot_fris``.

        Returns:
            What ``plot_fris`` returns (``(fig, ax)``).

        Raises:
            ValueError: For unknown cell types (close matches suggested).
        """
        from flyvis.analysis import flash_responses as fr
        from flyvis.analysis.visualization.color_utils import get_cmap

        fris = fr.flash_response_index(self.flash_responses(), radius=6)
        types = self._cell_type_order(cell_types)
        neuron_types = [str(t) for t in fris["cell_type"].values]
        index = [neuron_types.index(t) for t in types]
        values = np.asarray(fris.values).reshape(len(self), -1)[
            :, index
        ]  # (models, types)
        best = int(np.argmin(self.min_validation_losses()))
        kwargs.setdefault("scatter_best_index", best)
        kwargs.setdefault("scatter_best_color", get_cmap("Blues")(1.0))
        if cell_types is not None:
            kwargs.setdefault("sorted_type_list", list(types))  # requested order
        return fr.plot_fris(_by_variable(values), types, **kwargs)

    def direction_selectivity_index(self, **kwargs: Any):
        """Direction selectivity indices of ON and OFF edges as violin pairs.

        Args:
            **kwargs: Passed to ``dsi_violins_on_and_off``.

        Returns:
            What ``dsi_violins_on_and_off`` returns.
        """
        from flyvis.analysis import moving_bar_responses as mb
        from flyvis.analysis.visualization.color_utils import get_cmap

        dsis = mb.direction_selectivity_index(self.moving_edge_responses())
        kwargs.setdefault("figsize", [10, 1.2])
        kwargs.setdefault("fontsize", 6)
        kwargs.setdefault(
            "scatter_best_index", int(np.argmin(self.min_validation_losses()))
        )
        kwargs.setdefault("scatter_best_color", get_cmap("Blues")(1.0))
        return mb.dsi_violins_on_and_off(dsis, self.cell_types, **kwargs)

    def _cell_type_order(self, cell_types: Optional[Sequence[str]]) -> List[str]:
        if cell_types is None:
            return self.cell_types
        return check_names(cell_types, self.cell_types)


def _by_variable(values) -> np.ndarray:
    """``(n_models, n_variables)`` -> ``(n_variables, 1, n_models)``.

    The plotting functions also accept 2-D input, but must then guess its
    orientation, which is ambiguous when there are as many models as variables.
    """
    return np.asarray(values).T[:, None, :]
