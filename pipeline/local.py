"""Drive the local Kafka + InfluxDB stack through the scripts in ``deploy/local``."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from pipeline.errors import StackError

STACK_SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "local" / "stack.sh"


def run_stack(action: str, data_dir: Path | None = None) -> dict[str, str]:
    """Run ``stack.sh ACTION``; returns the ``FLEETWATCH_*`` addresses it printed.

    Raises
    ------
    StackError
        When the scripts are missing (a non-editable install) or the action failed; the message
        is the script's own last line.
    """
    if action not in {"fetch", "up", "down", "status"}:
        raise ValueError(f"unknown stack action {action!r}; valid: fetch, up, down, status")
    if not STACK_SCRIPT.is_file():
        raise StackError(f"{STACK_SCRIPT} not found: run from a fleetwatch source checkout")
    env = dict(os.environ)
    if data_dir is not None:
        env["FLEETWATCH_LOCAL_DIR"] = str(data_dir)
    completed = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        ["bash", str(STACK_SCRIPT), action],  # noqa: S607 - bash from PATH, like the Makefile
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode not in (0, 3) or (action == "up" and completed.returncode != 0):
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise StackError(last.removeprefix("fleetwatch-local: "))
    lines = completed.stdout.splitlines()
    return dict(line.split("=", 1) for line in lines if line.startswith("FLEETWATCH_"))


def reset_database(influx_url: str, database: str) -> None:
    """Drop and re-create an InfluxDB 1.8 database of the local stack (the demo's own data).

    Raises
    ------
    StackError
        When InfluxDB does not answer, reports an error, or does not list the database after.
    """
    influxql(influx_url, f'DROP DATABASE "{database}"')
    influxql(influx_url, f'CREATE DATABASE "{database}"')
    (shown,) = influxql(influx_url, "SHOW DATABASES")
    names = {row[0] for series in shown.get("series", []) for row in series.get("values", [])}
    if database not in names:
        raise StackError(f"InfluxDB at {influx_url} did not create database {database!r}")


def influxql(influx_url: str, statement: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """The results of one InfluxQL statement; InfluxDB's errors (sent with HTTP 200) raise.

    Raises
    ------
    StackError
        When InfluxDB does not answer or reports an error.
    """
    body = urllib.parse.urlencode({"q": statement}).encode()
    request = urllib.request.Request(f"{influx_url}/query", data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - local
            results: list[dict[str, Any]] = json.load(response).get("results", [])
    except (OSError, ValueError) as exc:
        raise StackError(f"InfluxDB at {influx_url}: {statement!r} failed: {exc}") from None
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise StackError(f"InfluxDB at {influx_url} refused {statement!r}: {errors[0]}")
    return results
