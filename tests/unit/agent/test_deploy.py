"""The systemd unit and the DaemonSet only set agent settings that exist, with valid values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipeline.config import AgentSettings, load

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def _agent_env(pairs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> AgentSettings:
    for name, value in pairs.items():
        if name.startswith("FLEETWATCH_AGENT_"):
            field = name.removeprefix("FLEETWATCH_AGENT_").lower()
            assert field in AgentSettings.model_fields, name
            monkeypatch.setenv(name, value)
    return load(AgentSettings)


def test_daemonset_env_builds_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = yaml.safe_load((DEPLOY / "k8s" / "agent-daemonset.yaml").read_text())
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value", "node-a") for e in container["env"]}
    settings = _agent_env(env, monkeypatch)
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    for path in (settings.proc_root, settings.sys_root, settings.rootfs, settings.run_root):
        assert str(path) in mounts
    assert any(str(settings.spool_dir).startswith(m) for m in mounts)
    assert "services" not in settings.collector_names


def test_systemd_unit_env_builds_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    unit = (DEPLOY / "systemd" / "fleetwatch-agent.service").read_text()
    env = dict(re.findall(r"^Environment=(\w+)=(\S+)$", unit, flags=re.MULTILINE))
    settings = _agent_env(env, monkeypatch)
    state_dir = re.search(r"^StateDirectory=(\S+)$", unit, flags=re.MULTILINE)
    assert state_dir is not None
    assert str(settings.spool_dir).startswith(f"/var/lib/{state_dir.group(1)}/")
    assert re.search(r"^ExecStart=\S+ agent$", unit, flags=re.MULTILINE)
