"""Time ranges operators type (``--since 1h --until 10m``) turned into tz-aware UTC datetimes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_AGO = re.compile(r"^(\d{1,9})([smhdw])$")


def parse_moment(text: str, now_at: datetime) -> datetime:
    """``now``, a duration ago (``90s``, ``15m``, ``1h``, ``2d``, ``1w``) or an ISO-8601 time.

    Parameters
    ----------
    text
        What the operator typed.
    now_at
        The moment durations count back from (tz-aware).

    Raises
    ------
    ValueError
        When ``text`` is none of those, or is an ISO time without a time zone.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    >>> parse_moment("90m", now).isoformat()
    '2026-01-01T10:30:00+00:00'
    >>> parse_moment("2026-01-01T11:00:00Z", now).isoformat()
    '2026-01-01T11:00:00+00:00'
    """
    text = text.strip()
    if text == "now":
        return now_at.astimezone(UTC)
    match = _AGO.match(text)
    if match:
        amount, unit = match.groups()
        return now_at.astimezone(UTC) - timedelta(seconds=int(amount) * _UNIT_S[unit])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use now, a duration ago like 90s, 15m, 1h, 2d, 1w, "
            "or an ISO-8601 time with a zone like 2026-01-01T10:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; add Z or +00:00")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class TimeRange:
    """A half-open range [start_at, stop_at) of tz-aware UTC datetimes."""

    start_at: datetime
    stop_at: datetime

    def __post_init__(self) -> None:
        if self.start_at.tzinfo is None or self.stop_at.tzinfo is None:
            raise ValueError("time range bounds must carry a time zone")
        if self.stop_at <= self.start_at:
            raise ValueError(
                f"--since ({self.start_at.isoformat()}) must be before "
                f"--until ({self.stop_at.isoformat()})"
            )

    @classmethod
    def parse(cls, since: str, until: str | None, now_at: datetime) -> TimeRange:
        """The range from operator text; ``until`` defaults to ``now_at``."""
        return cls(parse_moment(since, now_at), parse_moment(until or "now", now_at))

    @property
    def duration_s(self) -> float:
        """Length of the range in seconds."""
        return (self.stop_at - self.start_at).total_seconds()

    def describe(self) -> str:
        """``2026-01-01 10:00:00 → 11:00:00 UTC`` for headings and empty-result messages."""
        start = self.start_at.strftime("%Y-%m-%d %H:%M:%S")
        stop_format = (
            "%H:%M:%S" if self.start_at.date() == self.stop_at.date() else "%Y-%m-%d %H:%M:%S"
        )
        return f"{start} → {self.stop_at.strftime(stop_format)} UTC"
