"""HitRate@P % of a detector's contributor ranking against the metrics operators blamed (ASD).

OmniAnomaly's interpretation score: at each labelled anomalous row, the detector ranks the
metrics by how much each contributed; with ``G`` the blamed metrics, the top ``floor(P % * |G|)``
of the ranking are taken and the row scores ``|top ∩ G| / |G|``. The figure is the mean over
every row of every labelled segment, so a long segment weighs as many rows as it lasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.errors import FleetwatchError

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Segment:
    """Rows ``start..end`` (inclusive, test-file row indices) and the 0-based blamed columns."""

    start: int
    end: int
    metrics: tuple[int, ...]


def read_segments(path: Path) -> list[Segment]:
    """Parse an ``interpretation_label/omi-N.txt``: ``start-end:m1,m2,...`` per line (1-based).

    Raises
    ------
    FleetwatchError
        When a line is not in that form.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "omi-1.txt"
    ...     _ = p.write_text("3-5:1,4")
    ...     read_segments(p)
    [Segment(start=3, end=5, metrics=(0, 3))]
    """
    segments = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows, metrics = line.split(":")
            start, end = (int(x) for x in rows.split("-"))
            blamed = tuple(int(m) - 1 for m in metrics.split(",") if m.strip())
        except ValueError as exc:
            raise FleetwatchError(f"{path}:{number}: not 'start-end:m1,m2,...': {line!r}") from exc
        segments.append(Segment(start, end, blamed))
    return segments


def row_hits(contribution: Floats, blamed: tuple[int, ...], percent: float) -> float:
    """Share of ``blamed`` among the top ``floor(percent/100 * len(blamed))`` contributions.

    Ties are broken by column order (stable), so a flat ranking earns nothing by luck.

    Examples
    --------
    >>> row_hits(np.array([0.9, 0.1, 0.8, 0.0]), (0, 2), 100.0)
    1.0
    >>> row_hits(np.array([0.9, 0.1, 0.8, 0.0]), (1, 3), 150.0)  # top 3 holds 1, not 3
    0.5
    """
    if not blamed:
        return 0.0
    take = int(np.floor(percent / 100.0 * len(blamed)))
    top = np.argsort(-contribution, kind="stable")[:take]
    return len(set(top.tolist()) & set(blamed)) / len(blamed)


def hit_rate(contributions: Floats, segments: list[Segment], percent: float) -> tuple[float, int]:
    """Sum of per-row hits over every segment row, and the number of rows (to average later).

    ``contributions`` has one row per test row and one column per metric, in file order.
    """
    total, rows = 0.0, 0
    for segment in segments:
        for row in range(segment.start, min(segment.end, len(contributions) - 1) + 1):
            total += row_hits(contributions[row], segment.metrics, percent)
            rows += 1
    return total, rows
