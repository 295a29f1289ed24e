"""Typed rows read back from InfluxDB: anomalies as written by points.py, and series points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.store.points import ANOMALIES_MEASUREMENT, HOST_METRIC

__all__ = ["HOST_METRIC", "AnomalyRecord", "BandPoint", "SeriesPoint", "anomaly_from_values"]
# Columns Flux adds, and the core tags/fields of an anomaly; any other string column is a label.
_FLUX_COLUMNS = frozenset({"result", "table", "_start", "_stop", "_time", "_measurement"})
_ANOMALY_COLUMNS = frozenset(
    {
        "node", "metric", "scope", "severity", "detector", "score", "threshold", "event_id",
        "window_start_ms", "window_end_ms", "observed", "expected", "expected_low",
        "expected_high", "detected_at_ms", "reason", "exhaustion_eta_s", "eta_low_s",
        "eta_high_s",
    }
)  # fmt: skip


@dataclass(frozen=True)
class AnomalyRecord:
    """One flagged window as stored in the ``anomalies`` measurement."""

    node_id: str
    metric: str | None
    scope: str
    severity: str
    detector: str
    score: float
    threshold: float
    event_id: str
    window_start_at: datetime
    window_end_at: datetime
    observed: float | None = None
    expected: float | None = None
    expected_low: float | None = None
    expected_high: float | None = None
    labels: dict[str, str] = field(default_factory=dict)
    reason: str = "score"
    exhaustion_eta_s: float | None = None
    eta_low_s: float | None = None
    eta_high_s: float | None = None

    def why(self) -> str:
        """Why it was flagged, for people: the reason, with the time left when forecast.

        Examples
        --------
        >>> at = datetime(2026, 1, 1, tzinfo=UTC)
        >>> AnomalyRecord("n", "disk.root.used_percent", "series", "warning", "x", 0.5, 0.4,
        ...               "e", at, at, reason="forecast", exhaustion_eta_s=11_520.0,
        ...               eta_low_s=9_000.0).why()
        'forecast: full in 3.2 h (2.5 h – ?)'
        """
        if self.exhaustion_eta_s is None or self.reason != "forecast":
            return self.reason
        low, high = (_hours(v) for v in (self.eta_low_s, self.eta_high_s))
        return f"forecast: full in {_hours(self.exhaustion_eta_s)} ({low} – {high})"

    @property
    def series_key(self) -> tuple[str, str]:
        """(node, metric tag): the series this anomaly belongs to."""
        return (self.node_id, self.metric or HOST_METRIC)

    def as_row(self) -> dict[str, Any]:
        """Flat JSON-able dict (ISO times, labels as ``k=v`` pairs) for --json and --csv."""
        row = asdict(self)
        row["window_start_at"] = self.window_start_at.isoformat()
        row["window_end_at"] = self.window_end_at.isoformat()
        row["labels"] = ",".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return row


@dataclass(frozen=True)
class SeriesPoint:
    """One (time, value) point of a metric series, possibly a window mean."""

    at: datetime
    value: float


@dataclass(frozen=True)
class BandPoint:
    """The range a series was expected in at one time."""

    at: datetime
    low: float
    high: float


def anomaly_from_values(values: Mapping[str, Any]) -> AnomalyRecord:
    """Build an AnomalyRecord from one pivoted Flux row of the anomalies measurement.

    Raises
    ------
    ValueError
        When the row lacks a core column (node, severity, score, ...).
    """
    if values.get("_measurement", ANOMALIES_MEASUREMENT) != ANOMALIES_MEASUREMENT:
        raise ValueError(f"row of measurement {values.get('_measurement')!r}, not anomalies")
    try:
        start_at = _ms_or(values.get("window_start_ms"), values["_time"])
        metric = str(values["metric"])
        return AnomalyRecord(
            node_id=str(values["node"]),
            metric=None if metric == HOST_METRIC else metric,
            scope=str(values.get("scope") or ("host" if metric == HOST_METRIC else "series")),
            severity=str(values["severity"]),
            detector=str(values.get("detector") or ""),
            score=float(values["score"]),
            threshold=float(values.get("threshold") or 0.0),
            event_id=str(values.get("event_id") or ""),
            window_start_at=start_at,
            window_end_at=_ms_or(values.get("window_end_ms"), start_at),
            observed=_float_or_none(values.get("observed")),
            expected=_float_or_none(values.get("expected")),
            expected_low=_float_or_none(values.get("expected_low")),
            expected_high=_float_or_none(values.get("expected_high")),
            labels=_labels(values),
            reason=str(values.get("reason") or "score"),
            exhaustion_eta_s=_float_or_none(values.get("exhaustion_eta_s")),
            eta_low_s=_float_or_none(values.get("eta_low_s")),
            eta_high_s=_float_or_none(values.get("eta_high_s")),
        )
    except KeyError as exc:
        raise ValueError(f"anomaly row without column {exc.args[0]!r}") from None


def _hours(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds / 3600:.1f} h"


def _labels(values: Mapping[str, Any]) -> dict[str, str]:
    return {
        key: str(value)
        for key, value in values.items()
        if key not in _FLUX_COLUMNS and key not in _ANOMALY_COLUMNS and isinstance(value, str)
    }


def _ms_or(epoch_ms: Any, default: datetime) -> datetime:
    if epoch_ms is None:
        return default
    return datetime.fromtimestamp(int(epoch_ms) / 1000, tz=UTC)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
