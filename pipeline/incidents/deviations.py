"""What an anomaly event says of one metric: which metric, which way, and how far."""

from __future__ import annotations

from typing import Literal

from pipeline.incidents.tracked import TrackedIncident
from pipeline.models import AnomalyEvent, MetricDeviation


def deviation_of(event: AnomalyEvent) -> tuple[str, str]:
    """The metric an event is about and its direction (host events: their top contributor)."""
    metric, observed, expected = event.metric, event.observed, event.expected
    if metric is None and event.contributors:
        top = max(event.contributors, key=lambda c: c.score)
        metric, observed, expected = top.metric, top.observed, top.expected
    if observed is not None and expected is not None and observed < expected:
        return metric or "host.score", "down"
    return metric or "host.score", "up"


def deviation_in(event: AnomalyEvent, metric: str) -> MetricDeviation:
    """What ``event`` shows of ``metric`` (a host event: that contributor's values)."""
    observed, expected = event.observed, event.expected
    if event.metric is None:
        top = next((c for c in event.contributors if c.metric == metric), None)
        observed, expected = (top.observed, top.expected) if top else (None, None)
    return MetricDeviation(
        metric=metric,
        observed=observed,
        expected=expected,
        score=event.score,
        first_at=event.window_start_at,
    )


def direction_of(state: TrackedIncident, metric: str) -> Literal["up", "down"]:
    """The direction ``metric`` moved in ``state`` (``up`` unless it is known to have fallen)."""
    return "down" if state.directions.get(metric) == "down" else "up"
