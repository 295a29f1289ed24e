from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from pipeline.errors import InvalidMessage
from pipeline.models import (
    MAX_METRICS_PER_BATCH,
    DeadLetter,
    MetricBatch,
    decode,
    encode,
)
from tests.conftest import make_batch, make_event


def test_batch_round_trips_through_bytes() -> None:
    batch = make_batch()
    assert decode(MetricBatch, encode(batch)) == batch


def test_sampled_at_is_normalised_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    batch = make_batch(sampled_at=datetime(2026, 1, 1, 12, tzinfo=plus_two))
    assert batch.sampled_at.utcoffset() == timedelta(0)
    assert batch.sampled_at.hour == 10


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        make_batch(sampled_at=datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_metric_is_refused(value: float) -> None:
    with pytest.raises(ValidationError):
        make_batch(metrics={"cpu.usage_user": value})


def test_non_finite_in_json_is_refused() -> None:
    raw = encode(make_batch()).replace(b"12.5", b"NaN")
    with pytest.raises(InvalidMessage, match="metrics"):
        decode(MetricBatch, raw)


@pytest.mark.parametrize(
    "name",
    [
        "cpu",
        "CPU.user",
        "cpu.",
        ".user",
        "cpu.usage user",
        "cpu.a,b",
        "cpu.a=b",
        "cpu.a\nb",
        "a.b.c.d.e",
    ],
)
def test_bad_metric_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        make_batch(metrics={name: 1.0})


@pytest.mark.parametrize("name", ["cpu.usage_user", "disk.root.used_percent", "net.eth0.rx_bytes"])
def test_good_metric_names_are_accepted(name: str) -> None:
    assert name in make_batch(metrics={name: 1.0}).metrics


def test_unknown_field_is_refused() -> None:
    document = json.loads(encode(make_batch()))
    document["surprise"] = 1
    with pytest.raises(InvalidMessage, match="surprise"):
        decode(MetricBatch, json.dumps(document).encode())


def test_too_many_metrics_are_refused() -> None:
    metrics = {f"cpu.m{i}": 1.0 for i in range(MAX_METRICS_PER_BATCH + 1)}
    with pytest.raises(ValidationError, match="at most"):
        make_batch(metrics=metrics)


def test_oversized_message_is_refused_before_parsing() -> None:
    with pytest.raises(InvalidMessage, match="exceeds"):
        decode(MetricBatch, b" " * 2_000_000)


def test_control_characters_in_labels_are_refused() -> None:
    with pytest.raises(ValidationError):
        make_batch(labels={"role": "web\nx"})


@pytest.mark.parametrize("sampled_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_beyond_utc_range_is_an_invalid_message(sampled_at: str) -> None:
    # Python's astimezone raises OverflowError here, which pydantic does not turn into a
    # validation error: the stage decoding it stopped instead of dead-lettering the message.
    document = json.loads(encode(make_batch()))
    document["sampled_at"] = sampled_at
    with pytest.raises(InvalidMessage, match="sampled_at"):
        decode(MetricBatch, json.dumps(document).encode())


def test_invalid_message_reason_names_the_field() -> None:
    document = json.loads(encode(make_batch()))
    document["node_id"] = 42
    with pytest.raises(InvalidMessage) as caught:
        decode(MetricBatch, json.dumps(document).encode())
    assert caught.value.reason.startswith("invalid MetricBatch: node_id")
    assert caught.value.raw == json.dumps(document).encode()


def test_messages_are_immutable() -> None:
    with pytest.raises(ValidationError):
        make_batch().node_id = "other"  # type: ignore[misc]


def test_event_window_must_be_ordered() -> None:
    event = make_event()
    with pytest.raises(ValidationError, match="window_end_at"):
        make_event(window_end_at=event.window_start_at)


def test_series_event_needs_metric_and_host_event_has_none() -> None:
    with pytest.raises(ValidationError, match="series event"):
        make_event(metric=None)
    with pytest.raises(ValidationError, match="host event"):
        make_event(scope="host")
    assert make_event(scope="host", metric=None).metric is None


def test_dead_letter_keeps_raw_bytes_through_json() -> None:
    letter = DeadLetter(
        reason="bad",
        error_type="InvalidMessage",
        topic="t",
        partition=0,
        offset=7,
        raw=b"\x00\xffnot json",
    )
    assert decode(DeadLetter, encode(letter)).raw == b"\x00\xffnot json"


@pytest.mark.parametrize("unit", ["api.service", "getty@tty1.service", "backup.timer"])
def test_a_culprit_unit_is_a_systemd_unit_name(unit: str) -> None:
    from pipeline.models import DiagnosisCulprit, PastIncident

    culprit = DiagnosisCulprit(process="gunicorn", unit=unit)
    assert decode(DiagnosisCulprit, encode(culprit)) == culprit
    assert PastIncident(incident_id="i-1", kind="memory_leak", culprit_unit=unit).culprit_unit


@pytest.mark.parametrize("unit", ["gunicorn", "*.service", "api.service; reboot", ""])
def test_a_process_name_or_glob_is_not_a_unit(unit: str) -> None:
    from pipeline.models import DiagnosisCulprit

    with pytest.raises(ValidationError):
        DiagnosisCulprit(unit=unit)
