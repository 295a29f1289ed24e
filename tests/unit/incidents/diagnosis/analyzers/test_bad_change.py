from __future__ import annotations

from pipeline.incidents.diagnosis.analyzers.bad_change import BadChange
from pipeline.incidents.diagnosis.analyzers.base import NodeView
from tests.unit.incidents.diagnosis.conftest import deploy, make_evidence, make_node

SICK = {"cpu.usage_user": 45, "mem.used_percent": 50}


def test_deploy_before_its_role_deviates_is_blamed() -> None:
    a, b = make_node(SICK, "a-1"), make_node(SICK, "a-2", seed=1)
    evidence = make_evidence(a, b, changes=(deploy("app"),))
    found = BadChange().analyze_one(evidence, NodeView.of(a))
    assert found is not None and found.change_id == "deploy-app"


def test_deploy_to_another_role_is_not_blamed() -> None:
    a = make_node(SICK, "a-1")
    evidence = make_evidence(a, changes=(deploy("db"),))
    assert BadChange().analyze_one(evidence, NodeView.of(a)) is None


def test_one_sick_node_of_two_changed_is_not_the_change() -> None:
    a, b = make_node(SICK, "a-1"), make_node(None, "a-2", seed=1)
    evidence = make_evidence(a, b, changes=(deploy("app"),))
    assert BadChange().analyze_one(evidence, NodeView.of(a)) is None


def test_change_after_the_window_opened_or_long_before_is_not_blamed() -> None:
    a = make_node(SICK, "a-1")
    for change in (deploy("app", before_window_s=-30), deploy("app", before_window_s=7200)):
        assert BadChange().analyze_one(make_evidence(a, changes=(change,)), NodeView.of(a)) is None


def test_a_unit_restart_is_a_symptom_not_a_change() -> None:
    a = make_node(SICK, "a-1")
    evidence = make_evidence(a, changes=(deploy("app", kind="restart"),))
    assert BadChange().analyze_one(evidence, NodeView.of(a)) is None


def test_change_whose_spared_nodes_deviate_alike_is_not_blamed() -> None:
    # Every node moved the same way, reached by the change or not: the change is not the cause.
    a, b = make_node(SICK, "a-1"), make_node(SICK, "a-2", seed=1)
    change = deploy("app")
    only_a = type(change)(change.change_id, change.kind, change.at, None, ("a-1",))
    assert BadChange().analyze_one(make_evidence(a, b, changes=(only_a,)), NodeView.of(a)) is None
    assert BadChange().analyze_one(make_evidence(a, changes=(only_a,)), NodeView.of(a)) is not None
