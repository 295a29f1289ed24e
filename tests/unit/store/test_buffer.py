from __future__ import annotations

import pytest

from pipeline.store.buffer import Backoff, LineBuffer, SinkCounters


def test_buffer_drops_oldest_beyond_its_bound_and_counts_them() -> None:
    counters = SinkCounters()
    buffer = LineBuffer(max_lines=3, counters=counters)
    buffer.extend([f"m v={i} {i}" for i in range(5)])
    assert buffer.peek(10) == ["m v=2 2", "m v=3 3", "m v=4 4"]
    assert counters.dropped == 2
    assert len(buffer) == 3


def test_discard_removes_only_lines_still_at_the_head() -> None:
    buffer = LineBuffer(max_lines=3, counters=SinkCounters())
    buffer.extend(["a", "b", "c"])
    batch = buffer.peek(2)
    buffer.extend(["d", "e"])  # overflow pushes "a" and "b" out while the batch is in flight
    assert buffer.discard(batch) == 0
    assert buffer.peek(5) == ["c", "d", "e"]
    head = buffer.peek(2)
    assert buffer.discard(head) == 2
    assert buffer.peek(5) == ["e"]


def test_buffer_refuses_a_nonpositive_bound() -> None:
    with pytest.raises(ValueError, match="max_lines"):
        LineBuffer(max_lines=0, counters=SinkCounters())


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(first_s=0.5, max_s=3.0)
    assert [backoff.next_delay_s() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay_s() == 0.5


def test_backoff_honours_retry_after_but_never_beyond_the_cap() -> None:
    backoff = Backoff(first_s=0.5, max_s=10.0)
    assert backoff.next_delay_s(retry_after_s=4.0) == 4.0
    assert backoff.next_delay_s(retry_after_s=60.0) == 10.0
