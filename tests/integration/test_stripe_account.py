"""Backfill into the inbox, the worker's catching up, and portal sessions on the ledger's
configuration: on both stores, through the real SDK against the Stripe double."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from starlette.testclient import TestClient

from adapters.persistence.inbox import InboxDelivery, StripeInbox
from adapters.stripe.account import StripeAccount
from adapters.stripe.gateway import PINNED_API_VERSION, StripeGateway
from adapters.stripe.translate import HANDLED_EVENT_TYPES
from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.services.intake.stripe_inbox import InboxProcessor
from app.services.stripe_account.backfill import backfill
from app.services.stripe_account.catch_up import OVERLAP, catch_up, catch_up_since
from app.services.stripe_account.check import AccountSettings
from app.services.stripe_account.setup import set_up
from app.settings import load_settings
from stripe_double import running_double, sdk_client
from tests.support.api import SERVICE_TOKEN, TOKEN_SECRET, bearer
from tests.support.inbox import deliver

HOUR = timedelta(hours=1)


@dataclass
class Stack:
    container: Container
    client: stripe.StripeClient
    admin: httpx.Client
    price: str
    gateway: StripeGateway

    @property
    def account(self) -> StripeAccount:
        return StripeAccount(self.gateway)

    @property
    def inbox(self) -> StripeInbox:
        return StripeInbox(self.container.database)

    def subscribe(self, organizer: str, quantity: int) -> Any:
        customer = self.client.v1.customers.create(params={"metadata": {"organizer_id": organizer}})
        return self.client.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": self.price, "quantity": quantity}],
                "metadata": {"organizer_id": organizer},
            }
        )

    def handled_events(self) -> list[dict[str, Any]]:
        """The events as Stripe sends them (the SDK's dicts would hold Decimals)."""
        listed = self.admin.get(
            "/v1/events", params={"limit": 100}, headers={"Authorization": "Bearer sk_test"}
        )
        events: list[dict[str, Any]] = listed.json()["data"]
        return [e for e in events if e["type"] in HANDLED_EVENT_TYPES]

    def requests(self, path: str) -> list[dict[str, Any]]:
        """The ledger's requests to ``path`` (not this test's own event listings)."""
        entries: list[dict[str, Any]] = self.admin.get("/_double/requests").json()
        ours = [e for e in entries if e["path"] == path]
        if path == "/v1/events":  # the ledger's always name the types
            return [e for e in ours if "types" in e["params"]]
        return ours


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    with (
        running_double(webhook_delivery=False) as double,
        httpx.Client(base_url=double.base_url) as admin,
        sdk_client(double.base_url) as client,
    ):
        price = admin.post("/_double/seed", json={"unit_amount": 500}).json()["price"]
        settings = load_settings(
            database_url=database_url,
            token_secret=TOKEN_SECRET,
            service_token=SERVICE_TOKEN,
            stripe_api_key="sk_test_double",
            stripe_api_base=double.base_url,
            stripe_price_id=price,
        )
        container = bootstrap(settings, embedded_migrate=False)
        container.migrate()
        gateway = container.stripe_gateway()
        assert gateway is not None
        try:
            yield Stack(container, client, admin, price, gateway)
        finally:
            gateway.close()
            container.close()


def drain(stack: Stack) -> None:
    processor = InboxProcessor(stack.container.ledger, stack.inbox)
    while processor.process_pending():
        pass


class TestBackfill:
    def test_backfilled_events_are_processed_like_deliveries(self, stack: Stack) -> None:
        sub = stack.subscribe("org-b", 3)
        now = datetime.now(UTC)
        result = backfill(stack.account, stack.inbox, since=now - HOUR, now=now)
        assert result.stored == len(stack.handled_events()) > 0
        drain(stack)
        snapshot = stack.container.ledger.get("org-b").subscription_snapshot
        assert snapshot is not None
        assert (snapshot.subscription_id, snapshot.quantity) == (sub.id, 3)
        assert "failed" not in stack.inbox.counts()

    def test_an_event_already_delivered_is_not_stored_again(self, stack: Stack) -> None:
        stack.subscribe("org-c", 1)
        delivered, *rest = stack.handled_events()
        assert deliver(stack.inbox, delivered)
        before = stack.inbox.get(delivered["id"])
        now = datetime.now(UTC)
        result = backfill(stack.account, stack.inbox, since=now - HOUR, now=now)
        assert (result.stored, result.already_stored) == (len(rest), 1)
        assert stack.inbox.get(delivered["id"]) == before  # the delivered bytes are kept
        again = backfill(stack.account, stack.inbox, since=now - HOUR, now=now)
        assert (again.stored, again.already_stored) == (0, len(rest) + 1)

    def test_it_asks_stripe_only_for_the_handled_types_since_the_start(self, stack: Stack) -> None:
        now = datetime.now(UTC)
        backfill(stack.account, stack.inbox, since=now - HOUR, now=now)
        [listed] = stack.requests("/v1/events")
        params = listed["params"]
        assert sorted(params["types"]) == sorted(HANDLED_EVENT_TYPES)
        assert int(params["created"]["gte"]) == int((now - HOUR).timestamp())


class TestCatchUp:
    def _stored_at(self, stack: Stack, received_at: datetime) -> None:
        stack.inbox.insert(
            InboxDelivery(
                event_id="evt_LastBeforeDowntime",
                type="customer.created",
                api_version=None,
                created=int(received_at.timestamp()),
                livemode=False,
                account=None,
                payload=b"{}",
                received_at=received_at.isoformat(),
            )
        )

    def test_nothing_is_due_for_an_empty_inbox_or_a_short_gap(self, stack: Stack) -> None:
        now = datetime.now(UTC)
        assert catch_up_since(stack.inbox, now=now, after=HOUR) is None
        self._stored_at(stack, now - HOUR / 2)
        assert catch_up_since(stack.inbox, now=now, after=HOUR) is None
        assert catch_up_since(stack.inbox, now=now, after=None) is None

    def test_after_a_long_gap_it_backfills_from_before_the_last_delivery(
        self, stack: Stack
    ) -> None:
        now = datetime.now(UTC)
        last = now - 5 * HOUR
        self._stored_at(stack, last)
        assert catch_up_since(stack.inbox, now=now, after=HOUR) == last - OVERLAP
        stack.subscribe("org-d", 2)
        result = catch_up(stack.account, stack.inbox, clock=lambda: now, after=HOUR)
        assert result is not None
        assert result.stored == len(stack.handled_events())
        assert stack.inbox.last_received_at() == now
        # Caught up: the next start finds a recent delivery and asks Stripe nothing.
        assert catch_up(stack.account, stack.inbox, clock=lambda: now, after=HOUR) is None
        assert len(stack.requests("/v1/events")) == 1


class TestPortalSessions:
    def _enrolled(self, stack: Stack) -> TestClient:
        client = TestClient(create_app(stack.container))
        response = client.post("/api/organizers/org-p/enrollment", json={}, headers=bearer("org-p"))
        assert response.status_code == 201, response.text
        return client

    def _portal(self, client: TestClient) -> None:
        response = client.post("/api/organizers/org-p/portal-session", headers=bearer("org-p"))
        assert response.status_code == 200, response.text

    def test_a_session_uses_the_configuration_setup_made(self, stack: Stack) -> None:
        settings = AccountSettings(
            price_id=stack.price, portal_configuration=None, automatic_tax=False
        )
        made = set_up(
            stack.account, settings, url="https://l.example.com/webhooks/stripe", return_url="x"
        )
        with self._enrolled(stack) as client:
            self._portal(client)
        [session] = stack.requests("/v1/billing_portal/sessions")
        assert session["params"]["configuration"] == made.portal_configuration_id
        assert session["status"] == 200

    def test_the_configured_one_is_used_without_a_lookup(self, stack: Stack) -> None:
        config = stack.client.v1.billing_portal.configurations.create(
            params={"features": {"invoice_history": {"enabled": True}}}
        )
        stack.container.settings = stack.container.settings.model_copy(
            update={"stripe_portal_configuration": config.id}
        )
        with self._enrolled(stack) as client:
            self._portal(client)
        [session] = stack.requests("/v1/billing_portal/sessions")
        assert session["params"]["configuration"] == config.id
        lookups = stack.requests("/v1/billing_portal/configurations")
        assert [e["method"] for e in lookups] == ["POST"]  # this test's own create


class EventLog:
    """Fixed event pages: what a real account returns for events on other versions."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def event_pages(self, *, since: int, types: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
        yield [e for e in self.events if e["created"] >= since and e["type"] in types]


def an_event(event_id: str, api_version: str | None, created: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": "invoice.paid",
        "api_version": api_version,
        "created": created,
        "livemode": False,
        "data": {"object": {"object": "invoice", "id": "in_1"}},
    }


def test_events_the_translator_cannot_read_are_skipped_and_counted(
    container: Container,
) -> None:
    now = datetime.now(UTC)
    at = int(now.timestamp()) - 60
    log = EventLog(
        [
            an_event("evt_ok", PINNED_API_VERSION, at),
            an_event("evt_new", "2099-01-01.future", at),
            an_event("evt_odd", "not-a-version", at),
        ]
    )
    inbox = StripeInbox(container.database)
    result = backfill(log, inbox, since=now - HOUR, now=now)
    assert (result.read, result.stored) == (3, 1)
    assert result.unreadable == {"2099-01-01.future": 1, "not-a-version": 1}
    assert [r.delivery.event_id for r in inbox.rows()] == ["evt_ok"]
    assert "skipped 2 the ledger cannot read" in result.summary()
