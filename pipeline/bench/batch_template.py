"""A MetricBatch encoded once, re-sent with a new ``sampled_at``, ``batch_id`` and ``seq``.

Encoding a 200-metric batch through pydantic costs a bench producer hundreds of microseconds:
more than the worker spends on it, so a producer that re-encodes every batch cannot offer a
worker 90 % of its capacity on a shared 2-core machine. The JSON bytes of a batch differ from
one send to the next only in those three fields, so a template splits them out once and joins
the fixed parts around new values per send.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pipeline.models import MetricBatch, encode

# Values no real batch carries, found once in the encoded bytes and cut out.
_SENTINEL_AT = datetime(2000, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
_SENTINEL_ID = uuid.UUID("5e17e1e5-0000-4000-8000-00005e17e1e5")
_SENTINEL_SEQ = 987_654_321_987


@dataclass(frozen=True)
class BatchTemplate:
    """The encoded bytes of one batch, cut around ``sampled_at``, ``batch_id`` and ``seq``.

    Examples
    --------
    >>> batch = MetricBatch(
    ...     node_id="web-01", sampled_at=datetime(2026, 1, 1, tzinfo=UTC), metrics={"cpu.user": 1.5}
    ... )
    >>> template = BatchTemplate.of(batch)
    >>> at = datetime(2026, 1, 1, 0, 0, 1, 250000, tzinfo=UTC)
    >>> raw = template.render(at_text(at.timestamp()), "00000000-0000-4000-8000-000000000001", 7)
    >>> from pipeline.models import decode
    >>> again = decode(MetricBatch, raw)
    >>> again.sampled_at == at, again.seq, again.metrics == batch.metrics
    (True, 7, True)
    """

    head: bytes  # up to the sampled_at value
    before_id: bytes  # from after sampled_at to the batch_id value
    before_seq: bytes  # from after batch_id to the seq value
    tail: bytes

    @classmethod
    def of(cls, batch: MetricBatch) -> BatchTemplate:
        """The template of ``batch``: its node, labels and metric values, the rest left open."""
        marked = batch.model_copy(
            update={"sampled_at": _SENTINEL_AT, "batch_id": _SENTINEL_ID, "seq": _SENTINEL_SEQ}
        )
        raw = encode(marked)
        head, rest = _cut(raw, f'"{encode_at(_SENTINEL_AT)}"'.encode())
        before_id, rest = _cut(rest, f'"{_SENTINEL_ID}"'.encode())
        before_seq, tail = _cut(rest, str(_SENTINEL_SEQ).encode())
        return cls(head, before_id, before_seq, tail)

    def render(self, sampled_at: str, batch_id: str, seq: int) -> bytes:
        """The batch's bytes with these values (``sampled_at`` as ISO 8601, e.g. ``at_text``)."""
        return b"".join(
            (
                self.head,
                b'"',
                sampled_at.encode(),
                b'"',
                self.before_id,
                b'"',
                batch_id.encode(),
                b'"',
                self.before_seq,
                str(seq).encode(),
                self.tail,
            )
        )


def _cut(raw: bytes, marker: bytes) -> tuple[bytes, bytes]:
    """``raw`` before and after its only ``marker``."""
    if raw.count(marker) != 1:
        raise ValueError(f"expected one {marker!r} in the encoded batch, found {raw.count(marker)}")
    before, _, after = raw.partition(marker)
    return before, after


def encode_at(at: datetime) -> str:
    """How ``encode`` writes a datetime (the sentinel's text to look for)."""
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def at_text(epoch_s: float) -> str:
    """``epoch_s`` as the ISO 8601 text a batch carries."""
    return encode_at(datetime.fromtimestamp(epoch_s, UTC))


class BatchIds:
    """Distinct batch ids, cheap to make: a random prefix per producer and a counter.

    The worker skips a batch whose id it learned lately (an agent's re-send), so every send
    needs its own; ``uuid4()`` per send costs more than the rest of a templated send.
    """

    def __init__(self) -> None:
        self.prefix = str(uuid.uuid4())[:24]  # 8-4-4-4- of a random uuid
        self.count = 0

    def next(self) -> str:
        """The next id, in uuid text form."""
        self.count += 1
        return f"{self.prefix}{self.count:012x}"
