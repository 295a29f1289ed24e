"""Per-fault verdicts: right kind, right culprit, right action, time to the first right action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.demo.scorecard import IncidentSpan, InjectedFault, score_run
from pipeline.demo.verdicts import ActionTaken

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


RUNAWAY = InjectedFault("f1", "cpu_runaway", frozenset({"n1"}), ("cpu.*",), at(100), at(400))
LOSS = InjectedFault("f2", "network_loss", frozenset({"n2"}), ("net.*",), at(100), at(400))
DEPLOY = InjectedFault(
    "f3", "bad_deploy", frozenset({"w1", "w2"}), ("http.*",), at(100), at(400), change_id="c-1"
)


def span(incident_id: str, nodes: set[str], kind: str | None, **culprit: str) -> IncidentSpan:
    return IncidentSpan(
        incident_id,
        frozenset(nodes),
        at(120),
        at(300),
        kind,
        culprit.get("node"),
        culprit.get("change"),
        culprit.get("process"),
    )


def act(incident_id: str, action: str, seconds: float) -> ActionTaken:
    return ActionTaken(f"rq-{incident_id}-{action}", incident_id, "n1", action, at(seconds))


def test_right_kind_culprit_and_action_with_time_to_mitigation() -> None:
    spans = [span("i1", {"n1"}, "cpu_saturation", node="n1", process="cruncher")]
    card = score_run([RUNAWAY], [], spans, actions=[act("i1", "stop_process", 160)])
    (outcome,) = card.faults
    assert (outcome.kind_right, outcome.culprit_right, outcome.action_right) == (True, True, True)
    assert (outcome.culprit_named, outcome.actions) == ("cruncher", ("stop_process",))
    assert outcome.mitigation_s == pytest.approx(60.0)
    assert (card.faults_kind_right, card.faults_culprit_right, card.faults_action_right) == (
        1,
        1,
        1,
    )


def test_a_wrong_action_or_a_node_action_on_a_notify_only_fault_is_wrong() -> None:
    spans = [
        span("i1", {"n1"}, "memory_pressure", node="n1"),
        span("i2", {"n2"}, "network_degradation", node="n2"),
    ]
    actions = [act("i1", "drop_caches", 150), act("i2", "restart_unit", 150)]
    card = score_run([RUNAWAY, LOSS], [], spans, actions=actions)
    runaway, loss = card.faults
    assert (runaway.kind_right, runaway.action_right, runaway.mitigation_s) == (False, False, None)
    assert (loss.kind_right, loss.culprit_right, loss.action_right) == (True, True, False)
    assert score_run([LOSS], [], spans[1:]).faults[0].action_right  # notify only: right


def test_a_bad_deploy_needs_its_change_blamed_and_counts_its_incidents() -> None:
    blamed = [span("i3", {"w1", "w2"}, "bad_change", node="w1", change="c-1")]
    wrong = [
        span("i3", {"w1", "w2"}, "bad_change", node="w1", change="c-2"),
        span("i4", {"w2"}, None),
    ]
    assert score_run([DEPLOY], [], blamed).faults[0].culprit_right
    outcome = score_run([DEPLOY], [], wrong).faults[0]
    assert (outcome.culprit_right, outcome.incidents, outcome.diagnosed_as) == (
        False,
        2,
        "bad_change",
    )
