"""The incident stage's data clock: the stream's own time, not the wall clock.

Incidents open, settle and resolve by the time of the anomalies (``window_end_at``),
so a replay or a simulation faster than real time groups exactly as a live fleet would. While
no data arrives the clock keeps running at wall-clock speed, so a quiet fleet still resolves.
Data time never runs ahead of the wall clock: one node with a clock set in the future must not
fast-forward every incident of the fleet to resolution.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from pipeline.models import utc_now


class DataClock:
    """The newest data time seen, advanced by the wall time elapsed since it was seen.

    Examples
    --------
    >>> from datetime import UTC
    >>> clock = DataClock()
    >>> clock.observe(datetime(2026, 1, 1, tzinfo=UTC))
    >>> clock.now() >= datetime(2026, 1, 1, tzinfo=UTC)
    True
    >>> clock.now() < datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    True
    >>> clock.observe(datetime(2999, 1, 1, tzinfo=UTC))  # a node with its clock far ahead
    >>> clock.now() < datetime(2999, 1, 1, tzinfo=UTC)
    True
    """

    def __init__(self) -> None:
        self._latest: datetime | None = None
        self._seen_monotonic = 0.0

    def observe(self, at: datetime) -> None:
        """Move the clock forward to ``at`` (late data never moves it back, future data is now)."""
        at = min(at, utc_now())
        if self._latest is None or at > self._latest:
            self._latest = at
            self._seen_monotonic = time.monotonic()

    def now(self) -> datetime:
        """Data time now; the wall clock until the first data arrives."""
        if self._latest is None:
            return utc_now()
        return self._latest + timedelta(seconds=time.monotonic() - self._seen_monotonic)
