"""Pure verdicts on a soak's time series: whether memory is flat and consumer lag bounded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class SoakSample:
    """One reading of the worker during a soak."""

    elapsed_s: float
    rss_bytes: int
    lag_messages: int  # the worker's own gauge: unread messages in its partitions
    backlog_batches: int  # acknowledged by Kafka but not yet processed (counted from both ends)
    processed_batches: int
    published_batches: int
    sink_buffer_points: int


@dataclass(frozen=True)
class Verdict:
    """Whether a soak passed, with the figures each half of the verdict rests on."""

    rss_slope_mib_per_min: float
    max_rss_slope_mib_per_min: float
    memory_flat: bool
    lag_max_messages: int
    lag_bound_messages: int
    lag_bounded: bool

    @property
    def ok(self) -> bool:
        """Both memory flat and lag bounded."""
        return self.memory_flat and self.lag_bounded

    def as_dict(self) -> dict[str, Any]:
        """Plain values for ``--json``."""
        return asdict(self) | {"ok": self.ok}


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs`` (0.0 with fewer than two distinct ``xs``).

    Examples
    --------
    >>> slope([0, 1, 2, 3], [1, 3, 5, 7])
    2.0
    >>> slope([5], [1])
    0.0
    """
    if len(xs) != len(ys):
        raise ValueError(f"{len(xs)} xs but {len(ys)} ys")
    n = len(xs)
    if n < 2:
        return 0.0
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    var_x = sum((x - mean_x) ** 2 for x in xs)
    if var_x == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var_x


def second_half(samples: Sequence[SoakSample]) -> list[SoakSample]:
    """Samples taken in the second half of the run (start-up and warm-up excluded)."""
    if not samples:
        return []
    middle = samples[-1].elapsed_s / 2
    return [s for s in samples if s.elapsed_s >= middle]


def judge(
    samples: Sequence[SoakSample], max_rss_slope_mib_per_min: float, lag_bound_messages: int
) -> Verdict:
    """Judge the second half of a soak.

    Memory is flat when RSS grows slower than ``max_rss_slope_mib_per_min`` there; lag is bounded
    when neither the worker's lag nor the counted backlog exceeds ``lag_bound_messages`` there.

    Examples
    --------
    >>> flat = [SoakSample(60.0 * i, 100 * MIB, 5, 5, i, i, 0) for i in range(10)]
    >>> judge(flat, 1.0, 100).ok
    True
    >>> leak = [SoakSample(60.0 * i, (100 + 3 * i) * MIB, 5, 5, i, i, 0) for i in range(10)]
    >>> judge(leak, 1.0, 100).rss_slope_mib_per_min
    3.0
    """
    if max_rss_slope_mib_per_min <= 0 or lag_bound_messages < 0:
        raise ValueError("the RSS slope bound must be positive and the lag bound non-negative")
    late = second_half(samples)
    minutes = [s.elapsed_s / 60 for s in late]
    rss_slope = slope(minutes, [s.rss_bytes / MIB for s in late])
    lag_max = max((max(s.lag_messages, s.backlog_batches) for s in late), default=0)
    return Verdict(
        rss_slope_mib_per_min=round(rss_slope, 4),
        max_rss_slope_mib_per_min=max_rss_slope_mib_per_min,
        memory_flat=len(late) >= 3 and rss_slope < max_rss_slope_mib_per_min,
        lag_max_messages=lag_max,
        lag_bound_messages=lag_bound_messages,
        lag_bounded=len(late) >= 3 and lag_max <= lag_bound_messages,
    )
