"""The demo's live terminal view and its final scorecard table."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table

from pipeline.demo.scorecard import FaultOutcome, Scorecard
from pipeline.demo.watch import Tally


@dataclass
class Progress:
    """How far the simulated fleet has got."""

    nodes: int
    rounds_done: int
    rounds_total: int
    batches: int
    points: int
    elapsed_s: float
    simulated_clock: str


def render_live(progress: Progress, tally: Tally) -> RenderableType:
    """One frame: throughput, detections, incidents, actions, and the latest happenings."""
    rate = progress.points / progress.elapsed_s if progress.elapsed_s > 0 else 0.0
    head = Table.grid(padding=(0, 3))
    for _ in range(4):
        head.add_column(justify="right")
    head.add_row(
        f"[b]{progress.nodes}[/] nodes",
        f"simulated [b]{progress.simulated_clock}[/]",
        f"round [b]{progress.rounds_done}[/]/{progress.rounds_total}",
        f"[b]{rate:,.0f}[/] points/s",
    )
    open_incidents = tally.open_incidents()
    head.add_row(
        f"[b]{len(tally.events)}[/] anomaly events",
        f"[b]{len(open_incidents)}[/] open / {len(tally.incidents)} incidents",
        f"[b]{len(tally.requests)}[/] actions proposed",
        f"[b]{len(tally.results)}[/] dry-run results",
    )
    incidents = Table(title="open incidents", expand=True, title_justify="left")
    for column in ("severity", "kind", "incident", "nodes", "events"):
        incidents.add_column(column)
    for incident in open_incidents[:6]:
        colour = {"critical": "red", "warning": "yellow"}.get(incident.severity, "blue")
        incidents.add_row(
            f"[{colour}]{incident.severity}[/]",
            incident.kind,
            incident.title,
            str(incident.affected_count),
            str(incident.event_count),
        )
    recent = "\n".join(tally.recent) or "[dim]waiting for the first anomaly…[/]"
    return Panel(Group(head, incidents, Panel(recent, title="latest")), title="fleetwatch demo")


def render_scorecard(card: Scorecard) -> Table:
    """The scorecard as a table, one row per figure, then one row per injected fault."""
    table = Table(title="fleetwatch demo scorecard", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    delay = card.median_detection_delay_s
    worst = card.max_detection_delay_s
    table.add_row("faults injected / detected", f"{card.faults_injected} / {card.faults_detected}")
    table.add_row("false alarms (events outside every fault)", str(card.false_alarms))
    table.add_row("median / worst detection delay (simulated)", f"{_s(delay)} / {_s(worst)}")
    table.add_row("anomaly events → incidents", f"{card.anomaly_events} → {card.incidents}")
    table.add_row("false incidents (on no faulty node while open)", str(card.false_incidents))
    table.add_row("remediation actions proposed (dry-run)", str(card.actions_proposed))
    table.add_row(
        "faults with right kind / culprit / action",
        f"{card.faults_kind_right} / {card.faults_culprit_right} / {card.faults_action_right}",
    )
    for outcome in card.faults:
        table.add_row(
            f"  {outcome.kind} ({outcome.nodes} node{'s' * (outcome.nodes > 1)})",
            _verdict(outcome),
        )
    return table


def _verdict(outcome: FaultOutcome) -> str:
    if not outcome.detected:
        return "[red]missed"
    marks = " ".join(
        f"{name} {'[green]✓[/]' if right else '[red]✗[/]'}"
        for name, right in (
            ("kind", outcome.kind_right),
            ("culprit", outcome.culprit_right),
            ("action", outcome.action_right),
        )
    )
    culprit = f" ({outcome.culprit_named})" if outcome.culprit_named else ""
    return (
        f"[green]detected[/] after {_s(outcome.delay_s)}; {outcome.incidents} incident(s), "
        f"{outcome.diagnosed_as or 'no diagnosis'}{culprit} → "
        f"{', '.join(outcome.actions) or 'page only'}; {marks}; "
        f"mitigated after {_s(outcome.mitigation_s)}"
    )


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:,.0f} s"
