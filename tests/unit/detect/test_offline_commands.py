"""The offline commands run the production detector over CSV files."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.commands.eval_data import resolve
from pipeline.errors import FleetwatchError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def write_series(path: Path, n: int = 1200, spike_at: int = 900) -> list[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    stamps = []
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value"])
        for i in range(n):
            at = (T0 + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S")
            value = 50 + 10 * math.sin(2 * math.pi * i / 288) + (i * 7919 % 13) / 13
            writer.writerow([at, value + (60 if i == spike_at else 0)])
            stamps.append(at)
    return stamps


def test_detect_writes_the_same_tree_with_scores(tmp_path: Path) -> None:
    write_series(tmp_path / "in" / "a" / "one.csv")
    wide = tmp_path / "in" / "host.csv"
    wide.write_text(
        "cpu.user,mem.used,label\n" + "".join(f"{i % 7},{i % 5},0\n" for i in range(300))
    )
    result = CliRunner().invoke(
        cli, ["detect", str(tmp_path / "in"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "a" / "one.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score", "flag"]
    flagged = [i for i, r in enumerate(rows) if r["flag"] == "1"]
    assert 900 in flagged and len(flagged) < 20
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)
    header = (tmp_path / "out" / "host.csv").read_text().splitlines()[0]
    assert header == "cpu.user,mem.used,label,anomaly_score,flag"


def test_eval_nab_on_a_small_corpus(tmp_path: Path) -> None:
    stamps = write_series(tmp_path / "data" / "synthetic" / "spike.csv")
    write_series(tmp_path / "data" / "synthetic" / "quiet.csv", spike_at=-1)
    windows = {"synthetic/spike.csv": [[stamps[860], stamps[940]]], "synthetic/quiet.csv": []}
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    result = CliRunner().invoke(cli, ["eval", "nab", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["standard"] > 50 and figures["files"] == 2
    # The spike is found by the detector's own flag too, without a threshold from the labels.
    assert figures["standard_as_deployed"] > 50
    # Two series over ~3.5 scored days: the flag on the spike is an alert, and few others are.
    assert 0 < figures["alerts_per_day_as_deployed"] < 2
    assert 0 < figures["alerts_per_day"] < 2


def test_eval_drift_catches_slow_faults_the_static_rule_sees_late() -> None:
    result = CliRunner().invoke(cli, ["eval", "drift", "--hosts", "3", "--days", "5", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["faults"] == 2
    assert figures["caught_in_time"] == 1.0
    assert figures["median_lead_h"] > figures["static_median_lead_h"]
    # The breakdown accounts for every false event, each at an hour of the day.
    rows = figures["false_breakdown"]
    assert sum(row["count"] for row in rows) == figures["false_events"]
    assert all(0 <= row["hour"] < 24 and row["reason"] for row in rows)


def test_eval_nab_names_a_bad_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "nab", "--data", str(tmp_path)])
    assert result.exit_code == 1 and "not a NAB folder" in result.output


# Synthetic sets in NAB's and ASD's layouts (tests/fixtures/eval/generate.py), not their data.
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "eval"


def test_eval_nab_finds_every_planted_window_of_the_fixture() -> None:
    result = CliRunner().invoke(cli, ["eval", "nab", "--data", str(FIXTURES / "nab"), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output, parse_constant=_not_json)
    assert figures["files"] == 4
    # The folder without windows has no normalised score: null, not NaN (which is not JSON).
    assert figures["folders"]["syntheticNoAnomaly"]["standard"] is None
    planted = figures["folders"]["syntheticKnownCause"]
    assert planted["windows"] == planted["detected"] == 3
    assert figures["standard"] > 50


def test_eval_asd_scores_both_fixture_servers_above_a_random_score() -> None:
    result = CliRunner().invoke(cli, ["eval", "asd", "--data", str(FIXTURES / "asd"), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert sorted(figures["servers"]) == ["omi-1", "omi-2"]
    for server in figures["servers"].values():
        assert server["best_f1"] > server["random_best_f1"]
        assert server["ap"] > server["random_ap"]
    # The host alert, one per episode, is judged per labelled segment too.
    assert figures["segments_found_as_deployed"] > 0
    assert figures["alert_precision_as_deployed"] > 0.5


def test_eval_without_data_says_where_to_get_it(tmp_path: Path) -> None:
    repo = tmp_path / "fleetwatch"
    with pytest.raises(FleetwatchError, match=r"pass --data DIR; get NAB from .*numenta/NAB"):
        resolve(None, "nab", repo)
    beside = tmp_path / "shared" / "data" / "asd"
    beside.mkdir(parents=True)
    assert resolve(None, "asd", repo) == beside
    assert resolve(tmp_path / "mine", "asd", repo) == tmp_path / "mine"


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def write_server(root: Path, name: str = "omi-1", fault_at: int = 700) -> None:
    """A small ASD-style server: 3 metrics, 600 train rows, 300 test rows, metric 2 faults."""
    root.mkdir(parents=True, exist_ok=True)
    for part, rows, offset in (("train", 600, 0), ("test", 300, 600)):
        with (root / f"{name}_{part}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["m01", "m02", "m03"] + (["label"] if part == "test" else []))
            for i in range(offset, offset + rows):
                base = [
                    0.5 + 0.1 * math.sin(i / 12 + k) + (i * 7919 % (11 + k)) / 200 for k in range(3)
                ]
                fault = fault_at <= i < fault_at + 20
                base[1] += 0.6 if fault else 0.0
                writer.writerow(
                    [f"{v:.4f}" for v in base] + (["1" if fault else "0"] if part == "test" else [])
                )
    (root / "interpretation_label").mkdir(exist_ok=True)
    (root / "interpretation_label" / f"{name}.txt").write_text(
        f"{fault_at - 600}-{fault_at - 581}:2\n"
    )


def test_eval_asd_reports_hit_rates_of_the_contributors(tmp_path: Path) -> None:
    write_server(tmp_path)
    result = CliRunner().invoke(cli, ["eval", "asd", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["mean_best_f1"] > 0.5
    # The faulty metric is ranked first on most of its segment's rows.
    assert figures["hitrate_100"] > 0.8 and figures["hitrate_150"] >= figures["hitrate_100"]


def test_eval_and_detect_take_a_river_detector(tmp_path: Path) -> None:
    write_server(tmp_path)
    result = CliRunner().invoke(
        cli, ["eval", "asd", "--data", str(tmp_path), "--json", "--detector", "river-gaussian"]
    )
    assert result.exit_code == 0, result.output
    assert 0.0 <= json.loads(result.output)["mean_best_f1"] <= 1.0
    unknown = CliRunner().invoke(cli, ["eval", "asd", "--data", str(tmp_path), "--detector", "x"])
    assert unknown.exit_code != 0 and "river-hst" in str(unknown.exception or unknown.output)
