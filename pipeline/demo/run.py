"""``fleetwatch demo``: the whole pipeline, live, on a simulated fleet with scripted faults.

Real Kafka, InfluxDB and Alertmanager (deploy/local) → a stream worker and the incident stage as
child processes → the simulated fleet published through the agent's own publisher → dry-run
executors for every virtual node. The run ends with a scorecard of injected faults against
detections.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.live import Live

from pipeline import topics
from pipeline.bus import ensure_topics, publish_keyed
from pipeline.config import (
    ControlSettings,
    IncidentSettings,
    InfluxSettings,
    KafkaSettings,
    RemediationSettings,
    StreamSettings,
    TopicSettings,
)
from pipeline.control.keys import create_key
from pipeline.demo.afterword import ask_about_run, tune_incidents
from pipeline.demo.components import Component, Components, worker_lag, worker_state
from pipeline.demo.live import Progress, render_live, render_scorecard
from pipeline.demo.remediators import FleetRemediators
from pipeline.demo.scenario import demo_scenario, deploy_changes, speed_for
from pipeline.demo.scorecard import (
    Detection,
    IncidentSpan,
    InjectedFault,
    Scorecard,
    score_run,
)
from pipeline.demo.watch import TopicWatcher
from pipeline.errors import FleetwatchError
from pipeline.local import reset_database, run_stack
from pipeline.models import ChangeEvent, utc_now
from pipeline.sim import SimulatedFleet, run_simulation
from pipeline.sim.session import make_publisher

RUNBOOK = Path(__file__).resolve().parents[2] / "deploy" / "runbooks" / "default.yaml"
# One database per run: two demos on one stack (two people, or a test beside a demo) must not
# drop each other's series, which the incident stage's diagnosis reads back.
DEMO_DATABASE = "fleetwatch_demo_{run_id}"
# Wall seconds outside the simulation: stack, components, draining the last windows.
OVERHEAD_S = 45.0
SETTLE_S = 8.0
# Longest wait, once the fleet has stopped, for the worker to read any of what it was sent.
DRAIN_S = 180.0
PUBLISHER_CLOSE_S = 10.0  # most a stopping fleet waits for Kafka to take what it sent


@dataclass(frozen=True)
class DemoOptions:
    """What ``fleetwatch demo`` was asked for."""

    minutes: float = 3.0
    nodes: int = 50
    keep: bool = False
    seed: int = 7


def run_demo(options: DemoOptions, console: Console) -> Scorecard:
    """Run the demo end to end; raises FleetwatchError when the pipeline is broken."""
    # The executors of 50 virtual nodes and the incident stage would log every step (dry runs,
    # audit); the live view shows them.
    for stage in ("pipeline.incidents", "pipeline.remediate", "pipeline.control"):
        logging.getLogger(stage).setLevel(logging.WARNING)
    was_running = bool(run_stack("status"))
    with console.status("starting Kafka, InfluxDB and Alertmanager on 127.0.0.1 (fetched once)"):
        addresses = run_stack("up")
    kafka = KafkaSettings(bootstrap=addresses[KafkaSettings.env_name("bootstrap")])
    run_id = uuid.uuid4().hex[:6]
    database = DEMO_DATABASE.format(run_id=run_id)
    bucket = f"{database}/autogen"
    influx = InfluxSettings(url=addresses[InfluxSettings.env_name("url")], bucket=bucket)
    reset_database(influx.url, database)  # each run's anomalies alone, for --keep
    topic_settings = TopicSettings(prefix=f"demo{run_id}.")
    ensure_topics(kafka, topic_settings, topics.ALL_TOPICS)
    work_dir = Path(tempfile.mkdtemp(prefix=f"fleetwatch-demo-{run_id}-"))
    keys = demo_keys(work_dir)
    children = Components()
    try:
        alertmanager_url = addresses["FLEETWATCH_ALERTMANAGER_URL"]
        components = (kafka, influx, topic_settings, work_dir, keys, alertmanager_url)
        card = _run(options, console, *components, children)
    finally:
        children.stop_all()
        if not options.keep and not was_running:  # never stop a stack somebody else started
            run_stack("down")
    _explain_keep(
        console, options, addresses | {InfluxSettings.env_name("bucket"): bucket}, work_dir
    )
    return card


def _run(
    options: DemoOptions,
    console: Console,
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    work_dir: Path,
    keys: ControlSettings,
    alertmanager_url: str,
    children: Components,
) -> Scorecard:
    scenario = demo_scenario(options.nodes, options.seed)
    fleet = SimulatedFleet(scenario)
    span_end = fleet.start_at + timedelta(seconds=scenario.duration_s)
    console.print(
        f"simulated time: {fleet.start_at:%Y-%m-%d %H:%M}-{span_end:%H:%M} UTC"
        " (the same hours every run)"
    )
    with console.status("starting the stream worker and the incident stage"):
        web_port = _start_components(
            children, kafka, influx, topic_settings, work_dir, keys, alertmanager_url
        )
        _wait_for_worker(children, web_port)
    remediators = FleetRemediators(
        kafka,
        topic_settings,
        RemediationSettings(state_dir=work_dir / "remediation"),
        ControlSettings(keyring=keys.keyring),  # nodes hold public keys only
    )
    watcher = TopicWatcher(kafka, topic_settings)
    changes = deploy_changes(fleet)
    _record_changes(kafka, topics.CHANGES.name(topic_settings.prefix), list(changes.values()))
    try:  # every client of this process is closed before the caller stops Kafka
        with console.status(f"starting dry-run executors on {options.nodes} virtual nodes"):
            remediators.start({node.node_id: node.labels for node in fleet.nodes})
        watcher.start()
        _simulate(options, console, kafka, topic_settings, fleet, work_dir, watcher, children)
        _drain(console, children, web_port, options.nodes)
    finally:
        watcher.stop()
        remediators.stop()
    ask_about_run(console, influx, watcher.tally.data_at or utc_now())  # the watcher has stopped
    tune_incidents(console, list(watcher.tally.incidents.values()))
    with watcher.lock:
        tally = watcher.tally
        return score_run(
            [
                InjectedFault.from_ground_truth(f.ground_truth(), changes.get(f.fault_id))
                for f in fleet.faults
            ],
            [Detection.from_event(event) for event in tally.events.values()],
            incident_ids=[IncidentSpan.from_incident(i) for i in tally.incidents.values()],
            action_ids=tally.requests,
            clock="window_end_at",
            actions=tally.actions(),
        )


def demo_keys(work_dir: Path) -> ControlSettings:
    """An issuer key pair for this run: the stage signs with it, the nodes get the keyring."""
    keyring = work_dir / "keys" / "keyring.json"
    now = utc_now()
    issuer_key, _entry = create_key(
        keyring.parent,
        keyring,
        "issuer",
        "demo",
        now - timedelta(minutes=5),
        now + timedelta(days=1),
    )
    return ControlSettings(keyring=keyring, signing_key=issuer_key)


def _start_components(
    children: Components,
    kafka: KafkaSettings,
    influx: InfluxSettings,
    topic_settings: TopicSettings,
    work_dir: Path,
    keys: ControlSettings,
    alertmanager_url: str,
) -> int:
    servers = [
        "--kafka-bootstrap", kafka.bootstrap, "--influx-url", influx.url,
        "--topic-prefix", topic_settings.prefix,
    ]  # fmt: skip
    env = {
        ControlSettings.env_name("keyring"): str(keys.keyring),
        ControlSettings.env_name("signing_key"): str(keys.signing_key),
        IncidentSettings.env_name("alertmanager_url"): alertmanager_url,
        StreamSettings.env_name("write_detail"): "true",
        InfluxSettings.env_name("bucket"): influx.bucket,
    }
    web_port = _free_port()
    children.start(
        Component(
            "worker",
            ["worker", *servers, "--app-id", f"{topic_settings.prefix}worker",
             "--data-dir", str(work_dir / "worker"), "--web-port", str(web_port)],
            work_dir / "worker.log",
            env,
        )
    )  # fmt: skip
    children.start(
        Component(
            "incident stage",
            ["incidents-worker", *servers, "--runbook", str(RUNBOOK),
             "--group-id", f"{topic_settings.prefix}incidents"],
            work_dir / "incidents.log",
            env,
        )
    )  # fmt: skip
    return web_port


def _wait_for_worker(children: Components, web_port: int, deadline_s: float = 60.0) -> None:
    """The worker answers /metrics once its app has started."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        _raise_if_dead(children)
        if worker_lag(web_port) is not None:
            return
        time.sleep(0.5)
    raise FleetwatchError(f"the stream worker did not start within {deadline_s:.0f} s")


def _simulate(
    options: DemoOptions,
    console: Console,
    kafka: KafkaSettings,
    topic_settings: TopicSettings,
    fleet: SimulatedFleet,
    work_dir: Path,
    watcher: TopicWatcher,
    children: Components,
) -> None:
    speed = speed_for(fleet.scenario, max(30.0, options.minutes * 60 - OVERHEAD_S))
    progress = Progress(options.nodes, 0, fleet.rounds, 0, 0, 0.0, "—")
    stop = threading.Event()

    def on_round(count: int, batches: list) -> None:  # type: ignore[type-arg]
        progress.rounds_done = count
        progress.batches += len(batches)
        progress.points += sum(len(batch.metrics) for batch in batches)
        progress.simulated_clock = f"{batches[0].sampled_at:%H:%M}" if batches else "—"

    publisher = make_publisher(kafka, topic_settings)
    thread = threading.Thread(
        target=run_simulation,
        args=(fleet, publisher, speed, work_dir / "ground_truth.jsonl"),
        kwargs={"stop": stop, "on_round": on_round},
        daemon=True,
    )
    started = time.monotonic()
    thread.start()
    try:
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while thread.is_alive():
                progress.elapsed_s = time.monotonic() - started
                with watcher.lock:
                    live.update(render_live(progress, watcher.tally))
                if children.dead():
                    stop.set()
                    _raise_if_dead(children)
                time.sleep(0.25)
    finally:
        # Also on Ctrl-C or a dead child: the fleet stops sending before its producer closes,
        # and both before Kafka stops, else the producer retries against a closed port and
        # kafka-python prints its errors and an atexit traceback on the way out.
        stop.set()
        thread.join(timeout=PUBLISHER_CLOSE_S)
        publisher.close(timeout_s=PUBLISHER_CLOSE_S)


def _drain(console: Console, children: Components, web_port: int, nodes: int) -> None:
    """Wait until the worker is within one round of batches, then for the last windows.

    A time-compressed fleet can outrun the worker; scoring before it caught up would count the
    faults it had not read yet as missed. Within a round (one batch per node) is caught up: the
    lag the worker reports can stay a few messages above 0 after the last fetch. A worker that
    still reads (its lag falls) is waited for, however loaded the machine; one whose lag has not
    fallen for ``DRAIN_S`` is stuck.
    """
    stalled_at = time.monotonic() + DRAIN_S
    caught_up, lowest = 0, None
    with console.status("waiting for the worker to read the last batches") as status:
        while caught_up < 2:  # twice in a row: a low lag can precede the next fetch
            _raise_if_dead(children)
            lag = worker_lag(web_port)
            caught_up = caught_up + 1 if lag is not None and lag <= nodes else 0
            if lag is not None and (lowest is None or lag < lowest):
                lowest, stalled_at = lag, time.monotonic() + DRAIN_S
                status.update(f"waiting for the worker to read the last {lag:,} batches")
            if time.monotonic() > stalled_at:
                raise FleetwatchError(
                    f"the stream worker was still {lag} messages behind and read none of them "
                    f"for {DRAIN_S:.0f} s ({worker_state(web_port)})"
                )
            time.sleep(1.0)
        time.sleep(SETTLE_S)  # the last windows close, the incident stage groups them


def _record_changes(kafka: KafkaSettings, topic: str, changes: list[ChangeEvent]) -> None:
    """What ``fleetwatch change record`` does in a CI/CD hook, for the demo's deploys."""
    publish_keyed(kafka, topic, [(change.change_id, change) for change in changes])


def _raise_if_dead(children: Components) -> None:
    for child in children.dead():
        last = child.last_log_line() or "no output"
        raise FleetwatchError(f"the {child.name} died: {last} (log: {child.log_path})")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _explain_keep(
    console: Console, options: DemoOptions, addresses: dict[str, str], work_dir: Path
) -> None:
    console.print(f"logs and ground truth: {work_dir}")
    if options.keep:
        console.print("the stack is still running; explore it with:")
        for key, value in addresses.items():
            console.print(f"  export {key}={value}")
        # The simulated span ends at the last END_HOUR_UTC o'clock: up to 24 h + 2.9 h ago.
        console.print(
            "  fleetwatch anomalies --since 28h; fleetwatch report --since 28h -o report.html"
        )


__all__ = ["DemoOptions", "render_scorecard", "run_demo"]
