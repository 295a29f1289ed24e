"""``fleetwatch ask "QUESTION"`` and ``fleetwatch eval ask``: questions answered from the store."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.commands import config_option, influx_url_option, one_line_errors
from pipeline.config import InfluxSettings, load
from pipeline.errors import AskNotUnderstood, QueryError

if TYPE_CHECKING:
    from pipeline.ask.aggregate import Answer


def register(cli: click.Group, bench: click.Group) -> None:
    """Add ``ask`` and ``eval ask``."""
    del bench
    from pipeline.commands.detect import evaluate

    cli.add_command(ask)
    evaluate.add_command(eval_ask)


@click.command()
@click.argument("question")
@config_option("[influx]")
@influx_url_option
@click.option("--bucket", help="Bucket, 'database/retention' on 1.8.")
@click.option(
    "--at", "at_text", help="Answer as of this ISO time with zone (replays, demos); default now."
)
@click.option(
    "--llm-url",
    help="Optional OpenAI-compatible chat completions URL (llama.cpp, Ollama) to fill the query; "
    "its reply is validated and run by the same code. Off by default.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the query, rows and sentence as JSON.")
@one_line_errors
def ask(
    question: str, config_file: Path | None, influx_url: str | None, bucket: str | None,
    at_text: str | None, llm_url: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Answer QUESTION (English or Chinese) from InfluxDB and the incident history.

    Examples: "which web nodes had memory anomalies since yesterday?",
    "what fixed the last disk full on db nodes?", "过去6小时有多少异常？".
    """
    from pipeline.ask.run import ask as run_ask
    from pipeline.store.timerange import parse_moment

    influx = load(InfluxSettings, config_file, url=influx_url, bucket=bucket)
    now_at = datetime.now(UTC)
    try:
        at = parse_moment(at_text, now_at) if at_text else now_at
    except ValueError as exc:
        raise QueryError(f"--at: {exc}") from None
    try:
        answer = run_ask(question, influx, at, llm_url)
    except AskNotUnderstood as exc:
        _explain(exc, as_json)
        raise SystemExit(2) from None
    _print(answer, as_json)


@click.command("ask")
@influx_url_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
def eval_ask(influx_url: str | None, as_json: bool) -> None:
    """Gold questions: structure and execution accuracy on a fresh database of synthetic data."""
    from pipeline.ask.run import evaluate_gold, load_synthetic
    from pipeline.ask.synthetic import NOW_AT
    from pipeline.local import reset_database

    database = f"fleetwatch_eval_ask_{uuid.uuid4().hex[:8]}"
    influx = load(InfluxSettings, None, url=influx_url, bucket=f"{database}/autogen")
    reset_database(influx.url, database)
    load_synthetic(influx)
    figures = evaluate_gold(influx)
    if as_json:
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    for key, value in figures.items():
        if key != "failures":
            click.echo(f"{key:40} {value}")
    for failure in figures["failures"]:
        click.echo(f"  fails [{failure['split']}]: {failure['q']}  → {failure['parsed']}")
    click.echo(f"The data stays in {influx.bucket}: fleetwatch ask QUESTION --bucket "
               f"{influx.bucket} --at {NOW_AT.isoformat()}")  # fmt: skip


def _explain(exc: AskNotUnderstood, as_json: bool) -> None:
    """What was understood, why it stopped, and the closest questions it can answer."""
    if as_json:
        payload = {"understood": exc.understood, "problem": str(exc), "try": exc.suggestions}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    understood = ", ".join(f"{k}={v}" for k, v in exc.understood.items()) or "nothing"
    click.echo(f"Not run: {exc}.\nUnderstood: {understood}.\nQuestions I can answer:", err=True)
    for suggestion in exc.suggestions:
        click.echo(f"  {suggestion}", err=True)


def _print(answer: Answer, as_json: bool) -> None:
    if as_json:
        payload: dict[str, Any] = {"query": answer.query.model_dump(mode="json"),
                                   "rows": answer.rows, "answer": answer.sentence}  # fmt: skip
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*(answer.rows[0].keys() if answer.rows else ["(no rows)"]))
    for row in answer.rows:
        table.add_row(*(str(value) for value in row.values()))
    console = Console()
    console.print(f"[dim]{answer.query.model_dump(exclude_defaults=True)}[/dim]")
    console.print(table)
    console.print(answer.sentence)
