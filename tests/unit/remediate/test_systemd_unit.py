"""The systemd unit of `agent --remediate --apply`: acts, keeps state, holds only what it needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import RemediationSettings

UNIT = (
    Path(__file__).resolve().parents[3]
    / "deploy"
    / "systemd"
    / "fleetwatch-agent-remediate.service"
)
# The capability each allowlisted action needs beyond uid 0 (systemctl needs uid 0 only).
NEEDED = {
    "stop_process": "CAP_KILL",
    "drop_caches": "CAP_SYS_ADMIN",
    "clean_files": "CAP_DAC_OVERRIDE",
    "limit_cgroup": "CAP_DAC_OVERRIDE",
}


def directives() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r"^(\w+)=(.*)$", UNIT.read_text(), flags=re.MULTILINE):
        found.setdefault(name, []).append(value)
    return found


def test_it_runs_the_agent_with_remediation_applied() -> None:
    (command,) = directives()["ExecStart"]
    assert command.split()[1:] == ["agent", "--remediate", "--apply"]


def test_state_lives_in_var_lib_not_in_a_private_or_dynamic_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unit = directives()
    assert unit["StateDirectory"] == ["fleetwatch"]
    assert "DynamicUser" not in unit and "PrivateTmp" not in unit
    env = dict(value.split("=", 1) for value in unit["Environment"])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = RemediationSettings()
    assert settings.state_dir == Path("/var/lib/fleetwatch/remediation")


def test_capabilities_are_exactly_those_the_allowed_actions_need() -> None:
    unit = directives()
    (bounding,) = unit["CapabilityBoundingSet"]
    allowed = RemediationSettings().allowed_actions
    needed = {NEEDED[action] for action in allowed if action in NEEDED} | {"CAP_DAC_READ_SEARCH"}
    assert set(bounding.split()) == needed
    assert unit["User"] == ["root"] and unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    assert "ProtectKernelTunables" not in unit, "drop_caches writes /proc/sys/vm/drop_caches"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_it(tmp_path: Path) -> None:
    fleetwatch = Path(sys.executable).with_name("fleetwatch")
    unit = tmp_path / UNIT.name  # ExecStart must exist for verify: point it at this install
    unit.write_text(UNIT.read_text().replace("/opt/fleetwatch/bin/fleetwatch", str(fleetwatch)))
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    complaints = [line for line in verify.stderr.splitlines() if UNIT.name in line]
    assert verify.returncode == 0 and not complaints, verify.stderr
