"""SVG primitives: scales, ticks, escaping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.report import svg
from tests.unit.report.conftest import at, parse_svg


def test_scale_maps_and_inverts_pixel_direction() -> None:
    y = svg.Scale(0, 100, 200, 0)
    assert (y(0), y(50), y(100)) == (200, 100, 0)
    assert svg.Scale(5, 5, 0, 10)(5) == 5  # empty data interval: the middle


def test_padded_bounds_pads_and_survives_flat_or_empty_data() -> None:
    lo, hi = svg.padded_bounds([10, 20])
    assert lo < 10 and hi > 20
    flat_lo, flat_hi = svg.padded_bounds([7, 7, float("nan")])
    assert flat_lo < 7 < flat_hi
    assert svg.padded_bounds([]) == (0.0, 1.0)


def test_nice_ticks_are_round_and_inside() -> None:
    ticks = svg.nice_ticks(3.2, 47.9)
    assert ticks == [10, 20, 30, 40]
    assert svg.nice_ticks(0, 1, count=4) == pytest.approx([0, 0.5, 1.0])


@pytest.mark.parametrize(
    ("span", "step"),
    [(timedelta(hours=1), timedelta(minutes=10)), (timedelta(minutes=2), timedelta(seconds=30))],
)
def test_time_ticks_fall_on_round_boundaries(span: timedelta, step: timedelta) -> None:
    ticks = svg.time_ticks(at(7), at(7) + span)
    assert all(b - a == step for a, b in zip(ticks, ticks[1:], strict=False))
    assert all(t.timestamp() % step.total_seconds() == 0 for t in ticks)
    assert at(7) <= ticks[0] and ticks[-1] <= at(7) + span


def test_time_label_precision_follows_span() -> None:
    assert svg.time_label(at(5), timedelta(minutes=2)) == "10:00:05"
    assert svg.time_label(at(5), timedelta(hours=2)) == "10:00"
    assert svg.time_label(at(5), timedelta(days=3)) == "01-01 10:00"


def test_element_escapes_text_and_attributes() -> None:
    text = svg.element("text", "<script>alert(1)</script>", x=1, data_note='a"b', class_="c")
    root = parse_svg(svg.document(10, 10, [text], 'label "x"'))
    node = next(iter(root))
    assert node.text == "<script>alert(1)</script>"
    assert node.get("data-note") == 'a"b' and node.get("class") == "c"
    assert "<script>" not in text


def test_polyline_and_polygon_need_enough_points() -> None:
    assert svg.polyline([(0, 0)]) == ""
    assert svg.polygon([(0, 0), (1, 1)]) == ""
    assert 'points="0.0,0.0 1.0,1.0"' in svg.polyline([(0, 0), (1, 1)])
