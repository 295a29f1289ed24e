"""Run the incident stage (``fleetwatch incidents-worker``) until told to stop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from kafka.errors import KafkaTimeoutError

from pipeline import topics
from pipeline.bus import (
    Origin,
    decode_or_dead_letter,
    ensure_topics,
    make_consumer,
    make_producer,
    publish_dead_letter,
)
from pipeline.config import (
    ControlSettings,
    IncidentSettings,
    InfluxSettings,
    KafkaSettings,
    TopicSettings,
)
from pipeline.control.keys import load_keyring, load_signer
from pipeline.control.operators import read_all_commands
from pipeline.incidents.alert_sender import AlertmanagerNotifier
from pipeline.incidents.change_cohorts import KEEP_S
from pipeline.incidents.changes import ChangeBook
from pipeline.incidents.clock import DataClock
from pipeline.incidents.diagnosing import DiagnosisStep
from pipeline.incidents.diagnosis.feedback import IncidentMemory
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.issuer import Issuer
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.incidents.memory_topic import read_all
from pipeline.incidents.notifier import WebhookNotifier
from pipeline.incidents.runbooks import load_runbook
from pipeline.incidents.stage import IncidentStage, StageCounters, StageOutput
from pipeline.incidents.subscriptions import alert_records
from pipeline.models import (
    AnomalyEvent,
    AuditStep,
    ChangeEvent,
    DeadLetter,
    InventoryRecord,
    MetricBatch,
    OperatorCommand,
    PastIncident,
    RemediationResult,
    RememberedIncident,
    encode,
    utc_now,
)
from pipeline.shutdown import stop_on_signals
from pipeline.store.frames import NodeFrame, query_frames
from pipeline.store.influx import InfluxSink

log = logging.getLogger(__name__)


def grouping_policy(settings: IncidentSettings) -> GroupingPolicy:
    """The tracker's thresholds from settings."""
    return GroupingPolicy(
        gap_s=settings.incident_gap_s,
        resolve_after_s=settings.incident_gap_s,
        settle_s=settings.settle_s,
        fleet_wait_s=settings.fleet_wait_s,
        fleet_min_hosts=settings.fleet_min_hosts,
        fleet_min_share=settings.fleet_min_share,
        change_window_s=settings.change_window_s,
        change_min_hosts=settings.change_min_hosts,
        group_labels=tuple(settings.group_labels),
    )


def alertmanager_notifier(settings: IncidentSettings) -> AlertmanagerNotifier | None:
    """The started Alertmanager notifier, or None when no ``alertmanager_url`` is set."""
    if not settings.alertmanager_url:
        return None
    notifier = AlertmanagerNotifier(
        settings.alertmanager_url, settings.alertmanager_resend_s, settings.report_url
    )
    notifier.start()
    return notifier


def diagnosis_step(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    influx: InfluxSettings,
    settings: IncidentSettings,
    changes: ChangeBook,
) -> DiagnosisStep:
    """The diagnosis, its history replayed from the history topic, reading series from InfluxDB."""
    history = read_all(kafka, topic_settings, topics.HISTORY, PastIncident)
    memory = IncidentMemory.from_records(list(history))

    def frames(nodes: Sequence[str], start_at: datetime, stop_at: datetime) -> dict[str, NodeFrame]:
        return query_frames(influx, nodes, start_at, stop_at, settings.diagnosis_every_s)

    return DiagnosisStep(frames, changes, memory, settings.diagnosis_baseline_s)


def run_incident_stage(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    influx: InfluxSettings,
    settings: IncidentSettings,
    control: ControlSettings,
    group_id: str = "fleetwatch-incidents",
    stop: Callable[[], bool] | None = None,
    tick_s: float = 1.0,
) -> StageCounters:
    """Turn anomalies into incidents and signed requests until ``stop()`` (or SIGTERM/SIGINT).

    Reads anomalies, the inventory (group populations; replayed whole at start), operator commands
    and remediation results; publishes incidents and requests; returns the counters at the end.

    Raises
    ------
    ConfigError
        When the keyring or (with a runbook) the issuer's signing key is missing or unusable.
    RunbookError
        When the configured runbook is malformed.
    """
    keyring = load_keyring(control.keyring)
    runbook = load_runbook(settings.runbook) if settings.runbook else None
    signer = load_signer(control.signing_key) if runbook else None
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    stop = stop or stop_on_signals().is_set
    sink = InfluxSink(influx, flush_interval_ms=500)
    sink.start()
    tracker = IncidentTracker(grouping_policy(settings), Inventory())
    issuer = Issuer(settings, control, runbook, signer, tracker.inventory) if signer else None
    notifier = (
        WebhookNotifier(settings.notify_url, settings.notify_per_minute)
        if settings.notify_url
        else None
    )
    if notifier is not None:
        notifier.start()
    alerts = alertmanager_notifier(settings)
    changes = ChangeBook(settings.change_lookback_s, keep_s=KEEP_S)  # as the cohorts keep them
    stage = IncidentStage(
        tracker,
        issuer,
        sink,
        keyring,
        notifier,
        alerts,
        mute_s=settings.false_positive_mute_s,
        changes=changes,
        diagnosis=diagnosis_step(kafka, topic_settings, influx, settings, changes),
    )
    # Memory first (incidents, acks, actions), then commands: a replayed ack of a remembered
    # incident is then recognised as already applied and pages nothing.
    stage.restore(list(read_all(kafka, topic_settings, topics.MEMORY, RememberedIncident)))
    # The group's committed offset skips what a restart already read: the inventory is read
    # whole first (the group then re-reads at most the records since its last commit).
    for record in read_all(kafka, topic_settings, topics.INVENTORY, InventoryRecord):
        stage.on_inventory(record)
    for command in read_all_commands(kafka, topic_settings):
        stage.on_command(command, utc_now())
    try:
        _loop(kafka, topic_settings, stage, group_id, stop, tick_s, settings)
    finally:
        if notifier is not None:
            notifier.close()
        if alerts is not None:
            alerts.close()
        sink.close()
    return stage.counters


def _loop(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    stage: IncidentStage,
    group_id: str,
    stop: Callable[[], bool],
    tick_s: float,
    settings: IncidentSettings,
) -> None:
    prefix = topic_settings.prefix
    labels = settings.subscription_labels
    clock = DataClock()

    def on_anomaly(event: AnomalyEvent) -> StageOutput:
        clock.observe(event.window_end_at)
        return stage.on_anomaly(event, utc_now())

    def on_metrics(batch: MetricBatch) -> None:
        # Not on the clock: the anomalies come from a worker that lags the metrics, and timed
        # against the metrics' time (minutes ahead in a replay or a time-compressed demo) every
        # new incident would resolve before it settled, unpublished.
        stage.on_metrics(batch)

    handlers: dict[str, tuple[type[Any], Callable[[Any], StageOutput | None]]] = {
        topics.ANOMALIES.name(prefix): (AnomalyEvent, on_anomaly),
        topics.INVENTORY.name(prefix): (InventoryRecord, stage.on_inventory),
        topics.CONTROL.name(prefix): (OperatorCommand, lambda m: stage.on_command(m, utc_now())),
        topics.REMEDIATION_RESULTS.name(prefix): (RemediationResult, stage.on_result),
        topics.CHANGES.name(prefix): (ChangeEvent, stage.on_change),
        topics.REMEDIATION_AUDIT.name(prefix): (AuditStep, stage.on_audit),
    }
    if settings.inventory_from_metrics:
        handlers[topics.METRICS.name(prefix)] = (MetricBatch, on_metrics)
    after_hosts = set(handlers) - {topics.INVENTORY.name(prefix), topics.METRICS.name(prefix)}
    consumer = make_consumer(kafka, *handlers, group_id=group_id)
    producer = make_producer(kafka)
    try:
        while not stop():
            polled = consumer.poll(timeout_ms=int(tick_s * 1000), max_records=5000)
            # Inventory (and batches) first: a fleet incident's population must count every host
            # of the poll before that poll's anomalies are grouped (a fresh group gets all at once).
            for partition in sorted(polled, key=lambda tp: tp.topic in after_hosts):
                for record in polled[partition]:
                    model, handle = handlers[record.topic]
                    message = decode_or_dead_letter(model, record.value, Origin.of(record))
                    if isinstance(message, DeadLetter):
                        publish_dead_letter(producer, prefix, message)
                        continue
                    _publish(producer, prefix, handle(message), labels)
            _publish(producer, prefix, stage.tick(utc_now(), clock.now()), labels)
            if _flushed(producer):
                consumer.commit()
    finally:
        producer.close()
        consumer.close()


def _flushed(producer: Any, timeout_s: float = 30.0) -> bool:
    """Whether Kafka took everything sent; if not, it stays queued for the next round's flush.

    Nothing is committed meanwhile, so a stage that stops before Kafka takes it re-reads the
    input instead of losing its output; a slow Kafka (a loaded broker) is no reason to die.
    """
    try:
        producer.flush(timeout=timeout_s)
    except KafkaTimeoutError:
        log.warning("Kafka took no acknowledgement within %.0f s; retrying", timeout_s)
        return False
    return True


def _publish(
    producer: Any, prefix: str, output: StageOutput | None, subscription_labels: list[str]
) -> None:
    if output is None:
        return
    for incident in output.incidents:
        key = incident.incident_id.encode()
        producer.send(topics.INCIDENTS.name(prefix), key=key, value=encode(incident))
        for key, value in alert_records(incident, subscription_labels):
            producer.send(topics.ALERTS.name(prefix), key=key, value=value)
    for record in output.history:
        key = record.incident_id.encode()
        producer.send(topics.HISTORY.name(prefix), key=key, value=encode(record))
    for memory in output.memories:
        key = memory.incident.incident_id.encode()
        producer.send(topics.MEMORY.name(prefix), key=key, value=encode(memory))
    for request in output.requests:
        producer.send(
            topics.REMEDIATION.name(prefix), key=request.node_id.encode(), value=encode(request)
        )
