"""The one decode-or-dead-letter path every stage uses, and the one cap on what a letter keeps."""

from __future__ import annotations

from types import SimpleNamespace

from faust.types.settings import Settings as FaustSettings

from pipeline.bus import Origin, dead_letter, decode_or_dead_letter
from pipeline.models import (
    DEAD_LETTER_RAW_BYTES,
    KAFKA_MESSAGE_LIMIT_BYTES,
    MAX_MESSAGE_BYTES,
    DeadLetter,
    MetricBatch,
    RemediationRequest,
    encode,
)
from tests.conftest import make_batch

ORIGIN = Origin("fleet.metrics", 3, 42)
KAFKA_RECORD_OVERHEAD_BYTES = 100  # record header, attributes, varints: well below this


def test_a_valid_message_passes() -> None:
    batch = make_batch()
    assert decode_or_dead_letter(MetricBatch, encode(batch), ORIGIN) == batch


def test_a_bad_message_keeps_its_origin_and_bytes() -> None:
    letter = decode_or_dead_letter(MetricBatch, b"{nope", ORIGIN)
    assert isinstance(letter, DeadLetter)
    assert (letter.topic, letter.partition, letter.offset) == ("fleet.metrics", 3, 42)
    assert letter.raw == b"{nope" and letter.reason.startswith("invalid MetricBatch")


def test_a_huge_message_is_cut_to_the_one_cap_and_says_so() -> None:
    raw = b"x" * 2_000_000
    letter = decode_or_dead_letter(RemediationRequest, raw, ORIGIN)
    assert isinstance(letter, DeadLetter)
    assert letter.raw == raw[:DEAD_LETTER_RAW_BYTES]
    assert f"exceeds {MAX_MESSAGE_BYTES}" in letter.reason
    assert letter.reason.endswith(f"(raw truncated to {DEAD_LETTER_RAW_BYTES} of 2000000 bytes)")


def test_the_largest_possible_letter_still_fits_every_producer_we_run() -> None:
    worst = dead_letter(
        reason="\x01" * 1000,  # escaped as \u0001 in JSON: six bytes per character
        error_type="E" * 128,
        raw=b"\xff" * (2 * MAX_MESSAGE_BYTES),
        origin=Origin("t" * 249, 2**31 - 1, 2**63 - 1),
    )
    key = worst.topic.encode()
    size = len(encode(worst)) + len(key) + KAFKA_RECORD_OVERHEAD_BYTES
    assert size <= KAFKA_MESSAGE_LIMIT_BYTES <= FaustSettings.producer_max_request_size.default
    assert len(worst.raw) == DEAD_LETTER_RAW_BYTES


def test_tombstones_are_letters_too_and_records_name_their_origin() -> None:
    record = SimpleNamespace(topic="fleet.remediation", partition=1, offset=7, value=None)
    letter = decode_or_dead_letter(RemediationRequest, record.value, Origin.of(record))
    assert isinstance(letter, DeadLetter) and letter.error_type == "EmptyMessage"
    assert str(Origin.of(record)) == "fleet.remediation[1]@7"
