"""A node's two jobs in one process: the agent publishing metrics, the executor acting on them.

The agent and remediation stages may not import each other; this is where they meet. The
executor verifies recovery with the agent's own latest sample of the metric it acted on.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from pipeline.agent.run import resolve_node_id, run_agent
from pipeline.config import (
    AgentSettings,
    ControlSettings,
    KafkaSettings,
    RemediationSettings,
    TopicSettings,
    load,
)
from pipeline.models import MetricBatch
from pipeline.remediate.worker import run_node_remediator
from pipeline.shutdown import stop_on_signals

log = logging.getLogger(__name__)


def run_agent_with_remediator(
    settings: AgentSettings,
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    config_file: Path | None,
    apply: bool,
) -> None:
    """Run the agent in this thread and this node's remediation executor beside it."""
    remediation = load(RemediationSettings, config_file, apply=True if apply else None)
    control = load(ControlSettings, config_file)
    run_node(settings, kafka, topic_settings, remediation, control, stop_on_signals())


def run_node(
    settings: AgentSettings,
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    remediation: RemediationSettings,
    control: ControlSettings,
    stop: threading.Event,
    **remediator_options: Any,
) -> None:
    """Run the agent in this thread and the executor in another until ``stop`` is set.

    The executor's recovery probe is the agent's latest sample of each metric.
    ``remediator_options`` go to :func:`run_node_remediator` (``ready``).
    """
    node_id = resolve_node_id(settings)
    latest: dict[str, float] = {}

    def remember(batch: MetricBatch) -> None:
        latest.update(batch.metrics)

    executor = threading.Thread(
        target=run_node_remediator,
        name="remediator",
        args=(kafka, topic_settings, remediation, control, node_id, dict(settings.labels)),
        kwargs={"probe": latest.get, "stop": stop.is_set, "proc_root": settings.proc_root}
        | remediator_options,
        daemon=True,
    )
    executor.start()
    mode = "APPLIES actions" if remediation.apply else "dry-run"
    log.info("node %s: remediation %s", node_id, mode)
    try:
        run_agent(settings, kafka, topic_settings, stop=stop, on_batch=remember)
    finally:
        stop.set()
        executor.join(timeout=30)
