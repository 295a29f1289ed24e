"""Polling with a deadline, for tests that wait on real servers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    predicate: Callable[[], Any], deadline_s: float, what: str, poll_s: float = 0.5
) -> Any:
    """Poll ``predicate`` until it is truthy and return it; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")
