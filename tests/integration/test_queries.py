"""`fleetwatch anomalies|incidents|report` against data this test wrote to the real InfluxDB."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import cli
from pipeline.config import InfluxSettings
from pipeline.store.flux import FluxQuery
from pipeline.store.query import run_flux
from tests.integration.conftest import free_port
from tests.integration.query_data import Seeded, seed_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def seeded(influx: InfluxSettings) -> Seeded:
    return seed_fleet(influx)


def run(influx: InfluxSettings, *args: str) -> Result:
    where = ["--influx-url", influx.url, "--bucket", influx.bucket]
    return CliRunner().invoke(cli, [*args[:1], *where, *args[1:]], catch_exceptions=False)


def event_ids(result: Result) -> set[str]:
    assert result.exit_code == 0, result.stderr
    return {row["event_id"] for row in json.loads(result.stdout)}


def test_anomalies_returns_every_event_written(influx: InfluxSettings, seeded: Seeded) -> None:
    result = run(influx, "anomalies", "--json")
    assert event_ids(result) == {e.event_id for e in seeded.events}
    rows = {row["event_id"]: row for row in json.loads(result.stdout)}
    first = seeded.events[0]
    row = rows[first.event_id]
    assert row["window_start_at"] == first.window_start_at.isoformat()
    assert (row["observed"], row["expected_low"], row["labels"]) == (95.0, 14.0, "role=web")


def test_filters_compose(influx: InfluxSettings, seeded: Seeded) -> None:
    web_critical = run(influx, "anomalies", "--node", "web-1", "--node", "web-2",
                       "--severity", "critical", "--json")  # fmt: skip
    expected = {e.event_id for e in seeded.events if e.node_id == "web-1"}
    assert event_ids(web_critical) == expected
    db_memory = run(influx, "anomalies", "--node", "db-1", "--metric", "mem.used_percent", "--json")
    assert event_ids(db_memory) == {"db-1-mem.used_percent-15", "db-1-mem.used_percent-10"}
    host = run(influx, "anomalies", "--metric", "_host", "--json")
    assert event_ids(host) == {"db-1-host-10"}


def test_since_and_until_bound_the_range(influx: InfluxSettings, seeded: Seeded) -> None:
    result = run(influx, "anomalies", "--since", "40m", "--until", "20m", "--json")
    assert event_ids(result) == {
        e.event_id for e in seeded.events if e.node_id in ("web-1", "web-2")
    }
    absolute = run(influx, "anomalies", "--since", seeded.ago(12).isoformat(), "--json")
    assert event_ids(absolute) == {"db-1-mem.used_percent-10", "db-1-host-10"}


def test_table_and_csv_outputs(influx: InfluxSettings, seeded: Seeded) -> None:
    table = run(influx, "anomalies", "--node", "db-1")
    assert table.exit_code == 0
    assert "3 anomalies" in table.stdout
    assert "mem.used_percent" in table.stdout and "(host)" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run(influx, "anomalies", "--csv").stdout)))
    assert len(rows) == len(seeded.events)
    assert {"node_id", "metric", "severity", "score", "window_start_at"} <= set(rows[0])


def test_empty_result_says_so(influx: InfluxSettings, seeded: Seeded) -> None:
    result = run(influx, "anomalies", "--node", "nobody", "--severity", "info")
    assert result.exit_code == 0
    assert result.stdout.startswith("no anomalies matching node=nobody severity=info in ")
    as_json = run(influx, "incidents", "--node", "nobody", "--json")
    assert (as_json.exit_code, as_json.stdout.strip()) == (0, "[]")
    assert as_json.stderr.startswith("no incidents matching node=nobody")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--severity", "fatal"), "fleetwatch: --severity 'fatal' is not one of info, warning"),
        (("--since", "yesterday"), "fleetwatch: 'yesterday' is not a time"),
        (("--node", 'web-1" or true'), "fleetwatch: --node 'web-1\" or true' is not a node id"),
        (("--since", "10m", "--until", "1h"), "fleetwatch: --since"),
        (("--json", "--csv"), "fleetwatch: choose one of --json and --csv"),
    ],
)
def test_wrong_filter_is_one_line_and_non_zero(
    influx: InfluxSettings, args: tuple[str, ...], reason: str
) -> None:
    result = run(influx, "anomalies", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(reason)
    assert result.stderr.count("\n") == 1


def test_wrong_status_and_missing_bucket_are_one_line(influx: InfluxSettings) -> None:
    status = run(influx, "incidents", "--status", "closed")
    assert (status.exit_code, status.stderr.count("\n")) == (1, 1)
    assert "--status 'closed' is not one of open, updated, resolved" in status.stderr
    missing = CliRunner().invoke(
        cli, ["anomalies", "--influx-url", influx.url, "--bucket", "no_such_db/autogen"]
    )
    assert missing.exit_code == 1
    assert missing.stderr.startswith(f"fleetwatch: InfluxDB at {influx.url} refused the query:")
    assert missing.stderr.count("\n") == 1


@pytest.mark.parametrize("command", ["anomalies", "incidents", "report"])
def test_unreachable_influxdb_is_one_line_and_non_zero(command: str, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            command,
            "--influx-url",
            url,
            "-o",
            str(tmp_path / "r.html"),
        ]
        if command == "report"
        else [sys.executable, "-m", "pipeline", command, "--influx-url", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"fleetwatch: cannot reach InfluxDB at {url}: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_escaped_values_cannot_widen_a_filter_on_the_real_server(
    influx: InfluxSettings, seeded: Seeded
) -> None:
    def count(*nodes: str) -> int:
        query = FluxQuery(influx.bucket, seeded.ago(60), seeded.now_at, "anomalies")
        return len(
            run_flux(influx, query.where_any("node", nodes).where_any("_field", ["score"]).render())
        )

    assert count("web-1") == 3
    assert count('web-1" or r.node != "') == 0
    assert count("web-1\\") == 0
    assert count("${web-1}") == 0


def test_incidents_show_the_newest_state_and_filter(influx: InfluxSettings, seeded: Seeded) -> None:
    def incidents(*args: str) -> dict[str, dict[str, object]]:
        result = run(influx, "incidents", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return {row["incident_id"]: row for row in json.loads(result.stdout)}

    everything = incidents()
    assert set(everything) == {"inc-web-1", "inc-fleet-web", "inc-db-1"}
    assert everything["inc-web-1"]["status"] == "resolved"
    assert (everything["inc-db-1"]["severity"], everything["inc-db-1"]["event_count"]) == (
        "critical",
        3,
    )
    assert everything["inc-fleet-web"]["share"] == 0.5
    assert set(incidents("--status", "open")) == {"inc-fleet-web"}
    assert set(incidents("--node", "web-2")) == {"inc-fleet-web"}
    assert set(incidents("--node", "web-1")) == {"inc-web-1", "inc-fleet-web"}
    assert set(incidents("--severity", "critical", "--metric", "mem.used_percent")) == {"inc-db-1"}
    table = run(influx, "incidents")
    assert "3 incidents" in table.stdout and "CPU runaway on web-1" in table.stdout


def test_report_writes_a_self_contained_page(
    influx: InfluxSettings, seeded: Seeded, tmp_path: Path
) -> None:
    output = tmp_path / "report.html"
    result = run(influx, "report", "--since", "1h", "-o", str(output))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"wrote {output}")
    html = output.read_text()
    assert "<b>8</b><span>anomaly events</span>" in html
    for incident_id in ("inc-web-1", "inc-fleet-web", "inc-db-1"):
        assert incident_id in html
    assert html.count("<svg") >= 4  # timeline + at least one chart per shown incident
    assert "web-1 · cpu.usage_user" in html and "db-1 · mem.used_percent" in html
    # web-1's CPU has the detector's band stored; db-1's memory falls back to the estimate.
    assert "band: the detector's expected range" in html
    assert "band: rolling median" in html
