"""Replay NAB-style CSVs (``timestamp,value``) as node metrics, each file one node.

Each series is shifted so that its last row lands at ``end_at`` (default: now), so replayed data
looks recent to queries and dashboards. NAB's labelled anomaly windows, when a
``labels/combined_windows.json`` sits beside or above ``data/``, become ground-truth records
shifted the same way.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import FleetwatchError
from pipeline.models import MetricBatch, utc_now

# Substring of the file name → the agent metric the series stands for; first match wins.
METRIC_HINTS = (
    ("cpu", "cpu.usage_active"),
    ("disk_write", "diskio.sda.write_bytes_per_s"),
    ("network_in", "net.eth0.rx_bytes_per_s"),
    ("networkin", "net.eth0.rx_bytes_per_s"),
    ("temperature", "temp.machine.celsius"),
    ("latency", "app.request_latency_ms"),
    ("request_count", "app.requests_per_s"),
)
DEFAULT_METRIC = "app.value"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Series:
    """One CSV file: the node and metric it becomes, its rows and its time shift."""

    path: Path
    key: str  # "folder/name.csv", the key NAB's label files use
    node_id: str
    metric: str
    role: str
    rows: list[tuple[datetime, float]]
    shift: timedelta


def metric_for(name: str) -> str:
    """The metric name a NAB file's name suggests (``app.value`` when nothing matches)."""
    lowered = name.lower()
    return next((metric for hint, metric in METRIC_HINTS if hint in lowered), DEFAULT_METRIC)


def load_series(directory: Path, end_at: datetime | None = None) -> list[Series]:
    """Every ``*.csv`` under ``directory``, shifted to end at ``end_at``.

    Raises
    ------
    FleetwatchError
        When the directory holds no CSV with ``timestamp,value`` rows.
    """
    end_at = end_at or utc_now()
    paths = sorted(directory.rglob("*.csv"))
    series = [s for s in (_read_one(directory, p, end_at) for p in paths) if s is not None]
    if not series:
        raise FleetwatchError(f"no timestamp,value CSV files under {directory}")
    return series


def replay_rounds(series: list[Series], interval_s: float) -> Iterator[list[MetricBatch]]:
    """Batches of every series in time order, grouped into rounds ``interval_s`` long."""
    rows = sorted(
        (at + s.shift, index, value) for index, s in enumerate(series) for at, value in s.rows
    )
    if not rows:
        return
    seqs = [0] * len(series)
    bucket_start, current = rows[0][0], list[MetricBatch]()
    for at, index, value in rows:
        if (at - bucket_start).total_seconds() >= interval_s and current:
            yield current
            bucket_start, current = at, []
        s = series[index]
        current.append(
            MetricBatch(
                node_id=s.node_id,
                sampled_at=at,
                labels={"role": s.role, "source": "nab"},
                metrics={s.metric: value},
                seq=seqs[index],
            )
        )
        seqs[index] += 1
    yield current


def replay_ground_truth(directory: Path, series: list[Series]) -> list[dict[str, Any]]:
    """NAB's labelled windows of the replayed files, shifted like their rows."""
    labels = _find_labels(directory)
    if labels is None:
        return []
    windows = json.loads(labels.read_text())
    records = []
    for s in series:
        for number, (start, end) in enumerate(windows.get(s.key, []), start=1):
            records.append(
                {
                    "fault_id": f"{s.node_id}-w{number}",
                    "kind": "nab_window",
                    "node_ids": [s.node_id],
                    "role": s.role,
                    "metrics": [s.metric],
                    "start_at": (_parse_time(start) + s.shift).isoformat(),
                    "end_at": (_parse_time(end) + s.shift).isoformat(),
                    "intensity": 1.0,
                }
            )
    return records


def _read_one(directory: Path, path: Path, end_at: datetime) -> Series | None:
    rows: list[tuple[datetime, float]] = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            try:
                rows.append((_parse_time(record["timestamp"]), float(record["value"])))
            except (KeyError, ValueError, TypeError):
                continue  # a header-only or foreign CSV row
    if not rows:
        return None
    rows.sort()
    folder = path.parent.name
    return Series(
        path=path,
        key=f"{folder}/{path.name}",
        node_id=_UNSAFE.sub("-", f"nab-{folder}-{path.stem}")[:253],
        metric=metric_for(path.stem),
        role=_UNSAFE.sub("_", folder)[:128],
        rows=rows,
        shift=end_at - rows[-1][0],
    )


def _parse_time(text: str) -> datetime:
    # NAB timestamps are UTC without a zone, sometimes with microseconds.
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)


def _find_labels(directory: Path) -> Path | None:
    for base in (directory, *directory.parents[:2]):
        candidate = base / "labels" / "combined_windows.json"
        if candidate.is_file():
            return candidate
    return None
