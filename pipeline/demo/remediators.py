"""The simulated nodes' remediation executors, one thread each, always in dry-run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pipeline.config import (
    ControlSettings,
    KafkaSettings,
    RemediationSettings,
    TopicSettings,
)
from pipeline.remediate.worker import run_node_remediator


@dataclass
class FleetRemediators:
    """Executors for virtual nodes; real nodes run the same code inside ``fleetwatch agent``."""

    kafka: KafkaSettings
    topic_settings: TopicSettings
    settings: RemediationSettings
    control: ControlSettings
    threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self, nodes: dict[str, dict[str, str]], ready_timeout_s: float = 60.0) -> None:
        """Start one executor per node id (with its labels); return once all are subscribed."""
        if self.settings.apply:
            raise ValueError("simulated nodes have nothing to act on: remediation must be dry-run")
        events = []
        for node_id, labels in nodes.items():
            ready = threading.Event()
            thread = threading.Thread(
                target=run_node_remediator,
                name=f"remediator-{node_id}",
                args=(
                    self.kafka,
                    self.topic_settings,
                    self.settings,
                    self.control,
                    node_id,
                    labels,
                ),
                kwargs={"stop": self._stop.is_set, "ready": ready},
                daemon=True,
            )
            thread.start()
            self.threads.append(thread)
            events.append(ready)
        for ready in events:
            ready.wait(ready_timeout_s)

    def stop(self) -> None:
        """Stop every executor and wait for it briefly."""
        self._stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
