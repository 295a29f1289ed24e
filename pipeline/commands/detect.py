"""Offline detection commands: ``detect``, ``eval nab``, ``eval asd`` and ``bench detect``."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import click

from pipeline.commands import one_line_errors
from pipeline.commands.eval_data import data_option, resolve


def progress_bar() -> Any:
    """A transient progress bar with counts and time left (long evaluations show progress)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )


@click.command("detect")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True)
@click.option("--detector", default="default", show_default=True, help="Registered detector.")
@click.option(
    "--interval-s",
    type=float,
    default=60.0,
    show_default=True,
    help="Row spacing without timestamps.",
)
@one_line_errors
def detect(path: Path, out_dir: Path, detector: str, interval_s: float) -> None:
    """Score a CSV (timestamp,value or wide per-host) or a tree of them into --out."""
    from pipeline.detect.eval.series_csv import read_table, write_scored
    from pipeline.detect.eval.stream_run import run_host
    from pipeline.detect.registry import make_host_detector

    files = sorted(path.rglob("*.csv")) if path.is_dir() else [path]
    root = path if path.is_dir() else path.parent
    with progress_bar() as progress:
        task = progress.add_task("detect", total=len(files))
        for file in files:
            table = read_table(file, interval_s)
            rows = progress.add_task(f"  {file.name}", total=len(table.rows))
            run = run_host(
                make_host_detector(detector),
                table.times,
                table.metrics,
                functools.partial(progress.advance, rows),
            )
            write_scored(out_dir / file.relative_to(root), table, run.score, run.flag)
            progress.remove_task(rows)
            progress.advance(task)
    click.echo(f"scored {len(files)} file(s) into {out_dir}")


@click.group("eval")
def evaluate() -> None:
    """Score the detectors on public benchmarks (NAB, ASD)."""


@evaluate.command("nab")
@data_option("nab")
@click.option("--detector", default="default", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@one_line_errors
def eval_nab(data_dir: Path | None, detector: str, as_json: bool) -> None:
    """NAB scores (standard, low-FP, low-FN) of a detector, overall and per folder."""
    from pipeline.detect.eval.nab import score_corpus
    from pipeline.detect.eval.nab_data import load_corpus

    corpus = load_corpus(resolve(data_dir, "nab"))
    with progress_bar() as progress:
        task = progress.add_task("NAB", total=sum(len(f.values) for f in corpus))
        _, report = score_corpus(corpus, detector, lambda: progress.advance(task))
    if as_json:
        # A folder without labelled windows has no normalised score (NaN): null in JSON.
        folders = {
            name: {k: _json_float(v) for k, v in row.items()}
            for name, row in report.folders.items()
        }
        payload = dict(report.scores) | {"thresholds": report.thresholds, "folders": folders}
        payload |= {f"{name}_as_deployed": v for name, v in report.as_deployed.items()}
        payload |= {
            "alerts_per_day": report.alerts_per_day,
            "alerts_per_day_as_deployed": report.alerts_per_day_as_deployed,
        }
        click.echo(json.dumps(payload | {"files": len(corpus)}, indent=2, allow_nan=False))
        return
    click.echo(f"NAB over {len(corpus)} files, detector {detector!r}")
    for name, value in report.scores.items():
        click.echo(
            f"  {name:<20} {value:6.1f}   (threshold {report.thresholds[name]:.4f}, swept on the "
            f"labels)   as deployed {report.as_deployed[name]:6.1f}"
        )
    click.echo(
        f"  as deployed (the detector's own flags): {report.deployed_detected} of "
        f"{report.windows} windows found"
    )
    click.echo(
        f"  alerts per series-day: {report.alerts_per_day:.3f} at the swept standard threshold, "
        f"{report.alerts_per_day_as_deployed:.3f} as deployed"
    )
    click.echo("per folder (normalised score per profile; counts at the standard threshold):")
    for folder, row in report.folders.items():
        cells = "  ".join(
            f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
        )
        click.echo(f"  {folder:<24} {cells}")


@evaluate.command("asd")
@data_option("asd")
@click.option("--detector", default="default", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@one_line_errors
def eval_asd(data_dir: Path | None, detector: str, as_json: bool) -> None:
    """Point-wise best-F1 and AP per ASD server (streaming), beside a random score."""
    from pipeline.detect.eval.asd import evaluate_server, mean, rows_of, servers

    data_dir = resolve(data_dir, "asd")
    names = servers(data_dir)
    with progress_bar() as progress:
        task = progress.add_task("ASD", total=sum(rows_of(data_dir, s) for s in names))
        results = [
            evaluate_server(data_dir, s, detector, lambda: progress.advance(task)) for s in names
        ]
    fields: tuple[str, ...] = ("best_f1", "ap", "pa_f1", "random_best_f1", "random_ap")
    fields += ("random_pa_f1", "f1_as_deployed", "segments_found_as_deployed")
    fields += ("alert_precision_as_deployed", "hitrate_100", "hitrate_150")
    means = {f"mean_{f}": mean(results, f) for f in fields}
    # The keys beside the means: as-deployed F1, and OmniAnomaly's HitRate names.
    deployed = ("f1_as_deployed", "segments_found_as_deployed", "alert_precision_as_deployed")
    for key in (*deployed, "hitrate_100", "hitrate_150"):
        means[key] = means[f"mean_{key}"]
    if as_json:
        servers_out = {r.server: {f: _json_float(getattr(r, f)) for f in fields} for r in results}
        out = {k: _json_float(v) for k, v in means.items()} | {"servers": servers_out}
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    widths = [max(15, len(f)) for f in fields]  # each column as wide as its name
    header = (f"{f:>{w}}" for f, w in zip(fields, widths, strict=True))
    click.echo(f"{'server':<8} " + " ".join(header))
    for r in results:
        cells = (f"{getattr(r, f):{w}.3f}" for f, w in zip(fields, widths, strict=True))
        click.echo(f"{r.server:<8} " + " ".join(cells))
    means_row = (f"{means['mean_' + f]:{w}.3f}" for f, w in zip(fields, widths, strict=True))
    click.echo(f"{'mean':<8} " + " ".join(means_row))


@click.command("detect")
@click.option("--detector", default="default", show_default=True)
@click.option(
    "--metrics", "metrics_per_host", type=click.IntRange(1, 2048), default=128, show_default=True
)
@click.option("--batches", type=click.IntRange(100, 1_000_000), default=5_000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@one_line_errors
def bench_detect_command(detector: str, metrics_per_host: int, batches: int, as_json: bool) -> None:
    """Points/s of one core and snapshot bytes per series and per host."""
    from dataclasses import asdict

    from pipeline.detect.eval.throughput import bench_detect

    result = bench_detect(detector, metrics_per_host, batches)
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))
        return
    click.echo(
        f"{result.detector}: {result.points_per_s:,.0f} points/s on one core "
        f"({result.batches_per_s:,.0f} host batches/s of {result.metrics_per_host} metrics); "
        f"state {result.bytes_per_series:,.0f} B/series, {result.bytes_per_host:,} B/host"
    )


@click.command("peers")
@click.option("--cohorts", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--nodes", type=click.IntRange(5, 10_000), default=40, show_default=True)
@click.option("--metrics", type=click.IntRange(1, 1024), default=64, show_default=True)
@click.option("--rounds", type=click.IntRange(2, 10_000), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@one_line_errors
def bench_peers_command(cohorts: int, nodes: int, metrics: int, rounds: int, as_json: bool) -> None:
    """Batches and points/s of the peer stage (round means, then cohort comparison), one core."""
    from dataclasses import asdict

    from pipeline.detect.eval.peers_throughput import bench_peers

    result = bench_peers(cohorts, nodes, metrics, rounds)
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))
        return
    click.echo(
        f"peers: {result.points_per_s:,.0f} points/s on one core ({result.batches_per_s:,.0f} "
        f"batches/s, {result.summaries_per_s:,.0f} round summaries/s; {result.cohorts} cohorts "
        f"of {result.nodes_per_cohort} nodes, {result.metrics} metrics); at most "
        f"{result.open_values_per_cohort:,} open values per cohort, "
        f"{result.fleet_bytes_per_metric:,} B of fleet line per cohort metric"
    )


def _json_float(value: float) -> float | None:
    """``value`` for JSON: NaN (a figure with nothing to measure) becomes null."""
    return None if isinstance(value, float) and math.isnan(value) else value


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``detect`` and ``eval`` to the CLI and ``detect`` and ``peers`` to ``bench``."""
    cli.add_command(detect)
    cli.add_command(evaluate)
    bench.add_command(bench_detect_command)
    bench.add_command(bench_peers_command)
