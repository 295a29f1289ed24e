from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from pipeline.incidents.notifier import WebhookNotifier, worth_notifying
from pipeline.models import Incident
from tests.conftest import BASE_TIME


class _Hook(BaseHTTPRequestHandler):
    statuses: list[int] = []
    bodies: list[dict[str, object]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.bodies.append(json.loads(body))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    _Hook.statuses, _Hook.bodies = [], []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Hook
    server.shutdown()


def _incident(**overrides: object) -> Incident:
    fields: dict[str, object] = {
        "incident_id": "inc-1",
        "dedup_key": "host:n1",
        "kind": "host",
        "status": "open",
        "severity": "critical",
        "title": "n1: cpu up",
        "node_id": "n1",
        "affected_count": 1,
        "event_count": 1,
        "opened_at": BASE_TIME,
        "updated_at": BASE_TIME,
    }
    return Incident(**(fields | overrides))  # type: ignore[arg-type]


def test_retries_server_errors_then_delivers(hook: tuple[str, type[_Hook]]) -> None:
    url, handler = hook
    handler.statuses = [500, 503]
    notifier = WebhookNotifier(url, retries=3, backoff_s=0.01)
    assert notifier.post_one({"a": 1})
    assert handler.bodies == [{"a": 1}]


def test_client_error_is_not_retried(hook: tuple[str, type[_Hook]]) -> None:
    url, handler = hook
    handler.statuses = [400, 200]
    assert not WebhookNotifier(url, retries=3, backoff_s=0.01).post_one({"a": 1})
    assert handler.statuses == [200]  # the second answer was never asked for


def test_rate_limit_and_what_is_worth_a_page(hook: tuple[str, type[_Hook]]) -> None:
    url, handler = hook
    notifier = WebhookNotifier(url, per_minute=2, backoff_s=0.01)
    notifier.start()
    sent = [notifier.notify_one(_incident(incident_id=f"inc-{i}")) for i in range(4)]
    notifier.close()
    assert sent == [True, True, False, False]
    assert notifier.counters.sent == 2 and notifier.counters.rate_limited == 2
    assert handler.bodies[0]["incident"]["incident_id"] == "inc-0"  # type: ignore[index]
    assert not worth_notifying(_incident(status="updated"), "critical")
    assert worth_notifying(_incident(status="updated", severity="critical"), "warning")
    assert not worth_notifying(_incident(flapping=True), None)
    assert not worth_notifying(_incident(silenced=True), None)
