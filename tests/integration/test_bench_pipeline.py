"""``fleetwatch bench pipeline`` end to end on a tiny fleet: every figure measured, none made up."""

from __future__ import annotations

import time

import pytest

from pipeline.commands.stream_bench import percentile, run_bench
from pipeline.config import InfluxSettings, KafkaSettings

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
def test_bench_measures_raw_consume_stream_ceiling_worker_and_latency(
    kafka: KafkaSettings, influx: InfluxSettings
) -> None:
    nodes, metrics, rounds, window_s = 10, 12, 600, 4.0
    started = time.perf_counter()
    result = run_bench(kafka, influx, nodes, metrics, rounds, window_s, faults=3, partitions=2)
    run_s = time.perf_counter() - started
    sent = nodes * rounds
    assert result.batches == sent and result.points == sent * metrics
    # Each phase read every published batch exactly once (none lost, none counted twice), and
    # its rate is what it timed: part of this run, so never faster than the run allows.
    assert set(result.readings) == {"raw_consume", "stream_ceiling", "worker"}
    for reading in result.readings.values():
        assert reading.read == sent
        assert 0 < reading.timed < reading.read
        assert 0 < reading.elapsed_s < run_s
    assert result.raw_consume_points_per_s == metrics * result.readings["raw_consume"].per_s
    assert result.stream_ceiling_points_per_s == metrics * result.readings["stream_ceiling"].per_s
    assert result.points_per_s == metrics * result.readings["worker"].per_s
    assert result.worker_points == sent * metrics
    assert result.worker_dead_letters == 0
    assert result.ratio_to_raw_consume == pytest.approx(
        result.points_per_s / result.raw_consume_points_per_s
    )
    assert result.ratio_to_stream_ceiling == pytest.approx(
        result.points_per_s / result.stream_ceiling_points_per_s
    )
    # Faults push a metric to ten times its level: every one is found in the live phase.
    assert result.faults_injected == 3
    assert result.faults_detected == 3
    # An anomaly is written when its window closes: never before the window's end, and the
    # next live sample (1 s later) closes it, so within one more window after that.
    assert len(result.latencies_s) == len(result.window_waits_s) == 3
    for latency_s, wait_s in zip(result.latencies_s, result.window_waits_s, strict=True):
        assert 0 < wait_s <= window_s
        assert wait_s <= latency_s <= wait_s + window_s
    assert result.p50_latency_s == percentile(result.latencies_s, 50)
    assert result.p99_latency_s == max(result.latencies_s)
