"""When a paced producer's next send is due, and whether it kept its pace."""

from __future__ import annotations

from dataclasses import dataclass

# A phase whose producer sent less than this share of its target did not reach its rate.
REACHED_SHARE = 0.97


@dataclass(frozen=True)
class Pace:
    """Sends at ``rate_per_s`` from ``started_s`` (a monotonic clock reading).

    Send ``i`` (from 0) is due at ``started_s + i / rate_per_s``: a producer that fell behind
    sends what is due at once rather than stretching the phase, and its lag is measured.

    Examples
    --------
    >>> pace = Pace(rate_per_s=100.0, started_s=10.0)
    >>> pace.due(10.5), pace.wait_s(sent=50, now_s=10.5), pace.behind_s(sent=40, now_s=10.5)
    (51, 0.0, 0.11)
    >>> round(pace.wait_s(sent=51, now_s=10.5), 3)
    0.01
    """

    rate_per_s: float
    started_s: float

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0:
            raise ValueError(f"rate_per_s must be > 0, got {self.rate_per_s}")

    def due(self, now_s: float) -> int:
        """How many sends are due by ``now_s`` (send 0 is due at the start)."""
        return int(max(0.0, now_s - self.started_s) * self.rate_per_s) + 1

    def wait_s(self, sent: int, now_s: float) -> float:
        """Seconds until send number ``sent`` (from 0) is due; 0 when it already is."""
        return max(0.0, self.started_s + sent / self.rate_per_s - now_s)

    def behind_s(self, sent: int, now_s: float) -> float:
        """Seconds of sends due by ``now_s`` but not sent yet."""
        return max(0, self.due(now_s) - sent) / self.rate_per_s


@dataclass(frozen=True)
class PaceReport:
    """What a paced producer achieved against its target.

    Examples
    --------
    >>> report = PaceReport(target_per_s=1000.0, sent=29_000, elapsed_s=30.0, max_behind_s=0.4)
    >>> round(report.achieved_per_s, 1), report.reached
    (966.7, False)
    """

    target_per_s: float
    sent: int
    elapsed_s: float  # from the first send to the end of the phase
    max_behind_s: float  # the most the producer was ever behind its schedule
    cpu_s: float = 0.0  # CPU time of the producer process over the phase (all its threads)

    @property
    def achieved_per_s(self) -> float:
        """Sends per second over the phase."""
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def reached(self) -> bool:
        """True when the producer sent at least ``REACHED_SHARE`` of its target rate."""
        return self.achieved_per_s >= REACHED_SHARE * self.target_per_s


def combined(reports: list[PaceReport]) -> PaceReport:
    """Several producers' reports as one: rates add up, the slowest one's lag counts.

    Examples
    --------
    >>> a = PaceReport(target_per_s=500.0, sent=5000, elapsed_s=10.0, max_behind_s=0.1)
    >>> b = PaceReport(target_per_s=500.0, sent=4000, elapsed_s=10.0, max_behind_s=2.0)
    >>> both = combined([a, b])
    >>> both.target_per_s, both.achieved_per_s, both.max_behind_s, both.reached
    (1000.0, 900.0, 2.0, False)
    """
    elapsed_s = max(report.elapsed_s for report in reports)
    return PaceReport(
        target_per_s=sum(report.target_per_s for report in reports),
        sent=sum(report.sent for report in reports),
        elapsed_s=elapsed_s,
        max_behind_s=max(report.max_behind_s for report in reports),
        cpu_s=sum(report.cpu_s for report in reports),
    )
