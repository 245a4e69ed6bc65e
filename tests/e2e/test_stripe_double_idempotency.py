"""Idempotency-Key semantics of the Stripe double, as Stripe documents them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

AUTH = {"Authorization": "Bearer sk_test_double"}


def test_same_key_same_params_replays_the_first_response(double: DoubleEnv) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "signup-42"}
    first = double.stripe.v1.customers.create(params={"email": "a@example.com"}, options=options)
    again = double.stripe.v1.customers.create(params={"email": "a@example.com"}, options=options)

    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(double.stripe.v1.customers.list().data) == 1
    assert double.event_types() == ["customer.created"]


def test_replay_is_byte_identical(double: DoubleEnv) -> None:
    headers = {**AUTH, "Idempotency-Key": "raw-1"}
    body = {"email": "raw@example.com", "metadata[k]": "v"}
    first = double.admin.post("/v1/customers", data=body, headers=headers)
    second = double.admin.post("/v1/customers", data=body, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == first.content
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Request-Id"] != first.headers["Request-Id"]
    assert second.headers["Original-Request"] == first.headers["Request-Id"]


def test_same_key_other_params_is_an_idempotency_error(double: DoubleEnv) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "k-reused"}
    double.stripe.v1.customers.create(params={"email": "a@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as caught:
        double.stripe.v1.customers.create(params={"email": "b@example.com"}, options=options)
    assert caught.value.http_status == 400
    body = caught.value.json_body
    assert isinstance(body, dict)
    error = body["error"]
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith(
        "Keys for idempotent requests can only be used with the same parameters"
    )


def test_same_key_other_path_is_an_idempotency_error(double: DoubleEnv) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "k-path"}
    double.stripe.v1.customers.create(params={"name": "x"}, options=options)
    with pytest.raises(stripe.IdempotencyError):
        double.stripe.v1.products.create(params={"name": "x"}, options=options)


def test_keys_are_scoped_per_api_key(double: DoubleEnv) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "shared"}
    other = double.client(api_key="sk_test_other_account")
    mine = double.stripe.v1.customers.create(params={"email": "a@example.com"}, options=options)
    theirs = other.v1.customers.create(params={"email": "b@example.com"}, options=options)
    assert theirs.id != mine.id


def test_a_500_is_replayed_too(double: DoubleEnv) -> None:
    double.fault(method="POST", path="^/v1/customers$", status=500, count=1)
    options: stripe.RequestOptions = {"idempotency_key": "k-500"}
    with pytest.raises(stripe.APIError):
        double.stripe.v1.customers.create(params={"email": "a@example.com"}, options=options)
    # The rule is used up, yet the stored 500 is what the key answers with.
    with pytest.raises(stripe.APIError) as replayed:
        double.stripe.v1.customers.create(params={"email": "a@example.com"}, options=options)
    assert replayed.value.headers is not None
    assert replayed.value.headers["Idempotent-Replayed"] == "true"
    fresh = double.stripe.v1.customers.create(params={"email": "a@example.com"})
    assert fresh.id.startswith("cus_")


def test_rejected_requests_store_nothing(double: DoubleEnv) -> None:
    double.fault(method="POST", path="^/v1/customers$", error_code="lock_timeout", count=1)
    options: stripe.RequestOptions = {"idempotency_key": "k-429"}
    with pytest.raises(stripe.RateLimitError):
        double.stripe.v1.customers.create(params={"email": "a@example.com"}, options=options)
    created = double.stripe.v1.customers.create(params={"email": "a@example.com"}, options=options)
    assert created.last_response is not None
    assert "Idempotent-Replayed" not in created.last_response.headers


@pytest.mark.usefixtures("fast_retries")
def test_sdk_retry_after_lost_response_applies_the_change_once(double: DoubleEnv) -> None:
    price_id = double.seed()
    _, sub = double.subscribe(price=price_id, quantity=1)
    item_id = sub["items"].data[0].id
    # The update is applied, then the connection drops before any response is sent.
    double.fault(
        method="POST",
        path="^/v1/subscription_items/",
        drop_connection=True,
        after_processing=True,
        count=1,
    )
    retrying = double.client(max_network_retries=2)

    item = retrying.v1.subscription_items.update(
        item_id, params={"quantity": 7, "proration_behavior": "none"}
    )

    assert item.quantity == 7
    attempts = double.requests("/v1/subscription_items/")
    assert [(a["dropped"], a["replayed"]) for a in attempts] == [(True, False), (False, True)]
    # The SDK generated the key itself and reused it for its retry.
    assert attempts[0]["idempotency_key"] == attempts[1]["idempotency_key"] is not None
    assert double.event_types().count("customer.subscription.updated") == 1


def test_concurrent_request_with_a_key_in_flight_gets_a_409(double: DoubleEnv) -> None:
    double.fault(method="POST", path="^/v1/customers$", delay_ms=1000, count=1)
    headers = {**AUTH, "Idempotency-Key": "slow-1"}
    body = {"email": "slow@example.com"}
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(double.admin.post, "/v1/customers", data=body, headers=headers)
        while not double.requests("/v1/customers"):
            time.sleep(0.01)
        concurrent = double.admin.post("/v1/customers", data=body, headers=headers)
        first = slow.result()
    after = double.admin.post("/v1/customers", data=body, headers=headers)

    assert concurrent.status_code == 409
    assert concurrent.json()["error"]["code"] == "idempotency_key_in_use"
    assert first.status_code == 200
    assert (after.status_code, after.content) == (200, first.content)
