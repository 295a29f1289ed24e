"""deploy/docker-compose.yml cannot run here; check it stays consistent with the code instead."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline import config
from pipeline.cli import cli

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "docker-compose.yml"


def _known_env_vars() -> set[str]:
    names = set()
    for section in config.SECTIONS:
        names |= {section.env_name(field) for field in section.model_fields}
    return names


def test_every_fleetwatch_variable_in_compose_is_a_setting() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    used = {
        name
        for service in services.values()
        for name in (service.get("environment") or {})
        if name.startswith("FLEETWATCH_")
    }
    assert used, "the compose file sets no fleetwatch variable"
    assert used <= _known_env_vars(), used - _known_env_vars()


def test_every_fleetwatch_service_runs_an_existing_command() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    ours = {name: s for name, s in services.items() if "build" in s}
    assert {"worker", "agent", "incidents"} <= set(ours)
    for service in ours.values():
        assert service["command"][0] in cli.commands, service["command"]
