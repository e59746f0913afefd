"""The ``custom`` xarray accessor: coordinate filtering and trace plots.

Importing this module registers ``xr.DataArray.custom`` and
``xr.Dataset.custom`` (``spec/analysis.md`` §1, ``spec/utilities.md`` §10).
Registration is idempotent. matplotlib is imported only inside
:meth:`CustomAccessor.plot_traces`.

Examples:
    >>> responses.custom.where(cell_type="T4c", intensity=1, time=">-0.5,<1.0")
    >>> responses.custom.where(cell_type=["T4a", "T4b"]).custom.plot_traces(x="time")
"""

from __future__ import annotations

import operator
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import xarray as xr

__all__ = ["CustomAccessor", "where", "plot_traces"]

# longest operators first so ">=" is not read as ">"
_OPERATORS: Tuple[Tuple[str, Callable], ...] = (
    (">=", operator.ge),
    ("<=", operator.le),
    ("==", operator.eq),
    ("!=", operator.ne),
    (">", operator.gt),
    ("<", operator.lt),
)


def _convert(text: str, values: np.ndarray) -> Any:
    """Converts a condition operand to the coordinate's dtype."""
    if values.dtype.kind in "iufb":
        try:
            return float(text)
        except ValueError as error:
            raise ValueError(
                f"cannot compare numeric coordinate with {text!r}; expected a number."
            ) from error
    return text


def _equal(values: np.ndarray, value: Any, rtol: float, atol: float) -> np.ndarray:
    if values.dtype.kind == "f" and isinstance(value, (int, float, np.number)):
        return np.isclose(values, float(value), rtol=rtol, atol=atol)
    if values.dtype.kind in "iub" and isinstance(value, (float, np.floating)):
        return np.isclose(values.astype(float), float(value), rtol=rtol, atol=atol)
    if values.dtype.kind in "UO" and not isinstance(value, str):
        return values == str(value)
    return values == value


def _string_mask(values: np.ndarray, condition: str, rtol: float, atol: float):
    """AND of comma-separated comparisons, e.g. ``">-0.5,<1.0"``."""
    mask = np.ones(values.shape, dtype=bool)
    for part in condition.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"empty comparison in condition {condition!r}.")
        for symbol, op in _OPERATORS:
            if part.startswith(symbol):
                operand = _convert(part[len(symbol) :].strip(), values)
                if op is operator.eq:
                    mask &= _equal(values, operand, rtol, atol)
                elif op is operator.ne:
                    mask &= ~_equal(values, operand, rtol, atol)
                else:
                    mask &= op(values, operand)
                break
        else:
            mask &= _equal(values, _convert(part, values), rtol, atol)
    return mask


def _condition_mask(values: np.ndarray, condition: Any, rtol: float, atol: float):
    if isinstance(condition, str):
        return _string_mask(values, condition, rtol, atol)
    if isinstance(condition, (Iterable, np.ndarray)) and not isinstance(
        condition, (bytes, dict)
    ):
        mask = np.zeros(values.shape, dtype=bool)
        for item in condition:
            mask |= _condition_mask(values, item, rtol, atol)
        return mask
    return _equal(values, condition, rtol, atol)


def where(obj, rtol: float = 1e-5, atol: float = 1e-8, **conditions):
    """Filters a DataArray or Dataset by coordinate values (dropping the rest).

    A condition is a single value (equality; floats compared with
    ``np.isclose``), an iterable (OR of its items; string items may carry
    operators), or a string of comma-separated comparisons combined with AND
    (``">=", "<=", "==", "!=", ">", "<"``; no operator means equality), e.g.
    ``time=">-0.5,<1.0"``. Conditions on different coordinates are combined
    with AND.

    Args:
        obj: ``xr.DataArray`` or ``xr.Dataset``.
        rtol: Relative tolerance of float equality.
        atol: Absolute tolerance of float equality.
        **conditions: ``coordinate_name=condition``.

    Returns:
        The selection (same type as ``obj``); dimensions along which
        conditions were given keep only matching positions.

    Raises:
        ValueError: For an unknown coordinate or an operand that cannot be
            compared with the coordinate.
    """
    per_dim: Dict[str, np.ndarray] = {}
    multi = []
    for name, condition in conditions.items():
        if name not in obj.coords:
            raise ValueError(
                f"unknown coordinate {name!r}; available: {sorted(map(str, obj.coords))}."
            )
        coord = obj.coords[name]
        mask = _condition_mask(np.asarray(coord.values), condition, rtol, atol)
        if coord.ndim == 0:
            if not bool(mask):
                warnings.warn(
                    f"scalar coordinate {name!r} does not match; result unchanged.",
                    stacklevel=2,
                )
            continue
        if coord.ndim == 1:
            dim = coord.dims[0]
            per_dim[dim] = per_dim.get(dim, np.ones(coord.shape, bool)) & mask
        else:
            multi.append((name, condition))
    result = obj.isel({dim: np.flatnonzero(mask) for dim, mask in per_dim.items()})
    for name, condition in multi:
        coord = result.coords[name]
        mask = _condition_mask(np.asarray(coord.values), condition, rtol, atol)
        result = result.where(xr.DataArray(mask, dims=coord.dims), drop=True)
    return result


def _label(da: xr.DataArray, coords: Sequence[str], index: Dict[str, int]) -> str:
    parts = []
    for name in coords:
        if name not in da.coords:
            raise ValueError(
                f"unknown legend coordinate {name!r}; available: "
                f"{sorted(map(str, da.coords))}."
            )
        coord = da.coords[name]
        value = (
            coord.values
            if coord.ndim == 0
            else coord.isel({d: index[d] for d in coord.dims if d in index}).values
        )
        value = value.item() if hasattr(value, "item") else value
        if isinstance(value, float):
            value = f"{value:.4g}"
        parts.append(f"{name}: {value}")
    return ", ".join(parts)


def plot_traces(
    obj,
    x: str,
    key: str = "",
    legend_labels: Optional[List[str]] = None,
    extra_legend_coords: Optional[List[str]] = None,
    plot_kwargs: Optional[Dict[str, Any]] = None,
    **conditions,
):
    """Line plot of all traces along coordinate ``x`` (after :func:`where`).

    Every position of the dimensions other than the one ``x`` lies along is
    one trace.

    Args:
        obj: ``xr.DataArray`` or ``xr.Dataset`` (then ``key`` selects the
            variable; default: the only or first data variable).
        x: 1-D coordinate for the x axis, e.g. ``"time"`` (along ``frame``).
        key: Data variable of a Dataset, e.g. ``"responses"``.
        legend_labels: Coordinates whose values label each trace.
        extra_legend_coords: More coordinates appended to the labels.
        plot_kwargs: Passed to ``Axes.plot``; ``ax`` (target axes) and
            ``add_legend`` (default True) are taken out first.
        **conditions: Passed to :func:`where`.

    Returns:
        The matplotlib ``Axes``.

    Raises:
        ValueError: For an unknown ``x``/``key``/legend coordinate or a
            multi-dimensional ``x``.
    """
    import matplotlib.pyplot as plt  # noqa: TID251 (lazy; plot_traces is the accessor API)

    if conditions:
        obj = where(obj, **conditions)
    if isinstance(obj, xr.Dataset):
        names = list(obj.data_vars)
        if key:
            if key not in obj.data_vars:
                raise ValueError(f"unknown data variable {key!r}; available: {names}.")
            da = obj[key]
        elif names:
            da = obj[names[0]]
        else:
            raise ValueError("the Dataset has no data variables to plot.")
    else:
        da = obj
    if x not in da.coords:
        raise ValueError(f"unknown coordinate x={x!r}; available: {sorted(da.coords)}.")
    if da.coords[x].ndim != 1:
        raise ValueError(f"x={x!r} must be a 1-D coordinate, got dims {da[x].dims}.")
    xdim = da.coords[x].dims[0]
    other = [d for d in da.dims if d != xdim]
    da = da.transpose(*other, xdim)
    plot_kwargs = dict(plot_kwargs or {})
    ax = plot_kwargs.pop("ax", None) or plt.gca()
    add_legend = plot_kwargs.pop("add_legend", True)
    coords = list(legend_labels or []) + list(extra_legend_coords or [])
    xs = np.asarray(da.coords[x].values)
    values = np.asarray(da.values).reshape(-1, da.sizes[xdim])
    shape = [da.sizes[d] for d in other]
    labelled = False
    for i, trace in enumerate(values):
        index = dict(zip(other, np.unravel_index(i, shape))) if other else {}
        label = _label(da, coords, index) if coords else None
        labelled |= bool(label)
        ax.plot(xs, trace, label=label, **plot_kwargs)
    ax.set_xlabel(x)
    if add_legend and labelled:
        ax.legend(fontsize="small")
    return ax


class CustomAccessor:
    """``.custom`` on ``xr.DataArray`` and ``xr.Dataset``: ``where`` and ``plot_traces``.

    Args:
        xarray_obj: The DataArray or Dataset.
    """

    def __init__(self, xarray_obj):
        self._obj = xarray_obj

    def where(self, rtol: float = 1e-5, atol: float = 1e-8, **conditions):
        """See :func:`flyvis.analysis.xarray_accessor.where`."""
        return where(self._obj, rtol=rtol, atol=atol, **conditions)

    def plot_traces(
        self,
        x: str,
        key: str = "",
        legend_labels: Optional[List[str]] = None,
        extra_legend_coords: Optional[List[str]] = None,
        plot_kwargs: Optional[Dict[str, Any]] = None,
        **conditions,
    ):
        """See :func:`flyvis.analysis.xarray_accessor.plot_traces`."""
        return plot_traces(
            self._obj,
            x,
            key=key,
            legend_labels=legend_labels,
            extra_legend_coords=extra_legend_coords,
            plot_kwargs=plot_kwargs,
            **conditions,
        )


def _register() -> None:
    for cls, register in (
        (xr.DataArray, xr.register_dataarray_accessor),
        (xr.Dataset, xr.register_dataset_accessor),
    ):
        existing = getattr(cls, "custom", None)
        if existing is CustomAccessor:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # re-registration after reload
            register("custom")(CustomAccessor)


_register()
