"""Builders of small in-memory evidence: a steady baseline, then a window where metrics move."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import numpy as np

from pipeline.incidents.diagnosis.analyzers.base import NodeView
from pipeline.incidents.diagnosis.evidence import (
    ChangeRecord,
    Evidence,
    NodeEvidence,
    node_evidence,
)

ROWS, WINDOW_ROWS, STEP_S = 40, 12, 10.0
START_S = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
WINDOW_START_S = START_S + STEP_S * (ROWS - WINDOW_ROWS)

# A quiet node: each metric's level and noise.
QUIET: dict[str, tuple[float, float]] = {
    "cpu.usage_user": (20, 2),
    "cpu.usage_system": (5, 0.5),
    "cpu.usage_iowait": (1, 0.3),
    "cpu.usage_idle": (74, 2),
    "load.load1": (1, 0.2),
    "mem.used_percent": (40, 0.5),
    "mem.available_bytes": (6e9, 5e7),
    "mem.swap_used_percent": (0.5, 0.05),
    "mem.major_faults_per_s": (1, 0.3),
    "disk.root.used_percent": (50, 0.05),
    "diskio.sda.busy_percent": (10, 2),
    "diskio.sda.write_bytes_per_s": (5e6, 1e6),
    "net.eth0.rx_bytes_per_s": (1e6, 1e5),
    "net.tcp_retrans_percent": (0.2, 0.05),
    "net.eth0.rx_drops_per_s": (0.1, 0.05),
    "processes.open_fds_percent": (2, 0.1),
    "proc.app.cpu_percent": (15, 2),
    "proc.app.rss_bytes": (5e8, 1e6),
    "proc.app.open_fds": (100, 2),
    "unit.app.restarts_per_s": (0, 0),
    "app.errors_per_s": (0.5, 0.2),
}

Window = Mapping[str, float | Callable[[float], float]]


def make_node(
    window: Window | None = None, node_id: str = "n-1", role: str = "app", seed: int = 0
) -> NodeEvidence:
    """A node quiet before the window; in it each metric of ``window`` takes the given value.

    A callable value gets the window's progress (0 -> 1) and returns the metric's value.
    """
    rng = np.random.default_rng(seed)
    times_s = START_S + STEP_S * np.arange(ROWS)
    series = {
        m: rng.normal(mu, sd, ROWS) if sd else np.full(ROWS, mu) for m, (mu, sd) in QUIET.items()
    }
    for metric, value in (window or {}).items():
        column = series.setdefault(metric, np.zeros(ROWS))
        for i in range(ROWS - WINDOW_ROWS, ROWS):
            progress = (i - ROWS + WINDOW_ROWS + 1) / WINDOW_ROWS
            column[i] = value(progress) if callable(value) else value + rng.normal(0, 0.01)
    window_s = (WINDOW_START_S, START_S + STEP_S * ROWS)
    return node_evidence(node_id, {"role": role}, times_s, series, window_s)


def make_evidence(*nodes: NodeEvidence, changes: tuple[ChangeRecord, ...] = ()) -> Evidence:
    """An incident over ``nodes``."""
    return Evidence("inc-1", nodes, changes)


def view_of(window: Window | None = None) -> tuple[Evidence, NodeView]:
    """Evidence of one node and its view, for one analyzer's test."""
    node = make_node(window)
    return make_evidence(node), NodeView.of(node)


def deploy(role: str, before_window_s: float = 60.0, kind: str = "deploy") -> ChangeRecord:
    """A change to ``role`` landing ``before_window_s`` before the window opens."""
    at = datetime.fromtimestamp(WINDOW_START_S - before_window_s, UTC)
    return ChangeRecord(change_id=f"{kind}-{role}", kind=kind, at=at, role=role)
