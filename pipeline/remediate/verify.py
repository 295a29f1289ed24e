"""After acting, watch the metric that triggered the action until it recovers or time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

# Reads one metric on this node now; None when the node cannot measure it.
Probe = Callable[[str], float | None]


@dataclass(frozen=True)
class Recovery:
    """The verdict of one verification."""

    recovered: bool
    last_value: float | None
    waited_s: float


def wait_for_recovery(
    probe: Probe,
    metric: str,
    below: float,
    timeout_s: float,
    interval_s: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    abort_above: float | None = None,
) -> Recovery:
    """Probe ``metric`` every ``interval_s`` until it is below ``below`` or ``timeout_s`` passes.

    With ``abort_above``, a value above it ends the wait at once (the change made things worse).
    """
    started = clock()
    last: float | None = None
    while True:
        last = probe(metric)
        waited = clock() - started
        if last is not None and last < below:
            return Recovery(True, last, waited)
        regressed = abort_above is not None and last is not None and last > abort_above
        if regressed or waited >= timeout_s:
            return Recovery(False, last, waited)
        sleep(interval_s)
