"""A node's recent metrics as aligned arrays, read back from the ``metrics`` measurement.

What the incident stage diagnoses an incident from: every metric of the incident's nodes over the
incident window and the baseline before it, averaged into ``every_s`` buckets so a long baseline
stays a few hundred rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.config import InfluxSettings
from pipeline.store.flux import FluxQuery
from pipeline.store.points import METRICS_MEASUREMENT
from pipeline.store.query import run_flux

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NodeFrame:
    """One node's series: ``series[metric][i]`` at ``times_s[i]`` (NaN where not sampled)."""

    node_id: str
    times_s: FloatArray
    series: dict[str, FloatArray]


def frames_flux(bucket: str, node_ids: Sequence[str], start_at: datetime, stop_at: datetime) -> str:
    """Flux for every raw sample of ``node_ids`` (``frames_of`` averages them).

    Not ``aggregateWindow`` in Flux: on InfluxDB 1.8 it took 59 s where the raw rows took 1 s (one
    node, 85 metrics, 20 minutes, a loaded machine), longer than a query may wait, so incidents
    were diagnosed ``unknown`` for want of series.
    """
    return (
        FluxQuery(bucket, start_at, stop_at, METRICS_MEASUREMENT)
        .where_any("node", list(node_ids))
        .where_any("_field", ["value"])
        .then('keep(columns: ["_time", "_value", "node", "metric"])')
        .render()
    )


def frames_of(rows: Iterable[dict[str, Any]], every_s: int = 10) -> dict[str, NodeFrame]:
    """Rows (``node``, ``metric``, ``_time``, ``_value``) → one frame per node, ``every_s`` means.

    Each row goes to the ``every_s``-second window it falls in (aligned on the epoch, labelled by
    its start); a window's value is the mean of its rows.
    """
    if every_s < 1:
        raise ValueError(f"every_s must be positive, not {every_s}")
    cells: dict[str, dict[str, dict[float, list[float]]]] = {}
    for row in rows:
        at_s = math.floor(row["_time"].timestamp() / every_s) * every_s
        node = cells.setdefault(str(row["node"]), {})
        node.setdefault(str(row["metric"]), {}).setdefault(at_s, []).append(float(row["_value"]))
    return {
        node_id: _aligned(
            node_id,
            {
                m: {at_s: sum(v) / len(v) for at_s, v in values.items()}
                for m, values in metrics.items()
            },
        )
        for node_id, metrics in cells.items()
    }


def query_frames(
    influx: InfluxSettings,
    node_ids: Sequence[str],
    start_at: datetime,
    stop_at: datetime,
    every_s: int = 10,
) -> dict[str, NodeFrame]:
    """Every metric of ``node_ids`` in [start_at, stop_at), by node.

    Raises
    ------
    QueryError
        When InfluxDB is unreachable or refuses the query.
    """
    rows = run_flux(influx, frames_flux(influx.bucket, node_ids, start_at, stop_at))
    return frames_of(rows, every_s)


def _aligned(node_id: str, metrics: dict[str, dict[float, float]]) -> NodeFrame:
    times = sorted(set().union(*(values.keys() for values in metrics.values())))
    index = {at_s: i for i, at_s in enumerate(times)}
    series = {}
    for metric, values in metrics.items():
        column = np.full(len(times), np.nan)
        for at_s, value in values.items():
            column[index[at_s]] = value
        series[metric] = column
    return NodeFrame(node_id, np.asarray(times, dtype=np.float64), series)
