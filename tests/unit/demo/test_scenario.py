from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.demo.scenario import END_HOUR_UTC, demo_scenario
from pipeline.sim.nodes import ROLES


def _span(now: datetime) -> tuple[datetime, datetime]:
    scenario = demo_scenario(10, now=now)
    assert scenario.start_at is not None
    return scenario.start_at, scenario.start_at + timedelta(seconds=scenario.duration_s)


@pytest.mark.parametrize("hour", [0, 2, 5, 12, 13, 17, 21, 23])
def test_every_run_replays_the_same_hours_of_the_day_at_most_a_day_ago(hour: int) -> None:
    now = datetime(2026, 11, 30, hour, 30, tzinfo=UTC)
    start, end = _span(now)
    assert (end.hour, end.minute, end.second) == (END_HOUR_UTC, 0, 0)
    assert timedelta(0) <= now - end < timedelta(days=1)
    other_day = _span(datetime(2026, 12, 3, 18, tzinfo=UTC))[0]
    assert start.time() == other_day.time()  # the same simulated hours every run


def test_the_span_holds_no_start_or_end_of_a_nightly_job() -> None:
    start, end = _span(datetime(2026, 11, 30, 18, tzinfo=UTC))
    for job_hours in (p.job_hours for p in ROLES.values() if p.job_hours):
        for hour in job_hours:
            for day in (start.date(), end.date()):
                boundary = datetime.combine(day, datetime.min.time(), UTC).replace(hour=hour)
                assert not start < boundary <= end
