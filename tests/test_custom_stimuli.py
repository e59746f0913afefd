"""Seed 001 ("Providing custom stimuli") runs as written.

The notebook's code is reproduced below at module level (datamate needs the
Directory subclass in a real source file). Differences to the notebook:
``load_moving_mnist`` is replaced at test time by the offline generator
``moving_mnist_offline`` (no network access here), the network is the default
untrained ``Network`` instead of a pretrained one (no download), the
renderings go to a temporary root (``set_root_context``), ``plt.rcParams``
is not modified and animations show one frame (``TESTING=true``).
"""

import sys
from typing import List

import matplotlib
import numpy as np
import pandas as pd
import pytest
import torch
from datamate import Directory, root, set_root_context
from tqdm import tqdm

import flyvis
from flyvis import renderings_dir
from flyvis.datasets.datasets import SequenceDataset
from flyvis.datasets.rendering import BoxEye
from flyvis.utils.activity_utils import LayerActivity
from flyvis.utils.dataset_utils import load_moving_mnist, moving_mnist_offline

matplotlib.use("Agg")

np.random.seed(42)


# --- seed 001, "Render a whole dataset to disk" -----------------------------
# root tells where the Directory-tree starts
@root(renderings_dir)
class RenderedData(Directory):
    class Config(dict):
        extent: int  # radius, in number of receptors of the hexagonal array.
        kernel_size: int  # photon collection radius, in pixels.
        subset_idx: List[int]  # if specified, subset of sequences to render

    def __init__(self, config: Config):
        # here comes the preprocessing and rendering as above or similar -- depending
        # on the dataset etc. this code will be executed automatically once for each
        # unique configuration to store preprocessed data on disk and later simply
        # provide a reference to it.
        sequences = load_moving_mnist()

        # we use the configuration to control the settings under which we render
        # the stimuli
        receptors = BoxEye(extent=config.extent, kernel_size=config.kernel_size)

        # for memory-friendly rendering we can loop over individual sequences
        # and subsets of the dataset
        rendered_sequences = []
        subset_idx = getattr(config, "subset_idx", []) or list(range(sequences.shape[0]))
        with tqdm(total=len(subset_idx)) as pbar:
            for index in subset_idx:
                rendered_sequences.append(receptors(sequences[[index]]).cpu().numpy())
                pbar.update()

        # to join individual sequences along their first dimension
        # to obtain (n_sequences, n_frames, 1, receptors.hexals)
        rendered_sequences = np.concatenate(rendered_sequences, axis=0)

        # the __setattr__ method of the Directory class saves sequences to
        # self.path/"sequences.h5" that can be later retrieved using self.sequences[:]
        self.sequences = rendered_sequences


# --- seed 001, "Create a custom dataset" -------------------------------------
class CustomStimuli(SequenceDataset):
    # implementing the SequenceDataset interface
    dt = 1 / 100
    original_framerate = 24
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
        # to match the framerate to the integration time dt, we can resample frames
        # from these indices. note, when dt = 1/framerate, this will return the
        # exact sequence
        resample = self.get_temporal_sample_indices(sequence.shape[0], sequence.shape[0])
        return sequence[resample]


# the notebook's later cells define the same class with ``framerate = 24``
class CustomStimuliFramerate(SequenceDataset):
    # implementing the SequenceDataset interface
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


@pytest.fixture
def offline_mnist(monkeypatch, tmp_path):
    """The notebook's ``load_moving_mnist`` -> the offline generator, temp root."""
    monkeypatch.setattr(
        sys.modules[__name__],
        "load_moving_mnist",
        lambda: moving_mnist_offline(n_sequences=6, seed=0),
    )
    monkeypatch.setenv("TESTING", "true")
    with set_root_context(tmp_path):
        yield tmp_path


def test_seed001_custom_stimuli_workflow(offline_mnist, default_network):
    import matplotlib.pyplot as plt

    from flyvis.analysis import animations
    from flyvis.analysis.visualization import plots, plt_utils

    # "Example dataset"
    sequences = load_moving_mnist()
    assert sequences.shape == (6, 20, 64, 64)
    animation = animations.Imshow(sequences, cmap=plt.cm.binary_r)
    animation.animate_in_notebook(samples=[0, 1, 2])

    # "Render a single frame"
    single_frame = sequences[0, 0]
    single_frame = torch.tensor(single_frame, device=flyvis.device).float()
    single_frame = single_frame[None, None]
    receptors = BoxEye()
    rendered = receptors(single_frame)
    assert rendered.shape == torch.Size([1, 1, 1, 721])
    fig, ax, _ = plots.quick_hex_scatter(
        rendered.squeeze(), vmin=0, vmax=1, cbar_x_offset=0, fontsize=5
    )
    _ = ax.set_title("example frame rendered", fontsize=5)

    # "Render a whole dataset to disk"
    moving_mnist_rendered = RenderedData(
        dict(extent=15, kernel_size=13, subset_idx=[0, 1, 2, 3])
    )
    assert moving_mnist_rendered.path.parent == offline_mnist
    rendered_sequences = moving_mnist_rendered.sequences[:]
    assert rendered_sequences.shape == (4, 20, 1, 721)
    animation = animations.HexScatter(rendered_sequences, vmin=0, vmax=1)
    animation.animate_in_notebook()

    # "Create a custom dataset"
    data = CustomStimuli(dict(extent=15, kernel_size=13, subset_idx=[0, 1, 2, 3]))
    assert data.dir.path == moving_mnist_rendered.path  # found by config
    assert len(data) == 4 and data.n_sequences == 4
    animation = animations.HexScatter(data[0][None], vmin=0, vmax=1)
    animation.animate_in_notebook()

    # "Compute model responses to custom stimuli"
    network = default_network
    movie_input = data[0]
    assert movie_input.shape == torch.Size([84, 1, 721])  # 20 frames at 24 Hz -> 100 Hz
    stationary_state = network.fade_in_state(1.0, data.dt, movie_input[[0]])
    responses = network.simulate(
        movie_input[None], data.dt, initial_state=stationary_state
    ).cpu()
    assert responses.shape == torch.Size([1, 84, 45669])
    responses = LayerActivity(responses, network.connectome, keepref=True)
    cell_type = "T4c"
    anim = animations.StimulusResponse(
        movie_input[None], responses[cell_type][:, :, None]
    )
    anim.animate_in_notebook(frames=np.arange(anim.frames)[::2])

    n_frames = movie_input.shape[0]
    time = np.arange(0, n_frames * data.dt, data.dt)
    fig, ax = plt_utils.init_plot([2, 2], fontsize=5)
    ax.plot(time, responses.central[cell_type].squeeze())
    ax.set_xlabel("time in s", fontsize=5)
    ax.set_ylabel("central response (a.u.)", fontsize=5)
    central = np.asarray(responses.central[cell_type]).squeeze()
    assert central.shape == (84,) and np.isfinite(central).all()
    plt.close("all")

    # the later cells' variant with ``framerate = 24``
    data2 = CustomStimuliFramerate(
        dict(extent=15, kernel_size=13, subset_idx=[0, 1, 2, 3])
    )
    assert torch.equal(data2[0], movie_input)


def test_renderings_dir_is_the_flyvis_constant():
    assert renderings_dir == flyvis.renderings_dir
