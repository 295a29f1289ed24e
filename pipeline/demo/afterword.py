"""After the demo run: ``ask`` answers three questions about it, and ``tune suggest`` per kind."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.console import Console

from pipeline.config import InfluxSettings
from pipeline.errors import FleetwatchError
from pipeline.models import Incident

# Phrasings from the ask gold set (tests/fixtures/ask/development.yaml), answered as of the run.
QUESTIONS = (
    "how many anomalies in the last 6 hours?",
    "top 5 nodes by incidents in the last 3 days",
    "list all actions in the last 3 days",
)


def ask_about_run(console: Console, influx: InfluxSettings, now_at: datetime) -> None:
    """Print each question, its answer's sentence and up to five rows; a failure is said."""
    from pipeline.ask.run import ask

    for question in QUESTIONS:
        console.print(f'[bold]fleetwatch ask[/bold] "{question}"')
        try:
            answer = ask(question, influx, now_at)
        except FleetwatchError as exc:  # the demo reports, it does not fail, on a bad answer
            console.print(f"  could not answer: {exc}")
            continue
        for row in answer.rows[:5]:
            console.print("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
        console.print(f"  {answer.sentence}")


def tune_incidents(console: Console, incidents: Iterable[Incident]) -> None:
    """``tune suggest`` for each diagnosed kind that has a knob (current values: unknown here)."""
    from pipeline.tune.rules import suggest

    kinds = sorted({i.diagnosis.kind for i in incidents if i.diagnosis is not None})
    for kind in kinds:
        found = suggest(kind, lambda _knob: None)  # virtual nodes have no /proc to read
        if not found:
            continue
        console.print(f"[bold]fleetwatch tune suggest --kind {kind}[/bold]")
        for rank, s in enumerate(found, 1):
            console.print(
                f"  {rank}. [{s.knob.scope}] {s.knob.name} → {s.proposed} "
                f"(bounds {s.bounds[0]}..{s.bounds[1]}); expect {s.effect}"
            )
