from __future__ import annotations

from datetime import timedelta

from influxdb_client import Point, WritePrecision

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
    lines = metric_points(batch)
    assert len(lines) == len(batch.metrics)
    stamp = str(int(batch.sampled_at.timestamp() * 1000))
    assert all(line.endswith(stamp) and "node=node-1" in line for line in lines)


def test_score_points_have_the_host_and_every_series() -> None:
    series = [
        SeriesScore("cpu.usage_user", 0.9, True, 95.0, 20.0, 10.0, 30.0, "robust_hw"),
        SeriesScore("mem.used_percent", 0.1, False, 40.0, 40.5, 35.0, 45.0, "robust_hw"),
    ]
    lines = score_points("node-1", {"role": "web"}, BASE_TIME, 0.8, "hst", series)
    assert len(lines) == 3
    assert "metric=_host" in lines[0] and "score=0.8" in lines[0]
    assert "metric=cpu.usage_user" in lines[1] and "expected=20" in lines[1]
    assert all("role=web" in line for line in lines)


def test_metric_lines_are_what_influxdb_client_points_write() -> None:
    labels = {"role": "web", "zone": "z 1,a=b", "rack": "r01", "metric": "clash"}
    metrics = {"cpu.usage_user": 12.345678901234567, "mem.used_percent": 2.0, "x.tiny": 1e-7}
    batch = make_batch(
        labels=labels, metrics=metrics, sampled_at=BASE_TIME + timedelta(microseconds=1999)
    )
    expected = [
        Point("metrics")
        .tag("rack", "r01")
        .tag("role", "web")
        .tag("zone", "z 1,a=b")
        .tag("node", batch.node_id)
        .tag("metric", name)
        .field("value", value)
        .time(batch.sampled_at, WritePrecision.MS)
        .to_line_protocol()
        for name, value in metrics.items()
    ]
    assert metric_points(batch) == expected


def test_score_lines_are_what_influxdb_client_points_write() -> None:
    nan = float("nan")
    series = [
        SeriesScore("cpu.usage_user", 0.9, True, 95.0, 20.0, 10.0, 30.0, "robust_hw"),
        SeriesScore("mem.used_percent", 0.1, False, 40.0, nan, nan, nan, "robust_hw"),
        SeriesScore("disk.x", nan, False, 1.0, nan, nan, nan, "robust_hw"),  # no field: no line
    ]
    labels = {"role": "web", "detector": "clash"}
    lines = score_points("node-1", labels, BASE_TIME, 0.8, "hst", series)

    def point(metric: str, detector: str, **fields: float) -> str:
        p = Point("scores").tag("role", "web").tag("node", "node-1").tag("metric", metric)
        p = p.tag("detector", detector)
        for name, value in fields.items():
            p = p.field(name, value)
        return str(p.time(BASE_TIME, WritePrecision.MS).to_line_protocol())

    assert lines == [
        point("_host", "hst", score=0.8),
        point("cpu.usage_user", "robust_hw", score=0.9, expected=20.0),
        point("mem.used_percent", "robust_hw", score=0.1, expected=nan),
    ]
