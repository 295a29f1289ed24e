"""The fleet's anomaly timeline as SVG: anomalies per time bucket, and a node × time heat map."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.models import SEVERITY_RANK
from pipeline.report import svg
from pipeline.store.records import AnomalyRecord
from pipeline.store.timerange import TimeRange

WIDTH, LEFT, RIGHT = 1100, 150, 16
BARS_TOP, BARS_HEIGHT, ROW_HEIGHT, AXIS_HEIGHT = 26, 70, 14, 24
SEVERITY_COLOUR = {"info": "#6baed6", "warning": "#fd8d3c", "critical": "#d62728"}


@dataclass(frozen=True)
class HeatCell:
    """Anomalies of one node in one time bucket."""

    node_id: str
    bucket: int
    count: int
    worst: str


def bucket_cells(
    anomalies: Sequence[AnomalyRecord], time_range: TimeRange, buckets: int
) -> list[HeatCell]:
    """Group anomalies by (node, bucket of window start); each cell keeps its worst severity."""
    counts: Counter[tuple[str, int]] = Counter()
    worst: dict[tuple[str, int], str] = {}
    for anomaly in anomalies:
        index = _bucket(anomaly, time_range, buckets)
        if index is None:
            continue
        key = (anomaly.node_id, index)
        counts[key] += 1
        if SEVERITY_RANK.get(anomaly.severity, 0) >= SEVERITY_RANK.get(worst.get(key, "info"), 0):
            worst[key] = anomaly.severity
    return [HeatCell(node, index, n, worst[(node, index)]) for (node, index), n in counts.items()]


def busiest_nodes(cells: Sequence[HeatCell], limit: int) -> list[str]:
    """Nodes with the most anomalies first (ties by name), at most ``limit``."""
    totals: Counter[str] = Counter()
    for cell in cells:
        totals[cell.node_id] += cell.count
    return [node for node, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def fleet_timeline(
    anomalies: Sequence[AnomalyRecord],
    time_range: TimeRange,
    buckets: int = 60,
    max_nodes: int = 40,
) -> str:
    """Bars of anomalies per bucket over the fleet, then one heat-map row per busiest node."""
    cells = bucket_cells(anomalies, time_range, buckets)
    nodes = busiest_nodes(cells, max_nodes)
    heat_top = BARS_TOP + BARS_HEIGHT + 12
    height = heat_top + ROW_HEIGHT * len(nodes) + AXIS_HEIGHT
    x = svg.Scale(0, buckets, LEFT, WIDTH - RIGHT)
    body = [
        svg.element("rect", x=0, y=0, width=WIDTH, height=height, fill="#ffffff"),
        *_bars(cells, x, buckets),
        *_heat_rows(cells, nodes, x, heat_top),
        *_time_axis(time_range, height - AXIS_HEIGHT),
    ]
    hidden = len({cell.node_id for cell in cells}) - len(nodes)
    note = f"{len(nodes)} busiest nodes" + (f" (+{hidden} more not shown)" if hidden > 0 else "")
    body.append(svg.element("text", note, x=LEFT, y=heat_top - 3, fill="#666"))
    return svg.document(WIDTH, height, body, "fleet anomaly timeline by node and time")


def _bucket(anomaly: AnomalyRecord, time_range: TimeRange, buckets: int) -> int | None:
    offset_s = (anomaly.window_start_at - time_range.start_at).total_seconds()
    if offset_s < 0 or offset_s >= time_range.duration_s:
        return None
    return int(offset_s / time_range.duration_s * buckets)


def _bars(cells: Sequence[HeatCell], x: svg.Scale, buckets: int) -> list[str]:
    """Stacked by severity, so a burst of criticals stands out from background noise."""
    per_bucket: Counter[tuple[int, str]] = Counter()
    for cell in cells:
        per_bucket[(cell.bucket, cell.worst)] += cell.count
    totals: Counter[int] = Counter()
    for (bucket, _), count in per_bucket.items():
        totals[bucket] += count
    peak = max(totals.values(), default=0) or 1
    y = svg.Scale(0, peak, BARS_TOP + BARS_HEIGHT, BARS_TOP)
    parts = [svg.element("text", f"anomalies per bucket (peak {peak})", x=LEFT, y=16, fill="#333")]
    for index, severity in enumerate(("critical", "warning", "info")):
        left = WIDTH - RIGHT - 230 + index * 80
        parts.append(svg.element("rect", x=left, y=7, width=10, height=10,
                                 fill=SEVERITY_COLOUR[severity]))  # fmt: skip
        parts.append(svg.element("text", severity, x=left + 14, y=16, fill="#333"))
    for bucket in range(buckets):
        base = 0
        for severity in ("critical", "warning", "info"):
            count = per_bucket.get((bucket, severity), 0)
            if count:
                top, bottom = y(base + count), y(base)
                parts.append(_cell_rect(x, bucket, top, bottom - top, severity))
                base += count
    return parts


def _heat_rows(
    cells: Sequence[HeatCell], nodes: Sequence[str], x: svg.Scale, top: float
) -> list[str]:
    row_of = {node: index for index, node in enumerate(nodes)}
    peak = max((cell.count for cell in cells), default=1)
    parts = []
    for node, index in row_of.items():
        y = top + index * ROW_HEIGHT
        fill = "#f7f7f7" if index % 2 else "#fcfcfc"
        parts.append(svg.element("rect", x=LEFT, y=y, width=WIDTH - LEFT - RIGHT,
                                 height=ROW_HEIGHT, fill=fill))  # fmt: skip
        parts.append(svg.element("text", node[:22], x=LEFT - 6, y=y + ROW_HEIGHT - 3,
                                 text_anchor="end", fill="#333", class_="node"))  # fmt: skip
    for cell in cells:
        if cell.node_id in row_of:
            y = top + row_of[cell.node_id] * ROW_HEIGHT + 1
            opacity = round(0.35 + 0.65 * cell.count / peak, 2)
            parts.append(_cell_rect(x, cell.bucket, y, ROW_HEIGHT - 2, cell.worst, opacity))
    return parts


def _cell_rect(
    x: svg.Scale, bucket: int, y: float, height: float, severity: str, opacity: float = 1.0
) -> str:
    left, right = x(bucket), x(bucket + 1)
    return svg.element(
        "rect", x=left, y=y, width=max(right - left - 1, 1), height=height,
        fill=SEVERITY_COLOUR.get(severity, "#999999"), fill_opacity=opacity, class_=severity,
    )  # fmt: skip


def _time_axis(time_range: TimeRange, top: float) -> list[str]:
    x = svg.time_scale(time_range.start_at, time_range.stop_at, LEFT, WIDTH - RIGHT)
    span = time_range.stop_at - time_range.start_at
    return [
        svg.element("text", svg.time_label(tick, span), x=x(tick.timestamp()), y=top + 16,
                    text_anchor="middle", fill="#555")
        for tick in svg.time_ticks(time_range.start_at, time_range.stop_at)
    ]  # fmt: skip
