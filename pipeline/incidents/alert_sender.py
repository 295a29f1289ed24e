"""Keep Alertmanager in step with the incidents: re-send firing alerts, deliver resolutions.

Alertmanager forgets an alert whose ``endsAt`` passes, so a firing incident is re-posted every
``resend_s`` with ``endsAt`` a few intervals ahead (as Prometheus does); a closed incident is
posted once with ``endsAt`` = now. Posts run on a background thread; while Alertmanager is
unreachable, resolutions wait in a bounded buffer and the thread retries with backoff, so nothing
is dropped silently and the incident stage never stalls on a slow server.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.errors import SinkUnavailable
from pipeline.incidents.alertmanager import (
    Alert,
    alert_annotations,
    alert_of,
    ending_at,
    post_alerts,
)
from pipeline.models import Incident, utc_now

log = logging.getLogger(__name__)

ENDS_AFTER_RESENDS = 4  # a firing alert survives this many missed re-sends before it expires
POST_BATCH = 500  # alerts per POST: one slow request never holds thousands


@dataclass
class AlertCounters:
    """Outcomes of posting to Alertmanager, exported by the stage."""

    posts: int = 0
    failed_posts: int = 0
    alerts_sent: int = 0
    dropped: int = 0


class AlertmanagerNotifier:
    """Post incidents as alerts to one Alertmanager (or a load balancer in front of a cluster).

    Parameters
    ----------
    url
        Alertmanager's base URL, e.g. ``http://alertmanager:9093``.
    resend_s
        Firing alerts are re-posted this often.
    report_url
        Template of the report link annotation, ``{incident_id}`` filled in; empty for none.
    max_pending
        Resolutions kept while Alertmanager is unreachable; beyond, the oldest are dropped
        (counted): their alerts still expire on their own ``endsAt``.
    clock
        Wall time (tests pass their own).
    """

    def __init__(
        self,
        url: str,
        resend_s: float = 60.0,
        report_url: str = "",
        max_pending: int = 10_000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"alertmanager url must be http(s), got {url!r}")
        self.url = url
        self.resend_s = resend_s
        self.report_url = report_url
        self.max_pending = max_pending
        self.clock = clock
        self.counters = AlertCounters()
        self._firing: dict[str, Alert] = {}
        self._changed: set[str] = set()
        self._ending: dict[str, Alert] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the posting thread."""
        self._thread = threading.Thread(target=self._run, name="alertmanager", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Try once more to deliver what is pending (within ``timeout_s``) and stop."""
        if self._thread is not None:
            self._stopping.set()
            self._wake.set()
            self._thread.join(timeout_s)
            self._thread = None

    def notify_one(self, incident: Incident, runbook: str | None = None) -> None:
        """Mirror ``incident``: fire (or refresh) its alert, or resolve it when it closed."""
        now = self.clock()
        with self._lock:
            previous = self._firing.pop(incident.incident_id, None)
            if incident.status == "resolved" or incident.silenced:
                if previous is not None:
                    self._end(previous, now)
            else:
                annotations = alert_annotations(incident, runbook, self.report_url)
                alert = alert_of(incident, now, annotations)
                if previous is not None and previous["labels"] != alert["labels"]:
                    self._end(previous, now)  # escalated: Alertmanager sees a new alert
                self._firing[incident.incident_id] = alert
                self._changed.add(incident.incident_id)
        self._wake.set()

    def pending(self) -> tuple[int, int]:
        """How many alerts are firing and how many resolutions await delivery."""
        with self._lock:
            return len(self._firing), len(self._ending)

    def flush_once(self, everything: bool = True) -> bool:
        """Post firing alerts (with a fresh ``endsAt``) and every pending resolution.

        ``everything`` False posts only the alerts that changed since the last post (a wake-up
        after ``notify_one``); True re-sends all of them (the periodic re-send). Returns False
        when Alertmanager was unreachable: everything stays pending.
        """
        ends_at = self.clock() + timedelta(seconds=self.resend_s * ENDS_AFTER_RESENDS)
        with self._lock:
            ending = dict(self._ending)
            changed, self._changed = self._changed, set()
            ids = list(self._firing) if everything else [i for i in changed if i in self._firing]
            alerts = [ending_at(self._firing[i], ends_at) for i in ids]
        alerts += list(ending.values())
        for start in range(0, len(alerts), POST_BATCH):
            if not self._post(alerts[start : start + POST_BATCH]):
                with self._lock:
                    self._changed |= changed
                return False
        with self._lock:
            for key, alert in ending.items():
                if self._ending.get(key) is alert:
                    del self._ending[key]
        return True

    def _post(self, alerts: list[Alert]) -> bool:
        try:
            post_alerts(self.url, alerts)
        except SinkUnavailable as exc:
            self.counters.failed_posts += 1
            log.warning("%s; %d alerts kept for the next attempt", exc, len(alerts))
            return False
        except ValueError as exc:
            self.counters.dropped += len(alerts)  # a refused payload cannot succeed on retry
            log.error("%s", exc)
            return True
        self.counters.posts += 1
        self.counters.alerts_sent += len(alerts)
        return True

    def _end(self, alert: Alert, now: datetime) -> None:
        key = repr(sorted(alert["labels"].items()))
        self._ending[key] = ending_at(alert, now)
        while len(self._ending) > self.max_pending:
            del self._ending[next(iter(self._ending))]
            self.counters.dropped += 1

    def _run(self) -> None:
        backoff_s = 1.0
        resend_at = 0.0
        while not self._stopping.is_set():
            everything = time.monotonic() >= resend_at
            delivered = self.flush_once(everything)
            if delivered and everything:
                resend_at = time.monotonic() + self.resend_s
            backoff_s = 1.0 if delivered else min(backoff_s * 2, self.resend_s)
            wait_s = max(0.0, resend_at - time.monotonic()) if delivered else backoff_s
            self._wake.wait(wait_s)
            self._wake.clear()
        self.flush_once(everything=False)
