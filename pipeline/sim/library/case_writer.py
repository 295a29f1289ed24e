"""Write scenario runs as case directories, the format ``fleetwatch eval diagnosis`` reads.

::

    OUT/<case_id>/case.json     {"nodes": {"<node_id>": {labels}}, "window": {"start_at", "end_at"},
                                 "changes": [ChangeEvent, ...]}
    OUT/<case_id>/<node_id>.csv timestamp (ISO 8601 UTC) + one column per metric, sorted
    OUT/truth.json              {"<case_id>": {"kind", "culprit", ...}}   (for the scorer only)

``truth.json`` per case: ``kind`` (a core diagnosis kind), ``culprit`` (the node), and when they
apply ``culprit_process`` / ``culprit_unit`` (the ``<instance>`` of its ``proc.*`` / ``unit.*``
series), ``culprit_change`` (the ``change_id`` of a bad deploy), ``harmless_changes`` (change
ids that must not be blamed), ``secondary`` (overlapping faults, same keys), ``fault_type``
(the library's name) and ``metrics`` (the series the fault moves most, the first shows it best).
A bad deploy's ``culprit`` is the first node it reached (first in its change's ``nodes``, which
are in rollout order).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.sim.library.case_run import CaseBuilder, CaseRun
from pipeline.sim.library.scenario_file import ScenarioFile

DIGITS = ".7g"  # enough for bytes and percentages; keeps a 60-case suite at a few MB


def iter_cases(spec: ScenarioFile, seeds: int) -> Iterator[CaseRun]:
    """Every scenario of ``spec`` with seeds ``0 .. seeds - 1``, one case each."""
    for entry in spec.scenarios:
        for seed in range(seeds):
            yield CaseBuilder(spec, entry, seed).build()


def write_cases(
    spec: ScenarioFile,
    out: Path,
    seeds: int,
    on_case: Callable[[CaseRun], None] | None = None,
) -> dict[str, dict[str, object]]:
    """Write every case under ``out`` and ``out/truth.json``; returns the truth.

    Raises
    ------
    ValueError
        When ``seeds`` is below 1.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    out.mkdir(parents=True, exist_ok=True)
    truth: dict[str, dict[str, object]] = {}
    for run in iter_cases(spec, seeds):
        write_case(run, out / run.case_id)
        truth[run.case_id] = run.truth
        if on_case is not None:
            on_case(run)
    (out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    return truth


def write_case(run: CaseRun, directory: Path) -> None:
    """``case.json`` and one CSV per node of one case."""
    directory.mkdir(parents=True, exist_ok=True)
    case = {
        "nodes": run.labels,
        "window": {
            "start_at": run.window_start_at.isoformat(),
            "end_at": run.window_end_at.isoformat(),
        },
        "changes": [change.model_dump(mode="json") for change in run.changes],
    }
    (directory / "case.json").write_text(json.dumps(case, indent=2, sort_keys=True) + "\n")
    for node_id, rows in run.rows.items():
        columns = sorted({name for _, metrics in rows for name in metrics})
        with (directory / f"{node_id}.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["timestamp", *columns])
            for at, metrics in rows:
                cells = [format(metrics[c], DIGITS) if c in metrics else "" for c in columns]
                writer.writerow([at.isoformat(), *cells])
