"""The incident stage: anomalies in; incidents, signed requests, audit and notifications out.

Why a kafka-python loop and not a Faust agent: a fleet incident is a *cross-host* aggregate (many
nodes sharing a label), while ``fleet.anomalies`` is keyed and partitioned by node. A Faust agent
per partition would see only a slice of the fleet and would need a repartition by label plus a
table of the result; one consumer that reads every partition sees the fleet whole. Anomalies are
orders of magnitude rarer than metric samples, so one process keeps up easily (the metric batches
it also reads are decoded only for their labels, to know each group's population). Time-driven
transitions (settle, resolve) need a periodic tick, which a plain poll loop gives directly.
The state is in memory: after a restart, incidents reopen as the anomalies continue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from influxdb_client.client.write.point import Point

from pipeline.control.audit import AuditLog, Step
from pipeline.control.signing import verify_signature
from pipeline.control.silences import SilenceBook
from pipeline.errors import ActionRefused
from pipeline.incidents.alert_sender import AlertmanagerNotifier
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.issuer import Blocked, Issuer
from pipeline.incidents.notifier import WebhookNotifier
from pipeline.incidents.runbooks import Rule
from pipeline.models import (
    AnomalyEvent,
    Incident,
    MetricBatch,
    OperatorCommand,
    RemediationRequest,
    RemediationResult,
)
from pipeline.store.incidents import incident_point
from pipeline.store.sink import Sink, add_waiting

log = logging.getLogger(__name__)


@dataclass
class StageOutput:
    """What one input or tick produced, for the loop to publish."""

    incidents: list[Incident] = field(default_factory=list)
    requests: list[RemediationRequest] = field(default_factory=list)


@dataclass
class StageCounters:
    """Totals since start, printed at exit and by the demo."""

    anomalies: int = 0
    incidents_opened: int = 0
    incident_updates: int = 0
    requests_issued: int = 0
    requests_blocked: int = 0
    commands_refused: int = 0


class IncidentStage:
    """Everything the incident stage decides, independent of Kafka.

    Parameters
    ----------
    tracker
        Groups events into incidents.
    issuer
        Plans signed requests; None to only track incidents.
    sink
        Where incident points and audit steps go.
    key
        The HMAC key operator commands must be signed with.
    notifier
        Optional webhook notifier.
    alerts
        Optional Alertmanager notifier (every incident change, with the runbook rule chosen).
    """

    def __init__(
        self,
        tracker: IncidentTracker,
        issuer: Issuer | None,
        sink: Sink[Point],
        key: bytes,
        notifier: WebhookNotifier | None = None,
        alerts: AlertmanagerNotifier | None = None,
    ) -> None:
        self.tracker = tracker
        self.issuer = issuer
        self.sink = sink
        self.audit = AuditLog(sink)
        self.key = key
        self.notifier = notifier
        self.alerts = alerts
        self.silences = SilenceBook()
        self.counters = StageCounters()

    def on_anomaly(self, event: AnomalyEvent, now: datetime) -> StageOutput:
        """Group one anomaly event."""
        self.counters.anomalies += 1
        return self._publishable(self.tracker.observe_one(event), now)

    def on_metrics(self, batch: MetricBatch) -> None:
        """Count the host in its groups' populations."""
        self.tracker.inventory.observe_one(batch.node_id, dict(batch.labels), batch.sampled_at)

    def on_command(self, command: OperatorCommand, now: datetime) -> StageOutput:
        """Apply a signed silence or acknowledgement (an unsigned one is refused)."""
        try:
            verify_signature(command, self.key)
        except ActionRefused as exc:
            self.counters.commands_refused += 1
            log.warning("refused operator command %s: %s", command.command_id, exc)
            return StageOutput()
        self.silences.add(command)
        if command.kind == "ack" and command.incident_id is not None:
            acked = self.tracker.acknowledge(command.incident_id, command.issued_by, command.owner)
            return self._publishable([acked] if acked else [], now)
        return StageOutput()

    def on_result(self, result: RemediationResult) -> None:
        """Remember how a remediation ended, for similar-incident hints."""
        incident_id = self.issuer.incident_of.get(result.request_id) if self.issuer else None
        if incident_id is not None and result.outcome != "dry_run":
            self.tracker.record_outcome(incident_id, result.action, result.outcome)

    def tick(self, now: datetime, data_now: datetime | None = None) -> StageOutput:
        """Settle, resolve and expire by data time; issue requests stamped with wall time.

        ``data_now`` is the stream's own clock (``DataClock``); it equals ``now`` for a live
        fleet and runs ahead of it in a time-compressed simulation or a replay.
        """
        data_now = data_now or now
        self.tracker.inventory.expire(data_now)
        return self._publishable(self.tracker.tick(data_now), now)

    def _publishable(self, incidents: list[Incident], now: datetime) -> StageOutput:
        output = StageOutput()
        for incident in incidents:
            incident = self._with_silence(incident, now)
            output.incidents.append(incident)
            self._count(incident)
            add_waiting(self.sink, [incident_point(incident)])
            if self.notifier is not None:
                self.notifier.notify_one(incident)
            requests, rule = self._issue(incident, now)
            output.requests += requests
            if self.alerts is not None:
                runbook = f"{rule.name}: {rule.action.type}" if rule else None
                self.alerts.notify_one(incident, runbook)
        return output

    def _with_silence(self, incident: Incident, now: datetime) -> Incident:
        labels = incident.labels | incident.group
        silenced = self.silences.active(incident.node_id, labels, now) is not None
        return incident.model_copy(update={"silenced": silenced}) if silenced else incident

    def _issue(
        self, incident: Incident, now: datetime
    ) -> tuple[list[RemediationRequest], Rule | None]:
        if self.issuer is None:
            return [], None
        plan = self.issuer.plan_one(incident, now)
        if plan.rule is not None and plan.rule.owner is not None:
            self.tracker.set_owner(incident.incident_id, plan.rule.owner)
        for blocked in plan.blocked:
            self._audit("blocked", blocked)
        for request in plan.requests:
            self._audit("issued", request)
        self.counters.requests_blocked += len(plan.blocked)
        self.counters.requests_issued += len(plan.requests)
        return plan.requests, plan.rule

    def _audit(self, step: Step, item: Blocked | RemediationRequest) -> None:
        self.audit.record(
            step,
            node_id=item.node_id,
            action=item.action,
            request_id=item.request_id,
            incident_id=item.incident_id,
            detail=item.reason,
        )

    def _count(self, incident: Incident) -> None:
        if incident.status == "open":
            self.counters.incidents_opened += 1
        else:
            self.counters.incident_updates += 1
