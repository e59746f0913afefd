"""Source of examples/04_flash_and_moving_edge_responses.ipynb (flash/edge tuning, validation)."""

from cells import code, md

CELLS = [
    md(
        """
# Flash and moving-edge responses

This notebook follows flyvis's notebooks on flash responses and moving-edge
responses: it simulates the shipped ensemble `flow/0000` with the two
classic stimuli of fly physiology, computes the flash response index (FRI,
ON vs OFF contrast preference) and the direction selectivity index (DSI) and
preferred direction of every cell type, and scores them against the
literature (`validate_models`).
"""
    ),
    code(
        """
# parameters
dt = 1 / 100          # integration time step (s)
speeds = (19,)        # edge speeds (columns/s); flyvis: (2.4, 4.8, 9.7, 13, 19, 25)
""",
        parameters=True,
    ),
    code(
        """
import matplotlib.pyplot as plt
import numpy as np

from flyvis import EnsembleView

plt.rcParams["figure.dpi"] = 200  # as in flyvis's notebooks
ensemble = EnsembleView("flow/0000")
print(len(ensemble), "models")
"""
    ),
    md(
        """
## Flash responses

Full-field and disc (radius 6 columns) flashes of ON (1) and OFF (0)
luminance after 1 s of grey, 1 s long. Responses are an `xarray.Dataset`
(`network_id, sample, frame, neuron`) cached per model; the `.custom` accessor
selects and plots. L1 is an OFF cell (it depolarises to darkening):
"""
    ),
    code(
        """
fr = ensemble.flash_responses(dt=dt)
print(fr["responses"].dims, fr["responses"].shape)
ax = fr["responses"].custom.where(cell_type="L1", radius=6).custom.plot_traces(
    x="time", plot_kwargs=dict(add_legend=False)
)
"""
    ),
    md(
        """
The flash response index `(on - off) / (on + off)` of the peak responses:
positive for ON cells, negative for OFF cells.
"""
    ),
    code(
        """
from flyvis.analysis.flash_responses import flash_response_index, plot_fris

fris = flash_response_index(fr, radius=6)
cell_types = fris.cell_type.values
fig, ax = plot_fris(fris.values, cell_types, scatter_best_index=0)
for cell_type in ["L1", "L2", "Mi1", "Tm3", "Mi9", "Tm9", "T4c", "T5c"]:
    values = fris.custom.where(cell_type=cell_type).values.ravel()
    print(f"{cell_type:>4s}: FRI median {np.median(values):+.2f}")
"""
    ),
    md(
        """
## Moving-edge responses

Full-height ON and OFF edges moving in 12 directions. The DSI is the
normalised vector sum of the peak responses over directions (0: no direction
preference, 1: responds to one direction only); the preferred direction is
the angle of that vector (0° rightward, 90° upward).
"""
    ),
    code(
        """
from flyvis.analysis.moving_bar_responses import (
    direction_selectivity_index,
    plot_angular_tuning,
    preferred_direction,
)

me = ensemble.moving_edge_responses(speeds=speeds, dt=dt)
fig, ax = plot_angular_tuning(me, "T4c", intensity=1)
"""
    ),
    code(
        """
dsis = direction_selectivity_index(me)
pds = preferred_direction(me)
print(dsis.dims, dsis.shape)
"""
    ),
    md(
        """
## The motion detectors T4 and T5 against the literature

T4a-d respond to ON edges and T5a-d to OFF edges, each with a cardinal
preferred direction: a front-to-back (180°), b back-to-front (0°), c upward
(90°), d downward (270°). Per model, for the best one:
"""
    ),
    code(
        """
from flyvis.analysis.validation import motion_detector_tuning

tuning = motion_detector_tuning(dsis, pds)
best = tuning.isel(network_id=0).to_dataframe().set_index("cell_type")
print("best model:", ensemble.names[0])
best[["dsi", "pd", "known_pd", "angle_error", "match"]].round(2)
"""
    ),
    md(
        """
## Validation table

`validate_models` combines both: `polarity_accuracy` (FRI sign of the 32 cell
types with known ON/OFF preference), `ds_accuracy` (the 18 types known to be
direction selective or not, at DSI 0.2) and `t4t5_direction_match` (0 ... 8).
flyvis's best model (Lappalainen et al. 2024) scores 16/16 T4/T5 directions
(ON and OFF counted separately there) and 30/32 polarities.
"""
    ),
    code(
        """
from flyvis.analysis.validation import validate_models

report = validate_models(
    ensemble, edge_kwargs=dict(speeds=speeds, dt=dt), flash_kwargs=dict(dt=dt)
)
scores = ["t4t5_direction_match", "polarity_accuracy", "ds_accuracy"]
table = report[scores].reset_coords(drop=True).to_dataframe()
table.index = [str(name) for name in report.network_name.values]
table["task_error"] = ensemble.task_error().values
print(table.round(3).to_string())
print("median t4t5_direction_match:", float(np.median(table.t4t5_direction_match)))
"""
    ),
]
