"""Source of examples/06_training.ipynb (training from Python with MultiTaskSolver)."""

from cells import code, md

CELLS = [
    md(
        """
# Training from Python

`MultiTaskSolver` trains a network and its decoder on the optic-flow task,
checkpoints them and evaluates them; `NetworkView` reopens the results
directory. The offline photo-flow movies ship with the package, so this runs
anywhere. The settings are the CPU recipe `+experiment=cpu_flow` (a network of
extent 4 initialised to pass signals on, batches of 32 movies; about 6 minutes
on 2 CPU cores): see `docs/training.md` for what was measured.
"""
    ),
    code(
        """
# parameters
n_iters = 1200         # training iterations
batch_size = 32        # movies per iteration
n_sequences = 480      # photo-flow movies (train + validation)
""",
        parameters=True,
    ),
    code(
        """
import matplotlib.pyplot as plt
import numpy as np

from flyvis.network import NetworkView
from flyvis.solver import MultiTaskSolver
from flyvis.utils.config_utils import get_default_config

config = get_default_config(
overrides=[
    "+experiment=cpu_flow",
    "task_name=flow",
    "ensemble_and_network_id=0100/000",
    f"task.n_iters={n_iters}",
    f"task.batch_size={batch_size}",
    f"task.dataset.n_sequences={n_sequences}",
]
)
solver = MultiTaskSolver(config=config, delete_if_exists=True)
before = solver.evaluate()["flow"]
print(f"validation EPE before training: {before['epe']:.4f} (zero flow {before['epe_zero']:.4f})")
"""
    ),
    code(
        """
solver.train(progress=False)
after = solver.evaluate()["flow"]
print(f"validation EPE after training:  {after['epe']:.4f} (zero flow {after['epe_zero']:.4f})")
"""
    ),
    md(
        """
## What the solver wrote

Loss per iteration and validation EPE per checkpoint, with the EPE of
predicting zero flow on the same movies:
"""
    ),
    code(
        """
view = NetworkView(solver.dir.path)  # reopen the results directory
loss = np.asarray(view.dir.loss[:]).ravel()
epe = np.asarray(view.dir.validation.epe[:]).ravel()
zero = np.asarray(view.dir.validation.epe_zero[:]).ravel()
iters = np.asarray(view.dir.validation.iteration[:]).ravel()
fig, axes = plt.subplots(1, 2, figsize=(8, 3))
axes[0].plot(loss, lw=0.5)
axes[0].set(xlabel="iteration", ylabel="training loss")
axes[1].plot(iters, epe, "o-", label="model")
axes[1].plot(iters, zero, "k--", label="zero flow")
axes[1].set(xlabel="iteration", ylabel="validation EPE")
axes[1].legend()
fig.tight_layout()
print("checkpoints:", len(view.checkpoints.paths))
"""
    ),
    code(
        """
network = view.init_network()  # the best checkpoint by validation EPE
decoder = view.init_decoder()["flow"]
print(type(network).__name__, network.num_parameters, type(decoder).__name__)
"""
    ),
]
