"""Literature reference data used to score trained networks (``spec/analysis.md`` §5).

flyvis 1.2.0's ``flyvis.utils.groundtruth_utils``: plain tables (no plotting,
no analysis code), so the core may use them, e.g.
:func:`flyvis.utils.nodes_edges_utils.nodes_list_sorting_on_off_unknown`.
``flyvis.analysis.reference_tables`` re-exports them.

* :data:`polarity`: cell type -> +1 (ON), -1 (OFF) or 0 (unknown) for the 65
  cell types; 32 types have a known polarity.
* :data:`preferred_directions`: degrees (T4a/T5a 180, T4b/T5b 0, T4c/T5c 90,
  T4d/T5d 270; 0 = rightward, counter-clockwise positive).
* :data:`motion_tuning`, :data:`no_motion_tuning`, :data:`known_dsi_types`.
* :data:`known_preferred_contrasts`: T4 ON (1), T5 OFF (0).
* :data:`tuning_curve_peaks`: angle (degrees) of the maximum of the Maisak et
  al. 2013 tuning curves. The 12-point curves themselves are not part of the
  spec and are not included.

Source: Lappalainen et al., Nature 2024 (Extended Data); Maisak et al. 2013.
"""

from typing import Dict, List

__all__ = [
    "CELL_TYPES",
    "polarity",
    "known_polarity_types",
    "preferred_directions",
    "motion_tuning",
    "no_motion_tuning",
    "known_dsi_types",
    "known_preferred_contrasts",
    "tuning_curve_peaks",
]

#: The 65 cell types of the connectome, in its type order.
CELL_TYPES: List[str] = [
    "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "L1", "L2", "L3", "L4", "L5",
    "Lawf1", "Lawf2", "Am", "C2", "C3", "CT1(Lo1)", "CT1(M10)", "Mi1", "Mi2", "Mi3",
    "Mi4", "Mi9", "Mi10", "Mi11", "Mi12", "Mi13", "Mi14", "Mi15", "T1", "T2", "T2a",
    "T3", "T4a", "T4b", "T4c", "T4d", "T5a", "T5b", "T5c", "T5d", "Tm1", "Tm2", "Tm3",
    "Tm4", "Tm5Y", "Tm5a", "Tm5b", "Tm5c", "Tm9", "Tm16", "Tm20", "Tm28", "Tm30",
    "TmY3", "TmY4", "TmY5a", "TmY9", "TmY10", "TmY13", "TmY14", "TmY15", "TmY18",
]  # fmt: skip

_ON = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "L5", "C3", "CT1(M10)",
       "Mi1", "Mi4", "T4a", "T4b", "T4c", "T4d", "Tm3"]  # fmt: skip
_OFF = ["L1", "L2", "L3", "L4", "CT1(Lo1)", "Mi9", "T5a", "T5b", "T5c", "T5d",
        "Tm1", "Tm2", "Tm4", "Tm9"]  # fmt: skip

#: Cell type -> +1 ON, -1 OFF, 0 unknown (65 types, 32 known).
polarity: Dict[str, int] = {
    t: (1 if t in _ON else -1 if t in _OFF else 0) for t in CELL_TYPES
}

#: The 32 types with known polarity, in connectome order.
known_polarity_types: List[str] = [t for t in CELL_TYPES if polarity[t] != 0]

#: Preferred motion directions in degrees (0 = rightward, 90 = upward).
preferred_directions: Dict[str, float] = {
    "T4a": 180, "T4b": 0, "T4c": 90, "T4d": 270,
    "T5a": 180, "T5b": 0, "T5c": 90, "T5d": 270,
}  # fmt: skip

#: Direction-selective types.
motion_tuning: List[str] = ["T4a", "T4b", "T4c", "T4d", "T5a", "T5b", "T5c", "T5d"]

#: Types known not to be direction selective.
no_motion_tuning: List[str] = [
    "Tm1", "Tm2", "Tm4", "Tm9", "CT1(Lo1)", "Mi1", "Tm3", "Mi4", "Mi9", "CT1(M10)",
]  # fmt: skip

#: The 18 types with known direction selectivity (non-DS first).
known_dsi_types: List[str] = no_motion_tuning + motion_tuning

#: Preferred contrast of the motion detectors: 1 ON edges (T4), 0 OFF (T5).
known_preferred_contrasts: Dict[str, int] = {
    **{f"T4{s}": 1 for s in "abcd"},
    **{f"T5{s}": 0 for s in "abcd"},
}

#: Angles (degrees) of the maxima of the Maisak et al. 2013 tuning curves.
tuning_curve_peaks: Dict[str, float] = {
    "T4a": 180, "T4b": 30, "T4c": 90, "T4d": 300,
    "T5a": 180, "T5b": 30, "T5c": 120, "T5d": 240,
}  # fmt: skip
