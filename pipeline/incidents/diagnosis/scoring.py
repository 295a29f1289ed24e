"""Score diagnoses against a case set's truth: accuracy, macro-F1, per kind, culprit, abstain."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import CaseError
from pipeline.models import Diagnosis

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Truth:
    """What a case really was: its kind and the node that caused it."""

    kind: str
    culprit: str | None = None
    processes: tuple[str, ...] = ()
    process: str | None = None
    unit: str | None = None
    change: str | None = None
    harmless_changes: tuple[str, ...] = ()


def read_truth(root: Path) -> dict[str, Truth]:
    """``root/truth.json``: the scorer's answer key (never read by the diagnosis)."""
    path = root / "truth.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CaseError(f"{path}: cannot read the truth file: {exc}") from None
    if not isinstance(data, dict):
        raise CaseError(f"{path}: expected an object of case id -> {{kind, culprit}}")
    return {cid: _truth(t) for cid, t in data.items()}


def _truth(entry: dict[str, Any]) -> Truth:
    """One case's truth; the simulator also names the culprit process/unit and changes."""
    processes = (entry.get("culprit_process"), entry.get("culprit_unit"))
    return Truth(
        kind=str(entry["kind"]),
        culprit=entry.get("culprit"),
        processes=tuple(p for p in processes if p),
        process=entry.get("culprit_process"),
        unit=entry.get("culprit_unit"),
        change=entry.get("culprit_change"),
        harmless_changes=tuple(entry.get("harmless_changes") or ()),
    )


def score_many(predictions: Mapping[str, Diagnosis], truth: Mapping[str, Truth]) -> dict[str, Any]:
    """The figures over every predicted case (keys as printed by ``eval diagnosis --json``)."""
    ids = sorted(predictions)
    pairs = [(truth[c].kind, predictions[c].kind) for c in ids]
    per_kind = _per_kind(pairs)
    with_culprit = [c for c in ids if truth[c].culprit]
    return {
        "cases": len(ids),
        "accuracy": _share(sum(t == p for t, p in pairs), len(pairs)),
        "macro_f1": _share(sum(k["f1"] for k in per_kind.values()), len(per_kind)),
        "culprit_top1": _culprit_share(predictions, truth, with_culprit, 1),
        "culprit_top3": _culprit_share(predictions, truth, with_culprit, 3),
        "abstain_rate": _share(sum(p == UNKNOWN for _, p in pairs), len(pairs)),
        "per_kind": per_kind,
    } | _culprit_details(predictions, truth, ids)


def _culprit_details(
    predictions: Mapping[str, Diagnosis], truth: Mapping[str, Truth], ids: list[str]
) -> dict[str, Any]:
    """Process/unit and change named right, and harmless changes blamed, where truth says."""
    named = [c for c in ids if truth[c].processes]
    owned = [c for c in ids if truth[c].unit]
    changed = [c for c in ids if truth[c].change]
    harmless = [c for c in ids if truth[c].harmless_changes]
    return {
        "culprit_process_right": _share(
            sum(predictions[c].culprit.process in truth[c].processes for c in named), len(named)
        ),
        "culprit_unit_right": _share(
            sum(predictions[c].culprit.unit == f"{truth[c].unit}.service" for c in owned),
            len(owned),
        ),
        "culprit_change_right": _share(
            sum(predictions[c].culprit.change_id == truth[c].change for c in changed), len(changed)
        ),
        "harmless_change_blamed": _share(
            sum(predictions[c].culprit.change_id in truth[c].harmless_changes for c in harmless),
            len(harmless),
        ),
    }


def mean_scores(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Average of several score dicts (per-kind figures averaged per kind)."""
    keys: tuple[str, ...] = (
        "accuracy",
        "macro_f1",
        "culprit_top1",
        "culprit_top3",
        "abstain_rate",
        "culprit_process_right",
        "culprit_unit_right",
        "culprit_change_right",
        "harmless_change_blamed",
    )
    keys += ("action_right",) if runs and "action_right" in runs[0] else ()
    out: dict[str, Any] = {k: _share(sum(r[k] for r in runs), len(runs)) for k in keys}
    kinds = sorted({k for r in runs for k in r["per_kind"]})
    out["per_kind"] = {
        k: {
            f: _share(sum(r["per_kind"].get(k, {}).get(f, 0.0) for r in runs), len(runs))
            for f in ("precision", "recall", "f1")
        }
        for k in kinds
    }
    out["cases"] = runs[0]["cases"] if runs else 0
    return out


def _per_kind(pairs: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    kinds = sorted({t for t, _ in pairs})
    out = {}
    for kind in kinds:
        hits = sum(t == p == kind for t, p in pairs)
        precision = _share(hits, sum(p == kind for _, p in pairs))
        recall = _share(hits, sum(t == kind for t, _ in pairs))
        f1 = _share(2 * precision * recall, precision + recall)
        out[kind] = {"precision": precision, "recall": recall, "f1": f1}
    return out


def _culprit_share(
    predictions: Mapping[str, Diagnosis], truth: Mapping[str, Truth], ids: list[str], k: int
) -> float:
    hits = sum(truth[c].culprit in predictions[c].ranked_nodes[:k] for c in ids)
    return _share(hits, len(ids))


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0
