"""``bench pipeline``'s paced load phase on a tiny fleet: rate offered, lag, fault latencies."""

from __future__ import annotations

import pytest

from pipeline.commands.stream_bench import percentile, run_bench
from pipeline.commands.stream_load import LoadOptions, LoadPhases
from pipeline.config import InfluxSettings, KafkaSettings

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
def test_a_paced_phase_offers_its_rate_and_times_every_fault(
    kafka: KafkaSettings, influx: InfluxSettings
) -> None:
    nodes, metrics, rounds, window_s, faults = 10, 12, 600, 3.0, 3
    # A modest share of the measured capacity: the producer keeps it even on a loaded machine.
    options = LoadOptions((0.2,), duration_s=10.0, producers=1, faults=faults, window_s=window_s)
    loads = LoadPhases(kafka, influx, options)
    result = run_bench(
        kafka, influx, nodes, metrics, rounds, window_s, 1, partitions=2, after_live=loads
    )
    assert set(loads.readings) == {"load_20"}
    load = loads.readings["load_20"]
    capacity_per_s = result.readings["worker"].per_s
    assert load.target_batches_per_s == pytest.approx(0.2 * capacity_per_s)
    assert load.target_points_per_s == pytest.approx(metrics * load.target_batches_per_s)
    # The phase says whether it kept its rate; a modest one is kept.
    assert load.rate_reached
    assert load.achieved_batches_per_s == pytest.approx(load.target_batches_per_s, rel=0.05)
    assert load.achieved_points_per_s == pytest.approx(metrics * load.achieved_batches_per_s)
    assert 0 < load.producer_cores < 2  # measured, and the machine has two cores
    assert load.lag_batches_at_end >= 0
    assert load.lag_s_at_end == pytest.approx(load.lag_batches_at_end / capacity_per_s)
    assert load.worker_batches_per_s > 0
    # Every fault is found; none is visible before its window ends, the next sample of its node
    # (a few ms later at this rate) closes the window.
    assert load.faults_injected == load.faults_detected == faults
    assert len(load.latencies_s) == len(load.window_waits_s) == faults
    for latency_s, wait_s in zip(load.latencies_s, load.window_waits_s, strict=True):
        assert 0 < wait_s <= window_s
        assert wait_s <= latency_s
    assert load.p50_latency_s == percentile(load.latencies_s, 50)
    assert load.p99_latency_s == max(load.latencies_s)
    assert load.p99_minus_window_s == pytest.approx(load.p99_latency_s - window_s)
    assert load.meets_target == (load.p99_latency_s <= window_s + 2.0)
