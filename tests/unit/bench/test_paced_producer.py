"""The paced sender's schedule and faults, and how load phases split nodes among producers."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.bench.paced_producer import LoadPlan, PacedSender
from pipeline.commands.stream_bench import Fleet
from pipeline.commands.stream_load import AnomalySeen, LoadOptions, LoadPhases
from pipeline.config import InfluxSettings, KafkaSettings
from pipeline.models import MetricBatch, decode


class Recorder:
    """Keeps what a producer was asked to send (the sender's output, decoded by the test)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, value))

    def flush(self, timeout: float) -> None:
        pass


def plan(**changes: Any) -> LoadPlan:
    fields: dict[str, Any] = {
        "kafka": {},
        "topic": "t.fleet.metrics",
        "node_ids": ["bench-x-000000", "bench-x-000001", "bench-x-000002"],
        "metric_names": ["bench.m0000", "bench.m0001"],
        "base_values": [50.0, 20.0],
        "rate_per_s": 600.0,
        "duration_s": 0.5,
        "start_seq": 1_000_000,
    }
    return LoadPlan(**(fields | changes))


def test_the_sender_keeps_its_rate_round_robin_with_rising_seq_and_sample_times() -> None:
    recorder = Recorder()
    report = PacedSender(plan(), recorder).run()  # type: ignore[arg-type]
    # Never ahead of its schedule (how far behind depends on the machine: not asserted).
    assert 0 < report.sent == len(recorder.sent) <= 600.0 * report.elapsed_s + 1
    batches = [decode(MetricBatch, value) for _, _, value in recorder.sent]
    assert [key.decode() for _, key, _ in recorder.sent[:4]] == [
        *plan().node_ids,
        plan().node_ids[0],
    ]
    assert all(
        b.node_id == key.decode() for b, (_, key, _) in zip(batches, recorder.sent, strict=True)
    )
    first_node = [b for b in batches if b.node_id == plan().node_ids[0]]
    assert [b.seq for b in first_node[:3]] == [1_000_000, 1_000_001, 1_000_002]
    assert all(
        a.sampled_at <= b.sampled_at for a, b in zip(first_node, first_node[1:], strict=False)
    )
    assert len({b.batch_id for b in batches}) == len(batches)
    # Cycled variants: each metric varies around its base, so the detectors see noise.
    assert len({b.metrics["bench.m0000"] for b in first_node}) > 1
    assert all(abs(b.metrics["bench.m0001"] - 20.0) < 10 for b in batches)


def test_each_fault_goes_out_once_on_its_node_at_its_moment() -> None:
    recorder = Recorder()
    sender = PacedSender(plan(faults={1: 0.2}, duration_s=1.0), recorder)  # type: ignore[arg-type]
    sender.run()
    batches = [decode(MetricBatch, value) for _, _, value in recorder.sent]
    faulted = [b for b in batches if b.metrics["bench.m0000"] > 400]
    assert [b.node_id for b in faulted] == ["bench-x-000001"]
    assert list(sender.faulted_at) == ["bench-x-000001"]
    assert sender.faulted_at["bench-x-000001"] == pytest.approx(
        faulted[0].sampled_at.timestamp(), abs=1e-6
    )
    first_at = batches[0].sampled_at.timestamp()
    assert faulted[0].sampled_at.timestamp() - first_at >= 0.2


def test_phases_split_nodes_rate_and_faults_among_producers() -> None:
    fleet = Fleet(nodes=10, metrics=3)
    options = LoadOptions(shares=(0.5,), duration_s=30.0, producers=3, faults=4, window_s=5.0)
    phases = LoadPhases(KafkaSettings(), InfluxSettings(), options)
    plans = phases.plans(fleet, "t.fleet.metrics", rate_per_s=900.0, phase=1)
    assert [p.rate_per_s for p in plans] == [300.0, 300.0, 300.0]
    nodes = Counter(node for p in plans for node in p.node_ids)
    assert sorted(nodes) == [fleet.node_id(i) for i in range(10)] and set(nodes.values()) == {1}
    faults = {p.node_ids[i]: at_s for p in plans for i, at_s in p.faults.items()}
    assert len(faults) == 4
    assert all(5.0 <= at_s <= 20.0 for at_s in faults.values())
    assert {p.start_seq for p in plans} == {2_000_000}


def test_a_phase_shorter_than_three_windows_is_refused() -> None:
    with pytest.raises(ValueError, match="three windows"):
        LoadOptions(shares=(0.5,), duration_s=20.0, producers=1, faults=3, window_s=10.0)


def test_a_fault_counts_as_seen_only_by_a_window_holding_it_or_later() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    seen = AnomalySeen(InfluxSettings(), Fleet(nodes=2, metrics=2), since)
    fault_at = 1_000_003.5  # in the window starting at 1_000_000 (window 10 s)
    seen.first_seen[("n1", 999_990.0)] = 1_000_001.0  # an earlier window: not this fault
    assert seen.missing({"n1": fault_at}, window_s=10.0)
    seen.first_seen[("n1", 1_000_000.0)] = 1_000_012.0
    seen.first_seen[("n1", 1_000_010.0)] = 1_000_021.0
    assert not seen.missing({"n1": fault_at}, window_s=10.0)
    times = seen.fault_times({"n1": fault_at, "n2": fault_at}, window_s=10.0)
    assert times.latencies_s() == [pytest.approx(8.5)]
    assert times.window_waits_s(10.0) == [pytest.approx(6.5)]
    assert math.isclose(times.faulted_at[1].timestamp(), fault_at)
