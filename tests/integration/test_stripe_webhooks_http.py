"""`POST /webhooks/stripe` over HTTP on both stores: verify, store once, answer fast."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from starlette.testclient import TestClient

from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container, bootstrap
from app.entrypoints.http.web import create_app
from app.settings import load_settings
from tests.support.clock import SteppingClock
from tests.support.stripe_payloads import FIXTURES, subscription_event
from tests.support.webhooks import ROTATED_SECRET, SECRET, sign, signed

URL = "/webhooks/stripe"


def make_container(database_url: str, clock: SteppingClock, **settings: object) -> Container:
    container = bootstrap(
        load_settings(
            database_url=database_url,
            stripe_webhook_secret=f"{SECRET},{ROTATED_SECRET}",
            **settings,
        ),
        clock=clock,
        embedded_migrate=False,
    )
    container.migrate()
    return container


@pytest.fixture
def intake(database_url: str, clock: SteppingClock) -> Iterator[tuple[TestClient, StripeInbox]]:
    container = make_container(database_url, clock)
    with TestClient(create_app(container)) as client:
        yield client, StripeInbox(container.database)


def stored(inbox: StripeInbox) -> int:
    return sum(inbox.counts().values())


def assert_problem(response: object, status: int) -> None:
    assert getattr(response, "status_code") == status  # noqa: B009
    headers = getattr(response, "headers")  # noqa: B009
    assert headers["content-type"] == "application/problem+json"


class TestAcceptedDeliveries:
    def test_a_signed_delivery_is_stored_with_its_envelope_and_raw_bytes(
        self, intake: tuple[TestClient, StripeInbox], clock: SteppingClock
    ) -> None:
        client, inbox = intake
        event = subscription_event("basil", event_id="evt_store1")
        event["account"] = "acct_123"
        body, headers = signed(event)
        response = client.post(URL, content=body, headers=headers)
        assert response.status_code == 200
        assert response.json() == {"status": "accepted", "event_id": "evt_store1"}
        row = inbox.get("evt_store1")
        assert row is not None
        delivery = row.delivery
        assert (delivery.type, delivery.api_version) == (
            "customer.subscription.updated",
            "2025-03-31.basil",
        )
        assert (delivery.created, delivery.livemode, delivery.account) == (
            event["created"],
            event["livemode"],
            "acct_123",
        )
        assert delivery.payload == body
        assert delivery.received_at == clock.now.isoformat()
        assert row.status == "pending"

    def test_a_duplicate_delivery_answers_duplicate_and_stores_nothing_new(
        self, intake: tuple[TestClient, StripeInbox]
    ) -> None:
        client, inbox = intake
        body, headers = signed(subscription_event("legacy", event_id="evt_dup"))
        assert client.post(URL, content=body, headers=headers).json()["status"] == "accepted"
        again = client.post(URL, content=body, headers=headers)
        assert again.status_code == 200
        assert again.json()["status"] == "duplicate"
        assert stored(inbox) == 1

    def test_a_rotated_secret_verifies(self, intake: tuple[TestClient, StripeInbox]) -> None:
        client, _ = intake
        body, headers = signed(subscription_event("basil", event_id="evt_rot"), ROTATED_SECRET)
        assert client.post(URL, content=body, headers=headers).status_code == 200

    def test_one_valid_signature_among_several_v1_is_enough(
        self, intake: tuple[TestClient, StripeInbox]
    ) -> None:
        client, _ = intake
        body = orjson.dumps(subscription_event("basil", event_id="evt_multi"))
        now = int(time.time())
        valid = sign(body, SECRET, timestamp=now).split("v1=")[1]
        header = f"t={now},v1={'0' * 64},v1={valid},v0=deadbeef"
        assert (
            client.post(URL, content=body, headers={"Stripe-Signature": header}).status_code == 200
        )

    def test_unknown_event_types_are_archived_too(
        self, intake: tuple[TestClient, StripeInbox]
    ) -> None:
        client, inbox = intake
        event = subscription_event("basil", event_id="evt_other")
        event["type"] = "product.created"
        body, headers = signed(event)
        assert client.post(URL, content=body, headers=headers).status_code == 200
        assert inbox.get("evt_other") is not None


class TestRefusedDeliveries:
    def test_a_forged_signature_is_400_and_stores_nothing(
        self, intake: tuple[TestClient, StripeInbox]
    ) -> None:
        client, inbox = intake
        body, _ = signed(subscription_event("basil"))
        forged = sign(body, "whsec_attacker_secret_000000000000")
        assert_problem(client.post(URL, content=body, headers={"Stripe-Signature": forged}), 400)
        assert stored(inbox) == 0

    def test_a_missing_signature_is_400(self, intake: tuple[TestClient, StripeInbox]) -> None:
        client, inbox = intake
        body, _ = signed(subscription_event("basil"))
        assert_problem(client.post(URL, content=body), 400)
        assert stored(inbox) == 0

    def test_a_garbled_signature_header_is_400(
        self, intake: tuple[TestClient, StripeInbox]
    ) -> None:
        client, inbox = intake
        body, _ = signed(subscription_event("basil"))
        response = client.post(URL, content=body, headers={"Stripe-Signature": "garbage"})
        assert_problem(response, 400)
        assert stored(inbox) == 0

    def test_a_replayed_old_timestamp_is_400(self, intake: tuple[TestClient, StripeInbox]) -> None:
        client, inbox = intake
        body = orjson.dumps(subscription_event("basil"))
        old = sign(body, SECRET, timestamp=int(time.time()) - 301)
        response = client.post(URL, content=body, headers={"Stripe-Signature": old})
        assert_problem(response, 400)
        assert "tolerance" in response.json()["detail"]
        assert stored(inbox) == 0

    def test_a_truncated_body_fails_verification(
        self, intake: tuple[TestClient, StripeInbox]
    ) -> None:
        client, inbox = intake
        body, headers = signed(subscription_event("basil"))
        assert_problem(client.post(URL, content=body[:-20], headers=headers), 400)
        assert stored(inbox) == 0

    def test_an_oversized_body_is_413(self, intake: tuple[TestClient, StripeInbox]) -> None:
        client, inbox = intake
        event = subscription_event("basil")
        event["data"]["object"]["metadata"] = {"pad": "x" * (1024 * 1024)}
        body, headers = signed(event)
        assert_problem(client.post(URL, content=body, headers=headers), 413)
        assert stored(inbox) == 0

    def test_signed_non_json_is_400(self, intake: tuple[TestClient, StripeInbox]) -> None:
        client, inbox = intake
        body = b"this is not json"
        response = client.post(URL, content=body, headers={"Stripe-Signature": sign(body)})
        assert_problem(response, 400)
        assert stored(inbox) == 0

    @pytest.mark.parametrize(
        "payload",
        [
            [],
            {"id": "evt_1", "object": "charge"},
            {"id": "nope", "object": "event", "type": "x", "created": 1, "data": {"object": {}}},
            {"id": "evt_1", "object": "event", "type": "", "created": 1, "data": {"object": {}}},
            {"id": "evt_1", "object": "event", "type": "x", "created": "1", "data": {"object": {}}},
            {"id": "evt_1", "object": "event", "type": "x", "created": 1, "data": {}},
        ],
    )
    def test_signed_json_that_is_not_a_stripe_event_is_400(
        self, intake: tuple[TestClient, StripeInbox], payload: object
    ) -> None:
        client, inbox = intake
        body = orjson.dumps(payload)
        response = client.post(URL, content=body, headers={"Stripe-Signature": sign(body)})
        assert_problem(response, 400)
        assert stored(inbox) == 0


def test_the_realworld_delivery_verifies_as_is_with_its_own_secret(
    database_url: str, clock: SteppingClock
) -> None:
    folder = FIXTURES / "realworld"
    body = (folder / "basil_invoice_payment_succeeded.payload.json").read_bytes()
    recorded = json.loads((folder / "basil_invoice_payment_succeeded.signature.json").read_text())
    container = bootstrap(
        load_settings(
            database_url=database_url,
            stripe_webhook_secret=recorded["webhook_secret"],
            stripe_webhook_tolerance_s=0,
        ),
        clock=clock,
        embedded_migrate=False,
    )
    container.migrate()
    with TestClient(create_app(container)) as client:
        response = client.post(
            URL, content=body, headers={"Stripe-Signature": recorded["Stripe-Signature"]}
        )
    assert response.status_code == 200
    assert response.json()["status"] == "accepted"


@pytest.mark.parametrize(
    "unreachable", ["postgresql://postgres@127.0.0.1:1/nowhere", "sqlite:////proc/ledger/x.db"]
)
def test_an_unreachable_store_answers_503_so_stripe_retries(
    unreachable: str, clock: SteppingClock, tmp_path: Path
) -> None:
    container = bootstrap(
        load_settings(database_url=unreachable, stripe_webhook_secret=SECRET),
        clock=clock,
        embedded_migrate=False,
    )
    body, headers = signed(subscription_event("basil"))
    with TestClient(create_app(container)) as client:
        response = client.post(URL, content=body, headers=headers)
    assert_problem(response, 503)
