"""`fleetwatch demo`, shortened, on the session's servers: its scorecard, and its exit when broken.

The demo reuses a running local stack and never stops one it did not start: with our own stack it
is pointed at its data dir; with servers given by the environment it uses the default dir.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

# Bounds from repeated 2-minute runs of the default scenario (see the commit that set them):
# false alarms stayed at 0-6 events and 0-2 incidents. A regression such as the daily profile
# mirroring the level (hundreds of events at hour boundaries) lands far above them. The batch
# nodes' warm-up blips (young host alerts on pressure.cpu, up to 4 false incidents a run) are
# gone since a young host must alert by surprise, not novelty: a quiet run had 0 false
# incidents and 1 false alarm, loaded runs 0-1 false incidents.
MAX_FALSE_ALARMS = 20
MAX_FALSE_INCIDENTS = 3
# The SRE answer for the demo's faults, written here independently of the scorecard's own table.
# Every simulated node sends its processes and units, so their culprits are there to be named.
# The bad deploy is one incident keyed by its change (it was one per node). The leak was right in
# four runs of five until its lagging partition's incidents stopped resolving between events
# (issue 15): one clean-clone CI run read it as memory_pressure once the node swapped.
RIGHT = {
    "cpu_runaway": ("cpu_saturation", ["stop_process"]),
    "memory_leak": ("memory_leak", ["restart_unit"]),  # the unit, after an approval
    "disk_filling": ("disk_full", ["clean_files"]),
    "network_loss": ("network_degradation", []),  # no safe node action: a human is paged
    "bad_deploy": ("bad_change", ["rollback"]),
}


def _demo(stack: Stack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    extra = {} if stack.data_dir is None else {"FLEETWATCH_LOCAL_DIR": str(stack.data_dir)}
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "pipeline", "demo", *args],
        env=os.environ | extra | env,
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )


@pytest.mark.timeout(600)
def test_short_demo_detects_every_fault_with_few_false_alarms(stack: Stack) -> None:
    run = _demo(stack, "--minutes", "2", "--nodes", "50", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    card = json.loads(run.stdout)
    missed = [f["kind"] for f in card["faults"] if not f["detected"]]
    assert card["faults_injected"] == 5
    assert missed == []
    assert card["faults_detected"] == card["faults_injected"]
    assert card["false_alarms"] <= MAX_FALSE_ALARMS
    assert card["false_incidents"] <= MAX_FALSE_INCIDENTS
    assert 0 < card["incidents"] < card["anomaly_events"]
    delays = [f["delay_s"] for f in card["faults"]]
    assert card["max_detection_delay_s"] == max(delays)
    bad_deploy = next(f for f in card["faults"] if f["kind"] == "bad_deploy")
    assert bad_deploy["nodes_detected"] >= bad_deploy["nodes"] // 2  # a role-wide fault
    assert bad_deploy["incidents"] == 1  # one role incident after its change, not one per node
    faults = {f["kind"]: f for f in card["faults"]}
    diagnosed = {k: (faults[k]["diagnosed_as"], faults[k]["actions"]) for k in RIGHT}
    assert diagnosed == RIGHT
    assert faults["cpu_runaway"]["culprit_named"] == "cruncher"  # the runaway, not a bystander
    assert faults["memory_leak"]["culprit_named"] == "postgres"
    assert card["faults_kind_right"] >= len(RIGHT)
    assert card["faults_action_right"] >= len(RIGHT)


@pytest.mark.timeout(300)
def test_demo_exits_non_zero_with_one_line_when_its_worker_dies(stack: Stack) -> None:
    # An unknown detector makes the stream worker exit at start: a broken pipeline.
    run = _demo(stack, "--minutes", "1", "--json", FLEETWATCH_STREAM_DETECTOR="no_such_detector")
    assert run.returncode != 0
    assert "worker" in run.stderr.strip().splitlines()[-1]
    assert run.stdout.strip() == ""
