"""``GET /metrics`` on both stores: the names docs/deploy.md and the alerts rely on, counters
that move with what happened, and store gauges read (and cached) at scrape time."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.gateway import StripeCallError, StripeGateway
from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.metrics import StoreGauges
from app.settings import load_settings
from domain.groups import GroupAction
from projections.runner import LogReader, build_read_models, catch_up
from stripe_double import running_double
from tests.support.clock import SteppingClock
from tests.support.inbox import deliver
from tests.support.stripe_payloads import subscription_event
from tests.support.webhooks import SECRET, sign

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def served(database_url: str, clock: SteppingClock) -> Iterator[tuple[TestClient, Container]]:
    container = bootstrap(
        load_settings(database_url=database_url, stripe_webhook_secret=SECRET),
        clock=clock,
        embedded_migrate=False,
    )
    container.migrate()
    with TestClient(create_app(container)) as client:
        yield client, container
    container.close()


class TestNames:
    def test_the_server_exports_every_name_the_alerts_use(
        self, served: tuple[TestClient, Container]
    ) -> None:
        client, _ = served
        text = client.get("/metrics").text
        names = {family.name for family in text_string_to_metric_families(text)}
        for expected in (
            "ledger_webhooks_received",
            "ledger_inbox_pending",
            "ledger_inbox_failed",
            "ledger_projection_lag_events",
            "ledger_projection_lag_seconds",
            "ledger_syncs",
            "ledger_stripe_requests",
            "ledger_stripe_request_seconds",
            "ledger_stripe_rate_limited",
            "ledger_renewals_at_risk",
            "ledger_worker_leader",
            "ledger_quarantined",
        ):  # counter families are named without `_total`; their samples carry it
            assert expected in names, expected
        assert 'ledger_webhooks_received_total{outcome="rejected"}' in text

    def test_every_follower_of_the_log_has_its_lag(
        self, served: tuple[TestClient, Container]
    ) -> None:
        client, _ = served
        samples = scrape(client)
        models = {
            dict(labels)["read_model"]
            for name, labels in samples
            if name == "ledger_projection_lag_events"
        }
        assert {"renewals", "audit", "summary", "syncs", "invoices", "process_manager"} <= models


class TestCounters:
    def test_webhooks_are_counted_by_outcome(self, served: tuple[TestClient, Container]) -> None:
        client, _ = served
        before = scrape(client)
        body = orjson.dumps(subscription_event("basil", event_id=f"evt_m{time.time_ns()}"))
        headers = {"Stripe-Signature": sign(body)}
        assert client.post("/webhooks/stripe", content=body, headers=headers).status_code == 200
        assert client.post("/webhooks/stripe", content=body, headers=headers).status_code == 200
        bad = client.post(
            "/webhooks/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=x"}
        )
        assert bad.status_code == 400
        after = scrape(client)
        for outcome in ("accepted", "duplicate", "rejected"):
            name = "ledger_webhooks_received_total"
            delta = value(after, name, outcome=outcome) - value(before, name, outcome=outcome)
            assert delta == 1, outcome

    def test_rejected_group_changes_count_as_quarantined(self, database_url: str) -> None:
        container = bootstrap(
            load_settings(database_url=database_url, service_token="s" * 20),
            embedded_migrate=False,
        )
        container.migrate()
        try:
            with TestClient(create_app(container)) as client:
                before = value(scrape(client), "ledger_quarantined_total", kind="group_change")
                client.post(
                    "/internal/group-changes",
                    json={"changes": [{"change_id": "c\x00"}, {"change_id": "c2"}]},
                    headers={"Authorization": "Bearer " + "s" * 20},
                )
                after = value(scrape(client), "ledger_quarantined_total", kind="group_change")
            assert after - before == 2
        finally:
            container.close()

    def test_stripe_requests_are_counted_by_method_and_status(self) -> None:
        with running_double() as double, httpx.Client(base_url=double.base_url) as admin:
            gateway = StripeGateway(api_key="sk_test_double", api_base=double.base_url, max_rps=50)
            samples_before = _process_samples()
            admin.post("/_double/faults", json={"path": "^/v1/prices", "status": 429, "count": 1})
            with pytest.raises(StripeCallError):
                gateway.price("price_missing_1")
            with pytest.raises(StripeCallError):
                gateway.price("price_missing_2")  # 404: no such price
            gateway.close()
        closed = StripeGateway(api_key="sk_test_double", api_base="http://127.0.0.1:9", max_rps=50)
        with pytest.raises(StripeCallError):
            closed.price("price_x")
        closed.close()
        after = _process_samples()
        name = "ledger_stripe_requests_total"
        for status in ("429", "404", "error"):
            delta = value(after, name, method="GET", status=status) - value(
                samples_before, name, method="GET", status=status
            )
            assert delta == 1, status
        rate_limited = "ledger_stripe_rate_limited_total"
        assert value(after, rate_limited) - value(samples_before, rate_limited) == 1
        count = "ledger_stripe_request_seconds_count"
        assert value(after, count) - value(samples_before, count) == 3


def _process_samples() -> Samples:
    from prometheus_client import generate_latest

    from adapters.observability.metrics import REGISTRY

    samples: Samples = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


class TestStoreGauges:
    def test_inbox_and_lag_follow_the_store(
        self, container: Container, clock: SteppingClock
    ) -> None:
        deliver(StripeInbox(container.database), subscription_event("basil", event_id="evt_g1"))
        container.ledger.change_group(
            "org-m",
            action=GroupAction.ACTIVATED,
            group_id="g1",
            change_id="c1",
            occurred_at=clock.now,
        )
        behind = collected(StoreGauges(container, cache_s=0))
        assert value(behind, "ledger_inbox_pending") == 1
        # Registered, the change and the change's claim (issue 12: domain/claims.py).
        assert value(behind, "ledger_projection_lag_events", read_model="renewals") == 3
        assert value(behind, "ledger_projection_lag_seconds", read_model="renewals") > 0
        models = build_read_models(container.database, minimum_quantity=1)
        catch_up(LogReader(container.ledger), models)
        caught_up = collected(StoreGauges(container, cache_s=0))
        assert value(caught_up, "ledger_projection_lag_events", read_model="renewals") == 0
        assert value(caught_up, "ledger_projection_lag_seconds", read_model="renewals") == 0
        assert value(caught_up, "ledger_projection_lag_events", read_model="process_manager") == 3

    def test_a_scrape_within_the_cache_window_reads_the_store_once(
        self, container: Container
    ) -> None:
        gauges = StoreGauges(container, cache_s=60)
        first = _pending(gauges)
        deliver(StripeInbox(container.database), subscription_event("basil", event_id="evt_c1"))
        assert _pending(gauges) == first
        assert _pending(StoreGauges(container, cache_s=0)) == first + 1

    def test_an_unreachable_store_leaves_the_gauges_out_not_the_scrape(self) -> None:
        container = bootstrap(
            load_settings(database_url="postgresql://nobody@127.0.0.1:9/none"),
            embedded_migrate=False,
        )
        try:
            with TestClient(create_app(container)) as client:
                samples = scrape(client)
            assert ("ledger_inbox_pending", ()) not in samples
            assert any(name == "ledger_webhooks_received_total" for name, _ in samples)
        finally:
            container.close()


def collected(gauges: StoreGauges) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in gauges.collect()
        for sample in family.samples
    }


def _pending(gauges: StoreGauges) -> float:
    for family in gauges.collect():
        if family.name == "ledger_inbox_pending":
            return float(family.samples[0].value)
    msg = "no ledger_inbox_pending"
    raise AssertionError(msg)
