"""Logging helpers of flyvis 1.2.0's ``flyvis.utils.logging_utils`` (``spec/utilities.md`` §7).

Nothing here configures logging: importing flyvis leaves the root logger alone.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

__all__ = ["warn_once", "all_logging_disabled"]


@lru_cache(maxsize=None)
def warn_once(logger: logging.Logger, msg: str) -> None:
    """Logs ``msg`` as a warning the first time this (logger, message) pair is seen.

    Args:
        logger: The logger to warn with.
        msg: The message.
    """
    logger.warning(msg)


@contextmanager
def all_logging_disabled(highest_level: int = logging.CRITICAL) -> Iterator[None]:
    """Suppresses all log records up to ``highest_level`` inside the block.

    Uses ``logging.disable``, so it covers every logger; the previous disable
    level is restored on exit.

    Args:
        highest_level: Records at this level and below are dropped.
    """
    previous = logging.root.manager.disable
    logging.disable(highest_level)
    try:
        yield
    finally:
        logging.disable(previous)
