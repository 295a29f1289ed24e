"""A read-only mapping metric → SeriesScore backed by arrays, built lazily on access."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pipeline.detect.base import SeriesScore
from pipeline.detect.series_watch import REASONS

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SeriesArrays:
    """Per-series results of one batch, aligned with ``names``.

    The band is not stored: it is ``expected ± half_width(i)``, computed only for the series a
    caller looks at (most batches have none flagged, and scoring stays a few array operations).
    """

    names: tuple[str, ...]
    score: Floats
    flagged: Bools
    observed: Floats
    expected: Floats
    threshold: Floats
    scale: Floats  # residual scale of each series
    surprise: Floats  # its typical |z| (the score's unit)
    novelty: Floats  # how far outside its range so far (pipeline.detect.novelty)
    score_k: float = 3.0  # score = ratio / (ratio + score_k)
    # Why each series is flagged (pipeline.detect.series_watch.REASONS) and, for bounded series,
    # the time to exhaustion with its interval (inf: not approaching).
    reason: npt.NDArray[np.int8] | None = None
    eta_s: Floats | None = None
    eta_low_s: Floats | None = None
    eta_high_s: Floats | None = None
    # What ranks the series as the host's contributors, when the host keeps its own (else score).
    contribution: Floats | None = None

    def half_width(self, i: int) -> float:
        """Half-width of series ``i``'s band: the residual at which its score hits its threshold."""
        threshold = float(self.threshold[i])
        ratio = self.score_k * threshold / (1.0 - threshold)
        return ratio * float(self.surprise[i]) * float(self.scale[i])


def _finite(values: Floats | None, i: int) -> float | None:
    """``values[i]`` when there is a finite one."""
    if values is None or not np.isfinite(values[i]):
        return None
    return float(values[i])


class SeriesTable(Mapping[str, SeriesScore]):
    """Mapping view over :class:`SeriesArrays`; creates a ``SeriesScore`` only when asked.

    Parameters
    ----------
    arrays
        The batch's per-series results.
    detector
        Name written into every ``SeriesScore``.

    Examples
    --------
    >>> import numpy as np
    >>> one, half = np.array([1.0]), np.array([0.5])
    >>> flag = np.array([True])
    >>> arrays = SeriesArrays(("cpu.usage_user",), one, flag, one, one, half, one, one, one)
    >>> table = SeriesTable(arrays, "x")
    >>> table["cpu.usage_user"].flagged, table["cpu.usage_user"].expected_high, len(table)
    (True, 4.0, 1)
    """

    def __init__(self, arrays: SeriesArrays, detector: str) -> None:
        self.arrays = arrays
        self.detector = detector
        self._position: dict[str, int] | None = None

    def _at(self, i: int) -> SeriesScore:
        a = self.arrays
        expected, half = float(a.expected[i]), a.half_width(i)
        why = REASONS[int(a.reason[i])] if a.reason is not None else ""
        return SeriesScore(
            metric=a.names[i],
            score=float(a.score[i]),
            flagged=bool(a.flagged[i]),
            observed=float(a.observed[i]),
            expected=expected,
            expected_low=expected - half,
            expected_high=expected + half,
            detector=self.detector,
            threshold=float(a.threshold[i]),
            reason=why or "score",
            exhaustion_eta_s=_finite(a.eta_s, i),
            eta_low_s=_finite(a.eta_low_s, i),
            eta_high_s=_finite(a.eta_high_s, i),
        )

    def __getitem__(self, metric: str) -> SeriesScore:
        if self._position is None:
            self._position = {name: i for i, name in enumerate(self.arrays.names)}
        return self._at(self._position[metric])

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays.names)

    def __len__(self) -> int:
        return len(self.arrays.names)

    def top(self, limit: int) -> list[SeriesScore]:
        """The ``limit`` series that contributed most, highest first (stable on ties)."""
        a = self.arrays
        rank = a.score if a.contribution is None else a.contribution
        order = np.argsort(-rank, kind="stable")[:limit]
        return [self._at(int(i)) for i in order]

    def flagged(self) -> list[SeriesScore]:
        """The flagged series, in batch order."""
        # The array's own nonzero(): np.flatnonzero's dispatch cost 1 µs of every batch, 0.2 here.
        return [self._at(int(i)) for i in self.arrays.flagged.nonzero()[0]]
