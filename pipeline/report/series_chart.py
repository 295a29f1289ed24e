"""One metric series as SVG: the line, its expected band, and its flagged windows shaded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from pipeline.report import svg
from pipeline.store.records import AnomalyRecord, BandPoint, SeriesPoint

WIDTH, HEIGHT = 1100, 230
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 30, 28
LINE_COLOUR, BAND_COLOUR, FLAG_COLOUR = "#1f5fbf", "#bcd5f5", "#d62728"


class _Timed(Protocol):
    @property
    def at(self) -> datetime: ...


T = TypeVar("T", bound=_Timed)


@dataclass(frozen=True)
class SeriesPanel:
    """Everything one chart shows; ``band_source`` says where the band came from."""

    node_id: str
    metric: str
    start_at: datetime
    stop_at: datetime
    points: Sequence[SeriesPoint]
    band: Sequence[BandPoint]
    windows: Sequence[AnomalyRecord]
    band_source: str


def series_chart(panel: SeriesPanel) -> str:
    """The panel as an inline ``<svg>`` element."""
    x = svg.time_scale(panel.start_at, panel.stop_at, LEFT, WIDTH - RIGHT)
    lo, hi = svg.padded_bounds(_all_values(panel))
    y = svg.Scale(lo, hi, HEIGHT - BOTTOM, TOP)
    body = [
        svg.element("rect", x=0, y=0, width=WIDTH, height=HEIGHT, fill="#ffffff"),
        *_axes(panel, x, y),
        *_band(panel.band, x, y),
        *_flagged(panel, x),
        *_line(panel.points, x, y),
        *_flag_marks(panel.windows, x, y),
        *_legend(panel),
    ]
    label = f"{panel.metric} on {panel.node_id}: series, expected band and flagged windows"
    return svg.document(WIDTH, HEIGHT, body, label)


def _all_values(panel: SeriesPanel) -> list[float]:
    values = [p.value for p in panel.points]
    values += [v for b in panel.band for v in (b.low, b.high)]
    for window in panel.windows:
        marks = (window.observed, window.expected_low, window.expected_high)
        values += [v for v in marks if v is not None]
    return values


def _axes(panel: SeriesPanel, x: svg.Scale, y: svg.Scale) -> list[str]:
    parts = []
    for level in svg.nice_ticks(y.lo, y.hi):
        py = y(level)
        parts.append(svg.element("line", x1=LEFT, x2=WIDTH - RIGHT, y1=py, y2=py, stroke="#eee"))
        parts.append(
            svg.element(
                "text", svg.value_label(level), x=LEFT - 6, y=py + 4, text_anchor="end", fill="#555"
            )
        )
    span = panel.stop_at - panel.start_at
    for tick in svg.time_ticks(panel.start_at, panel.stop_at):
        px = x(tick.timestamp())
        parts.append(
            svg.element("line", x1=px, x2=px, y1=TOP, y2=HEIGHT - BOTTOM, stroke="#f2f2f2")
        )
        parts.append(
            svg.element(
                "text",
                svg.time_label(tick, span),
                x=px,
                y=HEIGHT - 10,
                text_anchor="middle",
                fill="#555",
            )
        )
    width, height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts.append(
        svg.element("rect", x=LEFT, y=TOP, width=width, height=height, fill="none", stroke="#ccc")
    )
    return parts


def _band(band: Sequence[BandPoint], x: svg.Scale, y: svg.Scale) -> list[str]:
    """One polygon per run of consecutive band points (gaps in the data stay gaps)."""
    parts = []
    for run in _runs(band):
        upper = [(x(b.at.timestamp()), y(b.high)) for b in run]
        lower = [(x(b.at.timestamp()), y(b.low)) for b in reversed(run)]
        parts.append(svg.polygon(upper + lower, fill=BAND_COLOUR, fill_opacity=0.7, class_="band"))
    return parts


def _line(points: Sequence[SeriesPoint], x: svg.Scale, y: svg.Scale) -> list[str]:
    return [
        svg.polyline(
            [(x(p.at.timestamp()), y(p.value)) for p in run],
            stroke=LINE_COLOUR,
            stroke_width=1.6,
            class_="series",
        )
        for run in _runs(points)
    ]


def _runs(items: Sequence[T]) -> list[list[T]]:
    """Split time-ordered items where a gap is over 3× the median spacing (missing data)."""
    if len(items) < 3:
        return [list(items)] if items else []
    steps = sorted((b.at - a.at).total_seconds() for a, b in zip(items, items[1:], strict=False))
    limit_s = 3 * steps[len(steps) // 2]
    runs: list[list[T]] = [[items[0]]]
    for before, item in zip(items, items[1:], strict=False):
        if (item.at - before.at).total_seconds() > limit_s:
            runs.append([])
        runs[-1].append(item)
    return runs


def _flagged(panel: SeriesPanel, x: svg.Scale) -> list[str]:
    parts = []
    for window in panel.windows:
        x0 = max(x(window.window_start_at.timestamp()), LEFT)
        x1 = min(x(window.window_end_at.timestamp()), WIDTH - RIGHT)
        parts.append(
            svg.element(
                "rect",
                x=x0,
                y=TOP,
                width=max(x1 - x0, 2.0),
                height=HEIGHT - TOP - BOTTOM,
                fill=FLAG_COLOUR,
                fill_opacity=0.16,
                stroke=FLAG_COLOUR,
                stroke_opacity=0.5,
                class_="flagged",
            )
        )
    return parts


def _flag_marks(windows: Sequence[AnomalyRecord], x: svg.Scale, y: svg.Scale) -> list[str]:
    """The detector's own expected range at each flag (when stored) and the observed value."""
    parts = []
    for window in windows:
        mid = x((window.window_start_at.timestamp() + window.window_end_at.timestamp()) / 2)
        if window.expected_low is not None and window.expected_high is not None:
            y_top, y_bottom = y(window.expected_high), y(window.expected_low)
            parts.append(
                svg.element(
                    "line",
                    x1=mid,
                    x2=mid,
                    y1=y_top,
                    y2=y_bottom,
                    stroke="#0b3d91",
                    stroke_width=3,
                    stroke_opacity=0.6,
                )
            )
        if window.observed is not None:
            parts.append(
                svg.element("circle", cx=mid, cy=y(window.observed), r=4, fill=FLAG_COLOUR)
            )
    return parts


def _legend(panel: SeriesPanel) -> list[str]:
    peak = max((w.score for w in panel.windows), default=0.0)
    title = f"{panel.node_id} · {panel.metric}"
    detail = f"{len(panel.windows)} flagged window(s), peak score {peak:.2f}"
    return [
        svg.text_pair(
            title, detail, "#a11", x=LEFT, y=18, font_size=13, font_weight="bold", fill="#222"
        ),  # fmt: skip
        svg.element(
            "text",
            f"band: {panel.band_source}",
            x=WIDTH - RIGHT,
            y=18,
            text_anchor="end",
            fill="#4a6fa5",
        ),
    ]
