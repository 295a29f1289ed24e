"""Fuzzing the line-protocol path: no label or metric value can inject tags, fields or lines."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.models import LABEL_VALUE_PATTERN, MetricBatch
from pipeline.store.points import metric_points
from tests.conftest import make_batch

label_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(' ,="\\'),
    min_size=1,
    max_size=40,
).filter(lambda v: v.strip() != "")  # InfluxDB drops tags with empty values
metric_names = st.from_regex(r"\A[a-z][a-z0-9_]{0,8}\.[a-z0-9_][a-z0-9_-]{0,8}\Z")


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split on ``separator`` unless it is backslash-escaped (line protocol's own rule)."""
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            current += char
            escaped = True
        elif char == separator:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def unescape(text: str) -> str:
    out, escaped = "", False
    for char in text:
        if escaped or char != "\\":
            out += char
            escaped = False
        else:
            escaped = True
    return out


@settings(max_examples=300, deadline=None)
@given(role=label_values, zone=label_values, name=metric_names, value=st.floats(-1e12, 1e12))
def test_tags_survive_line_protocol_exactly(role: str, zone: str, name: str, value: float) -> None:
    if "\\" in role + zone:  # refused by the model: a backslash could escape a separator
        with pytest.raises(ValidationError, match="labels"):
            make_batch(labels={"role": role, "zone": zone})
        return
    batch: MetricBatch = make_batch(labels={"role": role, "zone": zone}, metrics={name: value})
    (line,) = metric_points(batch)
    assert "\n" not in line
    head, fields, timestamp = split_unescaped(line, " ")
    assert timestamp.isdigit()
    measurement, *tags = split_unescaped(head, ",")
    parsed = dict(tuple(unescape(p) for p in split_unescaped(tag, "=")) for tag in tags)
    assert measurement == "metrics"
    assert parsed["role"] == role and parsed["zone"] == zone
    assert parsed["metric"] == name and parsed["node"] == batch.node_id
    assert fields.startswith("value=")
    assert float(fields.removeprefix("value=")) == value


def test_label_pattern_refuses_what_line_protocol_cannot_carry() -> None:
    assert re.fullmatch(LABEL_VALUE_PATTERN, 'a b,c=d"e')
    for bad in ("a\\", "a\nb", "a\x00"):
        assert not re.fullmatch(LABEL_VALUE_PATTERN, bad)
