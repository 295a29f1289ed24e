"""An oversized and a malformed message to the incident stage or a node end up as dead letters.

Both loops decode with ``pipeline.bus.decode_or_dead_letter`` and publish what fails to
``fleet.deadletter`` (the node side used to log and drop it). The stream worker's letters are
checked by ``test_worker.py::test_hostile_messages_become_dead_letters_and_the_worker_goes_on``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import topics
from pipeline.bus import ensure_topics, make_producer
from pipeline.config import InfluxSettings, KafkaSettings, TopicSettings
from pipeline.models import DEAD_LETTER_RAW_BYTES, MAX_MESSAGE_BYTES, DeadLetter
from tests.integration.remediation_support import (
    collect,
    incident_stage,
    node_remediator,
    node_settings,
    stage_settings,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
MALFORMED = b'{"node_id": "dl-node", "not": "what this topic carries"'
OVERSIZED = b'{"pad": "' + b"x" * MAX_MESSAGE_BYTES + b'"}'  # Kafka takes it (4 MiB), we do not


def _send(kafka: KafkaSettings, topic: str, raws: list[bytes]) -> dict[bytes, tuple[int, int]]:
    """Send raw messages keyed as the node; returns where each landed (partition, offset)."""
    producer = make_producer(kafka, max_request_size=4 * 1024**2)
    try:
        landed = {}
        for raw in raws:
            metadata = producer.send(topic, key=b"dl-node", value=raw).get(timeout=30)
            landed[raw] = (metadata.partition, metadata.offset)
        return landed
    finally:
        producer.close()


@pytest.mark.parametrize("stage", ["incidents", "node"])
def test_an_oversized_and_a_malformed_message_become_dead_letters_with_their_origin(
    stage: str,
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    tmp_path: Path,
) -> None:
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    if stage == "incidents":
        loop = incident_stage(kafka, topic_settings, influx, stage_settings())
        topic = topics.ANOMALIES.name(topic_settings.prefix)
    else:
        loop, _ = node_remediator(kafka, topic_settings, node_settings(tmp_path), node_id="dl-node")
        topic = topics.REMEDIATION.name(topic_settings.prefix)
    landed = _send(kafka, topic, [MALFORMED, OVERSIZED])
    with loop:
        letters = collect(
            kafka, topic_settings, topics.DEADLETTER, DeadLetter, lambda got: len(got) >= 2, 120
        )
    assert len(letters) == 2
    malformed, oversized = sorted(letters, key=lambda letter: len(letter.raw))
    assert malformed.raw == MALFORMED and malformed.reason.startswith("invalid ")
    assert oversized.raw == OVERSIZED[:DEAD_LETTER_RAW_BYTES]
    assert f"exceeds {MAX_MESSAGE_BYTES}" in oversized.reason
    assert f"truncated to {DEAD_LETTER_RAW_BYTES} of {len(OVERSIZED)} bytes" in oversized.reason
    for letter, raw in ((malformed, MALFORMED), (oversized, OVERSIZED)):
        assert letter.topic == topic and letter.error_type == "InvalidMessage"
        assert (letter.partition, letter.offset) == landed[raw]
