"""The typed query a question becomes: what to read, which filters, which aggregation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.store.timerange import TimeRange, parse_moment

What = Literal["anomalies", "incidents", "actions", "metrics", "forecasts"]
Aggregation = Literal["list", "count", "top", "latest", "trend"]
GroupBy = Literal["node", "role", "metric", "kind", "action"]
_DURATION = re.compile(r"^\d{1,4}[mhdw]$")
_DAY_WORDS = ("today", "yesterday")
_NAME = r"^[A-Za-z0-9_.:*-]{1,128}$"


class AskQuery(BaseModel):
    """A question as data: what the answer is about, filters (empty = any) and the aggregation.

    ``metrics`` holds exact names (``cpu.usage_user``) or families (``mem.*``); ``since`` and
    ``until`` are a duration ago (``6h``, ``2d``, ``1w``), ``today``, ``yesterday`` or ``now``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    what: What
    nodes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    severities: tuple[Literal["info", "warning", "critical"], ...] = ()
    since: str = "24h"
    until: str = "now"
    aggregation: Aggregation = "list"
    group_by: GroupBy | None = None
    limit: int = Field(10, ge=1, le=1000)

    @field_validator("nodes", "roles", "kinds", "metrics")
    @classmethod
    def _names(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not re.match(_NAME, value):
                raise ValueError(f"{value!r} is not a name (letters, digits, . _ - : *)")
        return tuple(sorted(set(values)))

    @field_validator("severities")
    @classmethod
    def _sorted(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(values)))

    @field_validator("since", "until")
    @classmethod
    def _moment(cls, value: str) -> str:
        if value != "now" and value not in _DAY_WORDS and not _DURATION.match(value):
            raise ValueError(f"{value!r} is not now, today, yesterday or a duration like 6h")
        return value

    def time_range(self, now_at: datetime) -> TimeRange:
        """The range this query reads, counted back from ``now_at``."""
        return TimeRange(_resolve(self.since, now_at), _resolve(self.until, now_at))


def _resolve(moment: str, now_at: datetime) -> datetime:
    """``today``/``yesterday`` are UTC midnights; anything else as ``--since`` reads it."""
    midnight = now_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if moment == "today":
        return midnight
    if moment == "yesterday":
        return midnight - timedelta(days=1)
    return parse_moment(moment, now_at)
