from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.models import Contributor, Incident
from tests.conftest import BASE_TIME
from tests.unit.control.conftest import event_at

POLICY = GroupingPolicy(gap_s=300, resolve_after_s=300, settle_s=30, fleet_min_hosts=5)


def _fleet_inventory(web: int = 50, db: int = 10) -> Inventory:
    inventory = Inventory()
    for i in range(web + db):
        labels = {"role": "web" if i < web else "db", "zone": f"z{i % 3}"}
        inventory.observe_one(f"n{i:02d}", labels, BASE_TIME)
    return inventory


def _fleet_fault(tracker: IncidentTracker, nodes: int = 50) -> list[Incident]:
    out = []
    for i in range(nodes):
        labels = {"role": "web", "zone": f"z{i % 3}"}
        out += tracker.observe_one(event_at(f"n{i:02d}", i * 0.2, labels=labels))
    return out + tracker.tick(BASE_TIME + timedelta(seconds=60))


def test_all_metrics_of_one_host_become_one_incident_after_settling() -> None:
    tracker = IncidentTracker(POLICY)
    assert tracker.observe_one(event_at("n1", 0, metric="cpu.usage_user")) == []
    assert tracker.observe_one(event_at("n1", 20, metric="mem.used_percent")) == []
    assert tracker.tick(BASE_TIME + timedelta(seconds=35)) == []  # settles 30 s after first seen
    (incident,) = tracker.tick(BASE_TIME + timedelta(seconds=41))
    assert (incident.kind, incident.status, incident.node_id) == ("host", "open", "n1")
    assert incident.metrics == ["cpu.usage_user", "mem.used_percent"]
    assert incident.event_count == 2
    (update,) = tracker.observe_one(event_at("n1", 50, metric="load.load1", severity="warning"))
    assert (update.status, update.incident_id) == ("updated", incident.incident_id)
    assert update.severity == "critical"


def test_fleet_fault_on_50_hosts_is_one_fleet_incident_with_blast_radius() -> None:
    tracker = IncidentTracker(POLICY, _fleet_inventory())
    published = _fleet_fault(tracker)
    assert {i.incident_id for i in published} == {published[0].incident_id}
    assert published[0].status == "open"
    last = published[-1]
    assert (last.kind, last.group, last.affected_count) == ("fleet", {"role": "web"}, 50)
    assert (last.population, last.share) == (50, 1.0)
    assert last.event_count == 50
    assert "50 of 50 hosts with role=web" in last.title
    assert not [s for s in tracker.open.values() if s.kind == "host"]


def test_same_events_give_the_same_ids() -> None:
    first = _fleet_fault(IncidentTracker(POLICY, _fleet_inventory()))
    second = _fleet_fault(IncidentTracker(POLICY, _fleet_inventory()))
    assert [i.incident_id for i in first] == [i.incident_id for i in second]
    assert first[-1].dedup_key == "fleet:role=web"


def test_a_cohort_fault_moving_many_metrics_is_one_fleet_incident() -> None:
    tracker = IncidentTracker(POLICY, _fleet_inventory(web=20))
    metrics = ["http.errors_per_s", "http.latency_ms", "cpu.usage_user", "mem.used_percent"]
    published = []
    for step, metric in enumerate(metrics):
        for i in range(6):  # 6 of 20 web hosts, each metric a few seconds after the last
            event = event_at(f"n{i:02d}", step * 5 + i * 0.5, metric=metric)
            published += tracker.observe_one(event)
        published += tracker.tick(BASE_TIME + timedelta(seconds=step * 5 + 4))
    published += tracker.tick(BASE_TIME + timedelta(seconds=200))
    assert {i.incident_id for i in published} == {published[0].incident_id}
    assert (published[-1].kind, published[-1].affected_count) == ("fleet", 6)
    assert published[-1].metrics == sorted(metrics)


def test_hosts_of_a_cohort_showing_different_first_symptoms_are_one_fleet_incident() -> None:
    tracker = IncidentTracker(replace(POLICY, fleet_wait_s=120), _fleet_inventory(web=20))
    metrics = ["cpu.usage_user", "mem.used_percent", "net.tcp_retrans_percent", "http.errors"]
    published = []
    for i in range(6):
        published += tracker.observe_one(event_at(f"n{i:02d}", i * 20, metric=metrics[i % 4]))
        published += tracker.tick(BASE_TIME + timedelta(seconds=i * 20 + 15))
    published += tracker.tick(BASE_TIME + timedelta(seconds=400))
    assert {i.kind for i in published} == {"fleet"} and len({i.incident_id for i in published}) == 1


def test_a_host_joining_a_fleet_incident_brings_its_earlier_deviations() -> None:
    tracker = IncidentTracker(POLICY, _fleet_inventory(web=20))
    published = tracker.observe_one(event_at("n07", 0, metric="mem.used_percent"))  # first symptom
    for i in range(8):
        published += tracker.observe_one(event_at(f"n{i:02d}", 5 + i * 0.5))
    published += tracker.tick(BASE_TIME + timedelta(seconds=200))
    assert {i.kind for i in published} == {"fleet"} and len({i.incident_id for i in published}) == 1
    assert "mem.used_percent" in published[-1].metrics and published[-1].affected_count == 8


def test_few_hosts_of_a_large_group_stay_host_incidents() -> None:
    tracker = IncidentTracker(replace(POLICY, fleet_wait_s=120), _fleet_inventory(web=100))
    for i in range(6):  # 6 of 100 is under fleet_min_share 0.2
        tracker.observe_one(event_at(f"n{i:02d}", i))
    # held while a fleet incident might still form, then published one per host
    assert tracker.tick(BASE_TIME + timedelta(seconds=60)) == []
    published = tracker.tick(BASE_TIME + timedelta(seconds=140))
    assert sorted(i.kind for i in published) == ["host"] * 6
    assert published[0].hints.peers  # the other hosts deviating the same way


def test_quiet_incident_resolves_and_flapping_is_suppressed() -> None:
    policy = GroupingPolicy(settle_s=0, resolve_after_s=60, flap_threshold=2)
    tracker = IncidentTracker(policy)
    tracker.observe_one(event_at("n1", 0))
    (opened,) = tracker.tick(BASE_TIME + timedelta(seconds=11))
    (resolved,) = tracker.tick(BASE_TIME + timedelta(seconds=100))
    assert (opened.status, resolved.status) == ("open", "resolved")
    assert resolved.resolved_at == BASE_TIME + timedelta(seconds=100)
    (again,) = tracker.observe_one(event_at("n1", 300))  # reopened: same id, not a new page
    assert (again.incident_id, again.status, again.reopen_count) == (
        opened.incident_id,
        "updated",
        1,
    )
    assert not again.flapping
    tracker.tick(BASE_TIME + timedelta(seconds=400))
    (flap,) = tracker.observe_one(event_at("n1", 600))
    assert (flap.incident_id, flap.reopen_count, flap.flapping) == (opened.incident_id, 2, True)
    # flapping incidents need four times the quiet period to resolve
    assert tracker.tick(BASE_TIME + timedelta(seconds=700)) == []
    (final,) = tracker.tick(BASE_TIME + timedelta(seconds=860))
    assert (final.status, final.flapping) == ("resolved", True)


def test_incident_outside_the_flap_window_is_new() -> None:
    tracker = IncidentTracker(GroupingPolicy(settle_s=0, resolve_after_s=60, flap_window_s=600))
    tracker.observe_one(event_at("n1", 0))
    (first,) = tracker.tick(BASE_TIME + timedelta(seconds=11))
    tracker.tick(BASE_TIME + timedelta(seconds=100))
    tracker.observe_one(event_at("n1", 2000))
    tracker.tick(BASE_TIME + timedelta(seconds=2000))  # forgets resolved ones past the window
    (second,) = tracker.tick(BASE_TIME + timedelta(seconds=2011))
    assert second.incident_id != first.incident_id and second.reopen_count == 0


def test_an_event_from_before_its_incident_went_quiet_continues_it_uncounted() -> None:
    # The stage's clock runs ahead of a lagging host: it resolves the host's incident between
    # events only minutes apart in the host's own time. Those are no reopens, and no flap.
    tracker = IncidentTracker(GroupingPolicy(settle_s=0, resolve_after_s=60, flap_threshold=2))
    tracker.observe_one(event_at("n1", 0))
    (opened,) = tracker.tick(BASE_TIME + timedelta(seconds=11))
    for seconds in (40, 80, 120):  # each event 40 s after the last: never quiet for 60 s
        (resolved,) = tracker.tick(BASE_TIME + timedelta(seconds=seconds + 2000))
        assert resolved.status == "resolved"
        (late,) = tracker.observe_one(event_at("n1", seconds))
        assert (late.incident_id, late.status) == (opened.incident_id, "updated")
        assert (late.reopen_count, late.flapping) == (0, False)


def test_a_lagging_host_s_incident_stays_open_while_its_events_keep_arriving() -> None:
    # Host "behind" is read 45 min behind host "ahead" (its partition lags), one event a minute
    # apart in its own time. Quiet by its own time it resolved between every two of them (and
    # the next took it back); it resolves once its events stop arriving for the quiet period.
    tracker = IncidentTracker(GroupingPolicy(settle_s=0, resolve_after_s=300))
    changed: list[Incident] = []
    for minute in range(10):
        tracker.observe_one(event_at("ahead", 2700 + 60 * minute))
        changed += tracker.observe_one(event_at("behind", 60 * minute))
        changed += tracker.tick(BASE_TIME + timedelta(seconds=2700 + 60 * minute + 20))
    behind = [i for i in changed if i.node_id == "behind"]
    assert len({i.incident_id for i in behind}) == 1
    assert [i.status for i in behind if i.status != "updated"] == ["open"]
    done = tracker.tick(BASE_TIME + timedelta(seconds=2700 + 540 + 10 + 301))
    assert {(i.node_id, i.status) for i in done} == {("ahead", "resolved"), ("behind", "resolved")}


def test_a_resolved_incident_is_kept_for_the_flap_window_by_the_wall_clock_too() -> None:
    # The demo's runaway: resolved, then the stream's clock ran 40 min ahead (other partitions)
    # within seconds of wall time, before the host's own next event (9 min after its last) came.
    for wall_s, kept in ((30.0, True), (1900.0, False)):
        wall = [0.0]
        tracker = IncidentTracker(
            GroupingPolicy(settle_s=0, resolve_after_s=300), monotonic_s=lambda w=wall: w[0]
        )
        tracker.observe_one(event_at("runaway", 0))
        (first,) = tracker.tick(BASE_TIME + timedelta(seconds=11))
        tracker.tick(BASE_TIME + timedelta(seconds=320))  # resolved: quiet by both clocks
        wall[0] = wall_s
        tracker.observe_one(event_at("other", 2700))
        tracker.tick(BASE_TIME + timedelta(seconds=3100))  # the stream's clock, 46 min on
        assert ("host:runaway" in tracker.resolved) is kept, wall_s
        changed = tracker.observe_one(event_at("runaway", 540))
        changed += tracker.tick(BASE_TIME + timedelta(seconds=3101))
        again = next(i for i in changed if i.node_id == "runaway")
        assert (again.incident_id == first.incident_id) is kept, wall_s
        assert again.reopen_count == (1 if kept else 0)


def test_the_flap_window_counts_from_when_the_host_went_quiet() -> None:
    # Resolved by a clock 40 min ahead of its host, then the host deviates again 48 min after
    # its last event: a new incident (its own window), not the old one reopened.
    tracker = IncidentTracker(GroupingPolicy(settle_s=0, resolve_after_s=300))
    tracker.observe_one(event_at("n1", 0))
    (first,) = tracker.tick(BASE_TIME + timedelta(seconds=11))
    tracker.tick(BASE_TIME + timedelta(seconds=2400))
    tracker.observe_one(event_at("n1", 2880))
    (second,) = tracker.tick(BASE_TIME + timedelta(seconds=2900))
    assert second.incident_id != first.incident_id and second.reopen_count == 0
    assert second.opened_at == BASE_TIME + timedelta(seconds=2880)


def test_hints_first_metric_top_and_similar_with_outcome() -> None:
    policy = GroupingPolicy(settle_s=0, resolve_after_s=60)
    tracker = IncidentTracker(policy)
    tracker.observe_one(event_at("n1", 0, metric="mem.used_percent", score=0.92))
    tracker.observe_one(event_at("n1", 5, metric="cpu.usage_user", score=0.99))
    (first,) = tracker.tick(BASE_TIME + timedelta(seconds=20))
    assert first.hints.first_metric == "mem.used_percent"
    assert [d.metric for d in first.hints.top] == ["cpu.usage_user", "mem.used_percent"]
    assert first.hints.top[0].observed == 98.0 and first.hints.top[0].expected == 20.0
    tracker.record_outcome(first.incident_id, "stop_process", "succeeded")
    tracker.tick(BASE_TIME + timedelta(seconds=200))
    tracker.observe_one(event_at("n2", 3000, metric="cpu.usage_user"))
    tracker.observe_one(event_at("n2", 3001, metric="mem.used_percent"))
    (second,) = tracker.tick(BASE_TIME + timedelta(seconds=3020))
    (similar,) = second.hints.similar
    assert (similar.incident_id, similar.similarity) == (first.incident_id, 1.0)
    assert (similar.action, similar.outcome) == ("stop_process", "succeeded")


def test_host_event_uses_its_top_contributor() -> None:
    tracker = IncidentTracker(GroupingPolicy(settle_s=0))
    contributors = [
        Contributor(metric="disk.root.used_percent", score=0.9, observed=99.0, expected=50.0),
        Contributor(metric="cpu.usage_user", score=0.4, observed=30.0, expected=20.0),
    ]
    tracker.observe_one(event_at("n1", 0, scope="host", metric=None, contributors=contributors))
    (incident,) = tracker.tick(BASE_TIME + timedelta(seconds=11))
    assert incident.metrics == ["disk.root.used_percent"]
    assert incident.hints.top[0].observed == 99.0


def test_acknowledge_sets_owner_and_by() -> None:
    tracker = IncidentTracker(GroupingPolicy(settle_s=0))
    tracker.observe_one(event_at("n1", 0))
    (incident,) = tracker.tick(BASE_TIME + timedelta(seconds=11))
    acked = tracker.acknowledge(incident.incident_id, "alice", "team-web")
    assert acked is not None
    assert (acked.acknowledged_by, acked.owner, acked.status) == ("alice", "team-web", "updated")
    assert tracker.acknowledge("inc-unknown", "alice", None) is None


def test_a_fleet_incident_widens_to_the_broader_group_and_keeps_its_id() -> None:
    # Partitions deliver nodes in any order: zone z0's five web nodes can qualify (5 of 20)
    # before role=web does (10 of 50). The same deviation must still be one incident.
    tracker = IncidentTracker(POLICY, _fleet_inventory())
    zone_first = [i for i in range(50) if i % 3 == 0] + [i for i in range(50) if i % 3]
    published = []
    for step, i in enumerate(zone_first):
        labels = {"role": "web", "zone": f"z{i % 3}"}
        published += tracker.observe_one(event_at(f"n{i:02d}", step * 0.2, labels=labels))
    published += tracker.tick(BASE_TIME + timedelta(seconds=60))
    assert {i.incident_id for i in published} == {published[0].incident_id}
    assert published[0].group == {"zone": "z0"}
    last = published[-1]
    assert (last.group, last.affected_count, last.share) == ({"role": "web"}, 50, 1.0)


def test_incident_that_settled_before_going_quiet_is_paged_even_when_no_tick_fell_between() -> None:
    # One poll held this node's events and much later ones: the first tick after it is already
    # past the quiet deadline. The incident settled long before that, so it is paged, then closed.
    tracker = IncidentTracker(POLICY)
    tracker.observe_one(event_at("n1", 0, metric="disk.root.used_percent"))
    tracker.observe_one(event_at("n1", 60, metric="disk.root.used_percent"))
    opened, resolved = tracker.tick(BASE_TIME + timedelta(seconds=900))
    assert (opened.status, resolved.status) == ("open", "resolved")
    assert opened.incident_id == resolved.incident_id
    assert opened.node_id == "n1"


def test_blip_quieter_than_its_settling_is_never_paged() -> None:
    tracker = IncidentTracker(replace(POLICY, settle_s=600))
    tracker.observe_one(event_at("n1", 0, metric="cpu.usage_user"))
    assert tracker.tick(BASE_TIME + timedelta(seconds=900)) == []
    assert tracker.open == {}


def test_a_large_fleet_incident_names_its_first_64_hosts_by_name_whatever_order_they_join() -> None:
    names = [f"n{i:03d}" for i in range(200)]
    random.Random(3).shuffle(names)  # noqa: S311 - test order, not keys
    inventory = Inventory()
    for name in names:
        inventory.observe_one(name, {"role": "web"}, BASE_TIME)
    tracker = IncidentTracker(POLICY, inventory)
    published: list[Incident] = []
    for step, name in enumerate(names):
        published += tracker.observe_one(event_at(name, step * 0.1, labels={"role": "web"}))
    last = published[-1]
    assert (last.kind, last.affected_count) == ("fleet", 200)
    assert last.affected_nodes == sorted(names)[:64]
    assert all(i.affected_nodes == sorted(i.affected_nodes) for i in published)
