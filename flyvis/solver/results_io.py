"""Appending and writing the solver's result files (datamate's HDF5 format).

Source: flyvis 1.2.0's network directory layout (spec ``network.md``).
"""

from typing import Any

import numpy as np
from datamate.io import _extend_h5, _write_h5

__all__ = ["ResultsWriter"]


class ResultsWriter:
    """Mixin of :class:`~flyvis.solver.solver.MultiTaskSolver`: buffered writes.

    Uses the solver's ``path`` (model directory), ``dir`` (its ``NetworkDir``),
    ``_pending`` (values buffered per key) and ``_modified`` (whether the
    directory was marked modified).
    """

    def _record(self, key: str, value: float) -> None:
        self._pending.setdefault(key, []).append(value)

    def _flush(self) -> None:
        for key, values in self._pending.items():
            if values:
                self._extend(key, np.asarray(values, dtype=float))
        self._pending = {}

    def _extend(self, key: str, values: Any) -> None:
        """Appends to ``<dir>/<key>.h5`` in datamate's format.

        Unlike ``Directory.extend`` this does not re-read ``_meta.yaml`` on every
        write (~50 ms per call for a full training config).
        """
        _extend_h5((self.path / key).with_suffix(".h5"), np.asarray(values))
        self._mark_modified()

    def _write(self, key: str, value: Any) -> None:
        """Writes ``<dir>/<key>.h5`` (datamate's format)."""
        _write_h5((self.path / key).with_suffix(".h5"), np.asarray(value))
        self._mark_modified()

    def _mark_modified(self) -> None:
        # datamate marks a directory written to after its build as modified
        if not self._modified:
            if not getattr(self.dir.meta, "modified", False):
                self.dir._modified_past_init(True)
            self._modified = True
