"""Exceptions raised when MPI-Sintel is missing or its download fails.

Re-exported by :mod:`flyvis.datasets.sintel_utils`.
"""

from __future__ import annotations

__all__ = ["SintelNotFoundError", "SintelDownloadError", "SintelChecksumError"]


class SintelNotFoundError(FileNotFoundError):
    """MPI-Sintel is not where it was looked for (the message says where to put it)."""


class SintelDownloadError(SintelNotFoundError):
    """Downloading MPI-Sintel failed (network error or incomplete transfer)."""


class SintelChecksumError(ValueError):
    """A downloaded file does not have the expected SHA-256 checksum."""
