from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import IncidentSettings
from pipeline.errors import RunbookError
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.issuer import Issuer
from pipeline.incidents.runbooks import parse_runbook
from pipeline.models import Diagnosis, DiagnosisCulprit, Incident
from tests.conftest import BASE_TIME
from tests.unit.control.conftest import KEY, control

BOOK = """\
version: 1
rules:
  - name: stop-culprit
    match: {diagnosis: cpu_saturation}
    action: {type: stop_process, params: {pattern: "^{culprit}$", top: cpu}}
  - name: rollback
    match: {diagnosis: bad_change}
    action: {type: rollback, params: {hook: "rollback-{role}", change: "{change}"}}
  - name: page
    match: {diagnosis: [cpu_saturation, bad_change, io_saturation, unknown], min_confidence: 0}
    action: {type: notify}
"""


def incident(kind: str | None = None, confidence: float = 0.9, **culprit: str) -> Incident:
    diagnosis = (
        Diagnosis(kind=kind, confidence=confidence, culprit=DiagnosisCulprit(**culprit))
        if kind
        else None
    )
    return Incident(
        incident_id="inc-1",
        dedup_key="host:n1",
        kind="host",
        status="open",
        severity="critical",
        title="t",
        node_id="n1",
        labels={"role": "web"},
        metrics=["cpu.usage_user"],
        directions={"cpu.usage_user": "down"},
        affected_count=1,
        event_count=1,
        opened_at=BASE_TIME,
        updated_at=BASE_TIME,
        diagnosis=diagnosis,
    )


def problems(text: str) -> list[str]:
    with pytest.raises(RunbookError) as caught:
        parse_runbook(text, "rb.yaml")
    return caught.value.problems


def rule(match: str, action: str = "{type: stop_process, params: {top: cpu}}") -> str:
    return f"version: 1\nrules:\n  - name: r\n    match: {match}\n    action: {action}\n"


def test_a_metric_going_down_can_never_pick_an_action_that_lowers_use() -> None:
    (problem,) = problems(rule('{metric: "cpu.usage_user", direction: down}'))
    assert problem.startswith("rb.yaml:4: rules[0].match.direction: stop_process lowers use")


def test_headroom_going_down_is_the_right_direction() -> None:
    parse_runbook(rule('{metric: "cpu.usage_idle", direction: down}'))
    (problem,) = problems(rule('{metric: "mem.available_bytes", direction: up}'))
    assert "want down" in problem


def test_a_glob_holding_use_and_headroom_metrics_is_refused() -> None:
    (problem,) = problems(rule('{metric: "cpu.*", direction: up}'))
    assert "rules[0].match.metric: 'cpu.*' matches both use and headroom" in problem


def test_a_metric_rule_without_direction_is_refused_unless_it_only_notifies() -> None:
    (problem,) = problems(
        rule(
            '{metric: "disk.*.used_percent"}',
            "{type: clean_files, params: {path: /l, older_than_days: 1}}",
        )
    )
    assert "say direction (up" in problem
    parse_runbook(rule('{metric: "cpu.*"}', "{type: notify}"))


def test_cli_check_refuses_the_wrong_direction(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "rb.yaml"
    path.write_text(rule('{metric: "cpu.usage_user", direction: down}'))
    result = CliRunner().invoke(cli, ["runbooks", "check", str(path)])
    assert result.exit_code == 1 and "lowers use" in result.output


def test_diagnosis_picks_the_rule_and_fills_the_culprit() -> None:
    book = parse_runbook(BOOK)
    chosen = book.match_one(incident("cpu_saturation", process="cruncher"))
    assert chosen is not None and chosen.name == "stop-culprit"
    params = chosen.params_for(incident("cpu_saturation", process="cruncher"))
    assert params.model_dump(exclude_none=True)["pattern"] == "^cruncher$"


def test_without_a_culprit_to_fill_the_rule_falls_through_to_notify() -> None:
    book = parse_runbook(BOOK)
    assert book.match_one(incident("cpu_saturation")).name == "page"  # type: ignore[union-attr]
    assert book.match_one(incident("cpu_saturation", 0.3, process="x")).name == "page"  # type: ignore[union-attr]
    assert book.match_one(incident(None)) is None


def test_notify_issues_no_request_and_rollback_always_waits_for_approval() -> None:
    issuer = Issuer(IncidentSettings(), control(), parse_runbook(BOOK), KEY, Inventory())
    now = BASE_TIME + timedelta(seconds=5)
    assert issuer.plan_one(incident("io_saturation"), now).requests == []
    (request,) = issuer.plan_one(incident("bad_change", change_id="deploy-7"), now).requests
    assert request.action == "rollback" and request.requires_approval
    assert request.params == {"hook": "rollback-web", "change": "deploy-7"}


def test_a_diagnosis_that_changes_mid_incident_does_not_stack_a_second_action() -> None:
    issuer = Issuer(IncidentSettings(), control(), parse_runbook(BOOK), KEY, Inventory())
    now = BASE_TIME + timedelta(seconds=5)
    (first,) = issuer.plan_one(incident("cpu_saturation", process="cruncher"), now).requests
    assert first.action == "stop_process"
    later = incident("bad_change", change_id="deploy-7")  # the same incident, read again
    assert issuer.plan_one(later, now + timedelta(seconds=30)).requests == []


LEAK_BOOK = """\
version: 1
rules:
  - name: restart-owner
    match: {diagnosis: memory_leak}
    action: {type: restart_unit, params: {unit: "{unit}"}}
  - name: page
    match: {diagnosis: memory_leak, min_confidence: 0}
    action: {type: notify}
"""


def test_restart_unit_is_issued_for_the_unit_that_owns_the_culprit_not_its_process() -> None:
    issuer = Issuer(IncidentSettings(), control(), parse_runbook(LEAK_BOOK), KEY, Inventory())
    leak = incident("memory_leak", process="gunicorn", unit="api.service")
    (request,) = issuer.plan_one(leak, BASE_TIME + timedelta(seconds=5)).requests
    assert (request.action, request.node_id) == ("restart_unit", "n1")
    assert request.params == {"unit": "api.service"}


def test_a_culprit_no_unit_owns_is_paged_not_restarted_by_a_guessed_name() -> None:
    issuer = Issuer(IncidentSettings(), control(), parse_runbook(LEAK_BOOK), KEY, Inventory())
    plan = issuer.plan_one(incident("memory_leak", process="gunicorn"), BASE_TIME)
    assert plan.requests == [] and plan.rule is not None and plan.rule.name == "page"


def test_a_unit_built_from_the_culprit_process_name_is_refused() -> None:
    (problem,) = problems(
        rule(
            "{diagnosis: memory_leak}", '{type: restart_unit, params: {unit: "{culprit}.service"}}'
        )
    )
    assert "rules[0].action.params.unit" in problem and "{unit}" in problem
