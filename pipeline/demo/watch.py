"""Follows the pipeline's output topics during the demo and tallies what it sees."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from pipeline import topics
from pipeline.bus import make_consumer
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.demo.verdicts import ActionTaken
from pipeline.errors import InvalidMessage
from pipeline.models import (
    AnomalyEvent,
    Incident,
    RemediationRequest,
    RemediationResult,
    WireModel,
    decode,
    utc_now,
)


@dataclass
class Tally:
    """What the pipeline produced so far; read by the live view, filled by ``TopicWatcher``."""

    events: dict[str, AnomalyEvent] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    requests: dict[str, RemediationRequest] = field(default_factory=dict)
    results: dict[str, RemediationResult] = field(default_factory=dict)
    # Data time (newest anomaly window end) when each request was seen: simulated time to act.
    request_data_at: dict[str, datetime] = field(default_factory=dict)
    data_at: datetime | None = None
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=8))

    def actions(self) -> list[ActionTaken]:
        """Every request seen, with its incident and the data time it was seen at."""
        return [
            ActionTaken(r.request_id, r.incident_id, r.node_id, r.action, self.request_data_at[i])
            for i, r in self.requests.items()
        ]

    def open_incidents(self) -> list[Incident]:
        """Incidents whose latest state is not resolved, newest first."""
        live = [i for i in self.incidents.values() if i.status != "resolved"]
        return sorted(live, key=lambda i: i.updated_at, reverse=True)


class TopicWatcher(threading.Thread):
    """A daemon thread consuming anomalies, incidents, requests and results into a ``Tally``."""

    def __init__(self, kafka: KafkaSettings, topic_settings: TopicSettings) -> None:
        super().__init__(name="demo-watcher", daemon=True)
        self.kafka = kafka
        self.topic_settings = topic_settings
        self.tally = Tally()
        self.lock = threading.Lock()
        self._stop_event = threading.Event()
        self._models: dict[str, type[WireModel]] = {
            topics.ANOMALIES.name(topic_settings.prefix): AnomalyEvent,
            topics.INCIDENTS.name(topic_settings.prefix): Incident,
            topics.REMEDIATION.name(topic_settings.prefix): RemediationRequest,
            topics.REMEDIATION_RESULTS.name(topic_settings.prefix): RemediationResult,
        }

    def run(self) -> None:
        """Consume until ``stop()``; a message that does not decode is not the demo's to judge."""
        consumer = make_consumer(self.kafka, *self._models, group_id=None)
        try:
            while not self._stop_event.is_set():
                for records in consumer.poll(timeout_ms=300).values():
                    for record in records:
                        self._add(record.topic, record.value)
        finally:
            consumer.close()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish after the current poll; return once the consumer is closed (or ``timeout_s``).

        Waiting matters: the demo stops Kafka next, and a consumer still open then logs errors.
        """
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout_s)

    def _add(self, topic: str, raw: bytes) -> None:
        try:
            message = decode(self._models[topic], raw)
        except InvalidMessage:
            return
        with self.lock:
            tally = self.tally
            if isinstance(message, AnomalyEvent):
                tally.events[message.event_id] = message
                tally.data_at = max(filter(None, (tally.data_at, message.window_end_at)))
            elif isinstance(message, Incident):
                if message.incident_id not in tally.incidents:
                    tally.recent.append(f"incident opened: {message.title}")
                tally.incidents[message.incident_id] = message
            elif isinstance(message, RemediationRequest):
                if message.request_id not in tally.requests:
                    tally.recent.append(f"action proposed: {message.action} on {message.node_id}")
                tally.requests[message.request_id] = message
                tally.request_data_at.setdefault(message.request_id, tally.data_at or utc_now())
            elif isinstance(message, RemediationResult):
                tally.results[message.request_id] = message
