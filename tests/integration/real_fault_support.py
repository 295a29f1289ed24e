"""Real faults for the end-to-end diagnosis tests: culprit processes, a small file system to fill,
and the pipeline they run through (agent → worker → incident stage → node), nothing simulated.

Each culprit is a Python process that renames itself (``/proc/self/comm``) so the agent's top-N
collector reports it as ``proc.<name>.*`` under a name no other process on the machine has.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline.config import KafkaSettings, TopicSettings
from tests.integration.remediation_support import KEYRING_FILE

# Every culprit first runs as an ordinary service would: renamed (``/proc/self/comm``, at most
# 15 bytes), holding 64 MiB and 64 descriptors (so the agent's top-N reports it from the start and
# the detector learns its normal), until the test creates the file argv[2]; then it misbehaves.
RENAMED = "import os, sys, time\nopen('/proc/self/comm', 'w').write(sys.argv[1])\n"
SERVICE_BODY = "ballast = b'\\x01' * (64 << 20)\nhandles = [open('/dev/null') for _ in range(64)]\n"
WAIT_FOR_GO = "while not os.path.exists(sys.argv[2]): time.sleep(0.2)\n"
SERVICE = RENAMED + SERVICE_BODY + WAIT_FOR_GO
# A prefork service, one worker per core from the start, whose workers all start spinning. Its
# session (an autogroup of the scheduler) runs at nice -5 (3x the weight; root may set it): on a
# machine other sessions keep saturated it takes a third of the CPU or more, not a 1/n share, and
# leaves the pipeline under test most of the rest (-10 starved it on a machine at load 40).
PREFORK = "for _ in range(os.cpu_count() - 1):\n    if os.fork() == 0: break\n"
BOOST = "try: open('/proc/self/autogroup', 'w').write('-5')\nexcept OSError: os.nice(-5)\n"
# Spins until the test creates argv[2] + '.calm', then idles (alive: the node still finds it).
SPIN = "while not os.path.exists(sys.argv[2] + '.calm'):\n    for _ in range(10**6): pass\n"
CPU_HOG = RENAMED + SERVICE_BODY + PREFORK + WAIT_FOR_GO + BOOST + SPIN + "time.sleep(600)\n"
# Steady growth: 16 MiB of written (so resident) pages every 0.1 s up to 1.5 GiB, then held.
MEMORY_LEAK = SERVICE + (
    "held = []\n"
    "while len(held) < 96:\n"
    "    held.append(b'\\x01' * (16 << 20))\n"
    "    time.sleep(0.1)\n"
    "time.sleep(600)\n"
)
# Descriptors opened and never closed, 100 per 0.1 s, up to 300 short of a soft limit of 4096.
FD_LIMIT = 4096
FD_LEAK = SERVICE + (
    "import resource\n"
    "hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({FD_LIMIT}, hard))\n"
    f"while len(handles) < {FD_LIMIT - 300}:\n"
    "    handles += [open('/dev/null') for _ in range(100)]\n"
    "    time.sleep(0.1)\n"
    "time.sleep(600)\n"
)
# Fills the directory argv[3] with 2 MiB log files (each fsynced) until the file system is full.
DISK_FILLER = SERVICE + (
    "i = 0\n"
    "try:\n"
    "    while True:\n"
    "        with open(f'{sys.argv[3]}/app-{i}.log', 'wb') as out:\n"
    "            out.write(b'x' * (2 << 20)); out.flush(); os.fsync(out.fileno())\n"
    "        i += 1\n"
    "        time.sleep(0.1)\n"
    "except OSError:\n"
    "    pass\n"
    "time.sleep(600)\n"
)


def culprit_name(kind: str) -> str:
    """A command name no other process has: ``fw<kind><4 hex>`` (15 bytes at most)."""
    return f"fw{kind}{uuid.uuid4().hex[:4]}"[:15]


class Culprit:
    """A culprit process: started as a quiet service, told to misbehave by :meth:`misbehave`."""

    def __init__(self, code: str, name: str, go_file: Path, *args: str) -> None:
        self.name = name
        self.go_file = go_file
        command = [sys.executable, "-c", code, name, str(go_file), *args]
        self.process = subprocess.Popen(command, start_new_session=True)

    def misbehave(self) -> None:
        """The fault starts now."""
        self.go_file.touch()

    def calm(self) -> None:
        """Stop the harm but stay alive (a CPU hog idles); other culprits ignore it."""
        Path(f"{self.go_file}.calm").touch()

    def stop(self) -> None:
        """Kill it and every process it forked."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextmanager
def culprit(code: str, kind: str, tmp_path: Path, *args: str) -> Iterator[Culprit]:
    """A :class:`Culprit` named ``fw<kind><hex>`` running ``code``; killed at the end."""
    started = Culprit(code, culprit_name(kind), tmp_path / f"go-{kind}", *args)
    try:
        yield started
    finally:
        started.stop()


@contextmanager
def small_filesystem(tmp_path: Path, size_mib: int = 48) -> Iterator[Path]:
    """An ext4 file system of ``size_mib`` on a loop device, mounted for the test.

    The agent's disk collector reports real block file systems only (not tmpfs), so the test
    builds one. It needs root and a loop device: without them the test fails, saying so.
    """
    missing = [tool for tool in ("mkfs.ext4", "mount", "umount") if shutil.which(tool) is None]
    if os.geteuid() != 0 or missing or not Path("/dev/loop-control").exists():
        pytest.fail(
            "the disk_full real-fault test mounts an ext4 loop device: it needs root, "
            f"/dev/loop-control and mkfs.ext4/mount/umount (missing: {missing or 'none'}, "
            f"euid {os.geteuid()})"
        )
    image = tmp_path / "fs.img"
    with image.open("wb") as out:
        out.truncate(size_mib << 20)
    mount_point = Path(f"/tmp/fwdisk{uuid.uuid4().hex[:6]}")  # noqa: S108 - short metric name
    mount_point.mkdir()
    _run(["mkfs.ext4", "-q", "-m", "0", str(image)])
    _run(["mount", "-o", "loop", str(image), str(mount_point)])
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)
        mount_point.rmdir()


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")


def start_node(
    kafka: KafkaSettings, topic_settings: TopicSettings, node_id: str, tmp_path: Path, culprit: str
) -> subprocess.Popen[bytes]:
    """``fleetwatch agent --remediate`` for ``node_id``: samples every second, dry-run actions;
    ``culprit`` is the one command its allowlist lets it stop."""
    command = [sys.executable, "-m", "pipeline", "agent", "--remediate", "--interval-s", "1"]
    command += ["--kafka-bootstrap", kafka.bootstrap, "--topic-prefix", topic_settings.prefix]
    command += ["--node-id", node_id, "--spool-dir", str(tmp_path / "spool")]
    command += ["--label", "role=realfault"]
    env = os.environ | {
        "FLEETWATCH_CONTROL_KEYRING": str(KEYRING_FILE),
        "FLEETWATCH_REMEDIATION_STATE_DIR": str(tmp_path / "state"),
        "FLEETWATCH_REMEDIATION_PROCESS_ALLOWLIST": json.dumps([f"^{culprit}$"]),
        "FLEETWATCH_AGENT_TOP_N": "10",  # the most it takes: few commands hide the culprit
        "FLEETWATCH_AGENT_SEND_TIMEOUT_S": "5",
        "FLEETWATCH_AGENT_SHUTDOWN_TIMEOUT_S": "5",
    }
    with (tmp_path / f"{node_id}.log").open("ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_node(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then kill if it does not exit."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
