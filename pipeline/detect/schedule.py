"""Schedule memory of a host's own alert: flags that recur at the same hour of day are learned.

The same rule as the series' (:func:`pipeline.detect.series_watch.recurrent`): a decayed count
of past days with a flag in each hour slot; a flag in a slot that flagged on about two recent
days is held back. A nightly backup alarms the first nights, then no more; a flag at an hour
that never flagged before is reported.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from pipeline.detect.series_watch import SLOTS, recurrent


class HourSlots:
    """Per-hour memory of past flags for one host (24 counts and 24 day numbers).

    Parameters
    ----------
    watch_vector
        The series' decision parameters (decay and minimum count are read from it).

    Examples
    --------
    >>> from pipeline.detect.robust import SeriesParams
    >>> slots = HourSlots(SeriesParams().watch_vector)
    >>> night = 3 * 3600.0
    >>> [slots.recurrent(day * 86_400.0 + night) for day in range(4)]
    [False, False, True, True]
    >>> slots.recurrent(3 * 86_400.0 + 15 * 3600.0)
    False
    """

    def __init__(self, watch_vector: npt.NDArray[np.float64]) -> None:
        self.watch_vector = watch_vector
        self.counts = np.zeros((1, SLOTS), dtype=np.float32)
        self.days = np.zeros((1, SLOTS), dtype=np.int32)

    def recurrent(self, at_s: float) -> bool:
        """Record a flag at ``at_s`` (epoch s); whether its hour slot is a learned schedule."""
        slot, day = int((at_s % 86_400.0) // 3600.0), int(at_s // 86_400.0)
        return bool(recurrent(self.counts, self.days, 0, slot, day, self.watch_vector))

    def state(self) -> dict[str, np.ndarray]:
        """Arrays for a snapshot."""
        return {"counts": self.counts, "days": self.days}

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore from :meth:`state` arrays (absent in older snapshots: nothing learned yet)."""
        if "counts" in arrays:
            self.counts = arrays["counts"].astype(np.float32).reshape(1, SLOTS).copy()
            self.days = arrays["days"].astype(np.int32).reshape(1, SLOTS).copy()
