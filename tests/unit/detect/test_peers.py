"""Peer comparison: a drifting node is flagged against its cohort, a role-wide shift is one fleet
deviation, the daily load shared by all raises nothing, and state stays bounded."""

from __future__ import annotations

import math

import numpy as np

from pipeline.detect.peers import CohortModel, PeerParams, PeerVerdict

ROUND_S = 60.0
NODES = 40


def _daily(r: int) -> float:
    return 40.0 + 30.0 * math.sin(2 * math.pi * r * ROUND_S / 86_400)


def _run(
    rounds: int, value, model: CohortModel | None = None, seed: int = 0
) -> tuple[CohortModel, list[PeerVerdict]]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    model = model or CohortModel("role=web")
    verdicts: list[PeerVerdict] = []
    for r in range(rounds):
        for n in range(NODES):
            sample = {"cpu.usage_user": value(r, n) + float(rng.normal(0, 2.0))}
            sample["mem.used_percent"] = 60.0 + float(rng.normal(0, 1.0))
            verdicts += model.add(f"web-{n:02d}", r * ROUND_S, sample)
    return model, verdicts + model.close()


def test_the_daily_load_all_nodes_follow_raises_nothing() -> None:
    _, verdicts = _run(1440, lambda r, n: _daily(r))  # a whole day, one round a minute
    assert verdicts == []


def test_one_node_drifting_while_all_follow_the_daily_load_is_flagged_once() -> None:
    def value(r: int, n: int) -> float:
        drift = 0.2 * max(r - 300, 0) if n == 7 else 0.0  # +12 points an hour from round 300
        return _daily(r) + drift

    _, verdicts = _run(600, value)
    assert [(v.kind, v.node_id, v.metric) for v in verdicts] == [
        ("peer", "web-07", "cpu.usage_user")
    ]
    assert 300 * ROUND_S < verdicts[0].round_s < 400 * ROUND_S  # within ~1.5 h of the start
    assert verdicts[0].z > 0


def test_a_role_wide_shift_is_one_fleet_deviation_not_forty_peer_ones() -> None:
    _, verdicts = _run(400, lambda r, n: _daily(r) + (25.0 if r >= 300 else 0.0))
    assert [(v.kind, v.node_id, v.metric) for v in verdicts] == [("fleet", None, "cpu.usage_user")]
    assert verdicts[0].observed > verdicts[0].expected


def test_state_is_bounded_by_nodes_and_metrics() -> None:
    model = CohortModel("role=db", PeerParams(max_nodes=8, max_metrics=4))
    for r in range(3):
        for n in range(50):
            metrics = {f"m.x{k}": float(n + k) for k in range(20)}
            model.add(f"db-{n}", r * ROUND_S, metrics)
    assert len(model.latest) == 8
    assert len(model.open) == 1
    assert all(len(v) == 8 for v in model.open.values())
    assert all(len(m) <= 4 for v in model.open.values() for m in v.values())
    model.close()
    assert len(model.fleet) <= 4
    assert len(model.trackers) <= 8 * 4


def test_a_summary_of_a_closed_round_is_counted_late_and_dropped() -> None:
    model = CohortModel("role=web")
    model.add("web-1", 120.0, {"cpu.usage_user": 1.0})
    model.add("web-1", 180.0, {"cpu.usage_user": 1.0})
    assert model.add("web-2", 120.0, {"cpu.usage_user": 1.0}) == []
    assert model.late == 1


def test_a_round_waits_for_nodes_read_late_and_not_forever() -> None:
    model = CohortModel("role=web", PeerParams(max_open_rounds=3))
    for n in range(6):  # round 0 from everyone: all six nodes known
        model.add(f"web-{n}", 0.0, {"cpu.usage_user": 10.0})
    for r in range(1, 4):  # web-0 races ahead (its partition is read first)
        model.add("web-0", r * ROUND_S, {"cpu.usage_user": 10.0})
    assert model.closed_s == 0.0 and sorted(model.open) == [60.0, 120.0, 180.0]
    for n in range(1, 5):  # the others catch up, but for web-5: round 1 waits for it
        model.add(f"web-{n}", ROUND_S, {"cpu.usage_user": 10.0})
    assert model.closed_s == 0.0
    model.add("web-5", ROUND_S, {"cpu.usage_user": 10.0})
    assert model.closed_s == ROUND_S and sorted(model.open) == [120.0, 180.0]
    model.add("web-0", 240.0, {"cpu.usage_user": 10.0})  # three open: still waiting
    assert model.closed_s == ROUND_S
    model.add("web-0", 300.0, {"cpu.usage_user": 10.0})  # four: the others count as silent
    assert sorted(model.open) == [300.0]
    assert model.late == 0
