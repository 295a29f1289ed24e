"""What ``fleetwatch simulate --cases`` runs: read a scenario file, write its cases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from pipeline.sim.library.case_writer import write_cases
from pipeline.sim.library.scenario_file import load_scenarios
from pipeline.sim.library.suite import LIBRARY_SCENARIOS


def run_cases(out: Path, scenarios: Path | None, seeds: int) -> dict[str, Any]:
    """Write every scenario × seed of ``scenarios`` (default: the library) as cases under ``out``.

    Raises
    ------
    ConfigError
        When the scenario file is unreadable or invalid (the message says where).
    """
    path = scenarios or LIBRARY_SCENARIOS
    spec = load_scenarios(path)
    total = len(spec.scenarios) * seeds
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"{total} cases", total=total)
        truth = write_cases(spec, out, seeds, on_case=lambda _: progress.advance(task))
    kinds = Counter(str(t["kind"]) for t in truth.values())
    return {
        "cases": len(truth),
        "scenarios": str(path),
        "out": str(out),
        "truth": str(out / "truth.json"),
        "kinds": dict(sorted(kinds.items())),
    }
