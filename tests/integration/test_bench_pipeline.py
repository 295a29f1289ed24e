"""``fleetwatch bench pipeline`` end to end on a tiny fleet: every figure measured, none made up."""

from __future__ import annotations

import pytest

from pipeline.commands.stream_bench import run_bench
from pipeline.config import InfluxSettings, KafkaSettings

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
def test_bench_measures_raw_consume_stream_ceiling_worker_and_latency(
    kafka: KafkaSettings, influx: InfluxSettings
) -> None:
    result = run_bench(
        kafka, influx, nodes=10, metrics=12, rounds=600, window_s=4.0, faults=3, partitions=2
    )
    assert result.batches == 10 * 600 and result.points == 10 * 600 * 12
    assert result.raw_consume_points_per_s > 0
    assert result.stream_ceiling_points_per_s > 0
    assert result.points_per_s > 0
    assert result.ratio_to_raw_consume == pytest.approx(
        result.points_per_s / result.raw_consume_points_per_s
    )
    assert result.ratio_to_stream_ceiling == pytest.approx(
        result.points_per_s / result.stream_ceiling_points_per_s
    )
    # Faults push a metric to ten times its level: the worker must see them in the live phase.
    assert result.faults_injected == 3
    assert result.faults_detected >= 2
    assert len(result.latencies_s) == result.faults_detected
    assert all(0 < latency < 30 for latency in result.latencies_s)
    assert result.p99_latency_s is not None and result.p99_latency_s >= result.p50_latency_s
