"""Receptive- and projective-field plots of ``ConnectomeView`` (a mixin).

Kernels are drawn with :func:`~flyvis.analysis.visualization.plots.kernel`:
receptive fields from the target's point of view at offsets ``(-du, -dv)``,
projective fields at ``(du, dv)``; weight = ``sign * n_syn``; the colour range
is shared across all partners of the cell and includes 0.

Source: ``spec/connectome.md`` §7.
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from flyvis.analysis.visualization import plt_utils
from flyvis.analysis.visualization.connectome_fields import (
    ProjectiveFields,
    ReceptiveFields,
)
from flyvis.analysis.visualization.hex_plots import SignError, kernel
from flyvis.utils.nodes_edges_utils import unknown_type_error

__all__ = ["FieldPlotsMixin"]


class FieldPlotsMixin:
    """Receptive/projective field plots and grids of ``ConnectomeView``.

    Relies on ``_check``, ``cell_types_sorted``, ``receptive_fields_df`` and
    ``projective_fields_df`` of the host class.
    """

    # -- receptive / projective fields ---------------------------------------------

    @staticmethod
    def _weights(df: pd.DataFrame) -> np.ndarray:
        return (df.sign.to_numpy() * df.n_syn.to_numpy()).astype(float)

    def _field_plot(self, fields, partner, flip, max_extent, vmin, vmax, title, **kwargs):
        if partner not in fields:
            valid = list(fields.keys())
            raise unknown_type_error(partner, valid, what="connected cell type")
        weights = {p: self._weights(df) for p, df in fields.items()}
        all_w = np.concatenate(list(weights.values()) + [np.zeros(1)])
        vmin = np.min(all_w) if vmin is None else vmin
        vmax = np.max(all_w) if vmax is None else vmax
        df = fields[partner]
        sign = -1 if flip else 1
        u, v = sign * df.du.to_numpy(), sign * df.dv.to_numpy()
        max_extent = max_extent if max_extent is not None else fields.max_extent
        kwargs.setdefault("annotate", False)
        kwargs.setdefault("fill", True)
        fig, ax, _ = kernel(
            u,
            v,
            weights[partner],
            max_extent=max_extent,
            vmin=vmin,
            vmax=vmax,
            title=title,
            **kwargs,
        )
        return fig

    def receptive_field(
        self,
        source: str = "Mi9",
        target: str = "T4a",
        rfs: ReceptiveFields | None = None,
        max_extent: int | None = None,
        vmin: float | None = None,
        vmax: float | None = None,
        title: str = "{source} :→ {target}",
        **kwargs,
    ) -> Figure:
        """Receptive field of ``target`` from ``source`` at offsets ``(-du, -dv)``.

        The colour range is shared across all sources of the target and
        includes 0.

        Args:
            source: Presynaptic type.
            target: Postsynaptic type.
            rfs: Precomputed ``receptive_fields_df(target)``.
            max_extent: Plot extent (default: the largest receptive field's).
            vmin: Lower colour limit.
            vmax: Upper colour limit.
            title: Title, formatted with ``source`` and ``target``.
            **kwargs: Passed to :func:`~flyvis.analysis.visualization.plots.kernel`.

        Returns:
            The figure.

        Raises:
            ValueError: For unknown types or an unconnected pair.
        """
        source, target = self._check(source), self._check(target)
        rfs = rfs or self.receptive_fields_df(target)
        return self._field_plot(
            rfs,
            source,
            True,
            max_extent,
            vmin,
            vmax,
            title.format(source=source, target=target),
            **kwargs,
        )

    def projective_field(
        self,
        source: str = "Mi9",
        target: str = "T4a",
        title: str = "{source} →: {target}",
        prfs: ProjectiveFields | None = None,
        max_extent: int | None = None,
        vmin: float | None = None,
        vmax: float | None = None,
        **kwargs,
    ) -> Figure:
        """Projective field of ``source`` onto ``target`` at offsets ``(du, dv)``.

        Args:
            source: Presynaptic type.
            target: Postsynaptic type.
            title: Title, formatted with ``source`` and ``target``.
            prfs: Precomputed ``projective_fields_df(source)``.
            max_extent: Plot extent (default: the largest projective field's).
            vmin: Lower colour limit.
            vmax: Upper colour limit.
            **kwargs: Passed to :func:`~flyvis.analysis.visualization.plots.kernel`.

        Returns:
            The figure.
        """
        source, target = self._check(source), self._check(target)
        prfs = prfs or self.projective_fields_df(source)
        return self._field_plot(
            prfs,
            target,
            False,
            max_extent,
            vmin,
            vmax,
            title.format(source=source, target=target),
            **kwargs,
        )

    def _fields_grid(
        self, fields, partners, plot, titles, fig, axes, ignore_sign_error, kwargs
    ):
        if axes is None:
            fig, axes, _ = plt_utils.get_axis_grid(
                partners, scale=1.2, fontsize=5, alpha=0, hspace=0.6
            )
        for partner, ax in zip(partners, axes):
            try:
                plot(partner, fig=fig, ax=ax, title=titles(partner), **kwargs)
            except SignError:
                if not ignore_sign_error:
                    raise
        return fig, axes

    def _order(self, fields, partners, sort_alphabetically) -> List[str]:
        if partners is not None:
            return [self._check(p) for p in partners]
        if sort_alphabetically:
            return [t for t in self.cell_types_sorted if t in fields]
        totals = {p: abs(self._weights(df).sum()) for p, df in fields.items()}
        return sorted(totals, key=totals.get, reverse=True)

    def receptive_fields_grid(
        self,
        target: str,
        sources: Sequence[str] | None = None,
        sort_alphabetically: bool = True,
        ax_titles: str = "{source} :→ {target}",
        max_extent: int | None = None,
        fig: Figure | None = None,
        axes=None,
        ignore_sign_error: bool = False,
        **kwargs,
    ):
        """Receptive fields of ``target`` from all (or the given) sources.

        Args:
            target: Postsynaptic type.
            sources: Sources to show (default: all presynaptic types, in
                ``cell_types_sorted`` order, or by descending summed |weight|
                if not ``sort_alphabetically``).
            sort_alphabetically: See ``sources``.
            ax_titles: Panel titles, formatted with ``source`` and ``target``.
            max_extent: Shared plot extent (default: largest field's).
            fig: Existing figure.
            axes: Existing axes, one per source.
            ignore_sign_error: Skip panels raising ``SignError``.
            **kwargs: Passed to :meth:`receptive_field`.

        Returns:
            ``(fig, axes)``.
        """
        target = self._check(target)
        rfs = self.receptive_fields_df(target)
        sources = self._order(rfs, sources, sort_alphabetically)
        kwargs.setdefault("cbar", False)

        def plot(source, **kw):
            return self.receptive_field(
                source, target, rfs=rfs, max_extent=max_extent, **kw
            )

        return self._fields_grid(
            rfs,
            sources,
            plot,
            lambda s: ax_titles.format(source=s, target=target),
            fig,
            axes,
            ignore_sign_error,
            kwargs,
        )

    def projective_fields_grid(
        self,
        source: str,
        targets: Sequence[str] | None = None,
        fig: Figure | None = None,
        axes=None,
        ax_titles: str = "{source} →: {target}",
        max_extent: int | None = None,
        sort_alphabetically: bool = False,
        ignore_sign_error: bool = False,
        **kwargs,
    ):
        """Projective fields of ``source`` onto all (or the given) targets.

        Args:
            source: Presynaptic type.
            targets: Targets to show (default: all postsynaptic types).
            fig: Existing figure.
            axes: Existing axes.
            ax_titles: Panel titles, formatted with ``source`` and ``target``.
            max_extent: Shared plot extent.
            sort_alphabetically: Order targets by ``cell_types_sorted``
                (default: by descending summed |weight|).
            ignore_sign_error: Skip panels raising ``SignError``.
            **kwargs: Passed to :meth:`projective_field`.

        Returns:
            ``(fig, axes)``.
        """
        source = self._check(source)
        prfs = self.projective_fields_df(source)
        targets = self._order(prfs, targets, sort_alphabetically)
        kwargs.setdefault("cbar", False)

        def plot(target, **kw):
            return self.projective_field(
                source, target, prfs=prfs, max_extent=max_extent, **kw
            )

        return self._fields_grid(
            prfs,
            targets,
            plot,
            lambda t: ax_titles.format(source=source, target=t),
            fig,
            axes,
            ignore_sign_error,
            kwargs,
        )
