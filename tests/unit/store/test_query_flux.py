"""Flux text builders: every value is escaped, so no input can change the query's shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.store.flux import FluxQuery, any_equal, flux_regex, flux_string, flux_time

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def decode_flux_string(literal: str) -> str:
    """Reference decoder of a Flux string literal; fails on anything Flux would not accept."""
    assert literal[0] == literal[-1] == '"'
    out, chars = [], iter(literal[1:-1])
    for char in chars:
        if char == "\\":
            out.append(_UNESCAPE[next(chars)])
        else:
            assert char != '"', f"unescaped quote in {literal!r}"
            out.append(char)
    return "".join(out)


@given(st.text())
def test_flux_string_round_trips_any_text(value: str) -> None:
    literal = flux_string(value)
    assert decode_flux_string(literal) == value
    # No interpolation can start: every `${` is preceded by an escaping backslash.
    assert not re.search(r"(?<!\\)\$\{", literal)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("web-01", '"web-01"'),
        ('a" or true or "', '"a\\" or true or \\""'),
        ("x\\", '"x\\\\"'),
        ("${secret}", '"\\${secret}"'),
        ("\\${", '"\\\\\\${"'),
    ],
)
def test_flux_string_known_cases(value: str, literal: str) -> None:
    assert flux_string(value) == literal


def test_flux_time_is_utc_rfc3339_and_refuses_naive() -> None:
    local = datetime(2026, 1, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    assert flux_time(local) == "2026-01-01T10:30:00.000000Z"
    with pytest.raises(ValueError, match="no time zone"):
        flux_time(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive value is the point


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [("^web-", "/^web-/"), ("a/b", "/a\\/b/"), ("a\\/b", "/a\\/b/"), ("a\\\\/b", "/a\\\\\\/b/")],
)
def test_flux_regex_escapes_the_delimiter(pattern: str, literal: str) -> None:
    assert flux_regex(pattern) == literal


@pytest.mark.parametrize("pattern", ["abc\\", "a\nb"])
def test_flux_regex_refuses_what_could_end_the_literal(pattern: str) -> None:
    with pytest.raises(ValueError):
        flux_regex(pattern)


def test_any_equal_ors_escaped_values_and_refuses_none() -> None:
    assert any_equal("node", ["a", 'b"']) == 'r["node"] == "a" or r["node"] == "b\\""'
    with pytest.raises(ValueError, match="no values"):
        any_equal("node", [])


def test_query_renders_filters_in_order_and_skips_empty_selections() -> None:
    query = FluxQuery("db/rp", T0, T0 + timedelta(hours=1), "anomalies")
    text = query.where_any("node", []).where_any("severity", ["critical"]).then("group()").render()
    lines = [line.strip() for line in text.splitlines()]
    assert lines == [
        'from(bucket: "db/rp")',
        "|> range(start: 2026-01-01T00:00:00.000000Z, stop: 2026-01-01T01:00:00.000000Z)",
        '|> filter(fn: (r) => r._measurement == "anomalies")',
        '|> filter(fn: (r) => r["severity"] == "critical")',
        "|> group()",
    ]


def test_query_refuses_an_empty_range() -> None:
    with pytest.raises(ValueError, match="empty time range"):
        FluxQuery("db/rp", T0, T0, "anomalies")


def test_bucket_and_measurement_are_escaped_too() -> None:
    text = FluxQuery('db") |> drop() //', T0, T0 + timedelta(1), 'm"').render()
    assert text.startswith('from(bucket: "db\\") |> drop() //")')
    assert 'r._measurement == "m\\""' in text
