"""Change book: which recorded changes an incident links to."""

from __future__ import annotations

from datetime import timedelta

from pipeline.incidents.changes import ChangeBook
from pipeline.incidents.diagnosing import DiagnosisStep
from pipeline.incidents.grouping import GroupingPolicy, IncidentTracker
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
