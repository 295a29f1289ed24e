"""Bounded buffer of line-protocol points and the capped backoff used while InfluxDB is down."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class SinkCounters:
    """What happened to the points handed to a sink; exported as worker metrics.

    ``written`` reached InfluxDB, ``retried`` counts points in attempts that failed and were tried
    again, ``rejected`` were refused by InfluxDB as invalid (never retried), and ``dropped`` were
    pushed out of the full buffer while InfluxDB was unreachable.
    """

    written: int = 0
    retried: int = 0
    rejected: int = 0
    dropped: int = 0


class LineBuffer:
    """Thread-safe FIFO of lines that drops the oldest when full, counting what it dropped.

    Parameters
    ----------
    max_lines
        Most lines held; beyond it the oldest go (the newest data is what operators look at).
    counters
        Where ``dropped`` is counted.

    Examples
    --------
    >>> buffer = LineBuffer(max_lines=2, counters=SinkCounters())
    >>> buffer.extend(["a 1", "b 2", "c 3"])
    >>> buffer.peek(10), buffer.counters.dropped
    (['b 2', 'c 3'], 1)
    """

    def __init__(self, max_lines: int, counters: SinkCounters) -> None:
        if max_lines < 1:
            raise ValueError(f"max_lines must be positive, got {max_lines}")
        self.max_lines = max_lines
        self.counters = counters
        self._lines: deque[str] = deque()
        self._lock = threading.Lock()
        self.ready = threading.Condition(self._lock)

    def __len__(self) -> int:
        return len(self._lines)

    def extend(self, lines: Iterable[str]) -> None:
        """Append lines, dropping the oldest beyond ``max_lines``; wakes the writer."""
        with self._lock:
            self._lines.extend(lines)
            overflow = len(self._lines) - self.max_lines
            for _ in range(max(overflow, 0)):
                self._lines.popleft()
            if overflow > 0:
                self.counters.dropped += overflow
            self.ready.notify()

    def peek(self, limit: int) -> list[str]:
        """The oldest ``limit`` lines, left in place until ``discard`` confirms them."""
        with self._lock:
            return [self._lines[i] for i in range(min(limit, len(self._lines)))]

    def discard(self, lines: list[str]) -> int:
        """Remove ``lines`` from the head if they are still there (overflow may have taken some).

        Returns
        -------
        int
            How many were removed.
        """
        with self._lock:
            removed = 0
            for line in lines:
                if self._lines and self._lines[0] is line:
                    self._lines.popleft()
                    removed += 1
            return removed


@dataclass
class Backoff:
    """Capped exponential backoff: ``first_s``, doubled per failure, never above ``max_s``.

    Examples
    --------
    >>> backoff = Backoff(first_s=1.0, max_s=5.0)
    >>> [backoff.next_delay_s() for _ in range(5)]
    [1.0, 2.0, 4.0, 5.0, 5.0]
    >>> backoff.reset(); backoff.next_delay_s(retry_after_s=3.0)
    3.0
    """

    first_s: float = 0.5
    max_s: float = 15.0
    failures: int = 0

    def next_delay_s(self, retry_after_s: float | None = None) -> float:
        """Delay before the next attempt; the server's Retry-After wins when it says longer."""
        delay = min(self.first_s * 2.0**self.failures, self.max_s)
        self.failures += 1
        if retry_after_s is not None:
            delay = min(max(delay, retry_after_s), self.max_s)
        return delay

    def reset(self) -> None:
        """Forget failures after a success."""
        self.failures = 0
