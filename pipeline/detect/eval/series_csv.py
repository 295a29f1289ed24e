"""Read and write the CSV files the offline tools work on (``timestamp,value`` or wide)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.errors import FleetwatchError

Floats = npt.NDArray[np.float64]
# Columns that are carried through but never shown to a detector.
PASSIVE_COLUMNS = ("timestamp", "label", "anomaly_score", "flag")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Table:
    """A CSV as columns: the raw text rows, and the numeric metric columns."""

    header: list[str]
    rows: list[list[str]]
    times: list[datetime]
    metrics: dict[str, Floats]


def parse_time(text: str) -> datetime:
    """An ISO timestamp; naive ones are UTC (as in NAB)."""
    at = datetime.fromisoformat(text.strip())
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")  # an empty or non-numeric cell is a missing sample


def read_table(path: Path, interval_s: float = 60.0) -> Table:
    """Read a CSV; rows without a ``timestamp`` column are ``interval_s`` apart from the epoch.

    Raises
    ------
    FleetwatchError
        When the file is empty, has no metric column or a bad timestamp.
    """
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        rows = [row for row in reader if row]
    if not header:
        raise FleetwatchError(f"{path}: empty CSV")
    names = [c for c in header if c not in PASSIVE_COLUMNS]
    if not names:
        raise FleetwatchError(f"{path}: no metric column besides {', '.join(PASSIVE_COLUMNS)}")
    if "timestamp" in header:
        at = header.index("timestamp")
        try:
            times = [parse_time(row[at]) for row in rows]
        except ValueError as exc:
            raise FleetwatchError(f"{path}: bad timestamp: {exc}") from exc
    else:
        times = [EPOCH + timedelta(seconds=interval_s * i) for i in range(len(rows))]
    metrics = {name: np.array([_number(row[header.index(name)]) for row in rows]) for name in names}
    return Table(header, rows, times, metrics)


def write_scored(path: Path, table: Table, score: Floats, flag: npt.NDArray[np.bool_]) -> None:
    """Write the input columns plus ``anomaly_score`` and ``flag`` (0/1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*table.header, "anomaly_score", "flag"])
        for row, s, f in zip(table.rows, score, flag, strict=True):
            writer.writerow([*row, f"{s:.6f}", int(f)])
