"""``fleetwatch eval drift``: slow leaks and filling disks on a simulated fleet."""

from __future__ import annotations

import json

import click

from pipeline.commands import one_line_errors
from pipeline.commands.detect import evaluate, progress_bar

BREAKDOWN_KEYS = ("reason", "series", "hour", "count")


@click.command("drift")
@click.option("--hosts", type=click.IntRange(3, 10_000), default=60, show_default=True)
@click.option("--days", type=click.IntRange(5, 60), default=10, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@one_line_errors
def eval_drift(hosts: int, days: int, seed: int, as_json: bool) -> None:
    """Leaks (1-12 %/h) and filling disks (0.5-6 %/h) caught in time, beside a static 90 % rule."""
    from pipeline.sim.drift_bench import run_fleet

    with progress_bar() as progress:
        task = progress.add_task("drift", total=hosts)
        report = run_fleet(hosts, days, seed=seed, on_host=lambda: progress.advance(task))
    figures = report.figures()
    if as_json:
        breakdown = [dict(zip(BREAKDOWN_KEYS, row, strict=True)) for row in report.breakdown()]
        click.echo(json.dumps(figures | {"false_breakdown": breakdown}, indent=2))
        return
    click.echo(
        f"{figures['faults']} faults on {hosts} hosts over {days} days "
        f"(caught in time = an event >= {figures['reaction_min']:.0f} min before the limit)"
    )
    click.echo(
        f"{'':<10} {'caught in time':>15} {'median lead (<=5 %/h)':>22} {'false/host-day':>15}"
    )
    for name, prefix in (("detector", ""), ("static 90%", "static_")):
        caught, lead_h = figures[prefix + "caught_in_time"], figures[prefix + "median_lead_h"]
        false = figures[prefix + "false_per_host_day"]
        click.echo(f"{name:<10} {caught:>15.1%} {lead_h:>20.2f} h {false:>15.3f}")
    if report.false_events:
        click.echo("false events by reason, series and hour of day (UTC):")
        for reason, series, hour, count in report.breakdown():
            click.echo(f"  {count:>5}  {reason:<10} {series:<32} {hour:02d}h")


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``drift`` to the ``eval`` group."""
    del cli, bench  # the eval group is the detect module's
    evaluate.add_command(eval_drift)
