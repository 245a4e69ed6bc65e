"""The ledger's Prometheus metrics, under the names docs/deploy.md and the alerts use.

Counters and the histogram are process-wide (one registry per process, ``REGISTRY``):
each ``ledger serve`` or ``ledger worker`` process exports what it counted. Gauges read
from the store (inbox, lag, renewals at risk) are not here: they are collected at scrape
time from the process's container (app/metrics.py), never updated per event.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOKS_RECEIVED = Counter(
    "ledger_webhooks_received",
    "Stripe deliveries at POST /webhooks/stripe, by outcome",
    ["outcome"],  # accepted, duplicate, rejected (any 4xx), unavailable (503: not stored)
    registry=REGISTRY,
)
SYNCS = Counter(
    "ledger_syncs",
    "Quantity syncs (and draft corrections) by how an attempt ended",
    ["outcome"],  # confirmed, retrying, failed
    registry=REGISTRY,
)
STRIPE_REQUESTS = Counter(
    "ledger_stripe_requests",
    "HTTP requests to Stripe, by method and status (error: no HTTP answer)",
    ["method", "status"],
    registry=REGISTRY,
)
STRIPE_REQUEST_SECONDS = Histogram(
    "ledger_stripe_request_seconds",
    "Duration of HTTP requests to Stripe",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 60.0),
    registry=REGISTRY,
)
STRIPE_RATE_LIMITED = Counter("ledger_stripe_rate_limited", "Stripe answers 429", registry=REGISTRY)
QUARANTINED_INPUTS = Counter(
    "ledger_quarantined",
    "Inputs refused and set aside: inbox deliveries marked failed, rejected group changes,"
    " read-model events quarantined",
    ["kind"],  # inbox, group_change, read_model, reaction
    registry=REGISTRY,
)
WORKER_LEADER = Gauge(
    "ledger_worker_leader", "1 on the worker that leads, 0 on a standby", registry=REGISTRY
)


# Every outcome exists from the start (at 0), so `increase()` sees the first one.
for _outcome in ("accepted", "duplicate", "rejected", "unavailable"):
    WEBHOOKS_RECEIVED.labels(outcome=_outcome)
for _outcome in ("confirmed", "retrying", "failed"):
    SYNCS.labels(outcome=_outcome)
for _kind in ("inbox", "group_change", "read_model", "reaction"):
    QUARANTINED_INPUTS.labels(kind=_kind)


def observe_stripe_request(method: str, status: int | None, seconds: float) -> None:
    """One HTTP exchange with Stripe (``status`` None: timeout, refused, dropped)."""
    STRIPE_REQUESTS.labels(
        method=method.upper(), status="error" if status is None else str(status)
    ).inc()
    STRIPE_REQUEST_SECONDS.observe(seconds)
    if status == 429:
        STRIPE_RATE_LIMITED.inc()
