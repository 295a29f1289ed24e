"""Diagnosis messages: deviations, hints, culprits, kind votes and the diagnosis itself."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from pipeline.models.wire import (
    Identifier,
    MetricName,
    NodeId,
    ShortText,
    UtcDatetime,
    WireModel,
)


class MetricDeviation(WireModel):
    """One metric of an incident: what was seen against what the model expected."""

    metric: MetricName
    observed: float | None = None
    expected: float | None = None
    score: float = Field(ge=0.0, le=1.0)
    first_at: UtcDatetime


class SimilarIncident(WireModel):
    """A past incident with a similar metric signature and how it ended."""

    incident_id: Identifier
    similarity: float = Field(ge=0.0, le=1.0)
    action: Identifier | None = None
    outcome: Identifier | None = None


class DiagnosisHints(WireModel):
    """Why an incident looks the way it does: first deviation, top metrics, peers, history."""

    first_metric: MetricName | None = None
    first_at: UtcDatetime | None = None
    top: Annotated[list[MetricDeviation], Field(max_length=5)] = Field(default_factory=list)
    peers: Annotated[list[NodeId], Field(max_length=10)] = Field(default_factory=list)
    similar: Annotated[list[SimilarIncident], Field(max_length=3)] = Field(default_factory=list)


KindName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ProcessName = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]{1,128}$")]
# A systemd unit as ``systemctl`` takes it (the remediation catalogue accepts the same names).
UnitName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9@_.:-]{1,200}\.(service|timer)$")]


class DiagnosisCulprit(WireModel):
    """Who caused it: the node, what on it, and the change, when known.

    ``process`` names the process or systemd unit (``proc.<comm>``/``unit.<unit>`` instance), or
    for faults without one the mount point or network interface the fault sits on. ``unit`` is
    the systemd unit that owns the culprit (``api.service``), when the node's ``unit.*`` series
    show one; None for a process no unit owns, or no process at all.
    """

    node_id: NodeId | None = None
    process: ProcessName | None = None
    unit: UnitName | None = None
    change_id: Identifier | None = None


class KindVote(WireModel):
    """One fault kind and how sure a source (or the vote) is of it."""

    kind: KindName
    confidence: float = Field(ge=0.0, le=1.0)
    source: Literal["analyzers", "history", "classifier", "vote"] = "vote"


class DeviationNote(WireModel):
    """One metric's move on the culprit node: mean before the window, mean in it, and z."""

    metric: MetricName
    before: float
    during: float
    z: float


class FixTally(WireModel):
    """An action tried on similar past incidents: times verified, times it worked."""

    action: Identifier
    worked: int = Field(ge=0)
    tried: int = Field(ge=0)


class Diagnosis(WireModel):
    """What is wrong, who caused it, how sure, why, and what else it could be.

    ``kind`` is ``unknown`` when the vote is below the confidence threshold: a human is paged.
    """

    kind: KindName
    confidence: float = Field(ge=0.0, le=1.0)
    culprit: DiagnosisCulprit = Field(default_factory=DiagnosisCulprit)
    ranked_nodes: Annotated[list[NodeId], Field(max_length=10)] = Field(default_factory=list)
    evidence: Annotated[list[ShortText], Field(max_length=10)] = Field(default_factory=list)
    deviations: Annotated[list[DeviationNote], Field(max_length=10)] = Field(default_factory=list)
    alternatives: Annotated[list[KindVote], Field(max_length=5)] = Field(default_factory=list)
    sources: Annotated[list[KindVote], Field(max_length=3)] = Field(default_factory=list)
    similar: Annotated[list[SimilarIncident], Field(max_length=5)] = Field(default_factory=list)
    fixes: Annotated[list[FixTally], Field(max_length=5)] = Field(default_factory=list)
