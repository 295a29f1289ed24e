"""Aggregations over fetched rows, and time phrases, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.ask.aggregate import aggregate
from pipeline.ask.model import AskQuery
from pipeline.ask.timewords import cn_number, find_time

NOW_AT = datetime(2026, 1, 10, 12, tzinfo=UTC)
ROWS = [
    {"at": "2026-01-10T11:00:00+00:00", "node": "a", "metric": "cpu.x", "value": 9.0},
    {"at": "2026-01-10T10:30:00+00:00", "node": "b", "metric": "cpu.x", "value": 3.0},
    {"at": "2026-01-10T10:00:00+00:00", "node": "a", "metric": "cpu.x", "value": 1.0},
]


def test_count_groups_and_orders_by_size_then_name() -> None:
    query = AskQuery(what="anomalies", aggregation="count", group_by="node")
    assert aggregate(query, ROWS, NOW_AT).rows == [
        {"node": "a", "count": 2},
        {"node": "b", "count": 1},
    ]


def test_top_of_metrics_ranks_by_mean_value() -> None:
    query = AskQuery(what="metrics", aggregation="top", group_by="node", limit=1)
    assert aggregate(query, ROWS, NOW_AT).rows == [{"node": "a", "mean": 5.0}]


def test_latest_metric_is_the_newest_per_series() -> None:
    query = AskQuery(what="metrics", aggregation="latest")
    rows = aggregate(query, ROWS, NOW_AT).rows
    assert [(row["node"], row["value"]) for row in rows] == [("a", 9.0), ("b", 3.0)]


def test_trend_counts_events_per_hour() -> None:
    query = AskQuery(what="anomalies", aggregation="trend", since="6h")
    assert aggregate(query, ROWS, NOW_AT).rows == [
        {"bucket": "2026-01-10T10", "count": 2},
        {"bucket": "2026-01-10T11", "count": 1},
    ]


def test_an_empty_answer_says_so_with_the_range() -> None:
    sentence = aggregate(AskQuery(what="incidents", nodes=("z",)), [], NOW_AT).sentence
    assert sentence.startswith("No incidents node=z in 2026-01-09 12:00:00")


@pytest.mark.parametrize(
    ("text", "since", "until"),
    [
        ("anomalies in the last 2 days", "2d", "now"),
        ("incidents over the past hour", "1h", "now"),
        ("过去十二小时的异常", "12h", "now"),
        ("昨天的故障", "yesterday", "today"),
        ("从昨天开始的故障", "yesterday", "now"),
        ("本周的操作", "1w", "now"),
    ],
)
def test_time_phrases(text: str, since: str, until: str) -> None:
    found = find_time(text)
    assert found is not None
    assert (found.since, found.until) == (since, until)


def test_chinese_numerals() -> None:
    assert [cn_number(t) for t in ("三", "十", "十二", "二十四", "48")] == [3, 10, 12, 24, 48]


def test_a_bad_time_word_is_refused_by_the_model() -> None:
    with pytest.raises(ValueError, match="not now, today, yesterday"):
        AskQuery(what="anomalies", since="last tuesday")
