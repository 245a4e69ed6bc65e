"""The smoke's outcome as Prometheus gauges, pushed to a Pushgateway
(``LEDGER_SMOKE_PUSHGATEWAY_URL``) with prometheus_client (docs/deploy.md, "The smoke's
gauges"): grouping key ``job="ledger-smoke"``, ``instance=<--url>``.

The push is a POST (``pushadd_to_gateway``): it replaces only the gauges it carries, so a
failed run, which leaves ``ledger_smoke_last_success_timestamp_seconds`` out, keeps the
last success's timestamp for ``LedgerSmokeStale``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

JOB = "ledger-smoke"
PUSH_TIMEOUT_S = 10.0


def smoke_gauges(*, succeeded: bool, ended_at: float) -> CollectorRegistry:
    """A registry of its own: the gauges of this run, nothing of the process's."""
    registry = CollectorRegistry()
    Gauge(
        "ledger_smoke_last_run_timestamp_seconds",
        "Unix time the last smoke run ended",
        registry=registry,
    ).set(ended_at)
    Gauge(
        "ledger_smoke_last_run_success",
        "1 if every step of the last smoke run held, else 0",
        registry=registry,
    ).set(1 if succeeded else 0)
    if succeeded:
        Gauge(
            "ledger_smoke_last_success_timestamp_seconds",
            "Unix time the last successful smoke run ended",
            registry=registry,
        ).set(ended_at)
    return registry


def push_result(gateway: str, *, instance: str, succeeded: bool, ended_at: float) -> str:
    registry = smoke_gauges(succeeded=succeeded, ended_at=ended_at)
    pushadd_to_gateway(
        gateway,
        job=JOB,
        registry=registry,
        grouping_key={"instance": instance},
        timeout=PUSH_TIMEOUT_S,
    )
    return f"gauges pushed to {gateway} (instance {instance})"
