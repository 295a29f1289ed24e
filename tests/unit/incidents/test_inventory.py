"""The stage's inventory: cohort sizes from agents' records, expiry by missed refreshes."""

from __future__ import annotations

from datetime import timedelta

from pipeline.incidents.inventory import Inventory
from pipeline.models import InventoryRecord
from tests.conftest import BASE_TIME


def _record(node: str, at_s: float, role: str = "web", refresh_s: float = 60.0) -> InventoryRecord:
    return InventoryRecord(
        node_id=node,
        labels={"role": role},
        published_at=BASE_TIME + timedelta(seconds=at_s),
        refresh_s=refresh_s,
    )


def test_a_node_missing_three_refreshes_is_forgotten_and_a_refreshed_one_is_not() -> None:
    inventory = Inventory(bucket_s=10.0)
    inventory.observe_record(_record("quiet", 0))
    inventory.observe_record(_record("alive", 0))
    for at_s in (60, 120, 180):
        inventory.observe_record(_record("alive", at_s))
    inventory.expire(BASE_TIME + timedelta(seconds=175))  # quiet's deadline is 180 s
    assert (inventory.population("role", "web"), len(inventory)) == (2, 2)
    inventory.expire(BASE_TIME + timedelta(seconds=190))  # at most one 10 s slot late
    assert inventory.population("role", "web") == 1
    assert inventory.labels_of("quiet") is None and inventory.labels_of("alive") == {"role": "web"}
    inventory.expire(BASE_TIME + timedelta(seconds=400))
    assert len(inventory) == 0 and inventory.population("role", "web") == 0


def test_a_relabelled_node_moves_between_cohorts_and_an_older_record_changes_nothing() -> None:
    inventory = Inventory()
    inventory.observe_record(_record("n1", 10, role="web"))
    inventory.observe_record(_record("n1", 20, role="db"))
    inventory.observe_record(_record("n1", 15, role="web"))  # reordered: the newer one stands
    assert (inventory.population("role", "web"), inventory.population("role", "db")) == (0, 1)


def test_expiry_visits_only_the_slots_that_are_due() -> None:
    inventory = Inventory(bucket_s=10.0)
    for i in range(1000):
        inventory.observe_record(_record(f"n{i:04d}", i, refresh_s=100.0))  # deadline i + 300 s
    inventory.expire(BASE_TIME + timedelta(seconds=350))  # deadlines up to 350 s
    assert len(inventory) == 1000 - 51
    assert len(inventory._slots) == len(inventory._due) == 95  # the 5 due slots are gone
    for i in range(51, 1000):  # everyone left refreshes: filed again, stale entries skipped
        inventory.observe_record(_record(f"n{i:04d}", 400 + i, refresh_s=1000.0))
    inventory.expire(BASE_TIME + timedelta(seconds=1300))  # every first deadline has passed
    assert len(inventory) == 1000 - 51
    assert min(inventory._due) * 10.0 >= 3400  # only the refreshed deadlines are filed
