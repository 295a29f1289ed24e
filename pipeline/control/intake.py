"""Decode topic bytes for the remediation loops; a bad message becomes a dead letter."""

from __future__ import annotations

import logging
from typing import Any

from pipeline.errors import InvalidMessage
from pipeline.models import DeadLetter, M, decode

log = logging.getLogger(__name__)


def decode_or_dead_letter(model: type[M], record: Any) -> M | DeadLetter:
    """``record`` (topic, partition, offset, value) as ``model``, or a DeadLetter saying why."""
    raw: bytes = record.value or b""
    try:
        return decode(model, raw)
    except InvalidMessage as exc:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        log.warning("dead letter from %s: %s", where, exc.reason)
        return DeadLetter(
            reason=exc.reason[:512],
            error_type="InvalidMessage",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            raw=raw[:1_048_576],
        )
