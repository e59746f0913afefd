"""Train a small network from Python with the packaged configs.

Equivalent to `flyvis train-single task=photoflow ...` on the command line.
Run: .venv/bin/python examples/train_from_python.py
"""

from flyvis.network import NetworkView
from flyvis.solver import MultiTaskSolver
from flyvis.utils.config_utils import get_default_config

config = get_default_config(
    overrides=[
        "task_name=flow",
        "ensemble_and_network_id=0100/000",
        "task=photoflow",
        "scheduler=photoflow",
        "task.n_iters=20",
        "task.dataset.n_sequences=8",
        "delete_if_exists=true",
    ]
)
solver = MultiTaskSolver(config=config, delete_if_exists=True)
before = solver.evaluate()
solver.train()
after = solver.evaluate()
print("before:", before)
print("after: ", after)

view = NetworkView(solver.dir.path)  # reopen the results directory
network = view.init_network()  # best checkpoint by validation EPE
decoder = view.init_decoder()["flow"]
print(view.dir.path, "checkpoints:", len(view.checkpoints.paths))
