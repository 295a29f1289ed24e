"""Replay of NAB-style CSVs: every row once, per-node order, shifted times and windows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.errors import FleetwatchError
from pipeline.sim.replay import load_series, metric_for, replay_ground_truth, replay_rounds
from tests.conftest import BASE_TIME

# A synthetic corpus in NAB's layout (tests/fixtures/eval/generate.py), not NAB's data.
NAB = Path(__file__).resolve().parents[2] / "fixtures" / "eval" / "nab"


def _write_nab(root: Path) -> Path:
    data = root / "data" / "realKnownCause"
    data.mkdir(parents=True)
    rows = "\n".join(f"2014-01-01 00:{m:02d}:00,{m * 1.5}" for m in range(0, 30, 5))
    (data / "cpu_utilization_x.csv").write_text("timestamp,value\n" + rows + "\n")
    (data / "machine_temperature.csv").write_text(
        "timestamp,value\n2014-02-01 10:00:00,70\n2014-02-01 10:05:00,71\n"
    )
    (root / "labels").mkdir()
    windows = {
        "realKnownCause/cpu_utilization_x.csv": [
            ["2014-01-01 00:10:00.000000", "2014-01-01 00:20:00.000000"]
        ]
    }
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return root / "data"


def test_rows_become_batches_in_time_order_per_node(tmp_path: Path) -> None:
    series = load_series(_write_nab(tmp_path), end_at=BASE_TIME)
    batches = [b for round_ in replay_rounds(series, interval_s=300) for b in round_]
    assert len(batches) == 6 + 2
    cpu = [b for b in batches if b.node_id == "nab-realKnownCause-cpu_utilization_x"]
    assert [b.seq for b in cpu] == list(range(6))
    assert [b.metrics["cpu.usage_active"] for b in cpu] == [m * 1.5 for m in range(0, 30, 5)]
    assert cpu[-1].sampled_at == BASE_TIME  # each series ends at end_at
    assert cpu[1].sampled_at - cpu[0].sampled_at == timedelta(minutes=5)
    assert all(b.labels == {"role": "realKnownCause", "source": "nab"} for b in batches)


def test_labelled_windows_become_shifted_ground_truth(tmp_path: Path) -> None:
    directory = _write_nab(tmp_path)
    series = load_series(directory, end_at=BASE_TIME)
    (record,) = replay_ground_truth(directory, series)
    assert record["node_ids"] == ["nab-realKnownCause-cpu_utilization_x"]
    assert record["metrics"] == ["cpu.usage_active"]
    # the last row (00:25) lands on BASE_TIME, so 00:10 is 15 minutes before it
    assert record["start_at"] == (BASE_TIME - timedelta(minutes=15)).isoformat()
    assert record["end_at"] == (BASE_TIME - timedelta(minutes=5)).isoformat()


def test_metric_names_follow_the_file_name() -> None:
    assert metric_for("ec2_network_in_257a54") == "net.eth0.rx_bytes_per_s"
    assert metric_for("nyc_taxi") == "app.value"


def test_a_directory_without_csvs_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FleetwatchError, match="no timestamp,value CSV"):
        load_series(tmp_path)


def test_a_nab_corpus_loads_with_its_windows_shifted_like_its_rows() -> None:
    folder = NAB / "data" / "syntheticKnownCause"
    series = load_series(folder, end_at=BASE_TIME)
    assert [(s.key, s.metric) for s in series] == [
        ("syntheticKnownCause/cpu_utilization_spike.csv", "cpu.usage_active"),
        ("syntheticKnownCause/disk_write_bytes_level_shift.csv", "diskio.sda.write_bytes_per_s"),
        ("syntheticKnownCause/machine_temperature_drift.csv", "temp.machine.celsius"),
    ]
    assert [len(s.rows) for s in series] == [1000, 1000, 1000]
    records = replay_ground_truth(folder, series)
    windows = json.loads((NAB / "labels" / "combined_windows.json").read_text())
    assert [r["node_ids"] for r in records] == [[s.node_id] for s in series]
    for record, s in zip(records, series, strict=True):
        ((start, end),) = windows[s.key]
        # The last row (row 999) lands on BASE_TIME: the window keeps its distance to it.
        last_at = s.rows[-1][0]
        assert record["start_at"] == (BASE_TIME - (last_at - _naive(start))).isoformat()
        assert record["end_at"] == (BASE_TIME - (last_at - _naive(end))).isoformat()


def _naive(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
