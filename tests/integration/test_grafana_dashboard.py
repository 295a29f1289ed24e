"""Every Flux query of the Grafana dashboard runs against the real InfluxDB and finds the data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import InfluxSettings
from pipeline.store.flux import flux_string, flux_time
from pipeline.store.query import run_flux
from tests.integration.query_data import NODES, Seeded, seed_fleet

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana"
DASHBOARD = json.loads((GRAFANA / "dashboards" / "fleetwatch.json").read_text())


def dashboard_queries() -> Iterator[tuple[str, str]]:
    """(name, Flux) of every variable, annotation and panel target."""
    for variable in DASHBOARD["templating"]["list"]:
        yield f"var:{variable['name']}", variable["query"]
    for annotation in DASHBOARD["annotations"]["list"]:
        if "target" in annotation:
            yield "annotation", annotation["target"]["query"]
    for panel in DASHBOARD["panels"]:
        for target in panel.get("targets", []):
            yield f"panel{panel['id']}:{target['refId']}", target["query"]


def interpolate(flux: str, bucket: str, seeded: Seeded, node: str, metric: str) -> str:
    """What Grafana sends: its Flux macros and the dashboard variables replaced."""
    replaced = (
        flux.replace("v.timeRangeStart", flux_time(seeded.ago(60) - timedelta(minutes=1)))
        .replace("v.timeRangeStop", flux_time(seeded.now_at + timedelta(minutes=1)))
        .replace("v.windowPeriod", "30s")
        .replace("v.defaultBucket", flux_string(bucket))
        # Grafana's :regex format escapes regex metacharacters, as re.escape does.
        .replace("${node:regex}", re.escape(node))
        .replace("${metric:regex}", re.escape(metric))
    )
    assert not re.search(r"\$[{\w]|\bv\.\w", replaced), f"unresolved macro in {replaced}"
    return replaced


@pytest.fixture
def results(influx: InfluxSettings) -> dict[str, list[dict[str, Any]]]:
    seeded = seed_fleet(influx)
    return {
        name: run_flux(influx, interpolate(flux, influx.bucket, seeded, "web-1", "cpu.usage_user"))
        for name, flux in dashboard_queries()
    }


def test_every_query_returns_rows(results: dict[str, list[dict[str, Any]]]) -> None:
    assert len(results) >= 12
    empty = [name for name, rows in results.items() if not rows]
    assert empty == []


def test_variables_list_nodes_and_the_nodes_anomalous_metrics(
    results: dict[str, list[dict[str, Any]]],
) -> None:
    assert {row["_value"] for row in results["var:node"]} == set(NODES)
    assert {row["_value"] for row in results["var:metric"]} == {"cpu.usage_user"}


def test_heat_map_counts_anomalies_per_node_and_time(
    results: dict[str, list[dict[str, Any]]],
) -> None:
    per_node: dict[str, int] = {}
    for row in results["panel1:A"]:
        per_node[row["node"]] = per_node.get(row["node"], 0) + int(row["_value"] or 0)
    assert per_node == {"web-1": 3, "web-2": 1, "db-1": 3, "web-3": 1}
    assert len({row["_time"] for row in results["panel1:A"]}) > 100  # empty windows kept: a grid


def test_severity_bars_and_tables(results: dict[str, list[dict[str, Any]]]) -> None:
    totals: dict[str, int] = {}
    for row in results["panel2:A"]:
        totals[row["severity"]] = totals.get(row["severity"], 0) + int(row["_value"])
    assert totals == {"critical": 5, "warning": 2, "info": 1}
    incidents = {row["incident_id"]: row for row in results["panel3:A"]}
    assert set(incidents) == {"inc-web-1", "inc-fleet-web", "inc-db-1"}
    assert (incidents["inc-web-1"]["status"], incidents["inc-db-1"]["status"]) == (
        "resolved",
        "updated",
    )
    scores = [row["score"] for row in results["panel4:A"]]
    assert len(scores) == 8 and scores == sorted(scores, reverse=True)


def test_drill_down_series_band_flags_and_annotations(
    results: dict[str, list[dict[str, Any]]],
) -> None:
    assert all("value" in row for row in results["panel6:A"])
    low = {row["_time"]: row["expected_low"] for row in results["panel6:B"]}
    high = {row["_time"]: row["expected_high"] for row in results["panel6:C"]}
    assert low.keys() == high.keys() and all(low[t] < high[t] for t in low)
    assert [row["flagged"] for row in results["panel6:D"]] == [95.0, 95.0, 95.0]
    assert {row["metric"] for row in results["panel7:A"]} == {"cpu.usage_user"}
    assert len(results["panel8:A"]) == 3
    windows = results["annotation"]
    assert len(windows) == 3
    assert all(w["timeEnd"] - w["time"] == timedelta(seconds=60) for w in windows)
    assert all(w["tags"] == "critical" and "cpu.usage_user" in w["text"] for w in windows)


def test_provisioning_points_at_the_dashboard_and_datasource() -> None:
    datasources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "fleetwatch-influxdb.yaml").read_text()
    )["datasources"]
    uid = datasources[0]["uid"]
    assert datasources[0]["jsonData"]["version"] == "Flux"
    used = {t["datasource"]["uid"] for p in DASHBOARD["panels"] for t in p.get("targets", [])}
    assert used == {uid}
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "fleetwatch.yaml").read_text()
    )["providers"][0]
    compose = yaml.safe_load((GRAFANA.parent / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
