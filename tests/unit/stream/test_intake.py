from __future__ import annotations

from pipeline.models import DeadLetter, MetricBatch, encode
from pipeline.stream.intake import MAX_RAW_BYTES, Origin, intake_one, processing_failure
from tests.conftest import make_batch

ORIGIN = Origin("fleet.metrics", 3, 42)


def test_a_valid_batch_passes() -> None:
    batch = make_batch()
    assert intake_one(MetricBatch, encode(batch), ORIGIN) == batch


def test_a_bad_message_keeps_its_origin_and_bytes() -> None:
    letter = intake_one(MetricBatch, b"{nope", ORIGIN)
    assert isinstance(letter, DeadLetter)
    assert (letter.topic, letter.partition, letter.offset) == ("fleet.metrics", 3, 42)
    assert letter.raw == b"{nope" and letter.reason.startswith("invalid MetricBatch")


def test_a_huge_message_is_truncated_so_its_letter_fits_a_kafka_message() -> None:
    raw = b"x" * 1_000_000
    letter = intake_one(MetricBatch, raw, ORIGIN)
    assert isinstance(letter, DeadLetter)
    assert letter.raw == raw[:MAX_RAW_BYTES]
    assert letter.reason.endswith(f"(raw truncated to {MAX_RAW_BYTES} of 1000000 bytes)")
    assert len(encode(letter)) < 1_000_000


def test_tombstones_and_processing_failures_are_letters_too() -> None:
    tombstone = intake_one(MetricBatch, None, ORIGIN)
    assert isinstance(tombstone, DeadLetter) and tombstone.error_type == "EmptyMessage"
    failed = processing_failure(ZeroDivisionError("boom"), b"{}", ORIGIN)
    assert failed.error_type == "ProcessingError" and "ZeroDivisionError: boom" in failed.reason
