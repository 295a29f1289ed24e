"""Read incident case directories: ``CASES/<case_id>/case.json`` and one CSV per node.

``truth.json`` beside the cases is never read here: only the scorer opens it.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import CaseError
from pipeline.incidents.diagnosis.evidence import ChangeRecord, Evidence, node_evidence
from pipeline.models import METRIC_NAME_PATTERN


def case_dirs(root: Path) -> list[Path]:
    """Every case directory under ``root`` (those holding a case.json), sorted by name."""
    if not root.is_dir():
        raise CaseError(f"{root}: not a directory of cases")
    return sorted(p for p in root.iterdir() if (p / "case.json").is_file())


def read_case(path: Path) -> Evidence:
    """The evidence of one case directory.

    Raises
    ------
    CaseError
        When case.json or a node's CSV is missing or malformed.
    """
    spec = _read_json(path / "case.json")
    nodes = spec.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise CaseError(f"{path / 'case.json'}: 'nodes' must map node ids to labels")
    window = _window_s(spec.get("window"), path)
    evidence = tuple(
        node_evidence(node_id, labels or {}, *_read_csv(path / f"{node_id}.csv"), window)
        for node_id, labels in sorted(nodes.items())
    )
    changes = tuple(_change(c, path) for c in spec.get("changes") or [])
    return Evidence(path.name, evidence, changes, text=str(spec.get("text", "")))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CaseError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise CaseError(f"{path}: expected a JSON object")
    return data


def _read_csv(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    try:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise CaseError(f"{path}: cannot read: {exc.strerror}") from None
    if len(rows) < 2 or rows[0][:1] != ["timestamp"]:
        raise CaseError(f"{path}: expected a 'timestamp' header and at least one row")
    bad = [name for name in rows[0][1:] if not re.match(METRIC_NAME_PATTERN, name)]
    if bad:
        raise CaseError(f"{path}: column {bad[0]!r} is not a <subsystem>.<field> metric name")
    times_s = np.array([_epoch_s(r[0], path) for r in rows[1:]], dtype=float)
    values = np.array([[_number(v) for v in r[1:]] for r in rows[1:]], dtype=float)
    return times_s, {name: values[:, i] for i, name in enumerate(rows[0][1:])}


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")  # an empty cell is a missing sample, not a zero


def _epoch_s(text: str, source: Path) -> float:
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise CaseError(f"{source}: bad timestamp {text!r}") from None
    if stamp.tzinfo is None:
        raise CaseError(f"{source}: timestamp {text!r} has no time zone")
    return stamp.timestamp()


def _window_s(window: Any, path: Path) -> tuple[float, float] | None:
    if window is None:
        return None
    if not isinstance(window, dict) or not {"start_at", "end_at"} <= window.keys():
        raise CaseError(f"{path / 'case.json'}: 'window' needs start_at and end_at")
    return _epoch_s(window["start_at"], path), _epoch_s(window["end_at"], path)


def _change(data: Any, path: Path) -> ChangeRecord:
    """A change as a ``ChangeEvent`` writes it (``changed_at``, ``nodes``, ``summary``)."""
    at = data.get("changed_at") if isinstance(data, dict) else None
    if not isinstance(at, str):
        raise CaseError(f"{path / 'case.json'}: each change needs 'changed_at'")
    return ChangeRecord(
        change_id=str(data.get("change_id") or f"change-{at}"),
        kind=str(data.get("kind", "deploy")),
        at=datetime.fromisoformat(at),
        role=data.get("role"),
        node_ids=tuple(str(n) for n in data.get("nodes") or []),
        description=str(data.get("summary", "")),
    )
