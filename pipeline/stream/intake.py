"""Pure intake of raw topic bytes: a valid message, or a dead letter that keeps every byte."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import InvalidMessage
from pipeline.models import DeadLetter, M, decode


@dataclass(frozen=True)
class Origin:
    """Where a message was read, for dead letters and log lines (``topic[partition]@offset``)."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


def intake_one(model: type[M], raw: bytes | None, origin: Origin) -> M | DeadLetter:
    """Decode ``raw`` as ``model``; anything that fails becomes a ``DeadLetter`` with the reason."""
    if raw is None:
        return _dead_letter("empty message (tombstone)", "EmptyMessage", b"", origin)
    try:
        return decode(model, raw)
    except InvalidMessage as exc:
        return _dead_letter(exc.reason, "InvalidMessage", raw, origin)


# A dead letter carries ``raw`` as base64 (4/3 larger) and must fit Kafka's default 1 MiB message
# limit; the offending message stays in its own topic for the retention period, whole.
MAX_RAW_BYTES = 700_000


def _dead_letter(reason: str, error_type: str, raw: bytes, origin: Origin) -> DeadLetter:
    note = (
        f" (raw truncated to {MAX_RAW_BYTES} of {len(raw)} bytes)"
        if len(raw) > MAX_RAW_BYTES
        else ""
    )
    return DeadLetter(
        reason=reason[: 512 - len(note)] + note,
        error_type=error_type,
        topic=origin.topic,
        partition=origin.partition,
        offset=origin.offset,
        raw=raw[:MAX_RAW_BYTES],
    )


def processing_failure(exc: Exception, raw: bytes | None, origin: Origin) -> DeadLetter:
    """A valid message whose processing raised: dead-lettered with the exception named."""
    reason = f"processing failed: {type(exc).__name__}: {exc}"
    return _dead_letter(reason, "ProcessingError", raw or b"", origin)
