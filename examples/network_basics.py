"""Simulate the default network on a movie and look at cell-type responses.

Run: .venv/bin/python examples/network_basics.py  (writes network_basics.png)
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from flyvis import Network  # noqa: E402
from flyvis.analysis.visualization import plots  # noqa: E402
from flyvis.datasets.rendering import BoxEye  # noqa: E402
from flyvis.utils.activity_utils import LayerActivity  # noqa: E402

dt = 1 / 100
network = Network()  # 45,669 cells, 1,513,231 synapse sets; CUDA if available
eye = BoxEye(extent=15, kernel_size=13)

# a dark bar moving right across a grey 64 x 64 screen, 50 frames
frames = np.full((1, 50, 64, 64), 0.5, dtype=np.float32)
for t in range(50):
    frames[0, t, :, max(0, t - 4) : t + 4] = 0.0
movie = eye(torch.from_numpy(frames))  # (1, 50, 1, 721) photoreceptor luminance

state = network.fade_in_state(1.0, dt, movie[:, [0]])  # adapt to the first frame
responses = network.simulate(movie, dt, initial_state=state)  # (1, 50, 45669)
activity = LayerActivity(responses.cpu(), network.connectome, keepref=True)

time = np.arange(movie.shape[1]) * dt
fig, axes = plt.subplots(1, 3, figsize=(9, 2.5))
for cell_type in ["L1", "Mi1", "T4a", "T5a"]:
    axes[0].plot(time, activity.central[cell_type][0].numpy(), label=cell_type)
axes[0].set_xlabel("time (s)")
axes[0].set_ylabel("voltage (a.u.)")
axes[0].legend(fontsize=6)
plots.quick_hex_scatter(movie[0, 25, 0], fig=fig, ax=axes[1], cbar=False, title="input")
plots.quick_hex_scatter(
    activity["T4a"][0, 25], fig=fig, ax=axes[2], cmap="seismic", title="T4a, all columns"
)
fig.savefig("network_basics.png", dpi=150)
print(
    "central T4a voltage range:",
    activity.central.T4a.min().item(),
    activity.central.T4a.max().item(),
)
