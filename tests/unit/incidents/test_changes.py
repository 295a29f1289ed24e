"""Change book: which recorded changes an incident links to."""

from __future__ import annotations

from datetime import timedelta

from pipeline.incidents.changes import ChangeBook
from pipeline.incidents.diagnosing import DiagnosisStep
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.lifecycle import GroupingPolicy
from pipeline.incidents.stage import IncidentStage
from pipeline.models import ChangeEvent
from tests.conftest import BASE_TIME
from tests.unit.control.conftest import KEYRING, ListSink


def change(change_id: str, minutes: float, **target: object) -> ChangeEvent:
    return ChangeEvent(
        change_id=change_id,
        kind="deploy",
        who="ci",
        changed_at=BASE_TIME + timedelta(minutes=minutes),
        **target,  # type: ignore[arg-type]
    )


def test_links_changes_of_its_nodes_or_role_within_the_lookback_newest_first() -> None:
    book = ChangeBook(lookback_s=1800)
    book.add_one(change("role-web", -10, role="web"))
    book.add_one(change("rollout", -5, role="web", nodes=["w1", "w2"]))
    book.add_one(change("other-rollout", -5, role="web", nodes=["w9"]))
    book.add_one(change("db", -5, role="db"))
    book.add_one(change("too-old", -40, role="web"))
    book.add_one(change("after", 5, nodes=["w1"]))
    linked = book.linked_many(["w1"], {"role": "web"}, BASE_TIME, BASE_TIME)
    assert [c.change_id for c in linked] == ["rollout", "role-web"]


def test_old_changes_are_forgotten() -> None:
    book = ChangeBook(lookback_s=600, keep_s=3600)
    book.add_one(change("old", 0, role="web"))
    book.expire(BASE_TIME + timedelta(minutes=30))
    assert len(book) == 1
    book.expire(BASE_TIME + timedelta(minutes=61))
    assert len(book) == 0


def test_the_stage_and_its_diagnosis_share_one_book_even_while_it_is_empty() -> None:
    book = ChangeBook(lookback_s=600)
    step = DiagnosisStep(None, book)
    stage = IncidentStage(
        IncidentTracker(GroupingPolicy()), None, ListSink(), KEYRING, changes=book
    )
    stage.on_change(change("c-1", 0, role="web"))
    assert step.changes.linked_many(["w1"], {"role": "web"}, BASE_TIME, BASE_TIME)


def test_a_change_recorded_ahead_of_the_stream_outlives_ticks_before_its_events() -> None:
    # The demo records its deploy first; until the first anomaly the stage's clock is the wall
    # clock, hours past the change in data time. The change must still be there for its events.
    from tests.unit.control.conftest import event_at

    book = ChangeBook(lookback_s=1800)
    tracker = IncidentTracker(GroupingPolicy(settle_s=30, fleet_wait_s=120))
    stage = IncidentStage(tracker, None, ListSink(), KEYRING, changes=book)
    stage.on_change(change("deploy-1", 0, role="web", nodes=["w1", "w2"]))
    stage.tick(BASE_TIME + timedelta(hours=3))  # wall time, no data yet
    assert len(book) == 1
    for node, second in (("w1", 30), ("w2", 50)):
        stage.on_anomaly(event_at(node, second), BASE_TIME + timedelta(hours=3))
    (state,) = tracker.open.values()
    assert (state.dedup_key, state.nodes) == ("change:deploy-1", {"w1", "w2"})
    stage.on_anomaly(event_at("w9", 3600), BASE_TIME + timedelta(hours=3))  # events an hour on
    stage.tick(BASE_TIME + timedelta(hours=3))
    assert len(book) == 0
