"""Generic webhook notifier: JSON POST per incident change, retries with backoff, rate limit.

Posting happens on a background thread so a slow chat or paging tool never stalls the incident
stage; what could not be sent is counted, not lost silently.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass

from pipeline.models import Incident

log = logging.getLogger(__name__)


@dataclass
class NotifierCounters:
    """Outcomes of notifications, exported by the stage."""

    sent: int = 0
    failed: int = 0
    rate_limited: int = 0
    skipped: int = 0


def worth_notifying(incident: Incident, previous_severity: str | None) -> bool:
    """Open, resolved and escalations page; flapping or silenced incidents never do."""
    if incident.silenced or incident.flapping:
        return False
    if incident.status in ("open", "resolved"):
        return True
    return previous_severity is not None and previous_severity != incident.severity


class WebhookNotifier:
    """POST incidents as JSON to ``url``.

    Parameters
    ----------
    url
        The webhook (http or https).
    per_minute
        At most this many posts in any 60 s; the rest are counted as rate_limited.
    retries
        Extra attempts on a connection error or a 5xx/429 answer.
    backoff_s
        First retry delay; doubled each retry.
    timeout_s
        Per attempt.
    """

    def __init__(
        self,
        url: str,
        per_minute: int = 30,
        retries: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must be http(s), got {url!r}")
        self.url = url
        self.per_minute = per_minute
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.counters = NotifierCounters()
        self._sent_at: deque[float] = deque()
        self._queue: queue.Queue[dict[str, object] | None] = queue.Queue(maxsize=1000)
        self._thread: threading.Thread | None = None
        self._severity: dict[str, str] = {}

    def start(self) -> None:
        """Start the sending thread."""
        self._thread = threading.Thread(target=self._run, name="webhook-notifier", daemon=True)
        self._thread.start()

    def notify_one(self, incident: Incident) -> bool:
        """Queue ``incident`` if it is worth a notification and within the rate limit."""
        previous = self._severity.get(incident.incident_id)
        self._severity[incident.incident_id] = incident.severity
        if not worth_notifying(incident, previous):
            self.counters.skipped += 1
            return False
        now = time.monotonic()
        while self._sent_at and self._sent_at[0] <= now - 60:
            self._sent_at.popleft()
        if len(self._sent_at) >= self.per_minute:
            self.counters.rate_limited += 1
            return False
        self._sent_at.append(now)
        self._queue.put_nowait({"type": "incident", "incident": incident.model_dump(mode="json")})
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued (within ``timeout_s``) and stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout_s)
            self._thread = None

    def post_one(self, payload: dict[str, object]) -> bool:
        """POST ``payload`` with retries; True on a 2xx answer."""
        body = json.dumps(payload).encode()
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(delay)
                delay *= 2
            try:
                request = urllib.request.Request(  # noqa: S310 - operator-configured http(s)
                    self.url, data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                    if 200 <= response.status < 300:
                        return True
            except urllib.error.HTTPError as exc:
                if exc.code < 500 and exc.code != 429:
                    log.error("webhook %s refused the notification: HTTP %s", self.url, exc.code)
                    return False  # a 4xx will not get better by retrying
            except (urllib.error.URLError, TimeoutError, OSError):
                pass
        log.error("webhook %s unreachable after %d attempts", self.url, self.retries + 1)
        return False

    def _run(self) -> None:
        while (payload := self._queue.get()) is not None:
            if self.post_one(payload):
                self.counters.sent += 1
            else:
                self.counters.failed += 1
