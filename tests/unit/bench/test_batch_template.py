"""A batch template re-sends one node's encoded batch with new sampled_at, batch_id and seq."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from pipeline.bench.batch_template import BatchIds, BatchTemplate, at_text
from pipeline.models import MetricBatch, decode, encode


def node_batch(**labels: str) -> MetricBatch:
    metrics = {f"bench.m{i:04d}": 10.0 + i / 3 for i in range(50)}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return MetricBatch(node_id="bench-abc-000001", sampled_at=at, metrics=metrics, labels=labels)


def test_rendered_bytes_are_the_batch_with_the_new_fields() -> None:
    batch = node_batch(role="web")
    template = BatchTemplate.of(batch)
    at = datetime(2026, 12, 1, 4, 5, 6, 789012, tzinfo=UTC)
    batch_id = uuid.uuid4()
    raw = template.render(at_text(at.timestamp()), str(batch_id), 123_456)
    again = decode(MetricBatch, raw)
    assert again == batch.model_copy(
        update={"sampled_at": at, "batch_id": batch_id, "seq": 123_456}
    )
    # The same bytes a full encode would give, so the worker sees nothing unusual.
    assert raw == encode(again)


def test_a_whole_second_keeps_its_microseconds_and_still_decodes() -> None:
    template = BatchTemplate.of(node_batch())
    at = datetime(2026, 12, 1, 4, 5, 6, tzinfo=UTC)
    raw = template.render(at_text(at.timestamp()), str(uuid.uuid4()), 0)
    assert decode(MetricBatch, raw).sampled_at == at


def test_a_batch_whose_labels_hold_a_sentinel_is_refused_not_mangled() -> None:
    with pytest.raises(ValueError, match="expected one"):
        BatchTemplate.of(node_batch(note="5e17e1e5-0000-4000-8000-00005e17e1e5"))


def test_batch_ids_are_distinct_uuids_and_differ_between_producers() -> None:
    first, second = BatchIds(), BatchIds()
    ids = [first.next() for _ in range(1000)] + [second.next() for _ in range(1000)]
    assert len({uuid.UUID(text) for text in ids}) == 2000
