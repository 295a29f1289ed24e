"""Anomaly events: a flagged window of one series or one whole host."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pipeline.models.wire import (
    Identifier,
    Labels,
    MetricName,
    NodeId,
    Reason,
    Severity,
    ShortText,
    UtcDatetime,
    WireModel,
    utc_now,
)


class Contributor(WireModel):
    """One metric's share in an anomaly: how far it was from what the model expected."""

    metric: MetricName
    score: float = Field(ge=0.0, le=1.0)
    observed: float
    expected: float


class AnomalyEvent(WireModel):
    """A flagged window of one series (``scope="series"``) or one whole host (``scope="host"``)."""

    event_id: Identifier
    node_id: NodeId
    labels: Labels = Field(default_factory=dict)
    scope: Literal["series", "host"]
    metric: MetricName | None = None
    kind: Literal["detector", "peer", "fleet"] = Field(
        "detector",
        description="who found it: the node's own detector, its cohort (a node apart from its "
        "peers) or the fleet stage (a whole cohort shifted; node_id names the cohort)",
    )
    cohort: ShortText | None = Field(None, description="the cohort compared, as label=value")
    window_start_at: UtcDatetime
    window_end_at: UtcDatetime
    score: float = Field(ge=0.0, le=1.0, description="peak anomaly score in the window")
    threshold: float = Field(ge=0.0, le=1.0)
    observed: float | None = None
    expected: float | None = None
    expected_low: float | None = None
    expected_high: float | None = None
    detector: Identifier
    severity: Severity
    contributors: Annotated[list[Contributor], Field(max_length=10)] = Field(default_factory=list)
    detected_at: UtcDatetime = Field(default_factory=utc_now)
    reason: Reason = Field("score", description="why the window was flagged")
    exhaustion_eta_s: float | None = Field(
        None, ge=0.0, description="bounded series: seconds until it runs out, at the current trend"
    )
    eta_low_s: float | None = Field(
        None, ge=0.0, description="early end of the time-to-exhaustion interval"
    )
    eta_high_s: float | None = Field(
        None, ge=0.0, description="late end of the interval (absent: the trend may not reach it)"
    )

    @model_validator(mode="after")
    def _check_shape(self) -> AnomalyEvent:
        if self.window_end_at <= self.window_start_at:
            raise ValueError("window_end_at must be after window_start_at")
        if (self.scope == "series") != (self.metric is not None):
            raise ValueError("a series event names its metric; a host event does not")
        return self
