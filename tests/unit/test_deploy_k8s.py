"""deploy/k8s cannot run here; check its manifests stay consistent with the code instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline import config
from pipeline.cli import cli

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
MANIFESTS = sorted(K8S.glob("*.yaml"))


def _containers(manifest: Path) -> list[dict[str, Any]]:
    """The containers of every workload in the file (a file may also hold a Service)."""
    documents = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    workloads = [d for d in documents if "template" in d.get("spec", {})]
    assert workloads, f"{manifest.name} runs nothing"
    return [c for w in workloads for c in w["spec"]["template"]["spec"]["containers"]]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value") for item in container.get("env", [])}


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda path: path.name)
def test_every_variable_is_a_setting_and_every_command_exists(manifest: Path) -> None:
    known = {s.env_name(field) for s in config.SECTIONS for field in s.model_fields}
    for container in _containers(manifest):
        used = {name for name in _env(container) if name.startswith("FLEETWATCH_")}
        assert used <= known, used - known
        assert container["args"][0] in cli.commands, container["args"]


def test_the_agent_remediates_dry_run_with_public_keys_and_names_culprits() -> None:
    (agent,) = _containers(K8S / "agent-daemonset.yaml")
    env = _env(agent)
    assert agent["args"] == ["agent", "--remediate"]  # no --apply: dry-run until reviewed
    keyring = Path(env["FLEETWATCH_CONTROL_KEYRING"])
    mounts = {m["mountPath"]: m for m in agent["volumeMounts"]}
    assert mounts[str(keyring.parent)]["readOnly"] is True
    assert env["FLEETWATCH_REMEDIATION_STATE_DIR"].startswith("/var/lib/fleetwatch/")
    collectors = env["FLEETWATCH_AGENT_COLLECTORS"].split(",")
    assert set(collectors) <= set(config.AGENT_COLLECTORS)
    assert {"top", "units"} <= set(collectors)
