"""Prometheus metrics of one worker, served at ``/metrics`` (rates come from the counters)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from pipeline.store.buffer import SinkCounters

__all__ = ["CONTENT_TYPE", "Meters", "parse_metrics", "scrape"]

_SAMPLE = re.compile(r"^([a-z_]+) (\S+)$", re.MULTILINE)


def parse_metrics(text: str) -> dict[str, float]:
    r"""Unlabelled samples of a Prometheus text exposition, by name.

    Examples
    --------
    >>> parse_metrics("# HELP x y\nfleetwatch_batches_total 12.0\nfleetwatch_lag 3\n")
    {'fleetwatch_batches_total': 12.0, 'fleetwatch_lag': 3.0}
    """
    return {name: float(value) for name, value in _SAMPLE.findall(text)}


def scrape(port: int, timeout_s: float = 5.0) -> dict[str, float]:
    """The samples a worker on 127.0.0.1:``port`` serves at ``/metrics``.

    Empty while it does not answer: not started yet, stopped, or gone.
    """
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - loopback
            return parse_metrics(response.read().decode())
    except OSError:
        return {}


class Meters:
    """Counters and gauges of a worker, in a registry of its own (tests run several workers)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.batches = Counter("fleetwatch_batches", "MetricBatches processed", registry=r)
        self.points = Counter("fleetwatch_points", "metric values processed", registry=r)
        self.anomalies = Counter("fleetwatch_anomalies", "AnomalyEvents emitted", registry=r)
        self.dead_letters = Counter("fleetwatch_dead_letters", "messages dead-lettered", registry=r)
        self.replayed = Counter(
            "fleetwatch_replayed", "re-read messages skipped: already in saved models", registry=r
        )
        self.duplicates = Counter(
            "fleetwatch_duplicate_batches",
            "batches skipped: same batch_id learned lately (an agent's re-send)",
            registry=r,
        )
        self.sink_wait = Counter(
            "fleetwatch_sink_wait_seconds",
            "time the stream waited for a slow InfluxDB (backpressure)",
            registry=r,
        )
        self.saves = Counter("fleetwatch_model_saves", "node models saved to the table", registry=r)
        self.rebalances = Counter(
            "fleetwatch_rebalances",
            "rebalances ended (partitions revoked to worker ready)",
            registry=r,
        )
        self.rebalance_seconds = Counter(
            "fleetwatch_rebalance_seconds", "time the worker spent rebalancing", registry=r
        )
        # Wall-clock times (Unix seconds), so that a benchmark can line up several workers.
        self._rebalance_began_s = 0.0
        self.rebalance_started_at = Gauge(
            "fleetwatch_rebalance_started_at_seconds", "when the last rebalance began", registry=r
        )
        self.rebalance_ended_at = Gauge(
            "fleetwatch_rebalance_ended_at_seconds", "when the last rebalance ended", registry=r
        )

    def watch(
        self,
        sink_counters: SinkCounters,
        sink_buffered: Callable[[], int],
        live_nodes: Callable[[], int],
        saved_bytes: Callable[[], int],
        consumer_lag: Callable[[], int],
        assigned_partitions: Callable[[], int],
        unacknowledged: Callable[[], int] = lambda: 0,
    ) -> None:
        """Gauges read at scrape time from the sink, the model state and the consumer."""
        r = self.registry
        gauges: dict[str, tuple[str, Callable[[], float]]] = {
            "fleetwatch_sink_buffer_points": ("points waiting for InfluxDB", sink_buffered),
            "fleetwatch_sink_written_points": ("points written", lambda: sink_counters.written),
            "fleetwatch_sink_retried_points": (
                "points in retried writes",
                lambda: sink_counters.retried,
            ),
            "fleetwatch_sink_rejected_points": (
                "points InfluxDB refused",
                lambda: sink_counters.rejected,
            ),
            "fleetwatch_sink_dropped_points": (
                "points dropped, buffer full",
                lambda: sink_counters.dropped,
            ),
            "fleetwatch_state_nodes": ("nodes with live models", live_nodes),
            "fleetwatch_state_saved_bytes": ("bytes of models saved so far", saved_bytes),
            "fleetwatch_consumer_lag_messages": ("messages not yet read", consumer_lag),
            "fleetwatch_assigned_partitions": (
                "partitions of the input topic assigned",
                assigned_partitions,
            ),
            "fleetwatch_unacknowledged_messages": (
                "messages read, not yet acknowledged (their node unsaved, or an earlier one's)",
                unacknowledged,
            ),
        }
        for name, (documentation, read) in gauges.items():
            Gauge(name, documentation, registry=r).set_function(read)

    def rebalance_started(self, at_s: float) -> None:
        """A rebalance began at Unix time ``at_s``."""
        self.rebalance_started_at.set(at_s)
        self._rebalance_began_s = at_s

    def rebalance_ended(self, at_s: float) -> None:
        """The rebalance begun last ended at Unix time ``at_s``."""
        self.rebalance_ended_at.set(at_s)
        self.rebalances.inc()
        self.rebalance_seconds.inc(max(0.0, at_s - self._rebalance_began_s))

    def render(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)
