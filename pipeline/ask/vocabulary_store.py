"""The vocabulary read from InfluxDB: nodes, their roles and metric names seen in a range."""

from __future__ import annotations

from pipeline.ask.vocabulary import Vocabulary
from pipeline.config import InfluxSettings
from pipeline.store.flux import FluxQuery
from pipeline.store.points import ANOMALIES_MEASUREMENT, METRICS_MEASUREMENT
from pipeline.store.query import run_flux
from pipeline.store.timerange import TimeRange


def load_vocabulary(influx: InfluxSettings, time_range: TimeRange) -> Vocabulary:
    """Every node (with its ``role`` label) and metric in ``metrics`` and ``anomalies``.

    One row per series (``last()``), so the cost is the number of series, not of points.
    """
    nodes: set[str] = set()
    metrics: set[str] = set()
    role_of: dict[str, str] = {}
    for measurement in (METRICS_MEASUREMENT, ANOMALIES_MEASUREMENT):
        flux = (
            FluxQuery(influx.bucket, time_range.start_at, time_range.stop_at, measurement)
            .then("last()")
            .render()
        )
        for row in run_flux(influx, flux):
            node = str(row.get("node") or "")
            nodes.add(node)
            metrics.add(str(row.get("metric") or ""))
            if row.get("role"):
                role_of[node] = str(row["role"])
    metrics.discard("_host")
    return Vocabulary(tuple(sorted(nodes - {""})), tuple(sorted(metrics - {""})), role_of)
