"""The publishable view of a tracked incident: what it is called, and when a change is news."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.incidents.deviations import direction_of
from pipeline.incidents.hints import PastIncident, build_hints, signature_of, similar_many
from pipeline.incidents.tracked import TrackedIncident
from pipeline.models import Incident


def snapshot_of(
    state: TrackedIncident, history: Iterable[PastIncident], flapping: bool, peers: Iterable[str]
) -> Incident:
    """The immutable, publishable view of ``state``; ``history`` excludes the incident itself."""
    metric = min(state.deviations.values(), key=lambda d: d.first_at).metric
    signature = signature_of(state.deviations, state.directions)
    similar = similar_many(signature, history)
    affected = len(state.nodes)
    share = affected / state.population if state.population else None
    return Incident(
        incident_id=state.incident_id,
        dedup_key=state.dedup_key,
        kind=state.kind,  # "host" | "fleet" by construction, validated by the model
        status=state.status,
        severity=state.severity,
        title=title_of(state, metric),
        node_id=state.node_id,
        group=state.group,
        labels=state.labels,
        metrics=sorted(state.deviations)[:64],
        directions={m: direction_of(state, m) for m in sorted(state.deviations)[:64]},
        affected_nodes=list(state.listed_nodes),
        affected_count=affected,
        population=state.population,
        share=min(share, 1.0) if share is not None else None,
        event_count=state.event_count,
        opened_at=state.opened_at,
        updated_at=state.last_event_at or state.opened_at,
        resolved_at=state.resolved_at,
        flapping=flapping,
        reopen_count=state.reopen_count,
        owner=state.owner or state.labels.get("team") or state.labels.get("owner"),
        acknowledged_by=state.acknowledged_by,
        hints=build_hints(state.deviations.values(), peers, similar),
    )


def title_of(state: TrackedIncident, metric: str) -> str:
    """One line naming the incident's first metric, its direction and who it hit."""
    direction = state.directions.get(metric, "up")
    more = len(state.deviations) - 1
    extra = f" (+{more} more metrics)" if more > 0 else ""
    if state.kind == "host":
        return f"{state.node_id}: {metric} {direction}{extra}"
    (key, value), count = next(iter(state.group.items())), len(state.nodes)
    of = f" of {state.population}" if state.population else ""
    after = state.dedup_key.removeprefix("change:") if state.dedup_key.startswith("change:") else ""
    since = f" after {after}" if after else ""
    return f"{count}{of} hosts with {key}={value}{since}: {metric} {direction}"


def material_of(state: TrackedIncident) -> tuple[object, ...]:
    """What makes an incident change worth publishing at once (not only counts and times)."""
    return (
        state.dedup_key,
        state.status,
        len(state.deviations),
        len(state.nodes),  # a joining host may be remediated at once
        state.severity,
        state.reopen_count,
        state.acknowledged_by,
        state.owner,
    )
