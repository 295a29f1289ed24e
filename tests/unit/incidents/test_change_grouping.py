"""A fault on several nodes soon after a change that reached them is one role incident."""

from __future__ import annotations

from datetime import timedelta

from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.models import ChangeEvent, Incident
from tests.conftest import BASE_TIME
from tests.unit.control.conftest import event_at

# As the stage runs it: host incidents wait up to 120 s while a cohort may form; a fleet needs 5.
POLICY = GroupingPolicy(
    gap_s=300, resolve_after_s=300, settle_s=30, fleet_min_hosts=5, fleet_wait_s=120
)
WEB = [f"web-{i:02d}" for i in range(20)]
DEPLOYED = WEB[:5]


def tracker() -> IncidentTracker:
    inventory = Inventory()
    for node in WEB:
        inventory.observe_one(node, {"role": "web", "zone": "z1"}, BASE_TIME)
    found = IncidentTracker(POLICY, inventory)
    found.observe_change(
        ChangeEvent(
            change_id="deploy-7",
            kind="deploy",
            role="web",
            nodes=DEPLOYED,
            version="2.0.0",
            who="ci",
            changed_at=BASE_TIME,
        )
    )
    return found


def run(
    found: IncidentTracker, events: list[tuple[str, float, str]], until_s: float
) -> dict[str, Incident]:
    """Feed (node, second, metric) events in time order with ticks; the last state per id."""
    last: dict[str, Incident] = {}
    for node, second, metric in sorted(events, key=lambda e: e[1]):
        for incident in found.tick(BASE_TIME + timedelta(seconds=second)):
            last[incident.incident_id] = incident
        for incident in found.observe_one(event_at(node, second, metric=metric)):
            last[incident.incident_id] = incident
    for second in range(int(events[-1][1]), int(until_s), 10):
        for incident in found.tick(BASE_TIME + timedelta(seconds=second)):
            last[incident.incident_id] = incident
    return last


def test_a_bad_deploy_on_five_web_nodes_is_one_role_incident_listing_them() -> None:
    # Each node shows it in another metric first, over three minutes (the detectors differ).
    metrics = ["mem.used_percent", "cpu.usage_user", "app.errors_per_s", "http.latency_ms"]
    events = [
        (node, 60 + 40 * i + 5 * k, metrics[(i + k) % 4])
        for i, node in enumerate(DEPLOYED)
        for k in range(3)
    ]
    published = run(tracker(), events, 400)
    (incident,) = published.values()
    assert (incident.kind, incident.group, incident.dedup_key) == (
        "fleet",
        {"role": "web"},
        "change:deploy-7",
    )
    assert sorted(incident.affected_nodes) == DEPLOYED
    assert (incident.population, incident.affected_count) == (20, 5)
    assert "after deploy-7" in incident.title


def test_unrelated_faults_on_the_same_role_stay_separate_host_incidents() -> None:
    events = [
        (DEPLOYED[0], 60, "mem.used_percent"),
        (DEPLOYED[1], 90, "cpu.usage_user"),
        (WEB[10], 100, "disk.root.used_percent"),  # not deployed to: its own fault
        (DEPLOYED[2], 3 * 3600, "cpu.usage_user"),  # hours after the deploy: unrelated
    ]
    published = run(tracker(), events, 3 * 3600 + 400)
    by_key = {i.dedup_key: i for i in published.values()}
    assert set(by_key) == {"change:deploy-7", f"host:{WEB[10]}", f"host:{DEPLOYED[2]}"}
    assert sorted(by_key["change:deploy-7"].affected_nodes) == DEPLOYED[:2]


def test_one_node_deviating_after_a_change_is_a_host_incident_after_the_wait() -> None:
    published = run(tracker(), [(DEPLOYED[0], 60, "mem.used_percent")], 400)
    (incident,) = published.values()
    assert (incident.kind, incident.node_id) == ("host", DEPLOYED[0])


def test_without_a_change_the_same_faults_are_host_incidents() -> None:
    inventory = Inventory()
    found = IncidentTracker(POLICY, inventory)
    events = [(node, 60 + 40 * i, "mem.used_percent") for i, node in enumerate(DEPLOYED[:3])]
    published = run(found, events, 600)
    assert {i.kind for i in published.values()} == {"host"} and len(published) == 3


def test_a_member_deviating_after_the_window_still_joins_the_open_change_incident() -> None:
    events = [
        (DEPLOYED[0], 60, "mem.used_percent"),
        (DEPLOYED[1], 90, "mem.used_percent"),
        *[(DEPLOYED[0], 120 + 100 * k, "mem.used_percent") for k in range(9)],  # still growing
        (DEPLOYED[1], 1000, "cpu.usage_user"),  # past the 900 s window, incident still open
    ]
    published = run(tracker(), events, 1100)
    (incident,) = published.values()
    assert incident.dedup_key == "change:deploy-7" and "cpu.usage_user" in incident.metrics


def test_the_change_incident_opens_no_earlier_than_the_change() -> None:
    # Detector windows reach back a minute: the first events start before the deploy.
    found = tracker()
    for node in DEPLOYED[:2]:
        found.observe_one(event_at(node, -50, window_end_at=BASE_TIME + timedelta(seconds=20)))
    (state,) = found.open.values()
    assert state.dedup_key == "change:deploy-7" and state.opened_at == BASE_TIME


def test_a_change_incident_that_went_quiet_reopens_for_its_nodes_later_deviations() -> None:
    # Two nodes deviate, go quiet for 6 minutes (resolved), then deviate again 20 min after the
    # deploy (past the 900 s window for newcomers): the same change incident, reopened.
    events = [
        (DEPLOYED[0], 60, "cpu.usage_user"),
        (DEPLOYED[1], 70, "cpu.usage_user"),
        (DEPLOYED[0], 1200, "proc.gunicorn.count"),
        (DEPLOYED[1], 1210, "proc.gunicorn.count"),
    ]
    published = run(tracker(), events, 1300)
    (incident,) = published.values()
    assert incident.dedup_key == "change:deploy-7" and incident.reopen_count == 1


def test_a_cohort_fleet_incident_neither_counts_nor_takes_the_change_incidents_nodes() -> None:
    events = [(node, 60 + 5 * i, "cpu.usage_user") for i, node in enumerate(DEPLOYED)]
    events.append((WEB[10], 100, "cpu.usage_user"))  # one other web node: not a cohort fault
    published = run(tracker(), events, 400)
    keys = sorted(i.dedup_key for i in published.values())
    assert keys == ["change:deploy-7", f"host:{WEB[10]}"]


def test_a_restored_change_incident_keeps_taking_its_nodes_deviations() -> None:
    from pipeline.models import RememberedIncident

    first = tracker()
    run(first, [(DEPLOYED[0], 60, "cpu.usage_user"), (DEPLOYED[1], 70, "cpu.usage_user")], 100)
    (state,) = first.open.values()
    memory = RememberedIncident(incident=first.snapshot(state), recorded_at=BASE_TIME)
    restarted = IncidentTracker(POLICY)  # the change itself is not replayed after a restart
    restarted.restore_one(memory)
    (update,) = restarted.observe_one(event_at(DEPLOYED[0], 200, metric="mem.used_percent"))
    assert update.incident_id == state.incident_id and "mem.used_percent" in update.metrics


def test_nodes_whose_events_lag_the_stream_by_an_hour_still_join_the_change() -> None:
    # One partition runs an hour ahead (a replay, the compressed demo): the change must outlive
    # that newest event time, or the lagging deployed nodes become host incidents.
    found = tracker()
    events = [(WEB[12], 3600, "cpu.usage_user"), (DEPLOYED[0], 60, "cpu.usage_user")]
    events += [(DEPLOYED[1], 70, "cpu.usage_user")]
    for node, second, metric in events:  # in arrival order, not time order
        found.observe_one(event_at(node, second, metric=metric))
        found.tick(BASE_TIME + timedelta(seconds=3600))
    assert "change:deploy-7" in found.open or "change:deploy-7" in found.resolved
    state = found.open.get("change:deploy-7") or found.resolved["change:deploy-7"]
    assert state.nodes == set(DEPLOYED[:2])
