from __future__ import annotations

from pipeline.store.buffer import SinkCounters
from pipeline.stream.meters import Meters


def test_metrics_text_has_counters_and_gauges_read_at_scrape_time() -> None:
    meters = Meters()
    counters = SinkCounters()
    state = {"buffered": 0}
    meters.watch(
        counters,
        lambda: state["buffered"],
        lambda: 3,
        lambda: 1024,
        lambda: 17,
        lambda: 2,
        lambda: 9,
    )
    meters.batches.inc(5)
    meters.dead_letters.inc()
    counters.dropped = 7
    state["buffered"] = 42
    text = meters.render().decode()
    assert "fleetwatch_batches_total 5.0" in text
    assert "fleetwatch_dead_letters_total 1.0" in text
    assert "fleetwatch_sink_buffer_points 42.0" in text
    assert "fleetwatch_sink_dropped_points 7.0" in text
    assert "fleetwatch_consumer_lag_messages 17.0" in text
    assert "fleetwatch_state_nodes 3.0" in text
    assert "fleetwatch_assigned_partitions 2.0" in text
    assert "fleetwatch_unacknowledged_messages 9.0" in text


def test_a_rebalance_is_counted_with_its_duration_and_wall_clock_times() -> None:
    meters = Meters()
    meters.rebalance_started(1_000.0)
    meters.rebalance_ended(1_003.5)
    text = meters.render().decode()
    assert "fleetwatch_rebalances_total 1.0" in text
    assert "fleetwatch_rebalance_seconds_total 3.5" in text
    assert "fleetwatch_rebalance_started_at_seconds 1000.0" in text
    assert "fleetwatch_rebalance_ended_at_seconds 1003.5" in text


def test_two_workers_in_one_process_do_not_share_a_registry() -> None:
    first, second = Meters(), Meters()
    first.batches.inc()
    assert "fleetwatch_batches_total 0.0" in second.render().decode()
