"""``fleetwatch simulate``: a simulated fleet with labelled faults, or a replay of NAB CSVs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.commands import (
    config_option,
    kafka_bootstrap_option,
    one_line_errors,
    topic_prefix_option,
)

if TYPE_CHECKING:
    from pipeline.sim.fleet import Scenario

FAULT_CHOICES = (
    "cpu_runaway",
    "memory_leak",
    "disk_filling",
    "network_loss",
    "noisy_neighbour",
    "bad_deploy",
)


def _fault_list(text: str) -> tuple[str, ...]:
    if text in ("", "none"):
        return ()
    if text == "all":
        return FAULT_CHOICES
    faults = tuple(item.strip() for item in text.split(",") if item.strip())
    unknown = [f for f in faults if f not in FAULT_CHOICES]
    if unknown:
        raise click.BadParameter(f"{unknown}; valid: all, none, {', '.join(FAULT_CHOICES)}")
    return faults


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``simulate`` to the CLI."""
    cli.add_command(simulate)


@click.command()
@config_option("[kafka], [topics]")
@kafka_bootstrap_option
@topic_prefix_option
@click.option("--nodes", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option(
    "--faults",
    default="all",
    show_default=True,
    help=f"Comma-separated kinds, 'all' or 'none': {', '.join(FAULT_CHOICES)}.",
)
@click.option("--duration-s", type=click.FloatRange(1), default=6 * 3600.0, show_default=True)
@click.option(
    "--interval-s",
    type=click.FloatRange(0.1),
    help="Simulated seconds between samples [default: 10; 300 with --replay].",
)
@click.option(
    "--speed",
    type=click.FloatRange(0),
    default=120.0,
    show_default=True,
    help="Simulated seconds per wall second; 0 = as fast as Kafka acknowledges.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--node-prefix", default="sim", show_default=True)
@click.option("--rounds", type=click.IntRange(1), help="Stop after this many rounds.")
@click.option(
    "--ground-truth",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("ground-truth.jsonl"),
    show_default=True,
    help="JSONL file of the injected faults (or NAB windows with --replay).",
)
@click.option(
    "--replay",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Replay NAB-style timestamp,value CSVs under DIR instead of simulating.",
)
@click.option(
    "--cases",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the scenarios as incident case directories under DIR (no Kafka needed).",
)
@click.option(
    "--scenarios",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="With --cases: a scenario YAML file [default: the shipped fault library].",
)
@click.option(
    "--seeds",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="With --cases: runs of each scenario (seeds 0..N-1).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def simulate(**options: Any) -> None:
    """Publish a simulated fleet with labelled faults, replay CSVs, or write cases (--cases)."""
    if options["cases"] is not None:
        from pipeline.sim.library.session import run_cases

        figures = run_cases(options["cases"], options["scenarios"], options["seeds"])
        click.echo(json.dumps(figures, indent=2) if options["as_json"] else
                   " ".join(f"{key}={value}" for key, value in figures.items()))  # fmt: skip
        return
    from pipeline.config import KafkaSettings, TopicSettings, load
    from pipeline.sim.session import run_replay, run_simulate

    config_file = options["config_file"]
    kafka = load(KafkaSettings, config_file, bootstrap=options["kafka_bootstrap"])
    topic_settings = load(TopicSettings, config_file, prefix=options["topic_prefix"])
    speed, ground_truth = options["speed"], options["ground_truth"]
    if options["replay"] is not None:
        interval_s = options["interval_s"] or 300.0
        replay = options["replay"]
        report = run_replay(kafka, topic_settings, replay, speed, interval_s, ground_truth)
    else:
        scenario = _scenario(options)
        report = run_simulate(
            kafka, topic_settings, scenario, speed, ground_truth, options["rounds"]
        )
    figures = dataclasses.asdict(report) | {"ground_truth": str(ground_truth)}
    if options["as_json"]:
        click.echo(json.dumps(figures, indent=2))
    else:
        click.echo(" ".join(f"{key}={value}" for key, value in figures.items()))


def _scenario(options: dict[str, Any]) -> Scenario:
    from pipeline.sim.fleet import Scenario

    return Scenario(
        nodes=options["nodes"],
        faults=_fault_list(options["faults"]),  # type: ignore[arg-type]  # checked above
        seed=options["seed"],
        interval_s=options["interval_s"] or 10.0,
        duration_s=options["duration_s"],
        node_prefix=options["node_prefix"],
    )
