"""When a grouped incident settles, goes quiet and flaps: the grouping's policy and its rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.incidents.tracked import TrackedIncident


@dataclass(frozen=True)
class GroupingPolicy:
    """Thresholds of grouping and lifecycle (seconds, counts, shares)."""

    gap_s: float = 300.0
    resolve_after_s: float = 300.0
    settle_s: float = 30.0
    fleet_min_hosts: int = 5
    fleet_min_share: float = 0.2
    group_labels: tuple[str, ...] = ("role", "service", "rack", "zone")
    flap_window_s: float = 1800.0
    flap_threshold: int = 3
    fleet_wait_s: float = 0.0  # the stage's setting holds host incidents; 0 does not
    change_window_s: float = 900.0
    change_min_hosts: int = 2

    def flapping(self, state: TrackedIncident) -> bool:
        """Whether ``state`` reopened often enough to count as flapping."""
        return state.reopen_count >= self.flap_threshold

    def quiet(self, state: TrackedIncident) -> timedelta:
        """How long without events resolves ``state`` (flapping ones: four times as long)."""
        return timedelta(seconds=self.resolve_after_s * (4 if self.flapping(state) else 1))

    def quiet_at(self, state: TrackedIncident) -> datetime:
        """When ``state`` goes (went) quiet by its own events' time: its last event plus ``quiet``.

        Not the tick that resolved it: the stage's clock is the newest event of any host, and
        runs ahead of a host whose partition lags (45 min in the time-compressed demo).
        """
        assert state.last_event_at is not None  # noqa: S101 - set on the first event
        return state.last_event_at + self.quiet(state)

    def resolve_at(self, state: TrackedIncident) -> datetime:
        """When ``state`` resolves by the stream's clock: quiet by its events' and arrival time.

        Quiet for ``quiet`` by its own events' time and since its last event arrived (the stream's
        newest event time then).

        Quiet by its own events' time alone, a host whose partition lags 45 min (the demo) had its
        incident resolved between two events a minute apart, and the next one took it back: a
        resolve and a page again for every event, or, once the resolved one was forgotten (30 min
        of the stream's clock), a new incident for the same fault. In a live stream both clocks
        agree and nothing changes.
        """
        arrived_at = state.last_arrived_at or state.last_event_at
        assert arrived_at is not None  # noqa: S101 - set on the first event
        return max(self.quiet_at(state), arrived_at + self.quiet(state))

    def settled_before_quiet(self, state: TrackedIncident) -> bool:
        """Whether ``state`` was due to publish (``settle_s`` after it opened) before it went quiet.

        Publication waits at most ``fleet_wait_s`` more for a fleet incident to take it; one that
        did not take it by the quiet deadline will not.
        """
        seen = state.opened_seen or state.opened_at
        return seen + timedelta(seconds=self.settle_s) < self.quiet_at(state)
