from __future__ import annotations

import random
from datetime import timedelta

import pytest

from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.incidents.recent import Cohort, RecentIndex
from pipeline.incidents.tracked import Seen, TrackedIncident
from tests.conftest import BASE_TIME
from tests.unit.control.conftest import event_at

METRICS = ("cpu.usage_user", "mem.used_percent", "disk.root.used_percent")


def _seen(node: str, seconds: float, role: str = "web") -> Seen:
    return Seen(BASE_TIME + timedelta(seconds=seconds), node, {"role": role}, "cpu.usage_user:up")


def test_a_watched_cohort_lists_the_hosts_that_entered_it_since_the_last_watch() -> None:
    recent = RecentIndex(("role", "zone"))
    recent.add_one(_seen("n1", 0))
    assert recent.watch(("role", "web")) == []  # the first watch: the caller reads the cohort
    recent.add_one(_seen("n1", 1))  # a sighting of a host already there: no entry
    recent.add_one(_seen("n2", 2))
    recent.add_one(_seen("d1", 3, role="db"))
    assert recent.watch(("role", "web")) == ["n2"]
    assert recent.watch(("role", "web")) == []
    assert sorted(recent.hosts_of(("role", "web"))) == ["n1", "n2"]
    assert recent.joins[("role", "web")] == 2


def test_expired_sightings_leave_the_cohort_and_a_returning_host_enters_again() -> None:
    recent = RecentIndex(("role",))
    recent.add_one(_seen("n1", 0))
    recent.add_one(_seen("n1", 5))
    recent.watch(("role", "web"))
    recent.expire(BASE_TIME + timedelta(seconds=1))
    assert list(recent.hosts_of(("role", "web"))) == ["n1"]  # its later sighting still counts
    recent.expire(BASE_TIME + timedelta(seconds=6))
    assert recent.hosts_of(("role", "web")) == ()
    recent.add_one(_seen("n1", 7))
    assert recent.watch(("role", "web")) == ["n1"]
    recent.unwatch(("role", "web"))
    assert not recent.watching(("role", "web"))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_fleet_incident_absorbs_exactly_the_hosts_of_its_cohort_it_lacks(seed: int) -> None:
    """The joined-since list gives what diffing the whole cohort against the incident gives."""
    rng = random.Random(seed)  # noqa: S311 - test data, not keys
    inventory = Inventory()
    for i in range(60):
        inventory.observe_one(f"n{i:02d}", _labels(i), BASE_TIME)
    # Hosts come and go from their cohorts' recent deviations, so fleet incidents open, take
    # hosts, resolve and reopen; zones are wider than roles, so both kinds of cohort compete.
    policy = GroupingPolicy(gap_s=30, resolve_after_s=30, settle_s=10, fleet_min_hosts=4)
    tracker = IncidentTracker(policy, inventory)
    checked = []
    joining = tracker._joining

    def checking(cohort: Cohort, state: TrackedIncident | None) -> set[str]:
        expected = set(tracker._recent.hosts_of(cohort)) - (state.nodes if state else set())
        got = set(joining(cohort, state))
        assert got == expected
        checked.append(state is not None and bool(got))
        return got

    tracker._joining = checking  # type: ignore[method-assign]
    seconds = 0.0
    for step in range(1500):
        seconds += 1 + (25 if rng.random() < 0.03 else 0)  # a lull: some hosts leave unabsorbed
        i = rng.randrange(60)
        event = event_at(f"n{i:02d}", seconds, labels=_labels(i), metric=rng.choice(METRICS))
        tracker.observe_one(event)
        if step % 5 == 0:
            tracker.tick(BASE_TIME + timedelta(seconds=seconds))
    assert sum(checked) > 20  # open fleet incidents took hosts that joined their cohort later


def _labels(host: int) -> dict[str, str]:
    return {"role": f"r{host % 6}", "zone": f"z{host % 2}"}


def test_a_host_that_left_its_cohort_before_the_cohorts_incident_absorbed_it_stays_out() -> None:
    policy = GroupingPolicy(gap_s=10, resolve_after_s=100, settle_s=5, fleet_min_hosts=2)
    tracker = IncidentTracker(policy)
    web, db, mem = {"role": "web", "zone": "z1"}, {"role": "db", "zone": "z1"}, "mem.used_percent"
    for node, seconds, labels, metric in (
        ("a", 0, web, "cpu.usage_user"),
        ("b", 1, web, "cpu.usage_user"),  # web's incident
        ("c", 2, db, mem),  # z1's incident: a, b, c
        ("e", 3, web, "cpu.usage_user"),  # joins z1 too, but its event goes to web's incident
    ):
        tracker.observe_one(event_at(node, seconds, labels=labels, metric=metric))
    assert tracker.open["fleet:zone=z1"].nodes == {"a", "b", "c"}
    assert "e" in tracker.open["fleet:role=web"].nodes
    tracker.tick(BASE_TIME + timedelta(seconds=25))  # every sighting so far is past the gap
    tracker.observe_one(event_at("c", 25.5, labels=db, metric=mem))
    tracker.observe_one(event_at("f", 26, labels=web, metric="disk.root.used_percent"))
    assert tracker.open["fleet:zone=z1"].nodes == {"a", "b", "c", "f"}  # e had left z1
