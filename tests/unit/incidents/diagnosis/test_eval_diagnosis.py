from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli

FIXTURE = Path(__file__).parents[3] / "fixtures" / "cases"


def run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(
        cli,
        ["eval", "diagnosis", "--cases", str(FIXTURE), "--json", *args],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{") :])


def test_zero_shot_json_has_the_documented_keys_and_beats_the_glob_runbook() -> None:
    scores = run()
    assert {
        "accuracy",
        "macro_f1",
        "culprit_top1",
        "culprit_top3",
        "abstain_rate",
        "per_kind",
    } <= set(scores)
    baseline = scores["glob_baseline"]
    assert isinstance(baseline, dict)
    assert scores["accuracy"] >= 0.9 > baseline["accuracy"]  # type: ignore[operator]


def test_one_shot_and_leave_one_out_score_the_rest() -> None:
    shots = run("--shots", "1", "--seeds", "2")
    assert (
        shots["cases"] == 12
    )  # one of the two cases per kind is confirmed, the harmless one stays
    loo = run("--leave-one-out")
    assert loo["cases"] == 23 and loo["accuracy"] >= 0.9  # type: ignore[operator]


def test_history_mode_learns_operator_kinds(tmp_path: Path) -> None:
    truth = json.loads((FIXTURE / "truth.json").read_text())
    history = tmp_path / "history"
    history.mkdir()
    for case in ("app_errors-1", "app_errors-2"):
        (history / case).symlink_to(FIXTURE / case, target_is_directory=True)
        truth[case]["kind"] = "checkout_bug"
    (history / "truth.json").write_text(
        json.dumps({c: truth[c] for c in ("app_errors-1", "app_errors-2")})
    )
    scores = run("--history", str(history))
    assert scores["per_kind"]["app_errors"]["recall"] < 1.0  # type: ignore[index]


def test_with_a_runbook_the_action_is_scored_only_where_the_truth_names_a_culprit() -> None:
    runbook = Path(__file__).parents[4] / "deploy" / "runbooks" / "default.yaml"
    scores = run("--runbook", str(runbook))
    assert scores["action_right"] == 0.0  # the fixtures' truth names nodes only: nothing scored
    assert "action_right" not in run()


def test_right_action_needs_the_unit_that_owns_the_leaking_process() -> None:
    from pipeline.incidents.diagnosis.action_score import action_right_share
    from pipeline.incidents.diagnosis.diagnoser import Diagnoser
    from pipeline.incidents.diagnosis.scoring import Truth
    from pipeline.incidents.runbooks import load_runbook
    from pipeline.models import DiagnosisCulprit
    from tests.unit.incidents.diagnosis.analyzers.test_owner import leaking_node
    from tests.unit.incidents.diagnosis.conftest import make_evidence

    runbook = load_runbook(Path(__file__).parents[4] / "deploy" / "runbooks" / "default.yaml")
    cases = {"leak": make_evidence(leaking_node())}
    truth = {"leak": Truth("memory_leak", "web-1", process="gunicorn", unit="api")}
    found = Diagnoser().diagnose_one(cases["leak"])
    assert action_right_share(runbook, {"leak": found}, truth, cases) == 1.0
    by_name = DiagnosisCulprit(node_id="web-1", process="gunicorn", unit="gunicorn.service")
    guessed = found.model_copy(update={"culprit": by_name})
    assert action_right_share(runbook, {"leak": guessed}, truth, cases) == 0.0
