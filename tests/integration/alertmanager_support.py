"""A loopback HTTP receiver standing in for a pager, and reads of Alertmanager's own API."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipeline.models import utc_now


class Pager:
    """Collects Alertmanager webhook notifications per path (one path per receiver)."""

    def __init__(self) -> None:
        self.notifications: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.port = 0

    def received(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for at, body in self.notifications if at == path]

    def alerts(self, path: str, status: str | None = None) -> list[dict[str, Any]]:
        """Every alert delivered to ``path`` (optionally only those with ``status``)."""
        return [
            alert
            for body in self.received(path)
            for alert in body["alerts"]
            if status is None or alert["status"] == status
        ]


@contextmanager
def running_pager() -> Iterator[Pager]:
    pager = Pager()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with pager.lock:
                pager.notifications.append((self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    pager.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pager
    finally:
        server.shutdown()
        server.server_close()


def routing_config(run: str, pager_port: int) -> str:
    """web incidents of this run to one receiver, db ones to another, grouped by role."""
    hook = f"http://127.0.0.1:{pager_port}"
    return f"""
route:
  receiver: "null"
  group_by: [alertname, role]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['team="{run}"', 'role="web"']
      receiver: web
    - matchers: ['team="{run}"', 'role="db"']
      receiver: db
receivers:
  - name: "null"
  - name: web
    webhook_configs: [{{url: "{hook}/web", send_resolved: true}}]
  - name: db
    webhook_configs: [{{url: "{hook}/db", send_resolved: true}}]
"""


def am_alerts(base_url: str, matcher: str) -> list[dict[str, Any]]:
    """Alertmanager's view of the active alerts matching ``matcher`` (e.g. ``node="web-1"``)."""
    query = urllib.parse.urlencode({"filter": matcher})
    with urllib.request.urlopen(f"{base_url}/api/v2/alerts?{query}", timeout=10) as response:  # noqa: S310
        return list(json.loads(response.read()))


def create_silence(base_url: str, name: str, value: str) -> str:
    """Silence alerts whose label ``name`` equals ``value`` for an hour; returns the silence id."""
    now = utc_now()
    body = {
        "matchers": [{"name": name, "value": value, "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "integration-test",
        "comment": "maintenance",
    }
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base_url}/api/v2/silences",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return str(json.loads(response.read())["silenceID"])


def wait_for(what: str, check: Callable[[], bool], deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {deadline_s} s")
        time.sleep(0.2)
