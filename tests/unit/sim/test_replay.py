"""Replay of NAB-style CSVs: every row once, per-node order, shifted times and windows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.errors import FleetwatchError
from pipeline.sim.replay import load_series, metric_for, replay_ground_truth, replay_rounds
from tests.conftest import BASE_TIME

NAB = Path(__file__).resolve().parents[4] / "shared" / "data" / "nab"


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


def test_the_shared_nab_corpus_loads() -> None:
    if not NAB.is_dir():
        pytest.fail(f"shared NAB data missing at {NAB}")
    series = load_series(NAB / "data" / "realKnownCause")
    assert len(series) == 7
    assert sum(len(s.rows) for s in series) > 10_000
    assert replay_ground_truth(NAB / "data" / "realKnownCause", series)
