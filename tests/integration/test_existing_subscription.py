"""Existing customers enroll in the SPA (issue 13), over HTTP on both stores, through the
real SDK against the Stripe double: what is found, and the confirmed move to the
per-group price at the next renewal with no second Checkout and no double charge."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from starlette.testclient import TestClient

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.existing import move_item_to_price
from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.services.process.enroll import enroll_existing
from app.settings import load_settings
from domain.groups import GroupAction
from domain.keys import move_key
from stripe_double import running_double, sdk_client
from tests.support.api import SERVICE_TOKEN, TOKEN_SECRET, bearer
from tests.support.clock import SteppingClock

PATH = "/api/organizers/{}/existing-subscription"


@dataclass
class Legacy:
    client: TestClient
    container: Container
    clock: SteppingClock
    admin: httpx.Client
    stripe: stripe.StripeClient
    group_price: str
    legacy_price: str

    def subscription(
        self,
        *,
        organizer: str | None = "org-1",
        on_customer: bool = False,
        price: str | None = None,
        quantity: int = 1,
    ) -> dict[str, Any]:
        """A subscription made by hand before the ledger (the dashboard, a sales rep)."""
        metadata = {} if organizer is None else {"organizer_id": organizer}
        customer = self.stripe.v1.customers.create(
            params={"email": "org@example.com", "metadata": metadata if on_customer else {}}
        )
        created: dict[str, Any] = self.stripe.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price or self.legacy_price, "quantity": quantity}],
                "metadata": {} if on_customer else metadata,
            }
        ).to_dict()
        return created

    def link(self, subscription: dict[str, Any], organizer: str = "org-1") -> None:
        """What ops do with ``ledger enroll-existing`` (the command's own code path)."""
        gateway = self.container.gateway
        assert gateway is not None
        inbox = StripeInbox(self.container.database)
        enroll_existing(
            self.container.ledger,
            inbox,
            gateway,
            organizer_id=organizer,
            subscription_id=subscription["id"],
        )

    def groups(self, organizer: str, count: int) -> None:
        for i in range(count):
            self.container.ledger.change_group(
                organizer,
                action=GroupAction.ACTIVATED,
                group_id=f"g{i}",
                change_id=f"{organizer}-g{i}",
                occurred_at=self.clock.now - timedelta(minutes=1),
            )

    def found(self, organizer: str = "org-1") -> Any:
        """The answer (an httpx Response of the test client's own httpx)."""
        return self.client.get(PATH.format(organizer), headers=bearer(organizer))

    def confirm(self, organizer: str = "org-1") -> Any:
        return self.client.post(f"{PATH.format(organizer)}/confirm", headers=bearer(organizer))

    def requests(self, method: str, prefix: str) -> list[dict[str, Any]]:
        logged: list[dict[str, Any]] = self.admin.get("/_double/requests").json()
        return [r for r in logged if r["method"] == method and r["path"].startswith(prefix)]

    def invoices(self, subscription: dict[str, Any]) -> list[dict[str, Any]]:
        page = self.stripe.v1.invoices.list(params={"subscription": subscription["id"]})
        return [invoice.to_dict() for invoice in page.data]

    def item(self, subscription: dict[str, Any]) -> dict[str, Any]:
        found = self.stripe.v1.subscriptions.retrieve(subscription["id"]).to_dict()
        item: dict[str, Any] = found["items"]["data"][0]
        return item


@pytest.fixture
def legacy(database_url: str, clock: SteppingClock) -> Iterator[Legacy]:
    clock.step = timedelta(seconds=1)
    with (
        running_double(webhook_delivery=False) as double,
        httpx.Client(base_url=double.base_url) as admin,
        sdk_client(double.base_url) as client,
    ):
        group = admin.post("/_double/seed", json={"unit_amount": 500, "currency": "eur"}).json()
        old = admin.post(
            "/_double/seed",
            json={"unit_amount": 4900, "currency": "eur", "product_name": "Enterprise (by hand)"},
        ).json()
        container = bootstrap(
            load_settings(
                database_url=database_url,
                token_secret=TOKEN_SECRET,
                service_token=SERVICE_TOKEN,
                stripe_api_key="sk_test_double",
                stripe_api_base=double.base_url,
                stripe_price_id=group["price"],
            ),
            clock=clock,
            embedded_migrate=False,
        )
        container.migrate()
        with TestClient(create_app(container)) as http:
            yield Legacy(http, container, clock, admin, client, group["price"], old["price"])


class TestFindExisting:
    def test_a_subscription_naming_the_organizer_is_found_with_what_moves_when(
        self, legacy: Legacy
    ) -> None:
        subscription = legacy.subscription(quantity=1)
        legacy.groups("org-1", 3)
        response = legacy.found()
        assert response.status_code == 200, response.text
        body = response.json()
        period_end = subscription["items"]["data"][0]["current_period_end"]
        assert body["subscription_id"] == subscription["id"]
        assert (body["status"], body["quantity"], body["found_by"]) == ("active", 1, "metadata")
        assert body["price"] == {
            "price_id": legacy.legacy_price,
            "unit_amount": 4900,
            "currency": "eur",
            "interval": "month",
        }
        assert body["moves_to"]["price_id"] == legacy.group_price
        assert body["moves_to"]["unit_amount"] == 500
        assert body["moves_at"] == body["current_period_end"]
        assert datetime.fromisoformat(body["current_period_end"]) == datetime.fromtimestamp(
            period_end, tz=UTC
        )
        assert (body["groups_now"], body["moved"]) == (3, False)

    def test_a_customer_naming_the_organizer_is_searched_for_its_subscriptions(
        self, legacy: Legacy
    ) -> None:
        subscription = legacy.subscription(on_customer=True)
        response = legacy.found()
        assert response.status_code == 200, response.text
        assert response.json()["subscription_id"] == subscription["id"]

    def test_nothing_found_is_a_404_problem(self, legacy: Legacy) -> None:
        legacy.subscription(organizer="org-other")
        legacy.subscription(organizer=None)
        response = legacy.found()
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["title"] == "No existing subscription"

    def test_a_subscription_ops_linked_is_shown_without_searching_stripe(
        self, legacy: Legacy
    ) -> None:
        subscription = legacy.subscription(organizer=None, quantity=2)
        legacy.link(subscription)
        legacy.admin.delete("/_double/requests")
        response = legacy.found()
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["subscription_id"], body["found_by"], body["quantity"]) == (
            subscription["id"],
            "ops_link",
            2,
        )
        assert legacy.requests("GET", "/v1/subscriptions") == []
        assert legacy.requests("GET", "/v1/customers") == []

    def test_another_organizer_cannot_look(self, legacy: Legacy) -> None:
        legacy.subscription()
        response = legacy.client.get(PATH.format("org-1"), headers=bearer("org-2"))
        assert response.status_code == 404
        assert legacy.requests("GET", "/v1/subscriptions/search") == []


class TestConfirmExisting:
    def test_the_item_moves_to_the_group_price_without_charging_now(self, legacy: Legacy) -> None:
        subscription = legacy.subscription(quantity=1)
        legacy.groups("org-1", 3)
        invoices_before = legacy.invoices(subscription)
        response = legacy.confirm()
        assert response.status_code == 200, response.text
        assert response.json()["moved"] is True
        item = legacy.item(subscription)
        assert (item["price"]["id"], item["quantity"]) == (legacy.group_price, 3)
        (sent,) = legacy.requests("POST", f"/v1/subscriptions/{subscription['id']}")
        assert sent["params"]["proration_behavior"] == "none"
        assert legacy.invoices(subscription) == invoices_before  # nothing billed now
        organizer = legacy.container.ledger.get("org-1")
        snapshot = organizer.subscription_snapshot
        assert snapshot is not None
        assert (snapshot.price_id, snapshot.quantity) == (legacy.group_price, 3)
        assert organizer.stripe_customer_id == subscription["customer"]
        assert StripeInbox(legacy.container.database).organizer_for([subscription["id"]]) == (
            "org-1"
        )

    def test_the_next_renewal_bills_per_group_and_nothing_twice(self, legacy: Legacy) -> None:
        subscription = legacy.subscription(quantity=1)
        legacy.groups("org-1", 3)
        assert legacy.confirm().status_code == 200
        period_end = int(subscription["items"]["data"][0]["current_period_end"])
        legacy.admin.post("/_double/clock", json={"now": period_end + 7200}).raise_for_status()
        renewal = [
            invoice
            for invoice in legacy.invoices(subscription)
            if invoice["billing_reason"] == "subscription_cycle"
        ]
        assert len(renewal) == 1
        lines = renewal[0]["lines"]["data"]
        assert [(line["quantity"], line["amount"]) for line in lines] == [(3, 1500)]
        assert all(not line.get("proration") for line in lines)

    def test_confirming_twice_moves_once_and_answers_the_same(self, legacy: Legacy) -> None:
        subscription = legacy.subscription()
        first = legacy.confirm()
        again = legacy.confirm()
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.json() == first.json()
        assert len(legacy.requests("POST", f"/v1/subscriptions/{subscription['id']}")) == 1
        assert legacy.found().json() == first.json()

    def test_an_ops_linked_subscription_moves_too(self, legacy: Legacy) -> None:
        subscription = legacy.subscription(organizer=None)
        legacy.link(subscription)
        response = legacy.confirm()
        assert response.status_code == 200, response.text
        assert response.json()["found_by"] == "ops_link"
        assert legacy.item(subscription)["price"]["id"] == legacy.group_price

    def test_an_organizer_billed_per_group_already_is_a_409(self, legacy: Legacy) -> None:
        subscription = legacy.subscription(organizer=None, price=legacy.group_price)
        legacy.link(subscription)
        version = legacy.container.ledger.get("org-1").version
        for response in (legacy.confirm(), legacy.found()):
            assert response.status_code == 409
            assert response.json()["title"] == "Already enrolled"
        assert legacy.container.ledger.get("org-1").version == version

    def test_another_interval_is_refused_and_nothing_changes(self, legacy: Legacy) -> None:
        yearly = legacy.admin.post(
            "/_double/seed", json={"unit_amount": 49000, "currency": "eur", "interval": "year"}
        ).json()["price"]
        subscription = legacy.subscription(price=yearly)
        response = legacy.confirm()
        assert response.status_code == 409
        assert "per year" in response.json()["detail"]
        assert legacy.item(subscription)["price"]["id"] == yearly
        assert legacy.container.ledger.find("org-1") is None

    def test_a_move_stripe_applied_but_the_ledger_never_recorded_is_recorded_once(
        self, legacy: Legacy
    ) -> None:
        subscription = legacy.subscription()
        item = subscription["items"]["data"][0]["id"]
        gateway = legacy.container.gateway
        assert gateway is not None
        key = move_key("org-1", item, legacy.group_price, 1)
        move = {
            "subscription_id": subscription["id"],
            "item_id": item,
            "from_price_id": legacy.legacy_price,
            "to_price_id": legacy.group_price,
            "quantity": 1,
            "organizer_id": "org-1",
            "idempotency_key": key,
        }
        move_item_to_price(gateway, **move)  # the crash: Stripe moved it, nothing recorded
        assert legacy.container.ledger.find("org-1") is None
        response = legacy.confirm()
        assert response.status_code == 200, response.text
        assert response.json()["moved"] is True
        snapshot = legacy.container.ledger.get("org-1").subscription_snapshot
        assert snapshot is not None
        assert snapshot.price_id == legacy.group_price
        assert len(legacy.requests("POST", f"/v1/subscriptions/{subscription['id']}")) == 1

    def test_confirmations_at_once_send_one_key_and_record_one_move(self, legacy: Legacy) -> None:
        subscription = legacy.subscription()
        with ThreadPoolExecutor(max_workers=3) as pool:
            answers = list(pool.map(lambda _: legacy.confirm(), range(3)))
        assert {answer.status_code for answer in answers} <= {200, 409}
        assert any(answer.status_code == 200 for answer in answers)
        sent = legacy.requests("POST", f"/v1/subscriptions/{subscription['id']}")
        assert len({r["idempotency_key"] for r in sent}) == 1
        assert sum(1 for r in sent if not r["replayed"]) == 1
        assert legacy.found().json()["moved"] is True

    def test_nothing_to_move_is_a_404_and_records_nothing(self, legacy: Legacy) -> None:
        response = legacy.confirm()
        assert response.status_code == 404
        assert legacy.container.ledger.find("org-1") is None
