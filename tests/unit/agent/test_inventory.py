"""The agent's inventory records: at start, on a relabel and on the slow refresh only."""

from __future__ import annotations

from datetime import timedelta

from pipeline.agent.inventory import InventoryAnnouncer
from pipeline.models import MetricBatch
from tests.conftest import BASE_TIME


def _batch(node: str, at_s: float, role: str = "web") -> MetricBatch:
    return MetricBatch(
        node_id=node,
        sampled_at=BASE_TIME + timedelta(seconds=at_s),
        labels={"role": role},
        metrics={"cpu.usage_user": 1.0},
    )


def test_records_go_out_on_start_relabel_and_refresh_not_every_round() -> None:
    announcer = InventoryAnnouncer(refresh_s=300.0)
    sent = []
    for at_s in range(0, 800, 10):  # a round every 10 s
        role = "db" if at_s >= 450 else "web"
        sent += [
            (r.published_at, r.labels["role"])
            for r in announcer.due_many([_batch("n1", at_s, role)])
        ]
    times = [(at - BASE_TIME).total_seconds() for at, _ in sent]
    assert times == [0, 300, 450, 750]  # first round, refresh, relabel, refresh after it
    assert [role for _, role in sent] == ["web", "web", "db", "db"]


def test_one_announcer_serves_a_fleet() -> None:
    announcer = InventoryAnnouncer(refresh_s=300.0)
    first = announcer.due_many([_batch(f"n{i}", 0) for i in range(5)])
    again = announcer.due_many([_batch(f"n{i}", 10) for i in range(5)])
    assert [r.node_id for r in first] == [f"n{i}" for i in range(5)] and again == []
    assert {r.refresh_s for r in first} == {300.0}
