"""Pacing arithmetic of the load phases: what is due, how far behind, whether the rate held."""

from __future__ import annotations

import pytest

from pipeline.bench.pacing import Pace, PaceReport, combined


def test_sends_are_due_evenly_from_the_start() -> None:
    pace = Pace(rate_per_s=200.0, started_s=100.0)
    assert pace.due(99.0) == 1  # send 0 is due at once, even before a late clock reading
    assert pace.due(100.0) == 1
    assert pace.due(101.0) == 201
    assert pace.wait_s(sent=201, now_s=101.0) == pytest.approx(0.005)
    assert pace.wait_s(sent=100, now_s=101.0) == 0.0


def test_behind_counts_what_was_due_and_not_sent() -> None:
    pace = Pace(rate_per_s=1000.0, started_s=0.0)
    assert pace.behind_s(sent=2001, now_s=2.0) == 0.0
    assert pace.behind_s(sent=1001, now_s=2.0) == pytest.approx(1.0)
    assert pace.behind_s(sent=5000, now_s=2.0) == 0.0  # ahead is not negative behind


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate_per_s"):
        Pace(rate_per_s=0.0, started_s=0.0)


def test_a_phase_that_kept_its_rate_reached_it_and_one_that_did_not_says_so() -> None:
    kept = PaceReport(target_per_s=1000.0, sent=59_900, elapsed_s=60.0, max_behind_s=0.05)
    short = PaceReport(target_per_s=1000.0, sent=50_000, elapsed_s=60.0, max_behind_s=9.0)
    assert kept.reached and kept.achieved_per_s == pytest.approx(998.33, abs=0.01)
    assert not short.reached
    assert PaceReport(1000.0, sent=0, elapsed_s=0.0, max_behind_s=0.0).achieved_per_s == 0.0


def test_producers_add_up_and_the_slowest_one_decides_whether_the_phase_kept_up() -> None:
    fast = PaceReport(500.0, sent=30_000, elapsed_s=60.0, max_behind_s=0.1, cpu_s=6.0)
    slow = PaceReport(500.0, sent=20_000, elapsed_s=60.5, max_behind_s=20.0, cpu_s=9.0)
    both = combined([fast, slow])
    assert both.cpu_s == 15.0
    assert both.target_per_s == 1000.0
    assert both.sent == 50_000 and both.elapsed_s == 60.5
    assert both.max_behind_s == 20.0
    assert not both.reached
    assert combined([fast, fast]).reached
