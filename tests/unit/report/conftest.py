"""Pure factories of report inputs."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses only SVG we generated
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.store.incidents import IncidentRecord
from pipeline.store.records import AnomalyRecord, SeriesPoint

T0 = datetime(2026, 1, 1, 10, tzinfo=UTC)
SVG_NS = "{http://www.w3.org/2000/svg}"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_anomaly(node: str = "web-1", start_s: float = 600, **overrides: Any) -> AnomalyRecord:
    fields: dict[str, Any] = {
        "node_id": node, "metric": "cpu.usage_user", "scope": "series", "severity": "critical",
        "detector": "hw", "score": 0.95, "threshold": 0.9, "event_id": f"e-{node}-{start_s}",
        "window_start_at": at(start_s), "window_end_at": at(start_s + 60), "observed": 95.0,
        "expected": 20.0, "expected_low": 10.0, "expected_high": 30.0,
    }  # fmt: skip
    return AnomalyRecord(**(fields | overrides))


def make_incident_record(**overrides: Any) -> IncidentRecord:
    fields: dict[str, Any] = {
        "incident_id": "inc-1", "kind": "host", "status": "open", "severity": "critical",
        "title": "CPU runaway", "node_id": "web-1", "metrics": ("cpu.usage_user",),
        "affected_nodes": ("web-1",), "affected_count": 1, "event_count": 3,
        "opened_at": at(600), "updated_at": at(700),
    }  # fmt: skip
    return IncidentRecord(**(fields | overrides))


def sine_points(
    count: int = 120, step_s: float = 10, spike_at: int | None = None
) -> list[SeriesPoint]:
    points = [SeriesPoint(at(i * step_s), 20 + 3 * math.sin(i / 5)) for i in range(count)]
    if spike_at is not None:
        points[spike_at] = SeriesPoint(points[spike_at].at, 95.0)
    return points


def parse_svg(text: str) -> ET.Element:
    """Well-formedness check: the SVG parses as XML."""
    return ET.fromstring(text)  # noqa: S314 - our own output


def svgs_in(html: str) -> list[ET.Element]:
    return [parse_svg(m) for m in re.findall(r"<svg.*?</svg>", html, flags=re.S)]


def by_class(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return [e for e in root.iter(SVG_NS + tag) if e.get("class") == css_class]
