"""The agent process: sample every interval, spool, publish; on SIGTERM flush and leave."""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable

from pipeline import topics
from pipeline.agent.changes import ChangeSender, ChangeWatcher
from pipeline.agent.collectors.registry import HostPaths, build_collectors
from pipeline.agent.inventory import InventorySender
from pipeline.agent.publisher import Publisher
from pipeline.agent.sampler import Sampler
from pipeline.agent.spool import DirectorySpool
from pipeline.config import AgentSettings, KafkaSettings, TopicSettings
from pipeline.errors import ConfigError
from pipeline.models import NODE_ID_PATTERN, MetricBatch
from pipeline.shutdown import stop_on_signals

log = logging.getLogger(__name__)

ONCE_WARMUP_S = 1.0  # --once reads counters twice this far apart so rates are in the round


def resolve_node_id(settings: AgentSettings) -> str:
    """The configured node id, or the hostname.

    Raises
    ------
    ConfigError
        When the hostname is not a valid node id (set FLEETWATCH_AGENT_NODE_ID).
    """
    node_id = settings.node_id or socket.gethostname()
    if not re.match(NODE_ID_PATTERN, node_id):
        raise ConfigError(
            f"node id {node_id!r} is invalid; set {AgentSettings.env_name('node_id')}"
        )
    return node_id


def make_sampler(settings: AgentSettings, first_seq: int = 0) -> Sampler:
    """A Sampler over the enabled collectors, reading the configured host paths."""
    paths = HostPaths(
        proc_root=settings.proc_root,
        sys_root=settings.sys_root,
        rootfs=settings.rootfs,
        run_root=settings.run_root,
        watch_units=tuple(settings.watch_units),
        top_n=settings.top_n,
        top_hold_rounds=settings.top_hold_rounds,
    )
    collectors = build_collectors(settings.collector_names, paths)
    return Sampler(collectors, resolve_node_id(settings), settings.labels, first_seq=first_seq)


def sample_once(settings: AgentSettings, warmup_s: float = ONCE_WARMUP_S) -> MetricBatch:
    """One round as ``fleetwatch agent --once`` prints it (counters read twice for rates)."""
    sampler = make_sampler(settings)
    sampler.prime()
    time.sleep(warmup_s)
    return sampler.sample_one()


class SelfMetrics:
    """The agent's own cost and delivery state, published as ``agent.*`` in every batch."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, changes: ChangeSender | None = None
    ) -> None:
        self.clock = clock
        self.changes = changes
        self._last = (clock(), _cpu_seconds())

    def read(self, publisher: Publisher) -> dict[str, float]:
        """CPU % of one core since the last call, RSS, spool and delivery counters."""
        now, cpu = self.clock(), _cpu_seconds()
        last_now, last_cpu = self._last
        self._last = (now, cpu)
        metrics = {
            "agent.spool_pending": float(len(publisher.spool)),
            "agent.spool_bytes": float(publisher.spool.pending_bytes),
            "agent.spool_dropped": float(publisher.spool.dropped),
            "agent.spool_unpersisted": float(publisher.spool.unpersisted),
            "agent.publish_failures": float(publisher.failures),
            "agent.rss_bytes": float(_rss_bytes()),
        }
        if self.changes is not None:
            metrics["agent.changes_pending"] = float(self.changes.pending)
            metrics["agent.changes_dropped"] = float(self.changes.dropped)
        if now > last_now:
            metrics["agent.cpu_percent"] = 100.0 * (cpu - last_cpu) / (now - last_now)
        return metrics


def run_agent(
    settings: AgentSettings,
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    stop: threading.Event | None = None,
    on_batch: Callable[[MetricBatch], None] | None = None,
) -> None:
    """Sample every ``interval_s`` until ``stop`` is set (SIGTERM/SIGINT set it by default).

    ``on_batch`` sees every sampled batch (the remediation executor verifies recovery with it).
    """
    stop = stop or stop_on_signals()
    spool = DirectorySpool(settings.spool_dir, settings.spool_max_bytes).open()
    publisher = Publisher(
        kafka,
        topics.METRICS.name(topic_settings.prefix),
        spool,
        compression=settings.compression,
        send_timeout_s=settings.send_timeout_s,
    )
    sampler = make_sampler(settings, first_seq=spool.next_id)
    log.info(
        "agent %s: every %.0f s to %s, %d batches spooled from before",
        sampler.node_id,
        settings.interval_s,
        kafka.bootstrap,
        len(spool),
    )
    changes = ChangeWatcher.for_agent(sampler.node_id, settings, sampler)
    sender = ChangeSender(kafka, topic_settings, settings.send_timeout_s)
    inventory = InventorySender(
        kafka, topic_settings.prefix, settings.inventory_refresh_s, settings.send_timeout_s
    )

    def after_round(batch: MetricBatch) -> None:
        inventory.send_due([batch])  # the first round, a relabel, every inventory_refresh_s
        sender.send_many(changes.poll())  # package moves, a new kernel, unit restarts
        if on_batch is not None:
            on_batch(batch)

    try:
        _loop(settings.interval_s, sampler, publisher, stop, after_round, sender)
    finally:
        publisher.close(settings.shutdown_timeout_s)
        sender.close(settings.shutdown_timeout_s)
        inventory.close(settings.shutdown_timeout_s)
        log.info("agent stopped; %d batches left in the spool", len(spool))


def _loop(
    interval_s: float,
    sampler: Sampler,
    publisher: Publisher,
    stop: threading.Event,
    on_batch: Callable[[MetricBatch], None] | None = None,
    changes: ChangeSender | None = None,
) -> None:
    own = SelfMetrics(changes=changes)
    sampler.prime()
    publisher.drain(interval_s * 0.8)  # what a previous run left behind goes first
    next_at = time.monotonic() + interval_s
    while not stop.wait(max(0.0, next_at - time.monotonic())):
        batch = sampler.sample_one(extra=own.read(publisher))
        publisher.publish_many([batch])
        if on_batch is not None:
            on_batch(batch)
        publisher.drain(interval_s * 0.8)
        next_at += interval_s
        if time.monotonic() > next_at:  # a stall (suspend, slow disk): skip ticks, no burst
            next_at = time.monotonic() + interval_s


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
