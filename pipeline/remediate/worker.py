"""The node-side remediation loop the agent runs (``fleetwatch agent --remediate [--apply]``).

Every node reads the whole ``fleet.remediation`` topic in its own consumer group: requests for
other nodes are only counted for the node-side blast-radius check, its own are executed. Results
go to ``fleet.remediation.results``, each step to InfluxDB, and a message that does not decode to
``fleet.deadletter`` (never acted on). Offsets are committed after each request, and nonces are
persisted, so a restart neither skips nor repeats an action.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    InfluxSettings,
    KafkaSettings,
    RemediationSettings,
    TopicSettings,
)
from pipeline.control.audit import AuditLog
from pipeline.control.operators import read_all_commands
from pipeline.control.signing import check_key
from pipeline.models import (
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
from pipeline.store.influx import InfluxSink

log = logging.getLogger(__name__)


def run_node_remediator(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    influx: InfluxSettings,
    settings: RemediationSettings,
    control: ControlSettings,
    node_id: str,
    labels: dict[str, str],
    probe: Probe | None = None,
    stop: Callable[[], bool] | None = None,
    proc_root: Path = Path("/proc"),
    ready: threading.Event | None = None,
    group_id: str | None = None,
) -> Counter[str]:
    """Execute this node's remediation requests until ``stop()`` (or SIGTERM/SIGINT).

    Parameters
    ----------
    kafka, topic_settings, influx
        Where the topics and the audit trail live.
    settings
        ``settings.apply`` False (the default) means dry-run; allowlists and limits.
    control
        The HMAC key, approval list and fleet-wide blast radius.
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
    group_id
        Consumer group; default ``fleetwatch-remediator-<node_id>`` (one per node).

    Returns
    -------
    Counter
        Results by outcome (``dry_run``, ``succeeded``, ``refused``, ...).

    Raises
    ------
    ConfigError
        When the HMAC key is missing or too short.
    """
    key = check_key(control.hmac_key)
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    stop = stop or stop_on_signals().is_set
    sink = InfluxSink(influx, flush_interval_ms=200)
    sink.start()
    context = ActionContext(settings, proc_root)
    remediator = NodeRemediator(
        node_id, labels, settings, control, key, AuditLog(sink), context, probe
    )
    remediator.start()
    for command in read_all_commands(kafka, topic_settings):
        remediator.handle_command(command, utc_now())
    mode = "APPLY" if settings.apply else "dry-run"
    log.info("remediator for %s running in %s mode", node_id, mode)
    try:
        group = group_id or f"fleetwatch-remediator-{node_id}"
        return _loop(kafka, topic_settings, remediator, stop, ready, group)
    finally:
        sink.close()


def _loop(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    remediator: NodeRemediator,
    stop: Callable[[], bool],
    ready: threading.Event | None,
    group_id: str,
) -> Counter[str]:
    prefix = topic_settings.prefix
    requests_topic = topics.REMEDIATION.name(prefix)
    control_topic = topics.CONTROL.name(prefix)
    consumer = make_consumer(
        kafka,
        requests_topic,
        control_topic,
        group_id=group_id,
        max_poll_interval_ms=600_000,  # verification may take minutes
    )
    producer = make_producer(kafka)
    outcomes: Counter[str] = Counter()
    try:
        while not stop():
            polled = consumer.poll(timeout_ms=500, max_records=100)
            if ready is not None and consumer.assignment():
                ready.set()
            for records in polled.values():
                for record in records:
                    message = _decode(record, record.topic == requests_topic)
                    if isinstance(message, DeadLetter):  # never acted on
                        publish_dead_letter(producer, prefix, message)
                        continue
                    for result in _handle(remediator, message):
                        outcomes[result.outcome] += 1
                        _send_result(producer, prefix, result)
            producer.flush(timeout=30)
            consumer.commit()
    finally:
        producer.close()
        consumer.close()
    return outcomes


def _decode(record: Any, is_request: bool) -> RemediationRequest | OperatorCommand | DeadLetter:
    origin = Origin.of(record)
    if is_request:
        return decode_or_dead_letter(RemediationRequest, record.value, origin)
    return decode_or_dead_letter(OperatorCommand, record.value, origin)


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
