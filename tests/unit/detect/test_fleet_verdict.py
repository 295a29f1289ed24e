"""The fleet verdict judges a cohort's median against a line in time: the daily ramp its nodes
follow is no jump, even across rounds the cohort could not be compared, while a role-wide step
still is one fleet deviation; a step that recurs at the same hour every night is learned."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable

import numpy as np

from pipeline.detect.cohort_level import CohortLevel
from pipeline.detect.peers import CohortModel, PeerVerdict

ROUND_S = 60.0
NODES = 10  # the demo's db cohort: a fifth of 50 nodes
START_H = 10.0  # the demo's span starts at 10:05 UTC, on the morning's climb


def _cpu(r: int, n: int, rng: np.random.Generator) -> float:
    """The demo's db node: 12 + 35 x daily load, its phase within +-1 h, a round's mean of noise."""
    phase_h = -1.0 + 2.0 * n / (NODES - 1)
    hour = START_H + r * ROUND_S / 3600.0 + phase_h
    load = 0.5 + 0.5 * math.sin(2 * math.pi * (hour - 9) / 24)
    return 12.0 + 35.0 * load + float(rng.normal(0, 1.5 / math.sqrt(6)))


def _run(
    rounds: Iterable[int], value: Callable[[int, int, np.random.Generator], float], seed: int = 0
) -> list[PeerVerdict]:
    rng = np.random.default_rng(seed)
    model = CohortModel("role=db")
    verdicts: list[PeerVerdict] = []
    for r in rounds:
        for n in range(NODES):
            verdicts += model.add(f"db-{n}", r * ROUND_S, {"cpu.usage_user": value(r, n, rng)})
    return verdicts + model.close()


def _fleet(verdicts: list[PeerVerdict]) -> list[PeerVerdict]:
    return [v for v in verdicts if v.kind == "fleet"]


def test_a_cohort_on_its_daily_ramp_gives_no_fleet_verdict() -> None:
    for seed in range(5):
        assert _fleet(_run(range(170), _cpu, seed)) == []


def test_the_ramp_across_rounds_the_cohort_was_not_compared_is_no_jump() -> None:
    # The demo's false verdict: rounds 20-59 closed with too few peers (partitions read at
    # different paces), so the cohort's median was next seen 40 minutes further up the ramp.
    rounds = [*range(20), *range(60, 170)]
    for seed in range(5):
        assert _fleet(_run(rounds, _cpu, seed)) == []


def test_a_role_wide_step_on_the_ramp_is_exactly_one_fleet_verdict() -> None:
    def value(r: int, n: int, rng: np.random.Generator) -> float:
        return _cpu(r, n, rng) + (20.0 if r >= 100 else 0.0)  # a bad deploy on every node

    for seed in range(5):
        verdicts = _run(range(170), value, seed)
        assert [(v.kind, v.metric) for v in verdicts] == [("fleet", "cpu.usage_user")]
        assert 100 * ROUND_S <= verdicts[0].round_s <= 103 * ROUND_S
        assert verdicts[0].observed > verdicts[0].expected


def test_a_role_wide_step_after_a_gap_is_still_found() -> None:
    def value(r: int, n: int, rng: np.random.Generator) -> float:
        return _cpu(r, n, rng) + (20.0 if r >= 60 else 0.0)

    verdicts = _run([*range(30), *range(60, 120)], value)
    assert [(v.kind, v.round_s) for v in verdicts] == [("fleet", 62 * ROUND_S)]


def test_a_line_is_ten_numbers_without_a_dict() -> None:
    level = CohortLevel()
    for r in range(30):
        expected, widen = level.forecast(r * ROUND_S, ROUND_S, 0.05)
        level.learn(float(r), expected, widen, r * ROUND_S, ROUND_S, 0.05, 0.01, r < 20)
    assert not hasattr(level, "__dict__")
    fields = [getattr(level, name) for name in CohortLevel.__slots__]
    assert len(fields) == 10
    assert sys.getsizeof(level) + sum(sys.getsizeof(f) for f in fields) <= 400


def _nightly(r: int, n: int, rng: np.random.Generator) -> float:
    """The demo's batch node: busy from 01:00 to 04:00 every night, idle otherwise."""
    job = 0.9 if 1 <= (r % 1440) / 60 < 4 else 0.05
    return 3.0 + 5.0 * job + float(rng.normal(0, 1.5 / math.sqrt(6)))


def _at(verdict: PeerVerdict) -> tuple[int, int]:
    return int(verdict.round_s // 86_400), int(verdict.round_s % 86_400 // 3600)


def test_a_nightly_job_on_every_node_alarms_the_first_nights_then_is_learned() -> None:
    verdicts = _fleet(_run(range(5 * 1440), _nightly))
    assert [_at(v) for v in verdicts] == [(0, 1), (0, 4), (1, 1), (1, 4)]


def test_a_step_at_a_new_hour_after_the_job_was_learned_is_still_one_verdict() -> None:
    def value(r: int, n: int, rng: np.random.Generator) -> float:
        return _nightly(r, n, rng) + (15.0 if 4 * 1440 + 15 * 60 <= r < 4 * 1440 + 16 * 60 else 0.0)

    verdicts = _fleet(_run(range(5 * 1440), value))
    # One episode: the cohort comes back at 16:00 before its line has taken the step in.
    assert [_at(v) for v in verdicts if v.round_s >= 2 * 86_400] == [(4, 15)]


def test_a_cohort_compared_again_after_half_a_day_starts_a_new_line() -> None:
    # Unseen for longer than its line remembers: the load fell meanwhile; no step is known.
    for seed in range(3):
        assert _fleet(_run([*range(100), *range(800, 900)], _cpu, seed)) == []
