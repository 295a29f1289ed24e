"""Listings for people and scripts; an empty result says so."""

from __future__ import annotations

import csv
import io
import json

import pytest

from pipeline.report.listing import (
    anomaly_cells,
    anomaly_rows,
    incident_cells,
    incident_rows,
    print_records,
)
from tests.unit.report.conftest import make_anomaly, make_incident_record


def test_json_lists_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    rows = anomaly_rows([make_anomaly("web-1", 600), make_anomaly("web-2", 700, metric=None)])
    print_records("anomalies", rows, "json", anomaly_cells, "x")
    out = json.loads(capsys.readouterr().out)
    assert [r["node_id"] for r in out] == ["web-1", "web-2"]
    assert out[1]["metric"] is None
    assert out[0]["window_start_at"] == "2026-01-01T10:10:00+00:00"


def test_csv_has_header_and_one_line_per_record(capsys: pytest.CaptureFixture[str]) -> None:
    rows = incident_rows([make_incident_record(), make_incident_record(incident_id="inc-2")])
    print_records("incidents", rows, "csv", incident_cells, "x")
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["incident_id"] for r in parsed] == ["inc-1", "inc-2"]
    assert parsed[0]["metrics"] == "cpu.usage_user"


def test_table_shows_the_cells_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    rows = anomaly_rows([make_anomaly("web-1", 600, detector="[bold]hw[/]")])
    print_records("anomalies", rows, "table", anomaly_cells, "x")
    out = capsys.readouterr().out
    assert "1 anomalies" in out
    assert "web-1" in out and "cpu.usage_user" in out and "10–30" in out
    assert "[bold]hw[/]" in out  # printed as typed, not as rich markup


@pytest.mark.parametrize(
    ("output", "stdout", "stderr"),
    [("table", "no anomalies matching node=a", ""), ("json", "[]", "no anomalies matching node=a"),
     ("csv", "", "no anomalies matching node=a")],
)  # fmt: skip
def test_empty_result_says_so(
    capsys: pytest.CaptureFixture[str], output: str, stdout: str, stderr: str
) -> None:
    print_records("anomalies", [], output, anomaly_cells, "matching node=a")  # type: ignore[arg-type]
    captured = capsys.readouterr()
    assert captured.out.strip() == stdout
    assert captured.err.strip() == stderr
