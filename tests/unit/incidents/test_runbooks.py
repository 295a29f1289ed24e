from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import RunbookError
from pipeline.incidents.runbooks import load_runbook, parse_runbook
from tests.conftest import BASE_TIME

REPO = Path(__file__).resolve().parents[3]
GOOD = """\
version: 1
rules:
  - name: runaway
    match: {metric: "cpu.usage_user", direction: up, severity: critical, kind: host}
    action:
      type: stop_process
      params: {pattern: "^python", grace_s: 2}
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(RunbookError) as caught:
        parse_runbook(text, "rb.yaml")
    return caught.value.problems


def test_shipped_default_runbook_is_valid_and_covers_every_core_kind() -> None:
    from pipeline.incidents.diagnosis.analyzers.registry import CORE_KINDS

    book = load_runbook(REPO / "deploy" / "runbooks" / "default.yaml")
    covered = {k for r in book.rules for k in (r.match.diagnosis or ())}
    assert covered == set(CORE_KINDS)


def test_bad_param_value_names_line_and_field() -> None:
    assert _problems(GOOD.replace("grace_s: 2", "grace_s: -2")) == [
        "rb.yaml:7: rules[0].action.params.grace_s: Input should be greater than 0"
    ]


def test_unknown_param_is_refused_at_its_line() -> None:
    text = GOOD.replace("grace_s: 2}", "grace_s: 2,\n              shell: 'rm -rf /'}")
    assert _problems(text) == [
        "rb.yaml:8: rules[0].action.params.shell: Extra inputs are not permitted"
    ]


def test_unknown_action_lists_the_catalogue() -> None:
    (problem,) = _problems(GOOD.replace("stop_process", "reboot"))
    assert problem.startswith("rb.yaml:6: rules[0].action.type: unknown action 'reboot'; valid:")
    assert "restart_unit" in problem


def test_bad_enum_and_missing_field_each_reported() -> None:
    text = GOOD.replace("kind: host", "kind: sometimes") + "  - name: second\n"
    problems = _problems(text)
    assert problems[0].startswith("rb.yaml:4: rules[0].match.kind: Input should be")
    assert problems[1] == "rb.yaml:8: rules[1].action: Field required"


def test_duplicate_key_is_refused() -> None:
    assert _problems(GOOD.replace("  - name: runaway\n", "  - name: a\n    name: b\n")) == [
        "rb.yaml:4: name: duplicate key"
    ]


def test_yaml_syntax_error_has_a_line() -> None:
    (problem,) = _problems("version: 1\nrules:\n  - name: [unclosed\n")
    assert problem.startswith("rb.yaml:4: YAML:")


def test_empty_runbook_is_refused() -> None:
    assert _problems("") == ["rb.yaml:1: <root>: the runbook is empty"]


def test_first_matching_rule_wins() -> None:
    from pipeline.models import Incident

    book = parse_runbook(GOOD + "  - name: fallback\n    action: {type: notify}\n")
    common = {
        "dedup_key": "host:n1",
        "kind": "host",
        "status": "open",
        "title": "t",
        "node_id": "n1",
        "affected_count": 1,
        "event_count": 1,
        "opened_at": BASE_TIME,
        "updated_at": BASE_TIME,
    }
    up = {"cpu.usage_user": "up"}
    cpu = Incident(incident_id="i1", severity="critical", metrics=[*up], directions=up, **common)
    mem = Incident(incident_id="i2", severity="critical", metrics=["mem.used_percent"], **common)
    warn = Incident(incident_id="i3", severity="warning", metrics=["cpu.usage_user"], **common)
    assert book.match_one(cpu).name == "runaway"  # type: ignore[union-attr]
    assert book.match_one(mem).name == "fallback"  # type: ignore[union-attr]
    assert book.match_one(warn).name == "fallback"  # type: ignore[union-attr]


def test_cli_check_exits_1_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("grace_s: 2", "grace_s: x").replace("kind: host", "kind: all"))
    result = CliRunner().invoke(cli, ["runbooks", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:4: rules[0].match.kind" in result.output
    assert f"{path}:7: rules[0].action.params.grace_s" in result.output


def test_cli_check_accepts_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    result = CliRunner().invoke(cli, ["runbooks", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 rules OK" in result.output
