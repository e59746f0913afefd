"""Network parameters: types, sharing (groupby) and initial distributions.

Every parameter tensor holds one value per group of nodes or edges that share
it (``groupby`` columns, groups in order of first appearance in the node or
edge table) plus an index mapping every node or edge to its group. Classes and
initial values as in flyvis 1.2.0 (``spec/network.md`` §2):

==========================  ======  ======================================  ========================
class                       table   groupby (default)                       initial value
==========================  ======  ======================================  ========================
``RestingPotential``        nodes   type (65)                               ``N(0.5, 0.05**2)``, seed 0
``TimeConstant``            nodes   type (65)                               0.05 s
``SynapseSign``             edges   source_type, target_type (604)          +1 / -1 from the JSON
``SynapseCount``            edges   source/target type, du, dv (2355)       log of mean synapse count
``SynapseCountScaling``     edges   source_type, target_type (604)          ``scale / mean(n_syn)``
==========================  ======  ======================================  ========================

Two further initialisations (not in flyvis 1.2.0) give an untrained network
that passes visual signals on (``docs/training.md``):

* ``SynapseCountNormalized`` (edges): one strength per target type, so that
  weights are proportional to synapse counts across all input pairs of a type
  and the summed ``|w|`` onto every cell is ``gain``. flyvis's
  ``scale / mean(n_syn)`` instead gives every pair the same summed weight per
  offset, whatever its synapse count.
* ``RestingPotentialAtGrey`` (nodes): resting potentials chosen (after the
  weights) so that the central cell of every type rests at ``rest`` under a
  uniform grey input.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from flyvis.utils.class_utils import find_subclass

__all__ = [
    "ParameterConfigError",
    "InitialDistribution",
    "Value",
    "Normal",
    "Lognormal",
    "Parameter",
    "RestingPotential",
    "TimeConstant",
    "SynapseSign",
    "SynapseCount",
    "SynapseCountScaling",
    "SynapseCountNormalized",
    "RestingPotentialAtGrey",
    "group_first_appearance",
    "build_parameter",
]


class ParameterConfigError(ValueError):
    """A parameter config has an invalid value."""


def _clamp(values: torch.Tensor, clamp) -> torch.Tensor:
    if clamp in (False, None):
        return values
    if clamp == "non_negative":
        return values.clamp(min=0)
    if isinstance(clamp, (list, tuple)) and len(clamp) == 2:
        return values.clamp(min=clamp[0], max=clamp[1])
    raise ParameterConfigError(
        f"invalid clamp {clamp!r}; expected 'non_negative', a (low, high) pair, or None."
    )


class InitialDistribution:
    """Initial values of a parameter and the map from raw to semantic values.

    Attributes:
        raw_values: The ``nn.Parameter`` holding the optimised values.
    """

    raw_values: nn.Parameter

    def semantic(self, raw: torch.Tensor) -> torch.Tensor:
        """Maps raw values to what the dynamics see (identity by default)."""
        return raw

    @property
    def semantic_values(self) -> torch.Tensor:
        """The values the dynamics see."""
        return self.semantic(self.raw_values)

    def __len__(self) -> int:
        return len(self.raw_values)


class Value(InitialDistribution):
    """Deterministic initial values.

    Args:
        value: Scalar or array of values (one per group).
        requires_grad: Whether the parameter is trained.
        clamp: ``"non_negative"``, a ``(low, high)`` pair, or ``None``/False.
        **kwargs: Ignored (other config keys).
    """

    def __init__(self, value, requires_grad: bool, clamp=False, **kwargs):
        values = torch.as_tensor(np.asarray(value, dtype=np.float32))
        self.raw_values = nn.Parameter(_clamp(values, clamp), requires_grad=requires_grad)


class Normal(InitialDistribution):
    """Normally distributed initial values (or the mean).

    The draw uses a private CPU ``torch.Generator`` seeded with ``seed``, so
    the values do not depend on the device (unlike flyvis 1.2.0).

    Args:
        mean: Mean per group.
        std: Standard deviation per group.
        requires_grad: Whether the parameter is trained.
        mode: ``"sample"`` (draw) or ``"mean"`` (use the mean).
        clamp: Clamp mode as for :class:`Value`.
        seed: Seed of the draw (``None``: non-deterministic).
        **kwargs: Ignored.

    Raises:
        ValueError: For an unknown ``mode``.
    """

    def __init__(
        self,
        mean,
        std,
        requires_grad: bool,
        mode: str = "sample",
        clamp=False,
        seed=None,
        **kwargs,
    ):
        mean = torch.as_tensor(np.asarray(mean, dtype=np.float32))
        std = torch.as_tensor(np.asarray(std, dtype=np.float32))
        if mode == "mean":
            values = mean.clone()
        elif mode == "sample":
            generator = torch.Generator()
            if seed is not None:
                generator.manual_seed(int(seed))
            else:
                generator.seed()
            values = torch.normal(mean, std, generator=generator)
        else:
            raise ValueError(f"unknown mode {mode!r}; expected 'sample' or 'mean'.")
        self.raw_values = nn.Parameter(_clamp(values, clamp), requires_grad=requires_grad)


class Lognormal(Normal):
    """Like :class:`Normal` for the logarithm: semantic values are ``exp(raw)``."""

    def semantic(self, raw: torch.Tensor) -> torch.Tensor:
        """Returns ``exp(raw)``."""
        return torch.exp(raw)


_DISTRIBUTIONS = {"Value": Value, "Normal": Normal, "Lognormal": Lognormal}


def group_first_appearance(
    columns: Sequence[np.ndarray],
) -> Tuple[np.ndarray, np.ndarray]:
    """Groups rows by the values of integer columns, in order of first appearance.

    Equivalent to ``pandas.DataFrame.groupby(columns, sort=False)`` but fast for
    millions of rows.

    Args:
        columns: Integer arrays of equal length ``n``.

    Returns:
        ``(group_index, first_row)``: the group of every row ``(n,)`` and the
        first row of every group ``(n_groups,)``.
    """
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        col = np.asarray(col, dtype=np.int64)
        low = col.min() if len(col) else 0
        span = (col.max() - low + 1) if len(col) else 1
        key = key * span + (col - low)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # groups by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()], first[order]


class Parameter:
    """A shared parameter: values per group and the index of every node/edge.

    Subclasses define which table (``nodes`` or ``edges``) they group and how
    initial values follow from the connectome.

    Args:
        param_config: Config with ``initial_dist`` (``Value``, ``Normal``,
            ``Lognormal``), ``groupby``, ``requires_grad`` and distribution
            keywords. Deep-copied; the caller's object is not changed.
        tables: Node and edge columns from
            :func:`flyvis.connectome.connectome_arrays`.

    Attributes:
        config: The (copied) config.
        parameter: The :class:`InitialDistribution`.
        indices: Integer (``int32``; ``int64`` beyond 2**31 entries) ``(n_nodes,)``
            or ``(n_edges,)``: group of every node or edge. A ``Network``
            stores the edge indices in grouped form (:meth:`group_indices`);
            they are then expanded (``int64``) when read.
        keys: One key per group (type names or tuples).
        symmetry_masks: Boolean masks of groups to tie (``symmetric`` config).
    """

    table = "nodes"
    default_groupby: List[str] = ["type"]

    def __init__(self, param_config: Mapping[str, Any], tables: Dict[str, np.ndarray]):
        self.config = copy.deepcopy(dict(param_config))
        groupby = list(self.config.get("groupby", self.default_groupby))
        columns = [self._column(name, tables) for name in groupby]
        group_index, first = group_first_appearance(columns)
        self.groupby = groupby
        # int32: 6 MB instead of 12 MB per edge parameter of the default network
        small = np.int32 if len(group_index) < 2**31 - 1 else np.int64
        self.indices = torch.from_numpy(group_index.astype(small))
        self.keys = self._keys(groupby, columns, first, tables)
        kwargs = self.initial_values(group_index, first, tables)
        dist_name = self.config.get("initial_dist", "Value")
        if dist_name not in _DISTRIBUTIONS:
            raise ParameterConfigError(
                f"unknown initial_dist {dist_name!r}; valid: {', '.join(_DISTRIBUTIONS)}."
            )
        options = {
            k: v
            for k, v in self.config.items()
            if k not in ("type", "initial_dist", "groupby", "penalize", "symmetric")
        }
        options.update(kwargs)
        options.setdefault("requires_grad", False)
        self.parameter = _DISTRIBUTIONS[dist_name](**options)
        self.symmetry_masks = symmetry_masks(self.config.get("symmetric", []), self.keys)

    def _column(self, name: str, tables: Dict[str, np.ndarray]) -> np.ndarray:
        aliases = {
            "nodes": {"type": "node_type_index", "u": "node_u", "v": "node_v"},
            "edges": {
                "source_type": "source_type_index",
                "target_type": "target_type_index",
                "du": "du",
                "dv": "dv",
                "source_index": "source_index",
                "target_index": "target_index",
            },
        }[self.table]
        if name not in aliases:
            raise ParameterConfigError(
                f"cannot group {self.table} by {name!r}; valid columns: "
                f"{', '.join(aliases)}."
            )
        return tables[aliases[name]]

    def _keys(self, groupby, columns, first, tables) -> list:
        names = tables["cell_types"]
        parts = []
        for name, col in zip(groupby, columns):
            values = col[first]
            parts.append(
                names[values]
                if name in ("type", "source_type", "target_type")
                else values
            )
        if len(parts) == 1:
            return [str(k) if isinstance(k, str) else k.item() for k in parts[0]]
        return [
            tuple(p[i].item() if hasattr(p[i], "item") else p[i] for p in parts)
            for i in range(len(first))
        ]

    def initial_values(self, group_index, first, tables) -> Dict[str, Any]:
        """Distribution keywords derived from the connectome (none by default)."""
        return {}

    def finalize(self, network) -> None:
        """Adjusts initial values that depend on other parameters (default: none).

        Called by ``Network`` once all parameters exist.

        Args:
            network: The network being built.
        """

    @property
    def indices(self) -> torch.Tensor:
        """Group of every node or edge (see the class attributes)."""
        if self._indices is None:
            return self._grouped[0].index_select(0, self._grouped[1].long())
        return self._indices

    @indices.setter
    def indices(self, value: torch.Tensor) -> None:
        self._indices = value
        self._grouped = None

    def group_indices(self, slot_of_group: torch.Tensor, group: torch.Tensor) -> None:
        """Stores the indices as ``slot_of_group[group]`` (memory: ``group`` is shared).

        Args:
            slot_of_group: ``(n_groups,)`` parameter slot of every group.
            group: ``(n,)`` group of every node or edge.

        Raises:
            ValueError: If this does not reproduce the current indices.
        """
        current = self.indices
        if not torch.equal(slot_of_group.index_select(0, group.long()), current.long()):
            raise ValueError("the groups do not reproduce the parameter's indices.")
        self._indices = None
        self._grouped = (slot_of_group, group)

    @property
    def raw_values(self) -> nn.Parameter:
        """The trainable (or fixed) tensor, one value per group."""
        return self.parameter.raw_values

    @property
    def semantic_values(self) -> torch.Tensor:
        """Values as the dynamics see them (e.g. ``exp`` for log counts)."""
        return self.parameter.semantic_values

    def __getitem__(self, key):
        try:
            return self.raw_values[self.keys.index(key)]
        except ValueError:
            raise ValueError(f"{key!r} is not a key of {type(self).__name__}") from None

    def __len__(self) -> int:
        return len(self.raw_values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} values, groupby={self.groupby})"


def symmetry_masks(symmetric: Sequence, keys: Sequence) -> List[torch.Tensor]:
    """Boolean masks over the keys for each group of tied parameters.

    Args:
        symmetric: List of key groups, e.g. ``[["T4a", "T4b", "T4c", "T4d"]]``
            or lists of ``(source, target)`` tuples.
        keys: The parameter's keys.

    Returns:
        One boolean tensor ``(len(keys),)`` per group.

    Raises:
        ParameterConfigError: If a group names an unknown key.
    """
    masks = []
    normalised = [tuple(k) if isinstance(k, list) else k for k in keys]
    for group in symmetric or []:
        mask = torch.zeros(len(keys), dtype=torch.bool)
        for key in group:
            key = tuple(key) if isinstance(key, list) else key
            if key not in normalised:
                raise ParameterConfigError(
                    f"symmetric key {key!r} is not a parameter key."
                )
            mask[normalised.index(key)] = True
        masks.append(mask)
    return masks


class RestingPotential(Parameter):
    """Resting potential (bias) ``b`` per cell type; ``N(mean, std**2)`` or a value."""

    table = "nodes"
    default_groupby = ["type"]

    def initial_values(self, group_index, first, tables):
        """Repeats ``mean``/``std`` (or ``value``) per group."""
        n = len(first)
        out = {}
        for key in ("mean", "std", "value"):
            if key in self.config:
                out[key] = np.full(n, self.config[key], dtype=np.float32)
        return out


class TimeConstant(RestingPotential):
    """Membrane time constant ``tau`` per cell type, in seconds (default 0.05)."""


class SynapseSign(Parameter):
    """Sign (+1 excitatory, -1 inhibitory) per pair of cell types, from the JSON."""

    table = "edges"
    default_groupby = ["source_type", "target_type"]

    def initial_values(self, group_index, first, tables):
        """The sign of the first edge of each group."""
        return {"value": tables["sign"][first].astype(np.float32)}


class SynapseCount(Parameter):
    """Synapse count per pair of cell types and offset; stored as its logarithm.

    Raises:
        NotImplementedError: Unless ``mode == "mean"``.
    """

    table = "edges"
    default_groupby = ["source_type", "target_type", "dv", "du"]

    def initial_values(self, group_index, first, tables):
        """``mean = log(mean n_syn)`` per group (with ``Lognormal``: semantic = mean)."""
        if self.config.get("mode", "mean") != "mean":
            raise NotImplementedError("SynapseCount supports only mode='mean'.")
        self.config["mode"] = "mean"
        mean = _group_mean(tables["n_syn"], group_index, len(first))
        return {
            "mean": np.log(mean).astype(np.float32),
            "std": np.full(len(first), self.config.get("std", 1.0), dtype=np.float32),
        }


class SynapseCountScaling(Parameter):
    """Synapse strength ``alpha`` per pair of cell types: ``scale / mean(n_syn)``.

    The mean runs over all realised edges of the pair (peripheral truncation
    weights central offsets more), as in flyvis 1.2.0.
    """

    table = "edges"
    default_groupby = ["source_type", "target_type"]

    def initial_values(self, group_index, first, tables):
        """``value = scale / mean(n_syn over the pair's edges)``."""
        mean = _group_mean(tables["n_syn"], group_index, len(first))
        scale = self.config.get("scale", 0.01)
        return {"value": (scale / mean).astype(np.float32)}


def _central_nodes(tables: Dict[str, np.ndarray]) -> np.ndarray:
    """Node index of the central (u = v = 0) cell of every type (-1 if none)."""
    n_types = len(tables["cell_types"])
    central = np.full(n_types, -1, dtype=np.int64)
    at_center = np.flatnonzero((tables["node_u"] == 0) & (tables["node_v"] == 0))
    central[tables["node_type_index"][at_center]] = at_center
    return central


class SynapseCountNormalized(Parameter):
    """Synapse strength per pair of cell types, normalised per target type.

    ``alpha = gain / sum(n_syn onto the central cell of the target type)``:
    weights ``sign * n_syn * alpha`` are then proportional to the synapse
    counts across all inputs of a type and sum (in absolute value) to ``gain``
    on its central cell. With ``gain < 1`` the linearised network is stable
    (every row of ``|W|`` sums to less than one). Config key ``gain``
    (default 0.9). Not in flyvis 1.2.0.

    Raises:
        ParameterConfigError: For ``gain <= 0``.
    """

    table = "edges"
    default_groupby = ["source_type", "target_type"]

    def initial_values(self, group_index, first, tables):
        """``value = gain / (synapses onto the target type's central cell)``."""
        gain = float(self.config.get("gain", 0.9))
        if not gain > 0:
            raise ParameterConfigError(f"gain must be positive, got {gain}.")
        n_types = len(tables["cell_types"])
        central = _central_nodes(tables)
        is_central = np.zeros(len(tables["node_type_index"]), dtype=bool)
        is_central[central[central >= 0]] = True
        onto = is_central[tables["target_index"]]
        totals = np.bincount(
            tables["target_type_index"][onto],
            weights=tables["n_syn"][onto].astype(np.float64),
            minlength=n_types,
        )
        target_type = tables["target_type_index"][first]
        total = totals[target_type]
        value = np.where(total > 0, gain / np.where(total > 0, total, 1.0), gain)
        return {"value": value.astype(np.float32)}


class RestingPotentialAtGrey(RestingPotential):
    """Resting potentials that put every type's central cell at ``rest`` at grey.

    After all parameters are initialised, ``b_t = rest_t - sum_e w_e
    f(rest_source(e)) - x_t`` over the inputs ``e`` of the central cell of
    type ``t`` (``f`` the activation, ``x_t = grey`` for the input types),
    which makes ``V = rest`` a fixed point of the dynamics for the central
    cells under a uniform ``grey`` stimulus. Config keys: ``rest`` (default
    0.5), ``rest_by_type`` (``{type: rest}`` overrides, e.g. ``{T4a: 0.05}``),
    ``grey`` (default 0.5). Not in flyvis 1.2.0.

    Raises:
        ParameterConfigError: For a type in ``rest_by_type`` that the
            connectome lacks, or a grouping other than by type.
    """

    def initial_values(self, group_index, first, tables):
        """Placeholder values (set in :meth:`finalize`)."""
        if list(self.config.get("groupby", ["type"])) != ["type"]:
            raise ParameterConfigError("RestingPotentialAtGrey groups by type only.")
        names = list(tables["cell_types"])
        unknown = sorted(set(self.config.get("rest_by_type", {}) or {}) - set(names))
        if unknown:
            raise ParameterConfigError(
                f"rest_by_type names unknown cell types {unknown}; valid: "
                f"{', '.join(names)}."
            )
        self._central = _central_nodes(tables)
        return {
            "value": np.full(len(first), float(self.config.get("rest", 0.5)), np.float32)
        }

    def finalize(self, network) -> None:
        """Solves the central cells' fixed point for the resting potentials."""
        rest = float(self.config.get("rest", 0.5))
        grey = float(self.config.get("grey", 0.5))
        by_type = dict(self.config.get("rest_by_type", {}) or {})
        types = list(network.cell_types)
        target = torch.tensor([float(by_type.get(t, rest)) for t in types])
        # called while the network is still built on the CPU (before .to(device))
        rates = network.dynamics.activation(target[network.node_type_index.long()])
        with torch.no_grad():
            weight = network.prepare().weight
            drive = network.target_sum(weight * rates[network.engine.source.long()])
            inputs = torch.zeros(len(types))
            for name in network.connectome.input_cell_types[:]:
                name = name.decode() if isinstance(name, bytes) else str(name)
                inputs[types.index(name)] = grey
            central = torch.from_numpy(self._central)
            has = central >= 0
            bias = target.clone()
            bias[has] = target[has] - drive[central[has]] - inputs[has]
            slots = [self.keys.index(t) for t in types]
            self.raw_values[slots] = bias.to(self.raw_values)


def _group_mean(values: np.ndarray, group_index: np.ndarray, n_groups: int) -> np.ndarray:
    sums = np.bincount(group_index, weights=values.astype(np.float64), minlength=n_groups)
    counts = np.bincount(group_index, minlength=n_groups)
    return (sums / counts).astype(np.float32)


def build_parameter(
    param_config: Mapping[str, Any], tables: Dict[str, np.ndarray]
) -> Parameter:
    """Builds the :class:`Parameter` subclass named by ``param_config["type"]``.

    Args:
        param_config: Config with a ``type`` key.
        tables: Node and edge columns.

    Returns:
        The parameter.

    Raises:
        ValueError: If ``type`` is missing or unknown (valid names listed).
    """
    name = dict(param_config).get("type")
    if name is None:
        raise ParameterConfigError(
            f"parameter config {dict(param_config)} has no 'type' key."
        )
    return find_subclass(Parameter, name)(param_config, tables)
