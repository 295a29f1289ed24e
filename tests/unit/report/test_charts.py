"""Series chart, expected band and fleet timeline drawn as SVG."""

from __future__ import annotations

import pytest

from pipeline.report.band import rolling_band
from pipeline.report.series_chart import SeriesPanel, series_chart
from pipeline.report.timeline import bucket_cells, busiest_nodes, fleet_timeline
from pipeline.store.timerange import TimeRange
from tests.unit.report.conftest import SVG_NS, at, by_class, make_anomaly, parse_svg, sine_points


def test_rolling_band_contains_normal_points_and_not_a_spike() -> None:
    points = sine_points(spike_at=80)
    band = {b.at: b for b in rolling_band(points)}
    spike = points[80]
    assert spike.value > band[spike.at].high  # the spike does not widen its own band
    inside = [p for p in points[40:80] if band[p.at].low <= p.value <= band[p.at].high]
    assert len(inside) >= 36
    assert points[0].at not in band  # no band before min_history points


def test_rolling_band_refuses_nonsense_history() -> None:
    with pytest.raises(ValueError):
        rolling_band(sine_points(), history=3, min_history=5)


def panel(points=None, windows=None) -> SeriesPanel:
    points = sine_points() if points is None else points
    return SeriesPanel(
        "web-1", "cpu.usage_user", at(0), at(1200), points, rolling_band(points),
        [make_anomaly(start_s=600), make_anomaly(start_s=900)] if windows is None else windows,
        "rolling",
    )  # fmt: skip


def test_series_chart_shades_each_window_and_draws_band_and_line() -> None:
    root = parse_svg(series_chart(panel()))
    flagged = by_class(root, "rect", "flagged")
    assert len(flagged) == 2
    widths = {round(float(r.get("width", 0))) for r in flagged}
    assert widths == {round(60 / 1200 * (1100 - 64 - 16))}  # 60 s of a 1200 s axis
    assert len(by_class(root, "polygon", "band")) == 1
    assert len(by_class(root, "polyline", "series")) == 1
    texts = " ".join("".join(t.itertext()) for t in root.iter(SVG_NS + "text"))
    assert "web-1 · cpu.usage_user2 flagged window(s), peak score 0.95" in texts


def test_series_chart_breaks_the_line_at_gaps() -> None:
    points = sine_points()
    gapped = points[:50] + points[80:]
    root = parse_svg(series_chart(panel(points=gapped)))
    assert len(by_class(root, "polyline", "series")) == 2
    assert len(by_class(root, "polygon", "band")) == 2


def test_series_chart_without_data_still_renders() -> None:
    root = parse_svg(series_chart(panel(points=[], windows=[])))
    assert by_class(root, "polyline", "series") == []


HOUR = TimeRange(at(0), at(3600))


def test_bucket_cells_count_per_node_and_keep_worst_severity() -> None:
    anomalies = [
        make_anomaly("a", 10, severity="warning"),
        make_anomaly("a", 20, severity="critical"),
        make_anomaly("a", 30, severity="info"),
        make_anomaly("b", 3599),
        make_anomaly("c", 3600),  # at the range's end: outside
    ]
    cells = {(c.node_id, c.bucket): c for c in bucket_cells(anomalies, HOUR, buckets=60)}
    assert set(cells) == {("a", 0), ("b", 59)}
    assert (cells[("a", 0)].count, cells[("a", 0)].worst) == (3, "critical")


def test_busiest_nodes_rank_by_count_then_name() -> None:
    anomalies = [make_anomaly(n, s) for n, s in [("b", 10), ("a", 10), ("c", 10), ("c", 100)]]
    assert busiest_nodes(bucket_cells(anomalies, HOUR, 60), limit=2) == ["c", "a"]


def test_fleet_timeline_has_a_row_per_shown_node_and_says_how_many_are_hidden() -> None:
    anomalies = [make_anomaly(f"node-{i:02d}", 60 * i) for i in range(12)]
    root = parse_svg(fleet_timeline(anomalies, HOUR, buckets=60, max_nodes=5))
    labels = [t.text for t in root.iter(SVG_NS + "text") if t.get("class") == "node"]
    assert len(labels) == 5
    texts = " ".join(t.text or "" for t in root.iter(SVG_NS + "text"))
    assert "(+7 more not shown)" in texts
    heat = by_class(root, "rect", "critical")
    assert len(heat) == 12 + 5  # 12 bar segments + 5 cells of the shown nodes
