"""``GET /metrics``: the process's counters plus gauges read from the store at scrape time.

The store gauges (inbox backlog and failures, each read model's lag, renewals at risk)
cost a few indexed queries per scrape, cached for ``cache_s`` so that several scrapers
(or a scraper and a human) never load the store; nothing is updated per event. A store
that cannot answer leaves those gauges out of that scrape (and says so in the log):
the counters, and ``up``, still tell the story.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.observability.metrics import REGISTRY
from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.persistence.inbox import StripeInbox
from app.services.ledger import LedgerApplication
from app.settings import Settings
from projections.renewal_risks import count_at_risk
from projections.runner import READ_MODELS

log = logging.getLogger("ledger.metrics")
# The read models and the process manager's reactor: every follower of the log.
FOLLOWERS = (*READ_MODELS, "process_manager")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StoreDeps(Protocol):
    """What the store gauges read (the container satisfies it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def database(self) -> SQLiteDatabase | PostgresDatabase: ...
    @property
    def ledger(self) -> LedgerApplication: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


class StoreGauges(Collector):
    """Gauges computed from the store when scraped (``ledger_inbox_*``,
    ``ledger_projection_lag_*``, ``ledger_renewals_at_risk``)."""

    def __init__(self, container: StoreDeps, *, cache_s: float = 5.0) -> None:
        self.container = container
        self.cache_s = cache_s
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.cache_s:
                self._cached = (now, self._read())
            return iter(self._cached[1])

    def _read(self) -> list[Metric]:
        try:
            return [*self._inbox(), *self._lag(), self._at_risk()]
        except Exception as error:  # a scrape must never fail because the store did
            log.warning("store gauges unavailable this scrape: %s", error)
            return []

    def _inbox(self) -> list[Metric]:
        counts = StripeInbox(self.container.database).counts()
        pending = GaugeMetricFamily("ledger_inbox_pending", "Inbox rows waiting for translation")
        pending.add_metric([], counts.get("pending", 0))
        failed = GaugeMetricFamily("ledger_inbox_failed", "Inbox rows that ended failed")
        failed.add_metric([], counts.get("failed", 0))
        return [pending, failed]

    def _lag(self) -> list[Metric]:
        ledger = self.container.ledger
        end = ledger.recorder.max_notification_id() or 0
        with self.container.database.transaction() as cursor:
            rows = cursor.execute(
                "SELECT projection, notification_id FROM read_model_tracking"
            ).fetchall()
        positions = {str(r["projection"]): int(r["notification_id"]) for r in rows}
        events = GaugeMetricFamily(
            "ledger_projection_lag_events",
            "Events in the log after the read model's position",
            labels=["read_model"],
        )
        seconds = GaugeMetricFamily(
            "ledger_projection_lag_seconds",
            "Age of the oldest event the read model has not applied (0 when caught up)",
            labels=["read_model"],
        )
        now = datetime.now(UTC)
        for name in FOLLOWERS:
            position = positions.get(name, 0)
            behind = max(end - position, 0)
            events.add_metric([name], behind)
            seconds.add_metric([name], self._age_after(position, now) if behind else 0.0)
        return [events, seconds]

    def _age_after(self, position: int, now: datetime) -> float:
        """How long ago the first event after ``position`` was recorded."""
        ledger = self.container.ledger
        found = ledger.recorder.select_notifications(
            start=position, limit=1, inclusive_of_start=False
        )
        if not found:
            return 0.0
        recorded = getattr(ledger.mapper.to_domain_event(found[0]), "timestamp", None)
        if not isinstance(recorded, datetime):
            return 0.0
        return max((now - recorded).total_seconds(), 0.0)

    def _at_risk(self) -> Metric:
        at_risk = GaugeMetricFamily(
            "ledger_renewals_at_risk",
            "Renewals that may bill other than their groups: a sync unconfirmed by period end"
            " - LEDGER_SYNC_LEAD, drift with no sync, a renewal invoice not corrected yet",
        )
        at_risk.add_metric([], renewals_at_risk(self.container))
        return at_risk


def renewals_at_risk(container: StoreDeps) -> int:
    """Renewals at risk now, by the renewal-risks read model's one definition (the list
    of ``GET /api/ops/renewals-at-risk`` and ``ledger ops at-risk``)."""
    return count_at_risk(container.database, container.clock(), container.settings.sync_lead)


def exposition(store: CollectorRegistry) -> bytes:
    """The process's counters, then the store gauges: one Prometheus text document."""
    return generate_latest(REGISTRY) + generate_latest(store)


def store_registry(container: StoreDeps) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreGauges(container))
    return registry


Health = Callable[[], tuple[bool, dict[str, object]]]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Scrapes and probes every few seconds are not worth a log line each."""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class WorkerEndpoint:
    """The worker's own HTTP port (``LEDGER_WORKER_METRICS_PORT``): ``/metrics`` and the
    liveness probe ``/healthz`` (200 while ``health`` says the loops are alive)."""

    def __init__(self, store: CollectorRegistry, health: Health) -> None:
        self.store = store
        self.health = health
        self._server: _ThreadingServer | None = None

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
            return [exposition(self.store)]
        if path == "/healthz":
            healthy, detail = self.health()
            body = orjson.dumps({"status": "ok" if healthy else "stalled", **detail})
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "application/json")],
            )
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    def start(self, host: str, port: int) -> int:
        """Serve in a daemon thread; returns the bound port."""
        self._server = make_server(
            host, port, self.app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        thread = threading.Thread(
            target=self._server.serve_forever, name="worker-metrics", daemon=True
        )
        thread.start()
        bound: int = self._server.server_address[1]
        return bound

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
