"""The worker's model changelog exists, with the metrics topic's partitions, before it joins."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from pipeline.bus import connection_options
from pipeline.config import InfluxSettings, KafkaSettings, StreamSettings, TopicSettings
from pipeline.stream.app import make_worker
from pipeline.stream.run import ensure_changelog

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_the_model_changelog_is_created_compacted_with_the_source_partitions(
    kafka: KafkaSettings, topic_settings: TopicSettings, influx: InfluxSettings, tmp_path: Path
) -> None:
    # Left to Faust, it is created while the group forms; a leader that assigned partitions
    # before it existed remembers 0 partitions for it, and the first save crashes the worker.
    stream = StreamSettings(app_id=f"{topic_settings.prefix}worker", data_dir=tmp_path)
    worker = make_worker(kafka, topic_settings, stream, influx)
    name = f"{stream.app_id}-node-models-changelog"
    admin = KafkaAdminClient(**connection_options(kafka))
    try:
        assert name not in admin.list_topics()
        ensure_changelog(kafka, worker, topic_settings.partitions)
        ensure_changelog(kafka, worker, topic_settings.partitions)  # a restart: already there
        [described] = admin.describe_topics([name])
        assert len(described["partitions"]) == topic_settings.partitions
        resource = ConfigResource(ConfigResourceType.TOPIC, name)
        configs = admin.describe_configs([resource])["topic"][name]
        assert configs["cleanup.policy"]["value"] == "compact"
    finally:
        admin.close()
