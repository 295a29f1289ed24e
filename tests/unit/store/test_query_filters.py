"""Query filters and time ranges: typos are named, valid filters become the expected Flux."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.store.query import (
    AnomalyFilter,
    anomalies_flux,
    band_flux,
    incidents_flux,
    series_flux,
)
from pipeline.store.timerange import TimeRange, parse_moment

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = TimeRange(NOW - timedelta(hours=1), NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("45s", NOW - timedelta(seconds=45)),
        ("15m", NOW - timedelta(minutes=15)),
        ("2d", NOW - timedelta(days=2)),
        ("1w", NOW - timedelta(weeks=1)),
        ("2026-03-01T10:00:00+02:00", datetime(2026, 3, 1, 8, tzinfo=UTC)),
    ],
)
def test_parse_moment_forms(text: str, expected: datetime) -> None:
    assert parse_moment(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "1h ago", "-1h", "2026-03-01T10:00:00", ""])
def test_parse_moment_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_moment(text, NOW)


def test_time_range_refuses_since_after_until() -> None:
    with pytest.raises(ValueError, match="must be before"):
        TimeRange.parse("10m", "1h", NOW)
    assert TimeRange.parse("1h", None, NOW) == HOUR


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("nodes", ('web" or true',), "not a node id"),
        ("metrics", ("CPU usage",), "not a metric name"),
        ("severities", ("fatal",), "not one of info, warning, critical"),
    ],
)
def test_filter_names_the_bad_value(field: str, value: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnomalyFilter(HOUR, **{field: value})


def test_filter_accepts_host_metric_and_describes_itself() -> None:
    selection = AnomalyFilter(HOUR, nodes=("a", "b"), metrics=("_host",), severities=("critical",))
    assert selection.describe().startswith(
        "matching node=a,b metric=_host severity=critical in 2026-03-01"
    )
    assert AnomalyFilter(HOUR).describe() == "in 2026-03-01 11:00:00 → 12:00:00 UTC"


def test_anomalies_flux_composes_filters_then_pivots_sorts_limits() -> None:
    selection = AnomalyFilter(HOUR, nodes=("web-1", "web-2"), severities=("critical",))
    text = anomalies_flux("fw/autogen", selection, limit=7, order_by="score")
    node_at = text.index('r["node"] == "web-1" or r["node"] == "web-2"')
    severity_at = text.index('r["severity"] == "critical"')
    pivot_at = text.index("pivot(")
    assert node_at < severity_at < pivot_at < text.index('sort(columns: ["score"], desc: true)')
    assert text.rstrip().endswith("limit(n: 7)")
    assert '"metric"' not in text  # no metric filter was asked for


def test_anomalies_flux_refuses_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        anomalies_flux("fw/autogen", AnomalyFilter(HOUR), limit=0, order_by="time")


def test_incidents_and_series_flux_read_their_measurements() -> None:
    assert 'r._measurement == "incidents"' in incidents_flux("b", HOUR)
    series = series_flux("b", "web-1", "cpu.usage_user", HOUR, every_s=9)
    assert 'r._measurement == "metrics"' in series
    assert 'r["metric"] == "cpu.usage_user"' in series
    assert "aggregateWindow(every: 9s, fn: mean" in series


def test_band_flux_reads_the_detectors_band_from_scores() -> None:
    text = band_flux("b", "web-1", "cpu.usage_user", HOUR, every_s=5)
    assert 'r._measurement == "scores"' in text
    assert 'r["_field"] == "expected_low" or r["_field"] == "expected_high"' in text
    assert text.index("aggregateWindow(every: 5s") < text.index("pivot(")
