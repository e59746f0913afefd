"""Tasks: decoders from network activity to predictions, and objectives.

Mirrors flyvis 1.2.0, whose ``flyvis.task`` star-imports ``decoder``, ``tasks``
and ``objectives`` in that order (so ``tasks.init_decoder``, building a dict of
decoders, shadows ``decoder.init_decoder`` here). Importing this package is
cheap: no matplotlib, no data loading.
"""

from flyvis.task.decoder import *  # noqa: F403
from flyvis.task.decoder import __all__ as _decoder_all
from flyvis.task.objectives import *  # noqa: F403
from flyvis.task.objectives import __all__ as _objectives_all
from flyvis.task.objectives import get_objective
from flyvis.task.tasks import *  # noqa: F403, E402
from flyvis.task.tasks import __all__ as _tasks_all

__all__ = [*_decoder_all, *_tasks_all, *_objectives_all, "get_objective"]
