"""Rows → the answer's table (count, top-N, latest, trend) and its one-sentence summary."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from pipeline.ask.fetch import Row
from pipeline.ask.model import AskQuery

_MAX_LIST = 200  # rows a listing shows; the sentence still counts them all


@dataclass(frozen=True)
class Answer:
    """What ``ask`` prints: the query it ran, the table, and one sentence."""

    query: AskQuery
    rows: list[Row]
    sentence: str


def aggregate(query: AskQuery, rows: list[Row], now_at: datetime) -> Answer:
    """The table ``query.aggregation`` asks for, from ``rows`` (newest first)."""
    table = {"list": _listing, "count": _count, "top": _top, "latest": _latest}
    if query.aggregation == "trend":
        out = _trend(query, rows, query.time_range(now_at).duration_s / 3600)
    else:
        out = table[query.aggregation](query, rows)
    return Answer(query, out, _sentence(query, rows, out, now_at))


def _listing(query: AskQuery, rows: list[Row]) -> list[Row]:
    return rows[:_MAX_LIST]


def _count(query: AskQuery, rows: list[Row]) -> list[Row]:
    if query.group_by is None:
        return [{"count": len(rows)}]
    counts = Counter(str(row.get(query.group_by, "")) for row in rows)
    return [{query.group_by: k, "count": n} for k, n in sorted(counts.items(), key=_by_size)]


def _top(query: AskQuery, rows: list[Row]) -> list[Row]:
    key = query.group_by or "node"
    if query.what != "metrics":
        return _count(query.model_copy(update={"group_by": key}), rows)[: query.limit]
    values: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        values[str(row[key])].append(float(row["value"]))
    means = {name: round(fmean(series), 3) for name, series in values.items()}
    ranked = sorted(means.items(), key=_by_size)[: query.limit]
    return [{key: name, "mean": mean} for name, mean in ranked]


def _latest(query: AskQuery, rows: list[Row]) -> list[Row]:
    if query.what != "metrics":
        return rows[:1]
    newest: dict[tuple[str, str], Row] = {}
    for row in rows:  # newest first: the first row per series is its latest value
        newest.setdefault((row["node"], row["metric"]), row)
    return sorted(newest.values(), key=lambda row: (row["node"], row["metric"]))


def _trend(query: AskQuery, rows: list[Row], span_h: float) -> list[Row]:
    """Per hour over two days or less, else per day: event counts, or a metric's mean."""
    width = 13 if span_h <= 48 else 10  # "2026-01-10T12" or "2026-01-10"
    buckets: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        buckets[row["at"][:width]].append(float(row.get("value", 1.0)))
    if query.what == "metrics":
        return [{"bucket": k, "mean": round(fmean(v), 3)} for k, v in sorted(buckets.items())]
    return [{"bucket": k, "count": len(v)} for k, v in sorted(buckets.items())]


def _by_size(item: tuple[str, float]) -> tuple[float, str]:
    return (-item[1], item[0])


def _sentence(query: AskQuery, rows: list[Row], out: list[Row], now_at: datetime) -> str:
    scope = f"{query.what} {_filters(query)}in {query.time_range(now_at).describe()}"
    if not rows:
        return f"No {scope}."
    if query.aggregation == "count" and query.group_by is None:
        return f"{len(rows)} {scope}."
    if query.aggregation == "top":
        first = out[0]
        figure = first.get("count", first.get("mean"))
        return f"{first[next(iter(first))]} leads with {figure} ({len(out)} shown) — {scope}."
    if query.aggregation == "latest" and query.what != "metrics":
        return f"The latest of {len(rows)} {scope} was at {rows[0]['at']} on {rows[0]['node']}."
    return f"{len(out)} rows from {len(rows)} {scope}."


def _filters(query: AskQuery) -> str:
    parts = [
        f"{name}={','.join(values)}"
        for name, values in (("node", query.nodes), ("role", query.roles), ("kind", query.kinds),
                             ("metric", query.metrics), ("severity", query.severities))
        if values
    ]  # fmt: skip
    return " ".join(parts) + " " if parts else ""
