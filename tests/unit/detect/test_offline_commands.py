"""The offline commands run the production detector over CSV files."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import cli

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


def test_eval_nab_names_a_bad_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "nab", "--data", str(tmp_path)])
    assert result.exit_code == 1 and "not a NAB folder" in result.output
