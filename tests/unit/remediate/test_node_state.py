"""A node restarted mid-sequence forgets nothing: no action twice, no limit reset, approvals kept.

Each test builds a real NodeRemediator on a state directory, acts, builds a second one on the
same directory (what a restart of the node worker does) and continues the sequence there.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipeline.control.audit import AuditLog
from pipeline.control.operators import make_command
from pipeline.models import utc_now
from pipeline.remediate.actions import ActionContext
from pipeline.remediate.executor import NodeRemediator
from tests.unit.control.conftest import (
    KEYRING,
    OPERATOR,
    ListSink,
    control,
    request,
    settings,
    split,
)


def _node(state_dir: Path, **overrides: Any) -> NodeRemediator:
    own, shared = split(**overrides)
    node_settings = settings(state_dir=state_dir, apply=True, **own)
    node = NodeRemediator(
        "node-1", {"role": "web"}, node_settings, control(**shared), KEYRING,
        AuditLog(ListSink()), ActionContext(node_settings),
    )  # fmt: skip
    node.start()
    return node


def _outcome(node: NodeRemediator, **fields: Any) -> str:
    result = node.handle_request(request(**fields), utc_now())
    assert result is not None
    return result.outcome


@pytest.fixture
def caches(tmp_path: Path) -> Path:
    path = tmp_path / "drop_caches"  # the test's own stand-in for /proc/sys/vm/drop_caches
    path.write_text("0")
    return path


def test_an_executed_request_is_not_run_again_after_a_restart(tmp_path: Path, caches: Path) -> None:
    first = _node(tmp_path / "state", drop_caches_path=caches)
    assert _outcome(first, request_id="rq-1") == "succeeded"
    caches.write_text("0")
    restarted = _node(tmp_path / "state", drop_caches_path=caches)
    # The issuer re-sends the same request id (a new nonce, so not a replay): refused.
    assert _outcome(restarted, request_id="rq-1") == "refused"
    assert caches.read_text() == "0"


def test_the_rate_window_does_not_reset_on_restart(tmp_path: Path, caches: Path) -> None:
    first = _node(tmp_path / "state", drop_caches_path=caches, rate_limit_per_node=2)
    assert [_outcome(first, request_id=f"rq-{i}") for i in range(2)] == ["succeeded"] * 2
    restarted = _node(tmp_path / "state", drop_caches_path=caches, rate_limit_per_node=2)
    result = restarted.handle_request(request(request_id="rq-2"), utc_now())
    assert result is not None and result.outcome == "refused" and "rate limit" in result.detail


def test_a_pending_approval_survives_a_restart(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    root.mkdir()
    (root / "old.log").write_text("x")
    os.utime(root / "old.log", (0, 0))
    clean = request(action="clean_files", params={"path": str(root), "older_than_days": 1})
    first = _node(tmp_path / "state", clean_roots=[root])
    assert first.handle_request(clean, utc_now()).outcome == "awaiting_approval"  # type: ignore[union-attr]
    restarted = _node(tmp_path / "state", clean_roots=[root])
    approval = make_command(OPERATOR, "approve", utc_now(), request_id=clean.request_id)
    (done,) = restarted.handle_command(approval, utc_now())
    assert done.outcome == "succeeded" and not (root / "old.log").exists()


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback HTTP endpoint standing in for the operator's webhook (outside the product)."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    server.shutdown()
    server.server_close()


def test_call_webhook_posts_the_request_and_the_node(
    tmp_path: Path, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, bodies = hook
    node = _node(
        tmp_path / "state", webhook_urls=[url],
        allowed_actions=["call_webhook"], approval_required=[],
    )  # fmt: skip
    assert (
        _outcome(node, action="call_webhook", params={"url": url}, reason="disk full")
        == "succeeded"
    )
    (body,) = bodies
    assert (body["request_id"], body["incident_id"], body["node_id"]) == ("rq-1", "inc-1", "node-1")
    assert body["reason"] == "disk full" and body["labels"] == {"role": "web"}
    assert "signature" not in body and "nonce" not in body
