"""Changes a node's agent sees (package moves, a new kernel, unit restarts) as ChangeEvents.

They go to ``fleet.changes`` beside what CI/CD hooks record with ``fleetwatch change record``, so
the incident stage can link an incident to what changed in its cohort just before it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline import topics
from pipeline.agent.collectors.base import read_text
from pipeline.agent.collectors.units import UnitCollector
from pipeline.agent.package_log import PackageLog, PackageMove
from pipeline.agent.publisher import Publisher
from pipeline.agent.sampler import Sampler
from pipeline.agent.spool import MemorySpool
from pipeline.config import AgentSettings, KafkaSettings, TopicSettings
from pipeline.models import ChangeEvent, ChangeKind, encode

log = logging.getLogger(__name__)

AGENT_WHO = "fleetwatch-agent"
SPOOL_BYTES = 1024 * 1024  # changes kept while Kafka is unreachable (a few thousand)
STATE_FILE = "changes-state.json"  # in the spool directory: the last kernel release seen


class ChangeWatcher:
    """Turns what changed on this node since the last call into ChangeEvents.

    Parameters
    ----------
    node_id, role
        Who the changes are about (``role`` from the agent's labels, when it has one).
    packages
        The package log tailer.
    units
        The agent's unit collector, whose ``restarted_units`` it reports; None when disabled.
    proc_root
        For ``sys/kernel/osrelease``.
    state_path
        Where the last kernel release is kept, so a reboot into a new kernel is a change.
    """

    def __init__(
        self,
        node_id: str,
        role: str | None,
        packages: PackageLog,
        units: UnitCollector | None,
        proc_root: Path,
        state_path: Path,
    ) -> None:
        self.node_id = node_id
        self.role = role
        self.packages = packages
        self.units = units
        self.proc_root = Path(proc_root)
        self.state_path = Path(state_path)
        self._release: str | None = None  # the kernel release seen last, once read

    @classmethod
    def for_agent(cls, node_id: str, settings: AgentSettings, sampler: Sampler) -> ChangeWatcher:
        """The watcher of a running agent: its host paths, role label and unit collector."""
        units = next((c for c in sampler.collectors if isinstance(c, UnitCollector)), None)
        packages = PackageLog(settings.rootfs)
        packages.poll()  # from now on: what the logs hold already is history
        return cls(
            node_id,
            settings.labels.get("role"),
            packages,
            units,
            settings.proc_root,
            settings.spool_dir / STATE_FILE,
        )

    def poll(self) -> list[ChangeEvent]:
        """Changes since the previous poll (call after the round's collectors ran)."""
        changes = self._packages(self.packages.poll()) + self._kernel()
        for unit in self.units.restarted_units if self.units is not None else ():
            changes.append(self._change("restart", summary=f"{unit} restarted"))
        return changes

    def _change(self, kind: ChangeKind, **fields: str | None) -> ChangeEvent:
        return ChangeEvent(kind=kind, role=self.role, nodes=[self.node_id], who=AGENT_WHO, **fields)

    def _packages(self, moves: Sequence[PackageMove]) -> list[ChangeEvent]:
        if not moves:
            return []
        named = ", ".join(f"{m.action} {m.package} {m.version}" for m in moves[:5])
        more = f" (+{len(moves) - 5} more)" if len(moves) > 5 else ""
        first = moves[0]
        version = f"{first.package} {first.version}"[:128]
        return [self._change("package", version=version, summary=(named + more)[:512])]

    def _kernel(self) -> list[ChangeEvent]:
        release = (read_text(self.proc_root / "sys" / "kernel" / "osrelease") or "").strip()
        if not release or release == self._release:
            return []
        before = self._release or _read_state(self.state_path).get("kernel_release")
        self._release = release
        if before == release:
            return []
        _write_state(self.state_path, {"kernel_release": release})
        if before is None:
            return []  # first run on this node: nothing to compare with
        return [self._change("kernel", version=release[:128], summary=f"{before} -> {release}")]


class ChangeSender:
    """Publishes the agent's ChangeEvents to ``fleet.changes`` without holding up sampling.

    A second :class:`Publisher` on the changes topic, over a small in-memory spool: the same
    acks, backoff and short bootstrap timeout as the metrics, so an unreachable Kafka costs a
    round at most a few seconds once, then nothing while backing off. Beyond ``SPOOL_BYTES``
    the oldest changes are dropped and counted (``dropped``), never silently.
    """

    def __init__(
        self, kafka: KafkaSettings, topic_settings: TopicSettings, send_timeout_s: float = 10.0
    ) -> None:
        topic = topics.CHANGES.name(topic_settings.prefix)
        self.publisher = Publisher(kafka, topic, MemorySpool(SPOOL_BYTES), "auto", send_timeout_s)

    @property
    def pending(self) -> int:
        """Changes not yet acknowledged."""
        return len(self.publisher.spool)

    @property
    def dropped(self) -> int:
        """Changes dropped because the spool was full."""
        return self.publisher.spool.dropped

    def send_many(self, changes: Iterable[ChangeEvent], budget_s: float = 2.0) -> int:
        """Spool ``changes`` and send what is pending within ``budget_s``; returns how many went."""
        for change in changes:
            self.publisher.spool.append(change.change_id.encode(), encode(change))
        return self.publisher.drain(budget_s) if self.pending else 0

    def close(self, timeout_s: float) -> None:
        """Deliver what is pending within ``timeout_s``, then close."""
        self.publisher.close(timeout_s)


def _read_state(path: Path) -> dict[str, str]:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(path: Path, state: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state))
    except OSError as exc:  # a read-only state dir costs the kernel check, not the agent
        log.warning("cannot keep the kernel release in %s: %s", path, exc)
