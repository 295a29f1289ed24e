from __future__ import annotations

from datetime import timedelta

from pipeline.detect.base import SeriesScore
from pipeline.store.points import anomaly_point, metric_points, score_points
from tests.conftest import BASE_TIME, make_batch, make_event


def test_the_same_event_twice_is_the_same_point() -> None:
    first = anomaly_point(make_event()).to_line_protocol()
    replayed = anomaly_point(make_event()).to_line_protocol()
    assert first == replayed
    assert first.startswith("anomalies,")
    assert "node=node-1" in first and "metric=cpu.usage_user" in first
    assert first.endswith(str(int(BASE_TIME.timestamp() * 1000)))


def test_anomaly_point_carries_window_and_values() -> None:
    line = anomaly_point(make_event(observed=98.0, expected=20.0)).to_line_protocol()
    assert "observed=98" in line and "expected=20" in line
    end_ms = int((BASE_TIME + timedelta(seconds=60)).timestamp() * 1000)
    assert f"window_end_ms={end_ms}i" in line
    assert "severity=critical" in line


def test_metric_points_are_one_per_metric_at_sample_time() -> None:
    batch = make_batch(seq=3)
    lines = [p.to_line_protocol() for p in metric_points(batch)]
    assert len(lines) == len(batch.metrics)
    stamp = str(int(batch.sampled_at.timestamp() * 1000))
    assert all(line.endswith(stamp) and "node=node-1" in line for line in lines)


def test_score_points_have_the_host_and_every_series() -> None:
    series = [
        SeriesScore("cpu.usage_user", 0.9, True, 95.0, 20.0, 10.0, 30.0, "robust_hw"),
        SeriesScore("mem.used_percent", 0.1, False, 40.0, 40.5, 35.0, 45.0, "robust_hw"),
    ]
    points = score_points("node-1", {"role": "web"}, BASE_TIME, 0.8, "hst", series)
    lines = [p.to_line_protocol() for p in points]
    assert len(lines) == 3
    assert "metric=_host" in lines[0] and "score=0.8" in lines[0]
    assert "metric=cpu.usage_user" in lines[1] and "expected=20" in lines[1]
    assert all("role=web" in line for line in lines)
