from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.control.audit import AuditLog
from pipeline.control.operators import make_command
from pipeline.models import OperatorCommand, utc_now
from pipeline.remediate.actions import ActionContext
from pipeline.remediate.executor import NodeRemediator
from tests.unit.control.conftest import (
    KEYRING,
    OPERATOR,
    OTHER_KEY,
    ListSink,
    control,
    request,
    settings,
    split,
)


@pytest.fixture
def victim() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A process this test owns, tagged with a unique marker in its command line."""
    marker = f"fw-victim-{uuid.uuid4().hex[:8]}"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", marker])
    yield process, marker
    process.kill()
    process.wait()


def _node(tmp_path: Path, sink: ListSink, **overrides: Any) -> NodeRemediator:
    own, shared = split(**overrides)
    node_settings = settings(state_dir=tmp_path / "state", **own)
    context = ActionContext(node_settings)
    node = NodeRemediator(
        "node-1",
        {"role": "web"},
        node_settings,
        control(**shared),
        KEYRING,
        AuditLog(sink),
        context,
    )
    node.start()
    return node


def _stop(marker: str, **overrides: Any) -> Any:
    return request(action="stop_process", params={"pattern": marker, "grace_s": 2}, **overrides)


def test_dry_run_records_and_leaves_the_process(tmp_path: Path, victim: Any) -> None:
    process, marker = victim
    sink = ListSink()
    node = _node(tmp_path, sink, process_allowlist=[marker])
    result = node.handle_request(_stop(marker), utc_now())
    assert result is not None and result.outcome == "dry_run"
    assert f"would stop 1: {process.pid}" in result.detail
    assert process.poll() is None
    assert sink.steps() == ["received", "dry_run"]


def test_apply_stops_the_process_and_verifies(tmp_path: Path, victim: Any) -> None:
    process, marker = victim
    sink = ListSink()
    node = _node(tmp_path, sink, process_allowlist=[marker], apply=True)
    result = node.handle_request(_stop(marker), utc_now())
    assert result is not None and result.outcome == "succeeded", result
    assert process.wait(timeout=5) == -signal.SIGTERM  # asked to stop first, not killed
    assert sink.steps() == ["received", "executed", "verified"]


def test_a_diagnosed_command_name_is_matched_not_only_the_command_line(tmp_path: Path) -> None:
    # The agent reports proc.<comm> and a runbook asks for "^{culprit}$": the command name.
    name = f"fw{uuid.uuid4().hex[:8]}"
    code = f"open('/proc/self/comm', 'w').write('{name}'); import time; time.sleep(120)"
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        wait_until_named(process.pid, name)
        node = _node(tmp_path, ListSink(), process_allowlist=[f"^{name}$"])
        stop = request(action="stop_process", params={"pattern": f"^{name}$", "grace_s": 2})
        result = node.handle_request(stop, utc_now())
        assert result is not None and result.outcome == "dry_run"
        assert f"would stop 1: {process.pid}" in result.detail
    finally:
        process.kill()
        process.wait()


def wait_until_named(pid: int, name: str) -> None:
    comm = Path(f"/proc/{pid}/comm")
    deadline = time.monotonic() + 10
    while comm.read_text().strip() != name:
        assert time.monotonic() < deadline, "the process never renamed itself"
        time.sleep(0.05)


def test_process_outside_the_allowlist_is_untouched(tmp_path: Path, victim: Any) -> None:
    process, marker = victim
    node = _node(tmp_path, ListSink(), process_allowlist=["^nothing-matches$"], apply=True)
    result = node.handle_request(_stop(marker), utc_now())
    assert result is not None and result.outcome == "failed"
    assert process.poll() is None


def test_forged_replayed_and_expired_requests_are_refused_and_audited(tmp_path: Path) -> None:
    sink = ListSink()
    node = _node(tmp_path, sink)
    now = utc_now()
    good = request()
    old = now - timedelta(hours=1)
    cases = {
        "forged": request(key=OTHER_KEY),
        "tampered": good.model_copy(update={"params": {"level": 3}}),
        "expired": request(issued_at=old, expires_at=old + timedelta(minutes=5)),
    }
    reasons = {}
    for name, message in cases.items():
        result = node.handle_request(message, now)
        assert result is not None and result.outcome == "refused"
        reasons[name] = result.detail
    assert node.handle_request(good, now).outcome == "dry_run"  # type: ignore[union-attr]
    replay = node.handle_request(good, now)
    assert replay is not None and replay.outcome == "refused"
    assert "unknown signing key" in reasons["forged"] and "bad signature" in reasons["tampered"]
    assert "expired" in reasons["expired"] and "replayed" in replay.detail
    assert sink.steps().count("refused") == 4


def test_replay_is_refused_after_a_restart(tmp_path: Path) -> None:
    good = request()
    assert _node(tmp_path, ListSink()).handle_request(good, utc_now()).outcome == "dry_run"  # type: ignore[union-attr]
    again = _node(tmp_path, ListSink()).handle_request(good, utc_now())
    assert again is not None and "replayed" in again.detail


def test_requests_for_other_nodes_are_not_executed(tmp_path: Path) -> None:
    sink = ListSink()
    assert _node(tmp_path, sink).handle_request(request(node_id="node-2"), utc_now()) is None
    assert sink.steps() == []


def test_risky_action_waits_for_a_signed_approval(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    old = root / "old.log"
    old.write_text("x")
    import os

    os.utime(old, (0, 0))
    sink = ListSink()
    node = _node(tmp_path, sink, clean_roots=[root], apply=True)
    clean = request(action="clean_files", params={"path": str(root), "older_than_days": 1})
    waiting = node.handle_request(clean, utc_now())
    assert waiting is not None and waiting.outcome == "awaiting_approval" and old.exists()
    forged = make_command(OTHER_KEY, "approve", utc_now(), request_id=clean.request_id)
    assert node.handle_command(forged, utc_now()) == []
    assert old.exists()
    approval = make_command(OPERATOR, "approve", utc_now(), request_id=clean.request_id)
    (done,) = node.handle_command(approval, utc_now())
    assert done.outcome == "succeeded" and not old.exists()
    assert "approved" in sink.steps()


def test_silence_blocks_remediation(tmp_path: Path) -> None:
    node = _node(tmp_path, ListSink(), apply=True)
    until = utc_now() + timedelta(hours=2)
    silence: OperatorCommand = make_command(
        OPERATOR, "silence", utc_now(), label="role=web", until_at=until
    )
    node.handle_command(silence, utc_now())
    result = node.handle_request(request(), utc_now())
    assert result is not None and result.outcome == "refused" and "silenced" in result.detail


def test_rate_limit_per_node(tmp_path: Path) -> None:
    caches = tmp_path / "drop_caches"
    caches.write_text("0")
    node = _node(tmp_path, ListSink(), apply=True, rate_limit_per_node=2, drop_caches_path=caches)
    outcomes = [
        node.handle_request(request(request_id=f"rq-{i}"), utc_now()).outcome  # type: ignore[union-attr]
        for i in range(3)
    ]
    assert outcomes == ["succeeded", "succeeded", "refused"]
    assert caches.read_text() == "1\n"


def test_verification_reports_no_effect_when_the_metric_stays_high(tmp_path: Path) -> None:
    caches = tmp_path / "drop_caches"
    caches.write_text("0")
    node = _node(tmp_path, ListSink(), apply=True, drop_caches_path=caches, verify_timeout_s=0.3)
    node.probe = lambda metric: 95.0
    high = request(verify_metric="mem.used_percent", recover_below=80.0)
    result = node.handle_request(high, utc_now())
    assert result is not None and result.outcome == "no_effect"
    assert "mem.used_percent=95.0" in result.detail
    node.probe = lambda metric: 40.0
    low = request(request_id="rq-2", verify_metric="mem.used_percent", recover_below=80.0)
    assert node.handle_request(low, utc_now()).outcome == "succeeded"  # type: ignore[union-attr]


def test_node_side_blast_radius_uses_the_budget_signed_into_the_request(tmp_path: Path) -> None:
    caches = tmp_path / "drop_caches"
    caches.write_text("0")
    node = _node(tmp_path, ListSink(), apply=True, blast_max_nodes=2, drop_caches_path=caches)
    # Other nodes' requests are not even read: they change nothing here.
    for other in ("node-7", "node-8", "node-9"):
        assert (
            node.handle_request(request(node_id=other, request_id=f"rq-{other}"), utc_now()) is None
        )
    over = node.handle_request(request(blast_nodes=3), utc_now())
    assert over is not None and over.outcome == "refused" and "admitted 3 nodes" in over.detail
    unbudgeted = node.handle_request(request(request_id="rq-2", blast_nodes=None), utc_now())
    assert unbudgeted is not None and "no signed blast budget" in unbudgeted.detail
    within = node.handle_request(request(request_id="rq-3", blast_nodes=2), utc_now())
    assert within is not None and within.outcome == "succeeded"
    assert caches.read_text() == "1\n"


def test_a_raised_budget_breaks_the_signature(tmp_path: Path) -> None:
    node = _node(tmp_path, ListSink(), apply=True, blast_max_nodes=2)
    forged = request(blast_nodes=9).model_copy(update={"blast_nodes": 1})
    result = node.handle_request(forged, utc_now())
    assert result is not None and "bad signature" in result.detail
