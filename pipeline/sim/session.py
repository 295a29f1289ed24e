"""What ``fleetwatch simulate`` runs: topics, a publisher, progress, then a fleet or a replay."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from pipeline import topics
from pipeline.agent.publisher import Publisher
from pipeline.agent.spool import MemorySpool
from pipeline.bus import ensure_topics
from pipeline.config import KafkaSettings, TopicSettings
from pipeline.errors import FleetwatchError
from pipeline.sim.fleet import Scenario, SimulatedFleet
from pipeline.sim.replay import load_series, replay_ground_truth, replay_rounds
from pipeline.sim.runner import SimulationReport, publish_rounds, run_simulation, write_ground_truth

SPOOL_BYTES = 256 * 1024 * 1024  # in memory: a simulator has no restart to survive


def make_publisher(kafka: KafkaSettings, topic_settings: TopicSettings) -> Publisher:
    """Create the topics if missing and a Publisher to the metrics topic."""
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    topic = topics.METRICS.name(topic_settings.prefix)
    return Publisher(kafka, topic, MemorySpool(SPOOL_BYTES))


def run_simulate(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    scenario: Scenario,
    speed: float,
    ground_truth_path: Path | None,
    rounds: int | None = None,
) -> SimulationReport:
    """Publish a simulated fleet with a progress bar; fails if batches were left undelivered."""
    fleet = SimulatedFleet(scenario)
    publisher = make_publisher(kafka, topic_settings)
    total = min(rounds, fleet.rounds) if rounds else fleet.rounds
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"{scenario.nodes} nodes, {len(fleet.faults)} faults", total=total)
        report = run_simulation(
            fleet,
            publisher,
            speed=speed,
            ground_truth_path=ground_truth_path,
            rounds=rounds,
            on_round=lambda *_: progress.advance(task),
        )
    return _checked(report, publisher)


def run_replay(
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    directory: Path,
    speed: float,
    interval_s: float,
    ground_truth_path: Path | None,
) -> SimulationReport:
    """Replay every CSV under ``directory`` as node metrics."""
    series = load_series(directory)
    if ground_truth_path is not None:
        write_ground_truth(ground_truth_path, replay_ground_truth(directory, series))
    publisher = make_publisher(kafka, topic_settings)
    total = sum(len(s.rows) for s in series)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(f"replaying {len(series)} series", total=total)
        report = publish_rounds(
            replay_rounds(series, interval_s),
            publisher,
            speed,
            interval_s,
            on_round=lambda _, batches: progress.advance(task, len(batches)),
        )
    return _checked(report, publisher)


def _checked(report: SimulationReport, publisher: Publisher) -> SimulationReport:
    publisher.close(timeout_s=0)
    if report.spooled:
        raise FleetwatchError(
            f"{report.spooled} of {report.batches} batches not acknowledged by "
            f"{publisher.kafka.bootstrap} ({report.dropped} dropped)"
        )
    return report
