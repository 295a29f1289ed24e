"""tune apply end to end on a proc/sys root FIXTURE under tmp_path (no real /proc/sys writes).

Real: the signed request, approval, the executor, a file write and its rollback. Fixture: the
root the files live under (``tune_root`` = tmp_path) and the probe's metric values.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.control.audit import AuditLog
from pipeline.control.operators import make_command
from pipeline.errors import ConfigError
from pipeline.models import RemediationRequest, RemediationResult, utc_now
from pipeline.remediate.actions import ActionContext
from pipeline.remediate.executor import NodeRemediator
from pipeline.tune.advice import Suggestion
from pipeline.tune.apply import Change, change_of, request_for, roll_out
from pipeline.tune.knobs import Knob
from pipeline.tune.rules import suggest
from tests.unit.control.conftest import KEY, KEYRING, OPERATOR, ListSink, control, settings

TUNE_ACTIONS = ["set_sysctl", "set_cgroup_limit", "set_unit_property"]
SOMAXCONN = Change("set_sysctl", {"key": "net.core.somaxconn", "value": 4096}, "net.drop_in", 5)


def proc_root(tmp_path: Path, name: str, somaxconn: str = "128") -> Path:
    """A fake node root: proc/sys/net/core/somaxconn and one unit's cgroup directory."""
    root = tmp_path / name
    (root / "proc/sys/net/core").mkdir(parents=True)
    (root / "proc/sys/net/core/somaxconn").write_text(somaxconn + "\n")
    group = root / "sys/fs/cgroup/system.slice/app.service"
    group.mkdir(parents=True)
    (group / "memory.high").write_text("max\n")
    return root


def probe_of(values: list[float]) -> Any:
    """Metric values in order (the first is read before acting, as the baseline)."""
    seen: Iterator[float] = iter(values)
    return lambda metric: next(seen, values[-1])


def node_at(tmp_path: Path, node_id: str, root: Path, values: list[float], sink: ListSink) -> Any:
    own = settings(
        apply=True,
        allowed_actions=TUNE_ACTIONS,
        tune_root=root,
        systemctl=Path("/bin/true"),
        verify_timeout_s=1e-6,  # one probe after acting: tests judge behaviour, not waiting
        state_dir=tmp_path / "state" / node_id,
    )
    node = NodeRemediator(
        node_id, {"role": "web"}, own, control(), KEYRING, AuditLog(sink), ActionContext(own),
        probe_of(values),
    )  # fmt: skip
    node.start()
    return node


def approved(node: Any, request: RemediationRequest) -> RemediationResult:
    """Send the request (it waits for approval), then approve it as an operator would."""
    first = node.handle_request(request, utc_now())
    assert first is not None and first.outcome == "awaiting_approval", first
    approval = make_command(OPERATOR, "approve", utc_now(), request_id=request.request_id)
    (result,) = node.handle_command(approval, utc_now())
    return result


def test_sysctl_written_under_the_root_and_kept_when_the_metric_moves(tmp_path: Path) -> None:
    root, sink = proc_root(tmp_path, "n1"), ListSink()
    node = node_at(tmp_path, "node-1", root, [40.0, 2.0], sink)
    result = approved(node, request_for(SOMAXCONN, "inc-1", "node-1", KEY, utc_now(), 300))
    assert result.outcome == "succeeded", result
    assert (root / "proc/sys/net/core/somaxconn").read_text() == "4096\n"
    assert "was '128'" in result.detail
    assert sink.steps()[-2:] == ["executed", "verified"]


def test_regressed_metric_rolls_the_sysctl_back(tmp_path: Path) -> None:
    root, sink = proc_root(tmp_path, "n1"), ListSink()
    node = node_at(tmp_path, "node-1", root, [40.0, 60.0], sink)  # worse than before: regressed
    result = approved(node, request_for(SOMAXCONN, "inc-1", "node-1", KEY, utc_now(), 300))
    assert result.outcome == "no_effect"
    assert "rolled back" in result.detail
    assert (root / "proc/sys/net/core/somaxconn").read_text() == "128\n"
    assert sink.steps()[-3:] == ["executed", "rolled_back", "no_effect"]


def test_cgroup_limit_and_unit_drop_in_are_undone_on_timeout(tmp_path: Path) -> None:
    root = proc_root(tmp_path, "n1")
    node = node_at(tmp_path, "node-1", root, [40.0, 39.0, 39.0], ListSink())  # never below 5
    cgroup = Change(
        "set_cgroup_limit", {"unit": "app.service", "file": "memory.high", "value": "1073741824"},
        "mem.used_percent", 5,
    )  # fmt: skip
    result = approved(node, request_for(cgroup, "inc-1", "node-1", KEY, utc_now(), 300))
    assert result.outcome == "no_effect" and "rolled back" in result.detail
    assert (root / "sys/fs/cgroup/system.slice/app.service/memory.high").read_text() == "max\n"
    prop = Change(
        "set_unit_property", {"unit": "app.service", "property": "LimitNOFILE", "value": "65536"},
        "fd.used_percent", 5,
    )  # fmt: skip
    result = approved(node, request_for(prop, "inc-1", "node-1", KEY, utc_now(), 300))
    assert result.outcome == "no_effect" and "removed" in result.detail
    assert not list((root / "etc/systemd/system/app.service.d").iterdir())


def test_tuning_without_a_verify_metric_is_refused_and_nothing_written(tmp_path: Path) -> None:
    root = proc_root(tmp_path, "n1")
    node = node_at(tmp_path, "node-1", root, [1.0], ListSink())
    request = request_for(SOMAXCONN, "inc-1", "node-1", KEY, utc_now(), 300)
    unverified = request.model_copy(update={"verify_metric": None, "signature": None})
    from pipeline.control.signing import sign_one

    result = approved(node, sign_one(unverified, KEY))
    assert result.outcome == "refused" and "verify_metric" in result.detail
    assert (root / "proc/sys/net/core/somaxconn").read_text() == "128\n"


def test_canary_regression_is_undone_and_the_fleet_step_not_taken(tmp_path: Path) -> None:
    roots = {n: proc_root(tmp_path, n) for n in ("canary", "web-2", "web-3")}
    nodes = {
        "canary": node_at(tmp_path, "canary", roots["canary"], [40.0, 80.0], ListSink()),
        "web-2": node_at(tmp_path, "web-2", roots["web-2"], [40.0, 1.0], ListSink()),
        "web-3": node_at(tmp_path, "web-3", roots["web-3"], [40.0, 1.0], ListSink()),
    }
    now = utc_now()
    requests = [
        request_for(SOMAXCONN, "inc-1", n, KEY, now, 300, i) for i, n in enumerate(nodes, 1)
    ]
    sent: list[str] = []

    def deliver(request: RemediationRequest) -> RemediationResult:
        sent.append(request.node_id)
        return approved(nodes[request.node_id], request)

    rollout = roll_out(requests, deliver)
    assert sent == ["canary"]
    assert rollout.canary is not None and rollout.canary.outcome == "no_effect"
    assert rollout.halted and "fleet step not taken" in rollout.halted
    for root in roots.values():
        assert (root / "proc/sys/net/core/somaxconn").read_text() == "128\n"


def test_verified_canary_lets_the_fleet_follow(tmp_path: Path) -> None:
    roots = {n: proc_root(tmp_path, n) for n in ("canary", "web-2")}
    nodes = {n: node_at(tmp_path, n, roots[n], [40.0, 1.0], ListSink()) for n in roots}
    requests = [
        request_for(SOMAXCONN, "inc-1", n, KEY, utc_now(), 300, i) for i, n in enumerate(nodes, 1)
    ]
    rollout = roll_out(requests, lambda r: approved(nodes[r.node_id], r))
    assert rollout.halted is None and [r.outcome for r in rollout.fleet] == ["succeeded"]
    assert all((r / "proc/sys/net/core/somaxconn").read_text() == "4096\n" for r in roots.values())


def test_change_of_a_sysctl_suggestion_and_its_bounds() -> None:
    (top,) = suggest("load_spike", lambda knob: "128")
    change = change_of(top, None, None, "net.drop_in", 1)
    assert change.params == {"key": "net.core.somaxconn", "value": 4096}
    with pytest.raises(ConfigError, match="outside 128..65535"):
        change_of(top, None, "70000", "net.drop_in", 1)


def test_change_of_refuses_knobs_without_an_action_or_a_unit() -> None:
    (journal,) = suggest("disk_full", lambda knob: None)
    with pytest.raises(ConfigError, match="no typed action"):
        change_of(journal, None, None, "disk.root.used_percent", 80)
    cap = Suggestion(Knob("cgroup", "memory.high"), "max", "1G", ("1", "2"), "", "", "", 1.0)
    with pytest.raises(ConfigError, match="--unit"):
        change_of(cap, None, "1073741824", "mem.used_percent", 80)


def test_node_bounds_are_the_bounds_tune_suggests() -> None:
    from pipeline.control.catalogue import SYSCTL_BOUNDS
    from pipeline.tune.rules import RULES

    high = lambda knob: "1" if knob.name.startswith("net.") else "100"  # noqa: E731
    proposed = {
        s.knob.name: s.bounds
        for rule in RULES.values()
        for s in rule(high)
        if s.knob.scope == "sysctl"
    }
    assert proposed == {k: (str(lo), str(hi)) for k, (lo, hi) in SYSCTL_BOUNDS.items()}
