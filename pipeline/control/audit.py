"""Every remediation step as an InfluxDB point (incidents use ``pipeline.store.incidents``).

Points are timed in milliseconds (the sink's precision) at the moment of the step, strictly
increasing per log, and tagged by node, action and step, so two steps never overwrite each other
and the trail reads in order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from pipeline.models import AuditStep, AuditStepName
from pipeline.store.sink import Sink, add_waiting

AUDIT_MEASUREMENT = "remediation_audit"
Step = AuditStepName

log = logging.getLogger(__name__)


def audit_point(step: AuditStep) -> Point:
    """The InfluxDB point of one audit step."""
    point: Point = (
        Point(AUDIT_MEASUREMENT)
        .tag("node", step.node_id)
        .tag("action", step.action)
        .tag("step", step.step)
        .field("request_id", step.request_id)
        .field("incident_id", step.incident_id)
        .field("detail", step.detail)
        .time(step.at_ms, WritePrecision.MS)
    )
    return point


class AuditLog:
    """Write audit steps to a sink (waiting when it asks), or hand them to ``publish``.

    A node publishes to Kafka; each step is also logged once at INFO.
    """

    def __init__(
        self, sink: Sink[Point] | None = None, publish: Callable[[AuditStep], None] | None = None
    ) -> None:
        if (sink is None) == (publish is None):
            raise ValueError("an audit log needs exactly one of a sink or a publish function")
        self.sink = sink
        self.publish = publish
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
        audit = AuditStep(
            node_id=node_id, step=step, action=action, request_id=request_id,
            incident_id=incident_id[:128], detail=" ".join(detail.split())[:1000],
            at_ms=self._now_ms(),
        )  # fmt: skip
        if self.publish is not None:
            self.publish(audit)
        elif self.sink is not None:
            add_waiting(self.sink, [audit_point(audit)])
        log.info("%s %s on %s (%s): %s", step, action, node_id, request_id, detail)

    def _now_ms(self) -> int:
        # strictly increasing, so two steps within one millisecond both survive
        self._last_ms = max(time.time_ns() // 1_000_000, self._last_ms + 1)
        return self._last_ms
