"""Source of examples/02_optic_flow_task.ipynb (follows flyvis's optic flow task notebook)."""

from cells import code, md

CELLS = [
    md(
        """
# The optic flow task

This notebook follows flyvis's "optic flow task" notebook: the movies and
their motion fields, the fly-eye rendering and augmentations, network responses,
decoding optic flow from them, overfitting one batch, and evaluating the
pretrained ensemble `flow/0000` that ships with this library (no download).

The shipped models cover a patch of 61 columns (lattice extent 4) instead of
flyvis's 721 (extent 15), so the movies are rendered at extent 4 here.
"""
    ),
    code(
        """
# parameters
n_sequences = 48        # photo-flow movies to render (when Sintel is absent)
n_eval = 8              # validation movies to evaluate the models on
overfit_iters = 150     # iterations of the single-batch training demo
""",
        parameters=True,
    ),
    code(
        """
import matplotlib.pyplot as plt
import numpy as np
import torch

import flyvis

plt.rcParams["figure.dpi"] = 200  # as in flyvis's notebooks
"""
    ),
    md(
        """
## The dataset: MPI-Sintel where present, else the offline photo-flow movies

flyvis trains on MPI-Sintel (`MultiTaskSintel`), which has to be downloaded
(http://sintel.is.tue.mpg.de/) into `flyvis.sintel_dir`. Without it this
notebook uses `MultiTaskPhotoFlow`: movies rendered from real photographs that
ship with the package, moving with known optic flow, with the same interface
(`lum`, `flow`, `arg_df`, augmentations, `dt`). **This cell chooses.**
"""
    ),
    code(
        """
from flyvis.datasets.photo_flow import MultiTaskPhotoFlow
from flyvis.datasets.sintel import MultiTaskSintel

extent = 4  # lattice radius of the shipped models (61 columns)
use_sintel = (flyvis.sintel_dir / "training" / "final").is_dir()


def make_dataset(**kwargs):
    \"\"\"The optic-flow dataset of this notebook (same keyword arguments for both).\"\"\"
    boxfilter = dict(extent=extent, kernel_size=13)
    if use_sintel:
        return MultiTaskSintel(tasks=["flow"], boxfilter=boxfilter, vertical_splits=1, **kwargs)
    return MultiTaskPhotoFlow(
        tasks=["flow"], boxfilter=boxfilter, n_sequences=n_sequences, **kwargs
    )


print("dataset:", "MPI-Sintel" if use_sintel else "offline photo-flow movies")
"""
    ),
    md(
        """
## Single sample

Without augmentation and at the source frame rate (`dt = 1/24`): the input
luminance on the hexagonal lattice and the target motion field (colour:
direction, saturation: speed).
"""
    ),
    code(
        """
from flyvis.analysis.animations.sintel import SintelSample

dataset = make_dataset(dt=1 / 24, augment=False)
print(len(dataset), "sequences")
dataset.arg_df.head()
"""
    ),
    code(
        """
sample = dataset[0]
lum, flow = sample["lum"], sample["flow"]
print("lum", tuple(lum.shape), "flow", tuple(flow.shape))  # (frames, channels, hexals)
fig = SintelSample(lum[None], flow[None]).plot(0, 5)
"""
    ),
    md(
        """
## Augmentations

Training draws each movie with random flips, rotations (hexagonal symmetry),
contrast, brightness and pixel noise, so that the network has to estimate
motion whatever its direction and contrast. Two draws of the same movie:
"""
    ),
    code(
        """
dataset = make_dataset(
    dt=1 / 24, augment=True, p_flip=0.5, p_rot=5 / 6,
    contrast_std=0.2, brightness_std=0.1, gaussian_white_noise=0.08,
)
draws = [dataset[0] for _ in range(2)]
lum2 = torch.stack([d["lum"] for d in draws])
flow2 = torch.stack([d["flow"] for d in draws])
fig = SintelSample(lum2, flow2).plot(1, 5)
"""
    ),
    md(
        """
## Frame rate and integration time step

The movies have 24 frames per second; fly neurons respond to differences of
5-20 ms. With `resampling=True` every frame is repeated to the integration
step `dt` (here 20 ms, as in training) and the flow is interpolated in time.
"""
    ),
    code(
        """
dataset = make_dataset(dt=1 / 50, n_frames=19, augment=False, resampling=True, interpolate=True)
data = dataset[0]
print("frames at dt = 1/50:", data["lum"].shape[0])
"""
    ),
    md(
        """
## Responses of the best pretrained model

`NetworkView("flow/0000/000")` opens the best model of the shipped ensemble
(models are numbered by task error). `fade_in_state` ramps the first frame up
from grey so that the onset transient is gone; `LayerActivity` indexes the
responses by cell type.
"""
    ),
    code(
        """
from flyvis.network import NetworkView
from flyvis.utils.activity_utils import LayerActivity

network_view = NetworkView("flow/0000/000")
network = network_view.init_network()
layer_activity = LayerActivity(None, network.connectome, keepref=True)

lum = data["lum"]
stationary_state = network.fade_in_state(1.0, dataset.dt, lum[[0]])
responses = network.simulate(lum[None], dataset.dt, initial_state=stationary_state).cpu()
layer_activity.update(responses)
r = layer_activity.central.T4c.squeeze().numpy()
time = np.arange(r.shape[0]) * dataset.dt
fig, ax = plt.subplots(figsize=[3, 2])
ax.plot(time, r)
ax.set(xlabel="time (s)", ylabel="voltage (a.u.)", title="central T4c cell")
print("responses", tuple(responses.shape))  # (samples, frames, cells)
"""
    ),
    md(
        """
## Decoding optic flow from the network

The decoder (`DecoderGAVP`) reads the voltages of the output cell types on
the hexagonal lattice and predicts the flow at every column. On validation
movies drawn like the model's training movies (its stored task config: the
shipped models were trained on translating scenes) the trained model is
compared with predicting zero flow:
"""
    ),
    code(
        """
from flyvis.task.objectives import epe

decoder = network_view.init_decoder()["flow"]
decoder.eval()
trained_on = network_view.dir.config.task.dataset
motion = {} if use_sintel else {
    key: trained_on[key] for key in ("motion", "n_foreground") if key in trained_on
}
eval_dataset = make_dataset(
    dt=dataset.dt, n_frames=19, augment=False, resampling=True, interpolate=True, **motion
)
_, val_index = eval_dataset.original_train_and_validation_indices()  # held out in training
batch = [eval_dataset[i] for i in val_index[:n_eval]]
lum = torch.stack([d["lum"] for d in batch])
flow = torch.stack([d["flow"] for d in batch])
state = network.fade_in_state(1.0, dataset.dt, lum[:, 0])
with torch.no_grad():
    y_pred = decoder(network.simulate(lum, dataset.dt, initial_state=state))
print(f"EPE of the best model: {epe(y_pred, flow).item():.3f} "
      f"(zero flow: {epe(torch.zeros_like(flow), flow).item():.3f})")
fig = SintelSample(lum, flow, prediction=y_pred).plot(0, 12)
"""
    ),
    md(
        """
## Training network and decoder on a single batch

As in flyvis's notebook: an untrained network (extent 4) and a fresh decoder,
overfitted to one batch to check that gradients flow end to end. This does
not generalise; `MultiTaskSolver` (notebook 06) trains properly.
"""
    ),
    code(
        """
from torch.optim import Adam
from torch.utils.data import DataLoader

from flyvis.network import Network
from flyvis.task.decoder import DecoderGAVP

torch.manual_seed(0)
net = Network(
    connectome=dict(
        type="ConnectomeFromAvgFilters", file="fib25-fib19_v2.2.json",
        extent=extent, n_syn_fill=1,
    )
)
dec = DecoderGAVP(net.connectome, shape=[8, 2], kernel_size=5)
batch = next(iter(DataLoader(dataset, batch_size=4)))
optimizer = Adam((*net.parameters(), *dec.parameters()), lr=1e-3)
initial_state = net.steady_state(0.5, dataset.dt, batch_size=4)
errors = []
for iteration in range(overfit_iters):
    optimizer.zero_grad()
    net.stimulus.zero()
    net.stimulus.add_input(batch["lum"])
    activity = net(net.stimulus(), dt=dataset.dt, state=initial_state)
    loss = epe(dec(activity), batch["flow"])
    loss.backward()
    optimizer.step()
    errors.append(loss.item())
print(f"single-batch EPE: {errors[0]:.3f} -> {errors[-1]:.3f}")
fig, ax = plt.subplots(figsize=[3, 2])
ax.plot(errors)
ax.set(xlabel="iteration", ylabel="EPE (training batch)")
"""
    ),
    md(
        """
## The ensemble

`EnsembleView("flow/0000")` loads all shipped models; their task errors
(minimal validation loss) order them:
"""
    ),
    code(
        """
from flyvis import EnsembleView

ensemble = EnsembleView("flow/0000")
task_error = ensemble.task_error()
print(len(ensemble), "models; task errors:", np.round(task_error.values, 3))
fig, ax = ensemble.task_error_histogram()
"""
    ),
]
