"""The node side: check a request from every angle, act (or dry-run), verify, report, audit.

Order matters: authenticity first (signature, expiry, nonce), then what this node allows (action
allowlist, parameters, silences), then approval, then how much (rate limit, blast radius), and only
then the action. Each step is audited, refusals included, so the trail shows attacks too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from pipeline.config import ControlSettings, RemediationSettings
from pipeline.control.audit import AuditLog, Step
from pipeline.control.catalogue import CATALOGUE, parse_params
from pipeline.control.keys import Keyring
from pipeline.control.policy import needs_approval
from pipeline.control.signing import ReplayGuard, verify_command, verify_request
from pipeline.control.silences import SilenceBook
from pipeline.errors import ActionFailed, ActionRefused
from pipeline.models import OperatorCommand, RemediationRequest, RemediationResult, utc_now
from pipeline.remediate.actions import ActionContext, ActionReport, perform
from pipeline.remediate.limits import RateLimiter, check_allowed
from pipeline.remediate.state import NodeState
from pipeline.remediate.verify import Probe, wait_for_recovery

log = logging.getLogger(__name__)
# A tuning change whose metric rises above 1.1 × its value before the change has regressed.
REGRESS_RATIO = 1.1


class NodeRemediator:
    """Handles the remediation requests and operator commands of one node.

    Parameters
    ----------
    node_id, labels
        Who this node is; requests for other nodes only feed the blast-radius count.
    settings
        Allowlists, limits, timeouts; ``apply`` False means dry-run.
    control
        Approval list and fleet-wide blast-radius limits, as the issuer has them.
    keyring
        Public keys of the issuer and the operators (the node holds no private key).
    audit
        Where every step is written.
    context
        Roots the actions work under.
    probe
        Reads a metric on this node, for verification (None: only the action's own check).
    """

    def __init__(
        self,
        node_id: str,
        labels: dict[str, str],
        settings: RemediationSettings,
        control: ControlSettings,
        keyring: Keyring,
        audit: AuditLog,
        context: ActionContext,
        probe: Probe | None = None,
    ) -> None:
        self.node_id = node_id
        self.labels = labels
        self.settings = settings
        self.control = control
        self.keyring = keyring
        self.audit = audit
        self.context = context
        self.probe = probe
        self.silences = SilenceBook()
        self.replays = ReplayGuard(_state_file(settings.state_dir, node_id, "nonces"))
        self.rate = RateLimiter(settings.rate_limit_per_node, settings.rate_window_s)
        self.state = NodeState(settings.state_dir / node_id / "state.json", self.rate)
        self._baseline: float | None = None

    def start(self) -> None:
        """Load what an earlier run remembered: nonces, executed requests, windows, approvals."""
        now = utc_now()
        self.replays.load(now)
        self.state.load(now)

    def handle_request(
        self, request: RemediationRequest, now: datetime
    ) -> RemediationResult | None:
        """Process one request; None when it is for another node (ignored)."""
        if request.node_id != self.node_id:
            return None
        self._audit("received", request)
        try:
            verify_request(request, self.keyring, now)
            self.replays.check_and_remember(request.nonce, request.expires_at, now)
            return self._admit(request, now)
        except ActionRefused as exc:
            return self._finish(request, "refused", str(exc), now, step="refused")

    def handle_command(self, command: OperatorCommand, now: datetime) -> list[RemediationResult]:
        """A silence or approval (signed); an approval may release a pending request."""
        try:
            verify_command(command, self.keyring, now)
        except ActionRefused as exc:
            self.audit.record(
                "refused",
                node_id=self.node_id,
                action=command.kind,
                request_id=command.request_id or command.command_id,
                detail=f"operator command {command.command_id}: {exc}",
            )
            return []
        self.silences.add(command)
        if command.kind != "approve" or command.request_id is None:
            return []
        self.state.approved[command.request_id] = now
        request = self.state.pending.pop(command.request_id, None)
        self.state.save()
        if request is None:
            return []
        self._audit("approved", request, f"by {command.issued_by}")
        if now >= request.expires_at:
            return [self._finish(request, "refused", "approved after expiry", now, "refused")]
        try:
            return [self._admit(request, now)]
        except ActionRefused as exc:  # rate limit, blast radius, a tuning action it cannot verify
            return [self._finish(request, "refused", str(exc), now, step="refused")]

    def _admit(self, request: RemediationRequest, now: datetime) -> RemediationResult:
        if request.request_id in self.state.executed:
            raise ActionRefused(f"request {request.request_id} was already executed")
        check_allowed(request.action, self.settings)
        try:
            params = parse_params(request.action, dict(request.params))
        except ValidationError as exc:
            raise ActionRefused(f"bad parameters: {exc.errors()[0]['msg']}") from None
        silence = self.silences.active(self.node_id, self.labels, now)
        if silence is not None:
            raise ActionRefused(f"silenced by {silence.command_id} until {silence.until_at}")
        approval = needs_approval(request.action, request.requires_approval, self.control)
        if approval and request.request_id not in self.state.approved:
            self.state.pending[request.request_id] = request
            self.state.save()
            detail = f"run `fleetwatch approve {request.request_id}`"
            return self._finish(request, "awaiting_approval", detail, now, "awaiting_approval")
        if not self.settings.apply:
            report = perform(request.action, params, self.context, dry_run=True)
            return self._finish(request, "dry_run", report.detail, now, "dry_run")
        if CATALOGUE[request.action].tuning and (request.verify_metric is None or not self.probe):
            raise ActionRefused("a tuning action needs verify_metric and a probe on the node")
        self.rate.check(self.node_id, now)
        self._check_budget(request)
        self.rate.record(self.node_id, now)
        self.state.executed[request.request_id] = now
        self.state.save()  # before acting: a crash now leaves the action not run, not run twice
        return self._act(request, params, now)

    def _act(self, request: RemediationRequest, params: object, now: datetime) -> RemediationResult:
        # call_webhook posts what was asked of this node and why (the request, minus its proof).
        payload = request.model_dump(mode="json", exclude={"signature", "nonce"})
        context = replace(self.context, payload=payload | {"labels": self.labels})
        # The metric before acting: a tuning change pushing it past REGRESS_RATIO × this is undone.
        metric = request.verify_metric
        self._baseline = self.probe(metric) if self.probe and metric else None
        try:
            report = perform(request.action, params, context, dry_run=False)  # type: ignore[arg-type]
        except (ActionFailed, ActionRefused, OSError) as exc:
            return self._finish(request, "failed", str(exc), now, "failed")
        self._audit("executed", request, report.detail)
        return self._verify(request, report, now)

    def _verify(
        self, request: RemediationRequest, report: ActionReport, now: datetime
    ) -> RemediationResult:
        if report.effect_ok is False:
            return self._finish(
                request, "failed", f"effect not seen: {report.detail}", now, "failed"
            )
        if request.verify_metric is None or request.recover_below is None or self.probe is None:
            return self._finish(request, "succeeded", report.detail, now, "verified")
        regressed_above = (
            self._baseline * REGRESS_RATIO if report.undo and self._baseline is not None else None
        )
        recovery = wait_for_recovery(
            self.probe,
            request.verify_metric,
            request.recover_below,
            self.settings.verify_timeout_s,
            abort_above=regressed_above,
        )
        seen = f"{request.verify_metric}={recovery.last_value} after {recovery.waited_s:.1f} s"
        if recovery.recovered:
            detail = f"{report.detail}; recovered: {seen} < {request.recover_below}"
            return self._finish(request, "succeeded", detail, now, "verified")
        detail = f"{report.detail}; not recovered: {seen} (want < {request.recover_below})"
        if report.undo is not None:
            detail = self._roll_back(request, report.undo, detail)
        return self._finish(request, "no_effect", detail, now, "no_effect")

    def _roll_back(self, request: RemediationRequest, undo: Callable[[], str], detail: str) -> str:
        """Put the previous value back (audited); a failed undo is said, never hidden."""
        try:
            done = undo()
        except (ActionFailed, OSError) as exc:
            self._audit("failed", request, f"rollback failed: {exc}")
            return f"{detail}; ROLLBACK FAILED: {exc}"
        self._audit("rolled_back", request, done)
        return f"{detail}; rolled back: {done}"

    def _check_budget(self, request: RemediationRequest) -> None:
        """The issuer signs how many nodes its blast window holds; more than ours allows: refuse.

        This is the node-side blast-radius check without reading other nodes' requests: an
        issuer bug or a misconfigured issuer limit cannot push this node past the fleet's limit.
        """
        limit = self.control.blast_max_nodes
        if request.blast_nodes is None:
            raise ActionRefused("blast radius: the request carries no signed blast budget")
        if request.blast_nodes > limit:
            raise ActionRefused(
                f"blast radius: the issuer admitted {request.blast_nodes} nodes in "
                f"{self.control.blast_window_s} s (max {limit})"
            )

    def _finish(
        self, request: RemediationRequest, outcome: str, detail: str, started: datetime, step: Step
    ) -> RemediationResult:
        self._audit(step, request, detail)
        finished = max(utc_now(), started + timedelta(microseconds=1))
        return RemediationResult(
            request_id=request.request_id,
            node_id=self.node_id,
            action=request.action,
            outcome=outcome,  # one of the Literal values by call site, validated by the model
            detail=detail[:512],
            started_at=started,
            finished_at=finished,
        )

    def _audit(self, step: Step, request: RemediationRequest, detail: str = "") -> None:
        self.audit.record(
            step,
            node_id=self.node_id,
            action=request.action,
            request_id=request.request_id,
            incident_id=request.incident_id,
            detail=detail,
        )


def _state_file(state_dir: Path, node_id: str, name: str) -> Path:
    return state_dir / node_id / f"{name}.log"
