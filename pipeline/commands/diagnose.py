"""``fleetwatch eval diagnosis``: score the diagnosis (and the old glob runbook) on case sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline.commands import one_line_errors
from pipeline.commands.detect import progress_bar


@click.command("diagnosis")
@click.option(
    "--cases",
    "cases_dir",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    required=True,
    help="Case directories: CASES/<id>/case.json, <node>.csv, truth.json.",
)
@click.option(
    "--history",
    "history_dir",
    type=click.Path(path_type=Path, exists=True),
    help="Confirmed past cases (same layout) the diagnosis may learn from first.",
)
@click.option(
    "--shots",
    type=click.IntRange(1, 100),
    help="Confirm K cases per kind (drawn per seed) and score the rest.",
)
@click.option("--seeds", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--leave-one-out", is_flag=True, help="Score each case with all others confirmed.")
@click.option(
    "--runbook",
    "runbook_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Also score the action this runbook picks for each diagnosis against the truth's "
    "(action_right), e.g. deploy/runbooks/default.yaml.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@one_line_errors
def eval_diagnosis(
    cases_dir: Path,
    history_dir: Path | None,
    shots: int | None,
    seeds: int,
    leave_one_out: bool,
    runbook_path: Path | None,
    as_json: bool,
) -> None:
    """Accuracy, macro-F1, per-kind precision/recall, culprit top-1/3 and abstain rate."""
    from pipeline.incidents.diagnosis import evaluation as ev
    from pipeline.incidents.runbooks import load_runbook

    if shots and leave_one_out:
        raise click.UsageError("--shots and --leave-one-out are two different modes; pick one")
    runbook = load_runbook(runbook_path) if runbook_path else None
    with progress_bar() as progress:
        case_set = _load(ev, cases_dir, progress, "reading cases")
        case_set = ev.CaseSet(case_set.cases, case_set.truth, runbook)
        history = _history(ev, history_dir, progress)
        mode, total = _mode(shots, seeds, leave_one_out, history_dir, len(case_set.cases))
        task = progress.add_task(f"diagnosing ({mode})", total=total)
        tick = lambda: progress.advance(task)  # noqa: E731
        records = ev.confirmed_records(case_set) if shots or leave_one_out else {}
        if shots:
            scores = ev.run_shots(case_set, records, shots, seeds, tick)
        elif leave_one_out:
            scores = ev.run_leave_one_out(case_set, records, tick)
        else:
            scores = ev.run_plain(case_set, history, tick)
        baseline = _baseline(case_set)
    _print(scores | {"mode": mode, "glob_baseline": baseline}, as_json)


def _load(ev: Any, root: Path, progress: Any, label: str) -> Any:
    task = progress.add_task(label, total=sum(1 for p in root.iterdir() if p.is_dir()))
    return ev.load_case_set(root, lambda: progress.advance(task))


def _history(ev: Any, root: Path | None, progress: Any) -> list[Any]:
    if root is None:
        return []
    return list(ev.confirmed_records(_load(ev, root, progress, "reading history")).values())


def _mode(
    shots: int | None, seeds: int, loo: bool, history: Path | None, cases: int
) -> tuple[str, int]:
    if shots:
        return f"{shots}-shot x {seeds} seeds", seeds * cases
    if loo:
        return "leave-one-out", cases
    return ("with history" if history else "zero-shot"), cases


def _baseline(case_set: Any) -> dict[str, Any]:
    from pipeline.incidents.diagnosis.glob_baseline import glob_diagnose_one
    from pipeline.incidents.diagnosis.scoring import score_many

    predictions = {cid: glob_diagnose_one(e) for cid, e in case_set.cases.items()}
    scores = score_many(predictions, case_set.truth)
    return {"accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]}


def _print(scores: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(scores, indent=2))
        return
    click.echo(f"diagnosis over {scores['cases']} scored case(s), {scores['mode']}")
    for key in ("accuracy", "macro_f1", "culprit_top1", "culprit_top3", "abstain_rate"):
        click.echo(f"  {key:<22} {scores[key]:.3f}")
    named = ("culprit_process_right", "culprit_unit_right", "culprit_change_right")
    for key in (*named, "harmless_change_blamed"):
        click.echo(f"  {key:<22} {scores[key]:.3f}   (cases whose truth names it)")
    if "action_right" in scores:
        click.echo(
            f"  {'action_right':<22} {scores['action_right']:.3f}   (runbook, vs the truth's)"
        )
    click.echo(f"  {'kind':<28} {'precision':>9} {'recall':>7} {'f1':>6}")
    for kind, row in scores["per_kind"].items():
        click.echo(f"  {kind:<28} {row['precision']:9.3f} {row['recall']:7.3f} {row['f1']:6.3f}")
    base = scores["glob_baseline"]
    click.echo(
        f"metric-glob runbook (before diagnosis) as a baseline: accuracy {base['accuracy']:.3f}, "
        f"macro_f1 {base['macro_f1']:.3f}"
    )


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``diagnosis`` to the ``eval`` group (registered by the detect commands)."""
    evaluate = cli.commands["eval"]
    assert isinstance(evaluate, click.Group)  # noqa: S101  # detect registers it before us
    evaluate.add_command(eval_diagnosis)
