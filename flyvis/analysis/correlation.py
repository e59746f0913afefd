"""Correlations of labelled responses.

Source: ``spec/analysis.md`` (FRI and DSI correlations to known values).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["pearson_along"]


def pearson_along(x: xr.DataArray, y: xr.DataArray, dim: str) -> xr.DataArray:
    """Pearson correlation of ``x`` and ``y`` along ``dim`` (NaN-free inputs).

    Args:
        x: DataArray with dimension ``dim``.
        y: DataArray broadcastable to ``x``.
        dim: Dimension to correlate over.

    Returns:
        The correlation, ``x``'s dims without ``dim``; NaN where a side is
        constant.
    """
    x, y = xr.broadcast(x, y)
    xm, ym = x - x.mean(dim), y - y.mean(dim)
    denom = np.sqrt((xm**2).sum(dim) * (ym**2).sum(dim))
    return (xm * ym).sum(dim) / denom.where(denom > 0)
