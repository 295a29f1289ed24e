"""Simulated fleet: realistic shapes, every fault moves its metrics, ground truth is right."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from statistics import mean

import pytest

from pipeline.models import METRIC_NAME_PATTERN
from pipeline.sim import AFFECTED, FAULT_KINDS, FaultSpec, Scenario, SimulatedFleet
from pipeline.sim.runner import write_ground_truth
from tests.conftest import BASE_TIME

DAY = 24 * 3600.0


def _series(fleet: SimulatedFleet, node_id: str, metric: str) -> list[tuple[object, float]]:
    out = []
    for i in range(fleet.rounds):
        batch = next(b for b in fleet.batches(i) if b.node_id == node_id)
        out.append((batch.sampled_at, batch.metrics[metric]))
    return out


def test_same_seed_same_batches() -> None:
    def metrics(seed: int) -> list[dict[str, float]]:
        scenario = Scenario(nodes=5, seed=seed, duration_s=600, start_at=BASE_TIME)
        return [b.metrics for b in SimulatedFleet(scenario).batches(3)]

    assert metrics(1) == metrics(1)
    assert metrics(1) != metrics(2)


def test_batches_are_valid_ordered_and_cover_every_role() -> None:
    fleet = SimulatedFleet(Scenario(nodes=6, duration_s=300, start_at=BASE_TIME))
    rounds = [fleet.batches(i) for i in range(fleet.rounds)]
    assert fleet.rounds == 30 and all(len(r) == 6 for r in rounds)
    assert {b.labels["role"] for b in rounds[0]} == {"web", "db", "cache", "batch"}
    assert [b.seq for b in (r[0] for r in rounds)] == list(range(30))
    assert rounds[1][0].sampled_at - rounds[0][0].sampled_at == timedelta(seconds=10)
    names = {n for r in rounds for b in r for n in b.metrics}
    assert all(re.match(METRIC_NAME_PATTERN, n) for n in names)


def test_web_cpu_follows_a_daily_cycle() -> None:
    scenario = Scenario(nodes=1, roles={"web": 1.0}, duration_s=DAY, interval_s=600)
    fleet = SimulatedFleet(Scenario(**{**scenario.__dict__, "start_at": BASE_TIME}))
    cpu = {at.hour: v for at, v in _series(fleet, fleet.nodes[0].node_id, "cpu.usage_user")}
    assert mean(cpu[h] for h in (14, 15, 16)) > mean(cpu[h] for h in (2, 3, 4)) + 20


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_moves_its_metrics_only_inside_its_window(kind: str) -> None:
    start_s, duration_s = 3600.0, 1800.0
    spec = FaultSpec(kind, start_s=start_s, duration_s=duration_s, role="web", share=1.0)  # type: ignore[arg-type]
    scenario = Scenario(
        nodes=4, faults=(spec,), duration_s=3 * 3600, interval_s=60, start_at=BASE_TIME, seed=5
    )
    healthy = SimulatedFleet(Scenario(**{**scenario.__dict__, "faults": ()}))
    faulty = SimulatedFleet(scenario)
    (fault,) = faulty.faults
    node = fault.node_ids[0]
    moved = 0
    for metric in AFFECTED[fault.kind]:
        base = dict(_series(healthy, node, metric))
        for at, value in _series(faulty, node, metric):
            if not fault.active(at):
                assert value == pytest.approx(base[at]), (metric, at)
        late = [
            v - base[at]
            for at, v in _series(faulty, node, metric)
            if fault.progress(at) > 0.8 and fault.active(at)
        ]
        moved += abs(mean(late)) > 1e-6
    assert moved >= len(AFFECTED[fault.kind]) - 1  # derived ones may saturate


def test_bad_deploy_hits_a_share_of_one_role_at_once() -> None:
    scenario = Scenario(nodes=40, faults=(FaultSpec("bad_deploy", role="web", share=0.5),))
    fleet = SimulatedFleet(scenario)
    (fault,) = fleet.faults
    web = [n.node_id for n in fleet.nodes if n.profile.role == "web"]
    assert set(fault.node_ids) <= set(web)
    assert len(fault.node_ids) == round(len(web) * 0.5)
    assert fault.role == "web"


def test_ground_truth_file_lists_every_fault(tmp_path: Path) -> None:
    fleet = SimulatedFleet(Scenario(nodes=10, faults=FAULT_KINDS, seed=3))
    path = tmp_path / "out" / "truth.jsonl"
    assert write_ground_truth(path, (f.ground_truth() for f in fleet.faults)) == len(FAULT_KINDS)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["kind"] for r in records] == list(FAULT_KINDS)
    node_ids = {n.node_id for n in fleet.nodes}
    span_end = fleet.sampled_at(fleet.rounds)
    for record in records:
        assert set(record["node_ids"]) <= node_ids and record["metrics"]
        assert fleet.start_at.isoformat() <= record["start_at"] < record["end_at"]
        assert record["end_at"] <= span_end.isoformat()
        assert record["start_at"] >= (fleet.start_at + timedelta(seconds=1800)).isoformat()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nodes": 0}, "nodes"),
        ({"faults": ("meteor",)}, "valid: cpu_runaway"),
        ({"roles": {"gpu": 1.0}}, "valid: web"),
        ({"duration_s": 5}, "duration_s"),
    ],
)
def test_bad_scenarios_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Scenario(**kwargs)  # type: ignore[arg-type]
