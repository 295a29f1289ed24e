"""The node-side remediation loop the agent runs (``fleetwatch agent --remediate [--apply]``).

A node reads only its own partition of ``fleet.remediation`` (the one its node id hashes to, by
manual assignment: no consumer group per node) and skips other nodes' requests on it by key,
undecoded; it keeps its read position in its state file, beside the executed requests, so a
restart neither skips nor repeats an action. Results go to ``fleet.remediation.results``, each
audit step to ``fleet.remediation.audit`` (the incident stage writes them to InfluxDB, so nodes
hold no database credentials) and a message that does not decode to ``fleet.deadletter`` (never
acted on).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka import TopicPartition

from pipeline import topics
from pipeline.bus import (
    Origin,
    Record,
    decode_or_dead_letter,
    ensure_topics,
    make_consumer,
    make_producer,
    partitions_of_keys,
    publish_dead_letter,
)
from pipeline.config import ControlSettings, KafkaSettings, RemediationSettings, TopicSettings
from pipeline.control.audit import AuditLog
from pipeline.control.keys import load_keyring
from pipeline.control.operators import read_all_commands
from pipeline.models import (
    AuditStep,
    DeadLetter,
    OperatorCommand,
    RemediationRequest,
    RemediationResult,
    encode,
    utc_now,
)
from pipeline.remediate.actions import ActionContext
from pipeline.remediate.executor import NodeRemediator
from pipeline.remediate.verify import Probe
from pipeline.shutdown import stop_on_signals

log = logging.getLogger(__name__)


def run_node_remediator(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    settings: RemediationSettings,
    control: ControlSettings,
    node_id: str,
    labels: dict[str, str],
    probe: Probe | None = None,
    stop: Callable[[], bool] | None = None,
    proc_root: Path = Path("/proc"),
    ready: threading.Event | None = None,
) -> Counter[str]:
    """Execute this node's remediation requests until ``stop()`` (or SIGTERM/SIGINT).

    Parameters
    ----------
    kafka, topic_settings
        Where the requests, operator commands, results and audit trail travel.
    settings
        ``settings.apply`` False (the default) means dry-run; allowlists, limits, state dir.
    control
        The keyring, approval list and fleet-wide blast radius.
    node_id, labels
        This node; only requests for ``node_id`` are executed.
    probe
        Reads one metric now (the agent passes its sampler); used to verify recovery.
    stop
        Polled between messages; None installs SIGTERM/SIGINT handlers (main thread only).
    proc_root
        Where /proc is (tests may point elsewhere).
    ready
        Set once the consumer has its partitions, so a caller knows requests will be seen.

    Returns
    -------
    Counter
        Results by outcome (``dry_run``, ``succeeded``, ``refused``, ...).

    Raises
    ------
    ConfigError
        When the keyring is missing or unusable.
    """
    keyring = load_keyring(control.keyring)
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    stop = stop or stop_on_signals().is_set
    producer = make_producer(kafka)
    audit_topic = topics.REMEDIATION_AUDIT.name(topic_settings.prefix)

    def publish(step: AuditStep) -> None:
        producer.send(audit_topic, key=step.node_id.encode(), value=encode(step))

    context = ActionContext(settings, proc_root)
    remediator = NodeRemediator(
        node_id, labels, settings, control, keyring, AuditLog(publish=publish), context, probe
    )
    remediator.start()
    for command in read_all_commands(kafka, topic_settings):
        remediator.handle_command(command, utc_now())
    mode = "APPLY" if settings.apply else "dry-run"
    log.info("remediator for %s running in %s mode", node_id, mode)
    try:
        return _loop(kafka, topic_settings, remediator, producer, stop, ready)
    finally:
        producer.flush(timeout=30)
        producer.close()


def _loop(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    remediator: NodeRemediator,
    producer: Any,
    stop: Callable[[], bool],
    ready: threading.Event | None,
) -> Counter[str]:
    prefix = topic_settings.prefix
    requests_topic = topics.REMEDIATION.name(prefix)
    mine = remediator.node_id.encode()
    consumer = make_consumer(kafka, group_id=None)
    outcomes: Counter[str] = Counter()
    try:
        _assign(consumer, requests_topic, topics.CONTROL.name(prefix), remediator)
        if ready is not None:
            ready.set()
        while not stop():
            polled = consumer.poll(timeout_ms=500, max_records=100)
            for partition, records in polled.items():
                is_request = partition.topic == requests_topic
                for record in records:
                    if is_request and record.key != mine:
                        continue  # another node's request on our partition: not even decoded
                    message = _decode(record, requests_topic)
                    if isinstance(message, DeadLetter):  # never acted on
                        publish_dead_letter(producer, prefix, message)
                        continue
                    for result in _handle(remediator, message):
                        outcomes[result.outcome] += 1
                        _send_result(producer, prefix, result)
                position = f"{partition.topic}:{partition.partition}"
                remediator.state.offsets[position] = records[-1].offset + 1
            if polled:
                producer.flush(timeout=30)
                remediator.state.save()  # after the results are out: at-least-once for them
    finally:
        consumer.close()
    return outcomes


def _decode(
    record: Record, requests_topic: str
) -> RemediationRequest | OperatorCommand | DeadLetter:
    origin = Origin.of(record)
    if record.topic == requests_topic:
        return decode_or_dead_letter(RemediationRequest, record.value, origin)
    return decode_or_dead_letter(OperatorCommand, record.value, origin)


def _assign(consumer: Any, requests_topic: str, control_topic: str, node: NodeRemediator) -> None:
    """Assign the node's request partition and every control partition, at saved positions."""
    own = partitions_of_keys(consumer, requests_topic, [node.node_id.encode()])
    control = sorted(consumer.partitions_for_topic(control_topic) or ())
    assignment = [TopicPartition(requests_topic, p) for p in own]
    assignment += [TopicPartition(control_topic, p) for p in control]
    consumer.assign(assignment)
    for partition in assignment:
        saved = node.state.offsets.get(f"{partition.topic}:{partition.partition}")
        if saved is None:
            consumer.seek_to_beginning(partition)  # first start: requests still within their TTL
        else:
            consumer.seek(partition, saved)


def _handle(
    remediator: NodeRemediator, message: RemediationRequest | OperatorCommand
) -> list[RemediationResult]:
    now = utc_now()
    if isinstance(message, OperatorCommand):
        return remediator.handle_command(message, now)
    result = remediator.handle_request(message, now)
    return [result] if result is not None else []


def _send_result(producer: Any, prefix: str, result: RemediationResult) -> None:
    producer.send(
        topics.REMEDIATION_RESULTS.name(prefix),
        key=result.node_id.encode(),
        value=encode(result),
    )
