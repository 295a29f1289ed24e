"""Expected bands for a chart: the detector's own when stored, else a rolling robust estimate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.store.records import BandPoint, SeriesPoint

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution × this = its standard deviation


def rolling_band(
    points: Sequence[SeriesPoint],
    history: int = 30,
    min_history: int = 5,
    width_sigmas: float = 3.0,
) -> list[BandPoint]:
    """Median ± ``width_sigmas`` robust sigmas of the ``history`` points before each point.

    Only past points count, as an online detector sees them, so a spike does not widen its own
    band. Points with fewer than ``min_history`` predecessors get no band.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> pts = [SeriesPoint(t0 + timedelta(seconds=i), 10.0 + i % 3) for i in range(8)]
    >>> band = rolling_band(pts)
    >>> len(band), band[0].at == pts[5].at, band[0].low < 10.0 < 12.0 < band[0].high
    (3, True, True)
    """
    if min_history < 2 or history < min_history:
        raise ValueError("need history >= min_history >= 2")
    values = np.array([p.value for p in points], dtype=float)
    band: list[BandPoint] = []
    for index in range(min_history, len(points)):
        past = values[max(0, index - history) : index]
        median = float(np.median(past))
        sigma = MAD_TO_SIGMA * float(np.median(np.abs(past - median)))
        # A flat history has zero MAD; keep a sliver of width so the band stays visible.
        half = max(width_sigmas * sigma, 0.01 * abs(median), 1e-6)
        band.append(BandPoint(points[index].at, median - half, median + half))
    return band
