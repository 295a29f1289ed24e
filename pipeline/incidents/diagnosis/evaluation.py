"""Evaluation modes over a case set: zero-shot, with a history, K shots per kind, leave-one-out."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.incidents.diagnosis.action_score import action_right_share
from pipeline.incidents.diagnosis.cases import case_dirs, read_case
from pipeline.incidents.diagnosis.diagnoser import Diagnoser
from pipeline.incidents.diagnosis.evidence import Evidence
from pipeline.incidents.diagnosis.history import History
from pipeline.incidents.diagnosis.scoring import Truth, mean_scores, read_truth, score_many
from pipeline.incidents.runbooks import Runbook
from pipeline.models import Diagnosis, PastIncident

Tick = Callable[[], None]


@dataclass(frozen=True)
class CaseSet:
    """Cases read from a directory with their truth (for the scorer and for confirming shots).

    With a ``runbook``, scores also say how often the diagnosis got the right action from it.
    """

    cases: dict[str, Evidence]
    truth: dict[str, Truth]
    runbook: Runbook | None = None

    def score(self, predictions: Mapping[str, Diagnosis]) -> dict[str, Any]:
        """The scorer's figures for ``predictions``, with ``action_right`` given a runbook."""
        scores = score_many(predictions, self.truth)
        if self.runbook is not None:
            share = action_right_share(self.runbook, predictions, self.truth, self.cases)
            scores["action_right"] = share
        return scores


def load_case_set(root: Path, tick: Tick = lambda: None) -> CaseSet:
    """Read every case under ``root`` and ``root/truth.json``; ``tick`` after each case."""
    truth = read_truth(root)
    cases = {}
    for path in case_dirs(root):
        if path.name in truth:
            cases[path.name] = read_case(path)
        tick()
    return CaseSet(cases, truth)


def confirmed_records(case_set: CaseSet, ids: list[str] | None = None) -> dict[str, PastIncident]:
    """Each case as a confirmed past incident of its true kind and culprit node."""
    scratch = Diagnoser()
    return {
        cid: scratch.confirm_one(
            case_set.cases[cid], case_set.truth[cid].kind, culprit_node=case_set.truth[cid].culprit
        )
        for cid in (ids if ids is not None else sorted(case_set.cases))
    }


def diagnose_many(
    diagnoser: Diagnoser, cases: Mapping[str, Evidence], ids: list[str], tick: Tick = lambda: None
) -> dict[str, Diagnosis]:
    """Diagnoses of the cases ``ids``, calling ``tick`` after each."""
    out = {}
    for cid in ids:
        out[cid] = diagnoser.diagnose_one(cases[cid])
        tick()
    return out


def run_plain(case_set: CaseSet, history: list[PastIncident], tick: Tick) -> dict[str, Any]:
    """Zero-shot (empty ``history``) or with a history of confirmed past cases."""
    diagnoser = Diagnoser.from_history(History(history))
    predictions = diagnose_many(diagnoser, case_set.cases, sorted(case_set.cases), tick)
    return case_set.score(predictions)


def run_shots(
    case_set: CaseSet, records: dict[str, PastIncident], shots: int, seeds: int, tick: Tick
) -> dict[str, Any]:
    """``shots`` confirmed cases per kind drawn per seed, the rest scored; figures averaged."""
    by_kind: dict[str, list[str]] = {}
    for cid in sorted(case_set.cases):
        by_kind.setdefault(case_set.truth[cid].kind, []).append(cid)
    runs = []
    for seed in range(seeds):
        rng = random.Random(seed)  # noqa: S311  # draws cases to confirm, not secrets
        chosen = {c for ids in by_kind.values() for c in rng.sample(ids, min(shots, len(ids) - 1))}
        diagnoser = Diagnoser.from_history(History(records[c] for c in sorted(chosen)))
        rest = [c for c in sorted(case_set.cases) if c not in chosen]
        runs.append(case_set.score(diagnose_many(diagnoser, case_set.cases, rest, tick)))
    return mean_scores(runs)


def run_leave_one_out(
    case_set: CaseSet, records: dict[str, PastIncident], tick: Tick
) -> dict[str, Any]:
    """Each case diagnosed with every other case confirmed."""
    predictions = {}
    for cid in sorted(case_set.cases):
        diagnoser = Diagnoser.from_history(History(r for c, r in records.items() if c != cid))
        predictions[cid] = diagnoser.diagnose_one(case_set.cases[cid])
        tick()
    return case_set.score(predictions)
