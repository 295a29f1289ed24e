"""bench remediation on the real broker: every request runs on its node only, each node reads
its own partition (at most 2/P of the topic on average), and the figures are consistent."""

from __future__ import annotations

import pytest

from pipeline.bench.remediation import run_remediation_bench
from pipeline.config import KafkaSettings

pytestmark = pytest.mark.integration


def test_each_node_reads_its_partition_and_runs_exactly_its_own_requests(
    kafka: KafkaSettings,
) -> None:
    figures = run_remediation_bench(kafka, nodes=400, requests=120, processes=2, partitions=8)
    assert figures.requests == 120
    assert figures.requests_executed == 120, "each request dry-ran once, on its own node"
    assert figures.node_share_of_topic <= 2 / figures.partitions
