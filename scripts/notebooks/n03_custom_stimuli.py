"""Source of examples/03_custom_stimuli.ipynb (follows flyvis's custom stimuli notebook)."""

from cells import code, md

CELLS = [
    md(
        """
# Providing custom stimuli

This notebook follows flyvis's "custom stimuli" notebook: render your own
movies onto the fly eye, wrap them in a dataset, and compute the responses of
a pretrained model and of the whole shipped ensemble `flow/0000`.

**Example data.** flyvis uses Moving MNIST (10,000 sequences of 20 frames,
64x64 pixels; Srivastava et al. 2015). `load_moving_mnist` reads
`mnist_test_seq.npy` from the flyvis root directory (downloading it where the
network allows). Where the file is absent this notebook uses
`random_walk_of_blocks`, a drop-in replacement generated at run time.
"""
    ),
    code(
        """
# parameters
n_sequences = 4   # movies to render
extent = 4        # lattice radius of the shipped models (61 columns)
""",
        parameters=True,
    ),
    code(
        """
import matplotlib.pyplot as plt
import numpy as np
import torch

import flyvis
from flyvis.analysis import animations
from flyvis.utils.dataset_utils import load_moving_mnist, random_walk_of_blocks

plt.rcParams["figure.dpi"] = 200  # as in flyvis's notebooks

np.random.seed(42)
mnist_file = flyvis.root_dir / "mnist_test_seq.npy"
if mnist_file.is_file():
    sequences = load_moving_mnist(path=mnist_file)[:n_sequences]
    source = "Moving MNIST"
else:
    sequences = random_walk_of_blocks(dataset_size=[n_sequences, 20, 64, 64])
    source = "random walk of blocks"
# (n_sequences, n_frames, height, width), luminance 0..1
print(source, sequences.shape)
fig = animations.Imshow(sequences, cmap=plt.cm.binary_r).plot(0, 0)
"""
    ),
    md(
        """
## BoxEye rendering

Photoreceptors sit on a hexagonal lattice in pixel space, 13 pixels apart;
each transduces the mean luminance of the 13x13-pixel box around it.
"""
    ),
    code(
        """
from flyvis.datasets.rendering import BoxEye

receptors = BoxEye(extent=extent, kernel_size=13)
fig = receptors.illustrate()
"""
    ),
    code(
        """
from flyvis.analysis.visualization import plots

# input (samples, frames, height, width) -> (samples, frames, 1, hexals)
single_frame = torch.tensor(sequences[0, 0]).float()[None, None]
rendered = receptors(single_frame)
print("rendered", tuple(rendered.shape))
fig, ax, _ = plots.quick_hex_scatter(rendered.squeeze(), vmin=0, vmax=1, fontsize=5)
_ = ax.set_title("example frame rendered", fontsize=5)
"""
    ),
    md(
        """
## Render a whole dataset to disk

A `datamate.Directory` stores the rendered movies under
`flyvis.renderings_dir`, once per configuration: building it again with the
same config finds the stored copy.
"""
    ),
    code(
        """
from typing import List

from datamate import Directory, root

from flyvis import renderings_dir


@root(renderings_dir)
class RenderedData(Directory):
    class Config(dict):
        extent: int  # lattice radius in columns
        kernel_size: int  # receptor box side in pixels
        subset_idx: List[int]  # sequences to render
        source: str  # which movies

    def __init__(self, config: Config):
        receptors = BoxEye(extent=config.extent, kernel_size=config.kernel_size)
        rendered = [
            receptors(torch.tensor(sequences[[i]]).float()).cpu().numpy()
            for i in config.subset_idx
        ]
        # (n_sequences, n_frames, 1, hexals) -> self.path / "sequences.h5"
        self.sequences = np.concatenate(rendered, axis=0)


rendered_data = RenderedData(
    dict(extent=extent, kernel_size=13, subset_idx=list(range(n_sequences)), source=source)
)
print(rendered_data.sequences.shape)
fig = animations.HexScatter(rendered_data.sequences[:], vmin=0, vmax=1).plot(0, 10)
"""
    ),
    md(
        """
## A sequence dataset

`SequenceDataset` is the interface the simulation helpers use: `dt`,
`t_pre`/`t_post`, `arg_df`, and `get_temporal_sample_indices` to resample the
24-fps movie to the integration step.
"""
    ),
    code(
        """
import pandas as pd

from flyvis.datasets.datasets import SequenceDataset


class CustomStimuli(SequenceDataset):
    dt = 1 / 100
    framerate = 24
    t_pre = 0.5
    t_post = 0.5
    n_sequences = None
    augment = False

    def __init__(self, rendered_data_config: dict):
        self.dir = RenderedData(rendered_data_config)
        self.sequences = torch.tensor(self.dir.sequences[:])
        self.n_sequences = self.sequences.shape[0]
        self.arg_df = pd.DataFrame({"sequence_idx": np.arange(self.n_sequences)})

    def get_item(self, key):
        sequence = self.sequences[key]
        resample = self.get_temporal_sample_indices(sequence.shape[0], sequence.shape[0])
        return sequence[resample]


data = CustomStimuli(
    dict(extent=extent, kernel_size=13, subset_idx=list(range(n_sequences)), source=source)
)
movie_input = data[0]
print("movie at dt = 1/100:", tuple(movie_input.shape))  # (frames, 1, hexals)
"""
    ),
    md(
        """
## Responses of a pretrained model

Models of the shipped ensemble are numbered by task error (`000` is the
best). `fade_in_state` removes the onset transient; `LayerActivity` gives
per-cell-type access to the responses of all cells.
"""
    ),
    code(
        """
from flyvis.network import NetworkView
from flyvis.utils.activity_utils import LayerActivity

network_view = NetworkView("flow/0000/000")
network = network_view.init_network()
stationary_state = network.fade_in_state(1.0, data.dt, movie_input[[0]])
responses = network.simulate(movie_input[None], data.dt, initial_state=stationary_state).cpu()
print("responses", tuple(responses.shape))
responses = LayerActivity(responses, network.connectome, keepref=True)
cell_type = "T4c"
anim = animations.StimulusResponse(movie_input[None], responses[cell_type][:, :, None])
fig = anim.plot(0, 40)
"""
    ),
    code(
        """
time = np.arange(movie_input.shape[0]) * data.dt
fig, ax = plt.subplots(figsize=[3, 2])
ax.plot(time, responses.central[cell_type].squeeze())
ax.set(xlabel="time (s)", ylabel="central response (a.u.)", title=f"{cell_type}, model 000")
"""
    ),
    md(
        """
## Responses across the ensemble

`EnsembleView.simulate` yields the responses of every model; the task-error
colours go from the best (dark) to the worst model.
"""
    ),
    code(
        """
from flyvis import EnsembleView

ensemble = EnsembleView("flow/0000")
responses = np.array(list(ensemble.simulate(movie_input[None], data.dt, fade_in=True)))
print("ensemble responses", responses.shape)  # (models, samples, frames, cells)
responses = LayerActivity(responses, ensemble[0].connectome, keepref=True)
colors = ensemble.task_error().colors
fig, ax = plt.subplots(figsize=[3, 2])
for model_id, response in enumerate(responses.central[cell_type]):
    ax.plot(time, response.squeeze(), c=colors[model_id], zorder=len(ensemble) - model_id)
ax.set(xlabel="time (s)", ylabel="response (a.u.)", title=f"{cell_type} across the ensemble")
"""
    ),
    md(
        """
Models differ in their predictions for a cell type; clustering them by their
responses (notebook 05) separates the distinct predictions.
"""
    ),
]
