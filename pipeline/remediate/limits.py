"""What this node may do, and how often: its allowlist and its per-node rate limit."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from pipeline.config import RemediationSettings
from pipeline.control.catalogue import CATALOGUE
from pipeline.errors import ActionRefused


def check_allowed(action: str, settings: RemediationSettings) -> None:
    """Raise ActionRefused unless ``action`` is in the catalogue and the node's allowlist."""
    if action not in CATALOGUE:
        raise ActionRefused(f"{action!r} is not a catalogue action")
    if action not in settings.allowed_actions:
        raise ActionRefused(f"{action!r} is not in allowed_actions {settings.allowed_actions}")


class RateLimiter:
    """At most ``max_actions`` per key within any ``window_s`` (a sliding window)."""

    def __init__(self, max_actions: int, window_s: float) -> None:
        self.max_actions = max_actions
        self.window_s = window_s
        self._times: dict[str, deque[datetime]] = {}

    def check(self, key: str, now: datetime) -> None:
        """Raise ActionRefused if one more action for ``key`` would exceed the limit."""
        times = self._times.setdefault(key, deque())
        while times and times[0] <= now - timedelta(seconds=self.window_s):
            times.popleft()
        if len(times) >= self.max_actions:
            raise ActionRefused(
                f"rate limit: {len(times)} actions on {key} in the last {self.window_s:g} s "
                f"(max {self.max_actions})"
            )

    def record(self, key: str, now: datetime) -> None:
        """Count one action for ``key``."""
        self._times.setdefault(key, deque()).append(now)

    def snapshot(self) -> dict[str, list[str]]:
        """The window's action times per key, for the node's state file."""
        return {key: [at.isoformat() for at in times] for key, times in self._times.items()}

    def restore(self, data: dict[str, list[str]]) -> None:
        """Take back a ``snapshot`` (after a restart: the window does not reset)."""
        self._times = {
            key: deque(datetime.fromisoformat(at) for at in times) for key, times in data.items()
        }
