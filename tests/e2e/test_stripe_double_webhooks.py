"""Webhook endpoints, signed at-least-once delivery and the events API of the double."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import stripe

from stripe_double import running_double, sdk_client

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv, WebhookReceiver

pytest_plugins = ["tests.e2e.stripe_double_support"]


def _endpoint(double: DoubleEnv, url: str, events: list[Any]) -> str:
    created = double.stripe.v1.webhook_endpoints.create(
        params={"url": url, "enabled_events": events}
    )
    assert created.secret is not None
    assert created.secret.startswith("whsec_")
    return created.secret


def test_endpoint_secret_shows_only_on_create(double: DoubleEnv, receiver: WebhookReceiver) -> None:
    created = double.stripe.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["*"]}
    )
    assert created.id.startswith("we_")
    listed = double.stripe.v1.webhook_endpoints.list().data
    assert [e.id for e in listed] == [created.id]
    assert "secret" not in listed[0]
    assert double.stripe.v1.webhook_endpoints.delete(created.id).deleted is True
    assert double.stripe.v1.webhook_endpoints.list().data == []


def test_deliveries_are_signed_and_verify_with_the_sdk(
    double: DoubleEnv, receiver: WebhookReceiver
) -> None:
    secret = _endpoint(double, receiver.url, ["customer.created"])
    customer = double.stripe.v1.customers.create(params={"email": "hook@example.com"})
    double.flush()

    (delivery,) = receiver.received
    event = stripe.Webhook.construct_event(delivery.body, delivery.signature, secret)
    assert stripe.WebhookSignature.verify_header(delivery.body, delivery.signature, secret)
    assert (event.type, event.data.object["id"]) == ("customer.created", customer.id)
    assert event.api_version == stripe.api_version
    assert event.request is not None
    assert str(event.request.id).startswith("req_")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_wrong")
    assert double.deliveries()[0]["status"] == 200


def test_only_enabled_events_are_sent(double: DoubleEnv, receiver: WebhookReceiver) -> None:
    _endpoint(double, receiver.url, ["invoice.paid"])
    price_id = double.seed()
    double.subscribe(price=price_id)
    double.flush()
    assert [e["type"] for e in receiver.events()] == ["invoice.paid"]


def test_failed_deliveries_are_retried_until_2xx(
    double: DoubleEnv, receiver: WebhookReceiver
) -> None:
    double.config(webhooks={"retry_base_ms": 10, "max_attempts": 4})
    receiver.statuses = [500, 503]
    _endpoint(double, receiver.url, ["customer.created"])
    double.stripe.v1.customers.create(params={"email": "retry@example.com"})
    double.flush()

    attempts = double.deliveries()
    assert [(a["attempt"], a["status"], a["outcome"]) for a in attempts] == [
        (1, 500, "retrying"),
        (2, 503, "retrying"),
        (3, 200, "delivered"),
    ]
    assert len({e["id"] for e in receiver.events()}) == 1


def test_delivery_gives_up_after_max_attempts(double: DoubleEnv) -> None:
    double.config(webhooks={"retry_base_ms": 5, "max_attempts": 2, "timeout_s": 1.0})
    # Nothing listens on port 9: every attempt is a connection error.
    _endpoint(double, "http://127.0.0.1:9/hooks", ["customer.created"])
    double.stripe.v1.customers.create(params={"email": "lost@example.com"})
    double.flush()
    attempts = double.deliveries()
    assert [(a["status"], a["outcome"]) for a in attempts] == [
        (None, "retrying"),
        (None, "gave_up"),
    ]
    assert attempts[0]["error"]


def test_shuffled_duplicated_delivery_is_still_at_least_once(
    double: DoubleEnv, receiver: WebhookReceiver
) -> None:
    double.config(
        webhooks={"shuffle": True, "duplicate_probability": 0.5, "seed": 7, "paused": True}
    )
    _endpoint(double, receiver.url, ["*"])
    price_id = double.seed()
    for quantity in range(1, 6):
        double.subscribe(price=price_id, quantity=quantity)
    # Paused, everything queues up first, so the seeded shuffle decides the whole order.
    assert receiver.received == []
    double.config(webhooks={"paused": False})
    double.flush()

    stored = {e.id for e in double.stripe.v1.events.list(params={"limit": 100}).data}
    received = Counter(e["id"] for e in receiver.events())
    assert set(received) == stored
    assert max(received.values()) == 2  # some were sent twice, none more
    in_creation_order = [e.id for e in reversed(double.stripe.v1.events.list().data)]
    arrival = list(dict.fromkeys(e["id"] for e in receiver.events()))
    assert arrival != in_creation_order[: len(arrival)]


def test_events_are_stored_listed_and_retrievable(double: DoubleEnv) -> None:
    price_id = double.seed()
    _, sub = double.subscribe(price=price_id)

    invoices = double.stripe.v1.events.list(params={"type": "invoice.*"}).data
    created = double.stripe.v1.events.list(params={"type": "customer.subscription.created"})
    event = double.stripe.v1.events.retrieve(created.data[0].id)

    assert [e.type for e in reversed(invoices)] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    assert (event.object, event.livemode, event.data.object["id"]) == ("event", False, sub.id)
    assert event.id.startswith("evt_")
    assert event.api_version == stripe.api_version


def test_disabled_delivery_stores_events_without_sending(receiver: WebhookReceiver) -> None:
    with (
        running_double(webhook_delivery=False) as quiet,
        sdk_client(quiet.base_url) as client,
    ):
        client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
        client.v1.customers.create(params={"email": "quiet@example.com"})
        flushed = httpx.post(f"{quiet.base_url}/_double/webhooks/flush").json()
        listed = client.v1.events.list().data
    assert flushed == {"flushed": True, "pending": 0}
    assert [e.type for e in listed] == ["customer.created"]
    assert receiver.received == []
