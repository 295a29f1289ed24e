"""Metric name → array slot of one host, bounded, evicting the series seen least recently."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Index = npt.NDArray[np.intp]


class SlotMap:
    """Assigns each metric of a host a row in the host's state arrays.

    Parameters
    ----------
    max_series
        Upper bound of rows; when full, the series seen least recently gives up its row.

    Examples
    --------
    >>> slots = SlotMap(max_series=2)
    >>> slots.assign(("a.x", "a.y"), step=1)[0].tolist()
    [0, 1]
    >>> index, fresh = slots.assign(("a.z",), step=2)  # evicts a row seen at step 1
    >>> len(slots.names), fresh.tolist()
    (2, [0])
    """

    def __init__(self, max_series: int) -> None:
        if max_series < 1:
            raise ValueError(f"max_series must be >= 1, got {max_series}")
        self.max_series = max_series
        self.names: list[str] = []
        self.position: dict[str, int] = {}
        self.last_step = np.zeros(0, dtype=np.int64)

    def assign(self, keys: tuple[str, ...], step: int) -> tuple[Index, Index]:
        """Rows of ``keys`` (adding unknown ones) and the rows that are new or were reused."""
        if len(keys) > self.max_series:
            raise ValueError(
                f"{len(keys)} metrics in one batch exceed max_series={self.max_series}"
            )
        rows = np.full(len(keys), -1, dtype=np.intp)
        fresh: list[int] = []
        for i, key in enumerate(keys):
            rows[i] = self.position.get(key, -1)
        missing = np.flatnonzero(rows < 0).tolist()
        # Touch known rows first so that eviction never takes a row of this very batch.
        self.touch(rows[rows >= 0], step)
        for i in missing:
            rows[i] = self._new_row(keys[i], step)
            fresh.append(int(rows[i]))
        return rows, np.asarray(fresh, dtype=np.intp)

    def touch(self, rows: Index, step: int) -> None:
        """Mark ``rows`` as seen at ``step``."""
        self.last_step[rows] = step

    def _new_row(self, key: str, step: int) -> int:
        if len(self.names) < self.max_series:
            row = len(self.names)
            self.names.append(key)
            self.last_step = np.append(self.last_step, step)
        else:
            # Rows touched this step carry `step`; the oldest other row is evicted.
            row = int(np.argmin(self.last_step))
            del self.position[self.names[row]]
            self.names[row] = key
            self.last_step[row] = step
        self.position[key] = row
        return row

    def restore(self, names: list[str], last_step: npt.NDArray[np.int64]) -> None:
        """Reload names and recency from a snapshot."""
        self.names = list(names)
        self.position = {name: i for i, name in enumerate(self.names)}
        self.last_step = np.asarray(last_step, dtype=np.int64).copy()
