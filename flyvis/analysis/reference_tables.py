"""Literature reference data (re-exported from :mod:`flyvis.utils.groundtruth_utils`).

The tables live in the core (``flyvis.utils``, flyvis 1.2.0's import path) so
that core functions can use them without importing the analysis layer; the
analysis modules import them from here.
"""

from flyvis.utils.groundtruth_utils import (  # noqa: F401
    CELL_TYPES,
    __all__,
    known_dsi_types,
    known_polarity_types,
    known_preferred_contrasts,
    motion_tuning,
    no_motion_tuning,
    polarity,
    preferred_directions,
    tuning_curve_peaks,
)
