from __future__ import annotations

from pipeline.incidents.tracked import TrackedIncident
from tests.conftest import BASE_TIME


def _state(key: str) -> TrackedIncident:
    return TrackedIncident(
        incident_id=f"inc-{key}", dedup_key=key, kind="host", opened_at=BASE_TIME
    )


def test_a_fleet_incident_takes_over_a_host_incident_whose_arrival_is_unknown() -> None:
    # A host incident restored after a restart has no arrival time, nor has a fleet incident
    # that has just opened: taking it over must not fail (max of nothing raised, in the stage).
    fleet, host = _state("fleet:role=web"), _state("host:n1")
    host.last_event_at = BASE_TIME
    fleet.take_over(host)
    assert (fleet.last_event_at, fleet.last_arrived_at) == (BASE_TIME, None)
    host.last_arrived_at = BASE_TIME
    fleet.take_over(host)
    assert fleet.last_arrived_at == BASE_TIME
