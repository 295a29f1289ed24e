"""The incident stage: anomalies in; incidents, signed requests, audit and notifications out.

Why a kafka-python loop and not a Faust agent: a fleet incident is a *cross-host* aggregate (many
nodes sharing a label), while ``fleet.anomalies`` is keyed and partitioned by node. A Faust agent
per partition would see only a slice of the fleet and would need a repartition by label plus a
table of the result; one consumer that reads every partition sees the fleet whole. Anomalies are
orders of magnitude rarer than metric samples, so one process keeps up easily; each group's
population comes from the compacted inventory topic agents refresh every few minutes, not from
the metric batches. Time-driven
transitions (settle, resolve) need a periodic tick, which a plain poll loop gives directly.
What must outlive the process (incident state, actions, outcomes, operator feedback) is emitted
as :class:`RememberedIncident` records and replayed by ``restore`` at start, so a restart keeps ids
and acknowledgements and pages nothing again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from influxdb_client.client.write.point import Point

from pipeline.control.audit import AuditLog, Step, audit_point
from pipeline.control.keys import Keyring
from pipeline.control.signing import verify_command
from pipeline.control.silences import SilenceBook
from pipeline.errors import ActionRefused
from pipeline.incidents.alert_sender import AlertmanagerNotifier
from pipeline.incidents.changes import ChangeBook
from pipeline.incidents.deviations import deviation_of
from pipeline.incidents.diagnosing import DiagnosisStep
from pipeline.incidents.diagnosis.feedback import FALSE_POSITIVE
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.issuer import Blocked, Issuer
from pipeline.incidents.memory import VERIFIED, IncidentBook, kind_of
from pipeline.incidents.mutes import MuteBook
from pipeline.incidents.notifier import WebhookNotifier
from pipeline.incidents.runbooks import Rule
from pipeline.models import (
    ActionRecord,
    AnomalyEvent,
    AuditStep,
    ChangeEvent,
    Incident,
    InventoryRecord,
    MetricBatch,
    OperatorCommand,
    PastIncident,
    RemediationRequest,
    RemediationResult,
    RememberedIncident,
)
from pipeline.store.incidents import action_point, incident_point
from pipeline.store.sink import Sink, add_waiting

log = logging.getLogger(__name__)


@dataclass
class StageOutput:
    """What one input or tick produced, for the loop to publish."""

    incidents: list[Incident] = field(default_factory=list)
    requests: list[RemediationRequest] = field(default_factory=list)
    memories: list[RememberedIncident] = field(default_factory=list)
    history: list[PastIncident] = field(default_factory=list)


@dataclass
class StageCounters:
    """Totals since start, printed at exit and by the demo."""

    anomalies: int = 0
    anomalies_muted: int = 0
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
    keyring
        Public keys operator commands must be signed with (each by the operator it names).
    notifier
        Optional webhook notifier.
    alerts
        Optional Alertmanager notifier (every incident change, with the runbook rule chosen).
    mute_s
        How long a series an operator dismissed as a false positive stays muted.
    changes
        Recent change events (shared with the diagnosis); a fresh book when None.
    diagnosis
        Diagnoses each incident before a runbook picks its action; None to skip.
    """

    def __init__(
        self,
        tracker: IncidentTracker,
        issuer: Issuer | None,
        sink: Sink[Point],
        keyring: Keyring,
        notifier: WebhookNotifier | None = None,
        alerts: AlertmanagerNotifier | None = None,
        mute_s: float = 86_400.0,
        changes: ChangeBook | None = None,
        diagnosis: DiagnosisStep | None = None,
    ) -> None:
        self.tracker = tracker
        self.issuer = issuer
        self.sink = sink
        self.audit = AuditLog(sink)
        self.keyring = keyring
        self.notifier = notifier
        self.alerts = alerts
        self.silences = SilenceBook()
        self.counters = StageCounters()
        self.book = IncidentBook()
        self.mutes = MuteBook(mute_s)
        self.changes = changes if changes is not None else ChangeBook(lookback_s=1800.0)
        self.diagnosis = diagnosis

    def restore(self, records: list[RememberedIncident]) -> None:
        """Take back the remembered incidents (replayed at start, before any command or event)."""
        self.book.restore_many(records)
        if self.diagnosis is not None:
            self.diagnosis.restore_many(records)
        for record in self.book.records.values():
            self.tracker.restore_one(record)
            if self.issuer is not None:
                for action in record.actions:
                    self.issuer.remember(
                        action.request_id, record.incident.incident_id, action.node_id
                    )

    def on_anomaly(self, event: AnomalyEvent, now: datetime) -> StageOutput:
        """Group one anomaly event (unless its series was dismissed as a false positive)."""
        self.counters.anomalies += 1
        metric, direction = deviation_of(event)
        if self.mutes.is_muted((event.node_id, metric, direction), event.window_end_at):
            self.counters.anomalies_muted += 1
            return StageOutput()
        return self._publishable(self.tracker.observe_one(event, (metric, direction)), now)

    def on_inventory(self, record: InventoryRecord) -> None:
        """Count the host in its groups' populations until it misses its refreshes."""
        self.tracker.inventory.observe_record(record)

    def on_metrics(self, batch: MetricBatch) -> None:
        """Count a batch's host (agents without an inventory record: ``inventory_from_metrics``)."""
        self.tracker.inventory.observe_one(batch.node_id, batch.labels, batch.sampled_at)

    def on_change(self, change: ChangeEvent) -> None:
        """Keep a change event, for the incidents that open after it to link and to group."""
        self.changes.add_one(change)
        self.tracker.observe_change(change)
        log.info(
            "change %s (%s) at %s: role %s, %d node(s)",
            change.change_id, change.kind, change.changed_at.isoformat(), change.role,
            len(change.nodes),
        )  # fmt: skip

    def on_command(self, command: OperatorCommand, now: datetime) -> StageOutput:
        """Apply a signed silence or acknowledgement (an unsigned one is refused)."""
        try:
            verify_command(command, self.keyring, now)
        except ActionRefused as exc:
            self.counters.commands_refused += 1
            log.warning("refused operator command %s: %s", command.command_id, exc)
            return StageOutput()
        self.silences.add(command)
        if command.incident_id is None:
            return StageOutput()
        if command.kind == "ack" and not self._acked_by(command.incident_id, command.issued_by):
            acked = self.tracker.acknowledge(command.incident_id, command.issued_by, command.owner)
            return self._publishable([acked] if acked else [], now)
        if command.kind in ("label", "false_positive"):
            return self._feedback(command)
        return StageOutput()

    def on_audit(self, step: AuditStep) -> None:
        """Write a node's audit step to InfluxDB (nodes hold no database credentials)."""
        add_waiting(self.sink, [audit_point(step)])

    def on_result(self, result: RemediationResult) -> StageOutput:
        """Remember how a remediation ended (a dry run as a proposal), for hints and ratings."""
        output = StageOutput()
        memory = self.book.note_result(result)
        if memory is None:
            return output
        incident_id = memory.incident.incident_id
        if result.outcome != "dry_run":
            self.tracker.record_outcome(incident_id, result.action, result.outcome)
        if self.diagnosis is not None and result.outcome in VERIFIED:
            worked = result.outcome == "succeeded"
            output.history += self.diagnosis.outcome(incident_id, result.action, worked)
        output.memories.append(memory)
        add_waiting(self.sink, [action_point(memory, memory.actions[-1], kind_of(memory))])
        return output

    def tick(self, now: datetime, data_now: datetime | None = None) -> StageOutput:
        """Settle, resolve and expire by data time; issue requests stamped with wall time.

        ``data_now`` is the stream's own clock (``DataClock``); it equals ``now`` for a live
        fleet and runs ahead of it in a time-compressed simulation or a replay.
        """
        data_now = data_now or now
        self.tracker.inventory.expire(data_now)
        if self.tracker.latest_at is not None:  # by event time: see IncidentTracker.tick
            self.changes.expire(self.tracker.latest_at)
        changed = self.tracker.tick(data_now)
        return self._publishable(changed + self._undiagnosed(changed), now)

    def _undiagnosed(self, changed: list[Incident]) -> list[Incident]:
        """Open incidents whose diagnosis had no series, due to be tried again."""
        if self.diagnosis is None:
            return []
        due = self.diagnosis.retry_due() - {i.incident_id for i in changed}
        states = [self.tracker.find_one(incident_id) for incident_id in sorted(due)]
        return [
            self.tracker.snapshot(state)
            for state in states
            if state is not None and state.published and state.status != "resolved"
        ]

    def _publishable(self, incidents: list[Incident], now: datetime) -> StageOutput:
        output = StageOutput()
        for incident in incidents:
            incident = self._with_silence(incident, now)
            if self.diagnosis is not None:
                incident, learned = self.diagnosis.diagnosed(incident)
                output.history += learned
            output.incidents.append(incident)
            if incident.status == "open":
                log.info(
                    "opened %s (%s): %s", incident.incident_id, incident.dedup_key, incident.title
                )
            self._count(incident)
            add_waiting(self.sink, [incident_point(incident)])
            if self.notifier is not None:
                self.notifier.notify_one(incident)
            self._remember(incident, now)
            requests, rule = self._issue(incident, now)
            output.requests += requests
            output.memories.append(self.book.records[incident.incident_id])
            if self.alerts is not None:
                runbook = f"{rule.name}: {rule.action.type}" if rule else None
                self.alerts.notify_one(incident, runbook)
        return output

    def _acked_by(self, incident_id: str, operator: str) -> bool:
        """Whether the incident is acknowledged by ``operator`` already (a replayed ack)."""
        state = self.tracker.find_one(incident_id)
        return state is not None and state.acknowledged_by == operator

    def _feedback(self, command: OperatorCommand) -> StageOutput:
        """An operator's label or dismissal: remembered, and a false positive's series muted."""
        assert command.incident_id is not None  # noqa: S101 - the model requires it
        known = self.book.records.get(command.incident_id)
        if known is not None and _already(known, command):
            return StageOutput()  # a replayed command: learned once, not twice
        memory = self.book.note_feedback(
            command.incident_id,
            command.issued_at,
            label=command.fault_kind,
            dismissed=command.kind == "false_positive",
        )
        if memory is None:
            log.warning("%s for unknown incident %s", command.kind, command.incident_id)
            return StageOutput()
        if memory.false_positive:
            self.mutes.mute_incident(memory, command.issued_at)
        output = StageOutput(memories=[memory])
        if self.diagnosis is not None:
            kind = command.fault_kind or FALSE_POSITIVE
            output.history += self.diagnosis.label(command.incident_id, kind, command.issued_by)
        return output

    def _remember(self, incident: Incident, now: datetime) -> RememberedIncident:
        state = self.tracker.find_one(incident.incident_id, incident.dedup_key)
        deviations = state.deviations.values() if state else incident.hints.top
        directions = state.directions if state else {}
        return self.book.note_incident(incident, deviations, directions, now)

    def _remember_action(
        self, item: RemediationRequest | ActionRecord, incident_id: str, now: datetime
    ) -> None:
        memory = self.book.note_request(item, incident_id, now)
        if memory is not None:
            add_waiting(self.sink, [action_point(memory, memory.actions[-1], kind_of(memory))])

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
            self._remember_action(_blocked_record(blocked, now), incident.incident_id, now)
        for request in plan.requests:
            self._audit("issued", request)
            self._remember_action(request, incident.incident_id, now)
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


def _already(memory: RememberedIncident, command: OperatorCommand) -> bool:
    if command.kind == "false_positive":
        return memory.false_positive
    return memory.label == command.fault_kind


def _blocked_record(blocked: Blocked, now: datetime) -> ActionRecord:
    return ActionRecord(
        request_id=blocked.request_id,
        node_id=blocked.node_id,
        action=blocked.action,
        step="blocked",
        at=now,
    )
