"""``fleetwatch bench incidents``: anomaly events per second one incident stage handles.

Events of a simulated fleet (``nodes`` nodes in 20 roles and 4 zones, every node in the stage's
inventory as its agent's inventory record puts it there) are encoded as they travel on Kafka: host
noise on random nodes, plus one role in 20 whose nodes all deviate on one metric (a bad deploy),
so host and fleet incidents both form. The timed loop decodes each event and hands it to the real
stage (grouping, fleet detection, hints, silences, incident points), ticking after every 5,000
events as the worker does after each poll (``max_records=5000``). One process, one core; no Kafka
or InfluxDB in the loop.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta

from influxdb_client.client.write.point import Point

from pipeline.config import IncidentSettings
from pipeline.control.keys import Keyring
from pipeline.incidents.grouping import IncidentTracker
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.stage import IncidentStage
from pipeline.incidents.worker import grouping_policy
from pipeline.models import AnomalyEvent, InventoryRecord, decode, encode, utc_now

POLL_RECORDS = 5_000  # the incident worker's max_records per poll; it ticks after each poll
METRICS = ("cpu.usage_user", "mem.used_percent", "disk.root.used_percent", "net.eth0.rx_bytes")


@dataclass
class IncidentFigures:
    """What one run measured (``--json`` prints these keys)."""

    events: int
    nodes: int
    seconds: float
    cpu_seconds: float
    events_per_s: float  # per CPU second of this process: what one core sustains
    incidents_published: int

    def as_dict(self) -> dict[str, float | int]:
        """The figures as a flat dict."""
        return asdict(self)


class _Discard:
    """A sink that settles at once: the bench measures the stage, not InfluxDB."""

    def __init__(self) -> None:
        self.added = 0

    def start(self) -> None:
        pass

    def add_many(self, items: Iterable[Point]) -> int:
        self.added += sum(1 for _ in items)
        return self.added

    @property
    def settled(self) -> int:
        return self.added

    def flush(self, timeout_s: float = 10.0) -> bool:
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        pass


def run_incidents_bench(events: int, nodes: int, seed: int = 7) -> IncidentFigures:
    """Feed ``events`` encoded anomaly events of ``nodes`` nodes through one incident stage."""
    encoded = _events(events, nodes, random.Random(seed))  # noqa: S311 - test data, not keys
    settings = IncidentSettings()
    inventory = Inventory()
    for node in range(nodes):
        inventory.observe_record(
            InventoryRecord(
                node_id=f"node-{node:06d}", labels=_labels(node), published_at=utc_now(),
                refresh_s=3600.0,
            )
        )  # fmt: skip
    tracker = IncidentTracker(grouping_policy(settings), inventory)
    stage = IncidentStage(tracker, None, _Discard(), Keyring([]))
    published = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for number, raw in enumerate(encoded, start=1):
        event = decode(AnomalyEvent, raw)
        published += len(stage.on_anomaly(event, event.window_end_at).incidents)
        if number % POLL_RECORDS == 0 or number == len(encoded):
            published += len(stage.tick(event.window_end_at).incidents)
    seconds = time.perf_counter() - started
    # CPU time, not wall time: on a shared machine the wall clock also counts waiting for a core.
    cpu_seconds = time.process_time() - cpu_started
    return IncidentFigures(events, nodes, seconds, cpu_seconds, events / cpu_seconds, published)


def _events(count: int, nodes: int, rng: random.Random) -> list[bytes]:
    start = utc_now() - timedelta(hours=1)
    encoded = []
    for number in range(count):
        at = start + timedelta(milliseconds=number * 10)  # 100 events per second of data time
        if rng.random() < 0.5:  # the bad deploy: role0's nodes, one metric
            node, metric = rng.randrange(0, nodes, 20), METRICS[0]
        else:  # host noise anywhere, any metric
            node, metric = rng.randrange(nodes), rng.choice(METRICS)
        event = AnomalyEvent(
            event_id=f"e-{number}", node_id=f"node-{node:06d}", labels=_labels(node),
            scope="series",
            metric=metric, window_start_at=at - timedelta(seconds=10), window_end_at=at,
            score=0.97, threshold=0.9, observed=95.0, expected=20.0, detector="bench",
            severity="critical",
        )  # fmt: skip
        encoded.append(encode(event))
    return encoded


def _labels(node: int) -> dict[str, str]:
    return {"role": f"role{node % 20}", "zone": f"z{node % 4}"}
