"""Every remediation step as an InfluxDB point (incidents use ``pipeline.store.incidents``).

Points are timed in milliseconds (the sink's precision) at the moment of the step, strictly
increasing per log, and tagged by node, action and step, so two steps never overwrite each other
and the trail reads in order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Literal, Protocol

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

AUDIT_MEASUREMENT = "remediation_audit"
Step = Literal[
    "issued",
    "blocked",
    "received",
    "refused",
    "awaiting_approval",
    "approved",
    "dry_run",
    "executed",
    "failed",
    "verified",
    "no_effect",
]

log = logging.getLogger(__name__)


class PointSink(Protocol):
    """Where points go (``pipeline.store.influx.InfluxSink`` in production)."""

    def add_many(self, points: Iterable[Point]) -> None:
        """Queue points for writing."""
        ...


class AuditLog:
    """Write audit steps to a point sink; also logs each step once at INFO."""

    def __init__(self, sink: PointSink) -> None:
        self.sink = sink
        self._last_ms = 0

    def record(
        self,
        step: Step,
        *,
        node_id: str,
        action: str,
        request_id: str,
        incident_id: str = "",
        detail: str = "",
    ) -> None:
        """Write one step of one request."""
        point = (
            Point(AUDIT_MEASUREMENT)
            .tag("node", node_id)
            .tag("action", action)
            .tag("step", step)
            .field("request_id", request_id)
            .field("incident_id", incident_id)
            .field("detail", " ".join(detail.split())[:1000])
            .time(self._now_ms(), WritePrecision.MS)
        )
        self.sink.add_many([point])
        log.info("%s %s on %s (%s): %s", step, action, node_id, request_id, detail)

    def _now_ms(self) -> int:
        # strictly increasing, so two steps within one millisecond both survive
        self._last_ms = max(time.time_ns() // 1_000_000, self._last_ms + 1)
        return self._last_ms
