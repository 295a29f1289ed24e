from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.demo.scenario import demo_scenario, span_end

SPAN = timedelta(hours=3, minutes=25)


def _span(now: datetime) -> tuple[datetime, datetime]:
    scenario = demo_scenario(10, now=now)
    assert scenario.start_at is not None
    return scenario.start_at, scenario.start_at + timedelta(seconds=scenario.duration_s)


def test_by_day_the_demo_ends_now() -> None:
    now = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert _span(now)[1] == now


@pytest.mark.parametrize("hour", [1, 2, 4, 5, 7])
def test_at_night_the_span_holds_no_start_or_end_of_the_nightly_job(hour: int) -> None:
    now = datetime(2026, 11, 30, hour, 30, tzinfo=UTC)
    start, end = _span(now)
    assert end <= now and now - end < timedelta(hours=7)
    for day in (29, 30):
        for job_hour in (1, 4):
            boundary = datetime(2026, 11, day, job_hour, tzinfo=UTC)
            assert not start < boundary <= end


def test_a_span_ending_just_before_the_job_is_kept() -> None:
    now = datetime(2026, 11, 30, 0, 59, tzinfo=UTC)
    assert span_end(now, SPAN) == now
