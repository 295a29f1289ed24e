"""Placeholders in runbook action parameters, filled from the incident and its diagnosis.

``{culprit}`` is the diagnosed process or unit, ``{unit}`` the systemd unit that owns it
(``api.service``: what ``restart_unit`` takes; a process's name is not its unit's), ``{change}``
the blamed change, ``{role}`` the incident's role label and ``{node}`` its node. A rule whose
placeholders cannot all be filled does not match, so a later rule (often ``notify``) takes the
incident.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pipeline.models import Incident

PLACEHOLDER = re.compile(r"\{(culprit|unit|change|role|node)\}")
# Stand-ins used when a runbook is checked: each is valid wherever its real value would be.
SAMPLE_VALUES: Mapping[str, str] = {
    "culprit": "culprit",
    "unit": "unit.service",
    "change": "change-1",
    "role": "role",
    "node": "node-1",
}


def placeholders_of(incident: Incident) -> dict[str, str]:
    """The placeholder values ``incident`` can fill."""
    found = incident.diagnosis
    labels = incident.labels | incident.group
    values = {
        "culprit": found.culprit.process if found else None,
        "unit": found.culprit.unit if found else None,
        "change": found.culprit.change_id if found else None,
        "role": labels.get("role"),
        "node": incident.node_id or (found.culprit.node_id if found else None),
    }
    return {k: v for k, v in values.items() if v}


def needs_of(params: Mapping[str, Any]) -> set[str]:
    """The placeholder names ``params`` uses."""
    return {m for v in params.values() if isinstance(v, str) for m in PLACEHOLDER.findall(v)}


def fill(params: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """``params`` with every placeholder replaced from ``values`` (KeyError when one is absent)."""
    return {
        k: PLACEHOLDER.sub(lambda m: values[m.group(1)], v) if isinstance(v, str) else v
        for k, v in params.items()
    }
