"""A read-only mapping metric → SeriesScore backed by arrays, built lazily on access."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pipeline.detect.base import SeriesScore

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SeriesArrays:
    """Per-series results of one batch, aligned with ``names``."""

    names: tuple[str, ...]
    score: Floats
    flagged: Bools
    observed: Floats
    expected: Floats
    expected_low: Floats
    expected_high: Floats
    threshold: Floats


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
    >>> one = np.array([1.0])
    >>> table = SeriesTable(
    ...     SeriesArrays(("cpu.usage_user",), one, np.array([True]), one, one, one, one, one), "x"
    ... )
    >>> table["cpu.usage_user"].flagged, len(table)
    (True, 1)
    """

    def __init__(self, arrays: SeriesArrays, detector: str) -> None:
        self.arrays = arrays
        self.detector = detector
        self._position: dict[str, int] | None = None

    def _at(self, i: int) -> SeriesScore:
        a = self.arrays
        return SeriesScore(
            metric=a.names[i],
            score=float(a.score[i]),
            flagged=bool(a.flagged[i]),
            observed=float(a.observed[i]),
            expected=float(a.expected[i]),
            expected_low=float(a.expected_low[i]),
            expected_high=float(a.expected_high[i]),
            detector=self.detector,
            threshold=float(a.threshold[i]),
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
        """The ``limit`` highest-scoring series, highest first (stable on ties)."""
        order = np.argsort(-self.arrays.score, kind="stable")[:limit]
        return [self._at(int(i)) for i in order]

    def flagged(self) -> list[SeriesScore]:
        """The flagged series, in batch order."""
        return [self._at(int(i)) for i in np.flatnonzero(self.arrays.flagged)]
