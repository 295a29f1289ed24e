"""Turn an incident into signed remediation requests, one per target node, within policy.

Requests are issued only for incidents that are open, not silenced and not flapping, at most one
action per (incident, node), and only as many as the blast-radius guard admits; every refusal is
returned so it can be audited. One action per node and incident because a diagnosis firms up
while the incident grows (``memory_pressure`` before ``memory_leak``): acting again on each new
reading would stack actions on one node; a later, different diagnosis pages a human instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.config import ControlSettings, IncidentSettings
from pipeline.control.catalogue import CATALOGUE
from pipeline.control.keys import Signer
from pipeline.control.policy import BlastRadiusGuard, needs_approval
from pipeline.control.signing import new_nonce, sign_one
from pipeline.errors import ActionRefused
from pipeline.incidents.inventory import Inventory
from pipeline.incidents.runbooks import Rule, Runbook
from pipeline.models import Incident, RemediationRequest


@dataclass(frozen=True)
class Blocked:
    """A request the issuer declined, and why."""

    node_id: str
    incident_id: str
    action: str
    request_id: str
    reason: str


@dataclass
class Plan:
    """What the issuer decided for one incident."""

    requests: list[RemediationRequest] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    rule: Rule | None = None


def request_id_of(incident_id: str, node_id: str, action: str) -> str:
    """Deterministic: the same incident, node and action always give the same request id."""
    digest = hashlib.sha256(f"{incident_id}|{node_id}|{action}".encode()).hexdigest()
    return "rq-" + digest[:20]


class Issuer:
    """Plans signed requests for incidents that a runbook rule matches.

    Parameters
    ----------
    settings
        Request lifetime and the labels that name a host's groups.
    control
        Approval list and blast-radius limits.
    runbook
        The rules; None issues nothing.
    signer
        The issuer's private key (``fleetwatch keys generate --role issuer``).
    inventory
        Hosts per label, for a host incident's group share.
    """

    def __init__(
        self,
        settings: IncidentSettings,
        control: ControlSettings,
        runbook: Runbook | None,
        signer: Signer,
        inventory: Inventory,
    ) -> None:
        self.settings = settings
        self.control = control
        self.runbook = runbook
        self.signer = signer
        self.inventory = inventory
        self.guard = BlastRadiusGuard(
            control.blast_max_nodes, control.blast_max_share, control.blast_window_s
        )
        self._acted: set[tuple[str, str]] = set()  # (incident, node) that got a request
        self._blocked: set[str] = set()
        self.incident_of: dict[str, str] = {}  # request_id → incident_id, for outcomes

    def remember(self, request_id: str, incident_id: str, node_id: str) -> None:
        """A request decided before a restart: never issued again, nor another on that node."""
        self._acted.add((incident_id, node_id))
        self.incident_of[request_id] = incident_id

    def plan_one(self, incident: Incident, now: datetime) -> Plan:
        """The requests (signed) and refusals for ``incident`` at ``now``."""
        plan = Plan()
        if self.runbook is None or incident.status == "resolved":
            return plan
        if incident.silenced or incident.flapping:
            return plan
        plan.rule = rule = self.runbook.match_one(incident)
        if rule is None or not CATALOGUE[rule.action.type].on_node:
            return plan  # notify-only: the incident pages a human, no node is asked to act
        group, population = self._group_of(incident)
        for node_id in self._targets(incident):
            request_id = request_id_of(incident.incident_id, node_id, rule.action.type)
            if (incident.incident_id, node_id) in self._acted:
                continue
            try:
                self.guard.admit(node_id, group, population, now, self.inventory.labels_of(node_id))
            except ActionRefused as exc:
                if request_id not in self._blocked:  # retried on later updates, reported once
                    self._blocked.add(request_id)
                    plan.blocked.append(
                        Blocked(
                            node_id, incident.incident_id, rule.action.type, request_id, str(exc)
                        )
                    )
                continue
            self._acted.add((incident.incident_id, node_id))
            self.incident_of[request_id] = incident.incident_id
            plan.requests.append(self._request(incident, rule, node_id, request_id, now))
        return plan

    def _request(
        self, incident: Incident, rule: Rule, node_id: str, request_id: str, now: datetime
    ) -> RemediationRequest:
        request = RemediationRequest(
            request_id=request_id,
            node_id=node_id,
            incident_id=incident.incident_id,
            action=rule.action.type,
            params=rule.params_for(incident).model_dump(exclude_none=True),
            reason=f"rule {rule.name}: {incident.title}"[:512],
            issued_at=now,
            expires_at=now + timedelta(seconds=self.settings.request_ttl_s),
            nonce=new_nonce(),
            requires_approval=needs_approval(
                rule.action.type, rule.approval == "required", self.control
            ),
            verify_metric=rule.verify.metric if rule.verify else None,
            recover_below=rule.verify.below if rule.verify else None,
            blast_nodes=self.guard.seen_nodes(now),  # this node included: admitted just before
        )
        return sign_one(request, self.signer)

    @staticmethod
    def _targets(incident: Incident) -> list[str]:
        if incident.kind == "host" and incident.node_id is not None:
            return [incident.node_id]
        return list(incident.affected_nodes)

    def _group_of(self, incident: Incident) -> tuple[str | None, int | None]:
        if incident.group:
            key, value = next(iter(incident.group.items()))
            return f"{key}={value}", incident.population or self.inventory.population(key, value)
        for label in self.settings.group_labels:
            found = incident.labels.get(label)
            if found is not None:
                return f"{label}={found}", self.inventory.population(label, found) or None
        return None, None
