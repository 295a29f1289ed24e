"""Per injected fault: right kind, right culprit, right action, and how soon it was mitigated.

Judged on the incidents the fault caused; the time is simulated time to the first right action.

The expected kind and actions per demo fault are the SRE answer, written down here once: a runaway
is ``cpu_saturation`` stopped by ``stop_process``; a leak ``memory_leak`` fixed by restarting its
unit; a filling disk ``disk_full`` fixed by cleaning files; packet loss ``network_degradation``
with no safe node action (notify only); a bad deploy ``bad_change`` rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.demo.scorecard import IncidentSpan, InjectedFault


@dataclass(frozen=True)
class Expectation:
    """The right diagnosis kind of a fault and the actions that mitigate it (empty: notify)."""

    kind: str
    actions: frozenset[str]


EXPECTED: dict[str, Expectation] = {
    "cpu_runaway": Expectation("cpu_saturation", frozenset({"stop_process"})),
    "memory_leak": Expectation("memory_leak", frozenset({"restart_unit"})),
    "disk_filling": Expectation("disk_full", frozenset({"clean_files"})),
    "network_loss": Expectation("network_degradation", frozenset()),
    "bad_deploy": Expectation("bad_change", frozenset({"rollback"})),
}


@dataclass(frozen=True)
class ActionTaken:
    """A remediation request the incident stage issued, and the data time it was seen."""

    request_id: str
    incident_id: str
    node_id: str
    action: str
    data_at: datetime


@dataclass(frozen=True)
class Verdict:
    """How the incidents of one fault fared against its expectation."""

    incidents: tuple[str, ...]
    kind: str | None
    culprit: str | None
    actions: tuple[str, ...]
    kind_right: bool
    culprit_right: bool
    action_right: bool
    mitigation_s: float | None


def judge_one(
    fault: InjectedFault,
    spans: Sequence[IncidentSpan],
    actions: Sequence[ActionTaken],
    grace: timedelta,
) -> Verdict:
    """The verdict on ``fault`` from every incident span and action of the run."""
    mine = sorted((s for s in spans if s.explained_by(fault, grace)), key=lambda s: s.opened_at)
    expected = EXPECTED.get(fault.kind)
    if not mine or expected is None:
        return Verdict(
            tuple(s.incident_id for s in mine), None, None, (), False, False, False, None
        )
    main = next((s for s in mine if s.diagnosis_kind is not None), mine[0])
    ids = {s.incident_id for s in mine}
    acted = [a for a in actions if a.incident_id in ids]
    return Verdict(
        incidents=tuple(s.incident_id for s in mine),
        kind=main.diagnosis_kind,
        culprit=main.culprit_process,
        actions=tuple(sorted({a.action for a in acted})),
        kind_right=main.diagnosis_kind == expected.kind,
        culprit_right=_culprit_right(fault, main),
        action_right=_actions_right(expected, acted),
        mitigation_s=_mitigation_s(fault, expected, acted),
    )


def _culprit_right(fault: InjectedFault, span: IncidentSpan) -> bool:
    if span.culprit_node is None or span.culprit_node not in fault.node_ids:
        return False
    return fault.change_id is None or span.culprit_change == fault.change_id


def _actions_right(expected: Expectation, acted: Sequence[ActionTaken]) -> bool:
    kinds = {a.action for a in acted}
    if not expected.actions:
        return not kinds  # notify only: any node action is wrong
    return bool(kinds) and kinds <= expected.actions


def _mitigation_s(
    fault: InjectedFault, expected: Expectation, acted: Sequence[ActionTaken]
) -> float | None:
    right = [a.data_at for a in acted if a.action in expected.actions]
    if not right:
        return None
    return max(0.0, (min(right) - fault.start_at).total_seconds())
