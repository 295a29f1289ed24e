"""Turn a tuning suggestion into signed typed requests and roll them out canary first.

The canary node gets the change alone; the rest of the fleet only after the canary's node
reported ``succeeded`` (acted, and the expected metric moved). A canary that regressed, timed out
or was refused is rolled back on its node and the fleet step is not taken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.control.catalogue import parse_params
from pipeline.control.keys import Signer
from pipeline.control.signing import new_nonce, sign_one
from pipeline.errors import ConfigError
from pipeline.models import RemediationRequest, RemediationResult
from pipeline.tune.advice import Suggestion

# knob → (action, parameter that names the knob); journald and IO properties have no action yet.
ACTIONS = {
    "sysctl": ("set_sysctl", "key"),
    "cgroup": ("set_cgroup_limit", "file"),
    "systemd": ("set_unit_property", "property"),
}


@dataclass(frozen=True)
class Change:
    """One typed change to roll out: the action, its parameters and how it is verified."""

    action: str
    params: dict[str, str | int]
    verify_metric: str
    recover_below: float


def change_of(
    suggestion: Suggestion, unit: str | None, value: str | None, metric: str, below: float
) -> Change:
    """The typed action for ``suggestion``; ``value`` overrides a proposal that is not a number.

    Raises
    ------
    ConfigError
        When the knob has no typed action, a unit or value is missing, or the catalogue's
        parameter model refuses them (out of bounds, wrong format).
    """
    knob = suggestion.knob
    if knob.scope not in ACTIONS:
        raise ConfigError(f"{knob.scope} {knob.name}: no typed action; apply it by hand")
    action, field_name = ACTIONS[knob.scope]
    chosen = value if value is not None else suggestion.proposed
    params: dict[str, str | int] = {field_name: knob.name}
    if action == "set_sysctl":
        params["value"] = _int(chosen, knob.name)
    else:
        if unit is None:
            raise ConfigError(f"{knob.name} is set on a unit: give --unit")
        params.update(unit=unit, value=chosen)
    try:
        parse_params(action, dict(params))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"{action} {params}: {exc}") from None
    return Change(action, params, metric, below)


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name}: proposed {text!r} is not a number; give --value") from None


def request_for(
    change: Change,
    incident_id: str,
    node_id: str,
    signer: Signer,
    now: datetime,
    ttl_s: float,
    blast_nodes: int = 1,
) -> RemediationRequest:
    """A request for ``node_id`` signed by an issuer key; approval is always required.

    ``blast_nodes``: how many nodes this rollout has changed with this one (the node refuses more
    than its fleet-wide limit).
    """
    seed = f"{incident_id}|{node_id}|{change.action}|{sorted(change.params.items())}"
    request = RemediationRequest(
        request_id="rq-" + hashlib.sha256(seed.encode()).hexdigest()[:20],
        node_id=node_id,
        incident_id=incident_id,
        action=change.action,
        params=dict(change.params),
        reason=f"tune apply: {change.action} {change.params}"[:512],
        issued_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        nonce=new_nonce(),
        requires_approval=True,
        verify_metric=change.verify_metric,
        recover_below=change.recover_below,
        blast_nodes=blast_nodes,
    )
    return sign_one(request, signer)


@dataclass
class Rollout:
    """What happened: the canary's result, the fleet's results, and why it stopped if it did."""

    canary: RemediationResult | None = None
    fleet: list[RemediationResult] = field(default_factory=list)
    halted: str | None = None


# Sends one request and waits for its node's final result (None: no result before the deadline).
Deliver = Callable[[RemediationRequest], RemediationResult | None]


def roll_out(requests: Sequence[RemediationRequest], deliver: Deliver) -> Rollout:
    """The first request is the canary; the others go out one by one while each ``succeeded``."""
    rollout = Rollout()
    if not requests:
        return rollout
    rollout.canary = deliver(requests[0])
    if rollout.canary is None or rollout.canary.outcome != "succeeded":
        seen = rollout.canary.outcome if rollout.canary else "no result"
        rollout.halted = f"canary {requests[0].node_id}: {seen}; fleet step not taken"
        return rollout
    for request in requests[1:]:
        result = deliver(request)
        if result is not None:
            rollout.fleet.append(result)
        if result is None or result.outcome != "succeeded":  # stop spreading what did not work
            rollout.halted = f"{request.node_id}: {result.outcome if result else 'no result'}"
            break
    return rollout
