"""Training: ``MultiTaskSolver``, ``Penalty``, ``HyperParamScheduler``.

``flyvis.solver`` mirrors flyvis 1.2.0's ``flyvis/solver.py`` module; the code
is split into ``solver.py`` (the solver and its on-disk results),
``penalty.py`` and ``scheduler.py``.
"""

from flyvis.solver.penalty import Penalty, asymmetric_weighting
from flyvis.solver.scheduler import HyperParamScheduler, SchedulerFunction
from flyvis.solver.solver import MultiTaskSolver
from flyvis.solver.utils import get_optimizer_class

__all__ = [
    "MultiTaskSolver",
    "Penalty",
    "HyperParamScheduler",
    "SchedulerFunction",
    "asymmetric_weighting",
    "get_optimizer_class",
]
