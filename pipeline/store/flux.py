r"""Flux source text built from typed values: every user value is escaped, never pasted in.

Flux string literals treat ``\\``, ``"`` and ``${`` (interpolation) specially; regex literals end
at an unescaped ``/``. Every value that reaches a query goes through :func:`flux_string`,
:func:`flux_time` or :func:`flux_regex`, so a node id such as ``a" or true or "`` stays one
string. The queries use only functions InfluxDB 1.8's Flux and InfluxDB 2.7 both provide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def flux_string(value: str) -> str:
    r"""Quote ``value`` as a Flux string literal.

    Examples
    --------
    >>> flux_string('a"b')
    '"a\\"b"'
    >>> flux_string("${x}")
    '"\\${x}"'
    """
    escaped = "".join(_STRING_ESCAPES.get(char, char) for char in value)
    # `${` opens interpolation in Flux strings; `\${` is its escape. Done after `\` is doubled.
    return '"' + escaped.replace("${", "\\${") + '"'


def flux_time(moment: datetime) -> str:
    """A Flux RFC3339 time literal (UTC, microseconds); naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def flux_regex(pattern: str) -> str:
    """A Flux regex literal of ``pattern`` (RE2 syntax); ``/`` is escaped, line breaks refused."""
    if "\n" in pattern or "\r" in pattern:
        raise ValueError("a regex filter cannot contain a line break")
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            # Keep escape pairs whole, so `\\/` cannot turn into an escaped delimiter.
            following = next(chars, None)
            if following is None:
                raise ValueError(f"regex {pattern!r} ends in a lone backslash")
            out.append(char + following)
        else:
            out.append("\\/" if char == "/" else char)
    return "/" + "".join(out) + "/"


def column(name: str) -> str:
    """``r["name"]``: a record column, whatever characters its name has."""
    return f"r[{flux_string(name)}]"


def any_equal(name: str, values: Sequence[str]) -> str:
    """Predicate: column ``name`` equals one of ``values`` (or-ed equalities push down in 2.x)."""
    if not values:
        raise ValueError(f"no values to filter {name!r} by")
    return " or ".join(f"{column(name)} == {flux_string(value)}" for value in values)


@dataclass
class FluxQuery:
    r"""A ``from |> range |> filter ...`` pipeline assembled from escaped parts.

    Parameters
    ----------
    bucket
        Bucket (InfluxDB 1.8: ``database/retention``).
    start_at, stop_at
        The time range, tz-aware.
    measurement
        The ``_measurement`` to read.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> q = FluxQuery("db/autogen", datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...               datetime(2026, 1, 2, tzinfo=timezone.utc), "anomalies")
    >>> print(q.where_any("node", ['x" or true or "']).render())  # doctest: +NORMALIZE_WHITESPACE
    from(bucket: "db/autogen")
      |> range(start: 2026-01-01T00:00:00.000000Z, stop: 2026-01-02T00:00:00.000000Z)
      |> filter(fn: (r) => r._measurement == "anomalies")
      |> filter(fn: (r) => r["node"] == "x\" or true or \"")
    """

    bucket: str
    start_at: datetime
    stop_at: datetime
    measurement: str
    steps: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.stop_at <= self.start_at:
            raise ValueError(f"empty time range: {self.start_at} is not before {self.stop_at}")

    def where(self, predicate: str) -> FluxQuery:
        """Add a filter step whose predicate was built from escaped parts."""
        self.steps.append(f"filter(fn: (r) => {predicate})")
        return self

    def where_any(self, name: str, values: Sequence[str]) -> FluxQuery:
        """Keep rows whose ``name`` column is one of ``values``; no-op for an empty selection."""
        return self.where(any_equal(name, values)) if values else self

    def then(self, step: str) -> FluxQuery:
        """Append a fixed pipeline step (written in code, never from user input)."""
        self.steps.append(step)
        return self

    def render(self) -> str:
        """The Flux source text."""
        head = [
            f"from(bucket: {flux_string(self.bucket)})",
            f"range(start: {flux_time(self.start_at)}, stop: {flux_time(self.stop_at)})",
            f"filter(fn: (r) => r._measurement == {flux_string(self.measurement)})",
        ]
        return "\n  |> ".join(head + self.steps)
