"""Fault injection, rate limits and the request log of the Stripe double."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import pytest
import stripe

from stripe_double import sdk_client

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

ITEMS = "^/v1/subscription_items/"


def _item(double: DoubleEnv) -> str:
    _, sub = double.subscribe(price=double.seed(), quantity=1)
    return str(sub["items"].data[0].id)


def _statuses(double: DoubleEnv) -> list[tuple[Any, Any]]:
    return [(r["status"], r["stripe_should_retry"]) for r in double.requests(ITEMS[1:])]


@pytest.mark.usefixtures("fast_retries")
def test_sdk_retries_a_429_when_stripe_should_retry_says_true(double: DoubleEnv) -> None:
    item_id = _item(double)
    double.fault(method="POST", path=ITEMS, error_code="lock_timeout", should_retry=True, count=2)
    client = double.client(max_network_retries=2)

    item = client.v1.subscription_items.update(item_id, params={"quantity": 3})

    assert item.quantity == 3
    assert _statuses(double) == [(429, True), (429, True), (200, None)]


@pytest.mark.usefixtures("fast_retries")
def test_sdk_does_not_retry_a_429_without_the_header(double: DoubleEnv) -> None:
    item_id = _item(double)
    double.fault(method="POST", path=ITEMS, status=429, error_code="rate_limit", count=1)
    client = double.client(max_network_retries=2)

    with pytest.raises(stripe.RateLimitError) as caught:
        client.v1.subscription_items.update(item_id, params={"quantity": 3})

    assert caught.value.http_status == 429
    body = caught.value.json_body
    assert isinstance(body, dict)
    assert (body["error"]["type"], body["error"]["code"]) == ("invalid_request_error", "rate_limit")
    assert _statuses(double) == [(429, None)]
    assert double.stripe.v1.subscription_items.retrieve(item_id).quantity == 1


@pytest.mark.usefixtures("fast_retries")
def test_should_retry_false_stops_the_sdk_retrying_a_500(double: DoubleEnv) -> None:
    item_id = _item(double)
    double.fault(method="POST", path=ITEMS, status=500, should_retry=False, count=1)
    client = double.client(max_network_retries=2)

    with pytest.raises(stripe.APIError) as caught:
        client.v1.subscription_items.update(item_id, params={"quantity": 3})

    body = caught.value.json_body
    assert isinstance(body, dict)
    assert body["error"]["type"] == "api_error"
    assert _statuses(double) == [(500, False)]


@pytest.mark.usefixtures("fast_retries")
def test_an_injected_500_says_do_not_retry_like_stripe(double: DoubleEnv) -> None:
    item_id = _item(double)
    double.fault(method="POST", path=ITEMS, status=500, count=1)
    client = double.client(max_network_retries=2)

    with pytest.raises(stripe.APIError) as caught:
        client.v1.subscription_items.update(item_id, params={"quantity": 3})

    assert caught.value.headers is not None
    assert caught.value.headers.get("Stripe-Should-Retry") == "false"
    assert _statuses(double) == [(500, False)]


@pytest.mark.usefixtures("fast_retries")
def test_a_lock_timeout_says_retry_and_the_sdk_does(double: DoubleEnv) -> None:
    item_id = _item(double)
    double.fault(method="POST", path=ITEMS, error_code="lock_timeout", count=1)
    client = double.client(max_network_retries=2)

    assert client.v1.subscription_items.update(item_id, params={"quantity": 3}).quantity == 3
    assert _statuses(double) == [(429, True), (200, None)]


@pytest.mark.usefixtures("fast_retries")
def test_should_retry_null_sends_no_header(double: DoubleEnv) -> None:
    item_id = _item(double)
    # A GET: a POST's retry would reuse its key and replay the stored 503.
    rule = double.fault(method="GET", path=ITEMS, status=503, should_retry=None, count=1)
    client = double.client(max_network_retries=1)

    assert client.v1.subscription_items.retrieve(item_id).quantity == 1
    assert rule["should_retry"] is None
    assert _statuses(double) == [(503, None), (200, None)]


def test_lock_timeout_is_a_429_with_its_code(double: DoubleEnv) -> None:
    item_id = _item(double)
    double.fault(path=ITEMS, error_code="lock_timeout", count=1)
    with pytest.raises(stripe.RateLimitError) as caught:
        double.stripe.v1.subscription_items.update(item_id, params={"quantity": 2})
    body = caught.value.json_body
    assert isinstance(body, dict)
    assert body["error"]["code"] == "lock_timeout"


def test_dropped_connection_is_an_api_connection_error(double: DoubleEnv) -> None:
    double.fault(method="POST", path="^/v1/customers$", drop_connection=True, count=1)
    with pytest.raises(stripe.APIConnectionError) as caught:
        double.stripe.v1.customers.create(params={"email": "lost@example.com"})
    assert caught.value.should_retry is True
    # Dropped before processing: nothing was created, and the double is still serving.
    assert double.stripe.v1.customers.list().data == []
    assert [(r["dropped"], r["status"]) for r in double.requests("/v1/customers")] == [
        (True, None),
        (False, 200),
    ]


def test_slow_response_times_out_the_client(double: DoubleEnv) -> None:
    double.fault(method="GET", path="^/v1/customers$", delay_ms=1500, count=1)
    with (
        sdk_client(double.base_url, timeout=0.1) as impatient,
        pytest.raises(stripe.APIConnectionError),
    ):
        impatient.v1.customers.list()


def test_after_processing_applies_the_change_then_fails(double: DoubleEnv) -> None:
    item_id = _item(double)
    double.fault(path=ITEMS, status=500, after_processing=True, count=1)
    with pytest.raises(stripe.APIError):
        double.stripe.v1.subscription_items.update(
            item_id, params={"quantity": 4, "proration_behavior": "none"}
        )
    assert double.stripe.v1.subscription_items.retrieve(item_id).quantity == 4


def test_probability_faults_are_reproducible_with_a_seed(double: DoubleEnv) -> None:
    outcomes = []
    for _ in range(2):
        double.post("/_double/reset")
        double.config(fault_seed=3)
        double.fault(method="GET", path="^/v1/customers$", status=503, probability=0.5)
        for _ in range(20):
            with contextlib.suppress(stripe.APIError):
                double.stripe.v1.customers.list()
        outcomes.append([r["status"] for r in double.requests("/v1/customers")])
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0].count(503) < 20


def test_fault_rules_are_listed_and_cleared(double: DoubleEnv) -> None:
    rule = double.fault(path=ITEMS, status=500, count=2)
    listed = double.get("/_double/faults")
    assert [(r["id"], r["remaining"]) for r in listed] == [(rule["id"], 2)]
    double.admin.delete("/_double/faults").raise_for_status()
    assert double.get("/_double/faults") == []
    bad = double.admin.post("/_double/faults", json={"path": ".*", "count": 0})
    assert bad.status_code == 400


def test_request_rate_limit_answers_429(double: DoubleEnv) -> None:
    double.config(rate_limit_rps=3)
    limited = 0
    for _ in range(25):
        try:
            double.stripe.v1.customers.list()
        except stripe.RateLimitError:
            limited += 1
    assert limited > 0


def test_quantity_updates_per_subscription_are_limited(double: DoubleEnv) -> None:
    double.config(quantity_updates_per_hour=3)
    item_id = _item(double)
    for quantity in (2, 3, 4):
        double.stripe.v1.subscription_items.update(item_id, params={"quantity": quantity})
    with pytest.raises(stripe.RateLimitError):
        double.stripe.v1.subscription_items.update(item_id, params={"quantity": 5})


def test_request_log_records_decoded_params(double: DoubleEnv) -> None:
    price_id = double.seed()
    double.subscribe(price=price_id, quantity=6, metadata={"group": "g1"})

    (create,) = double.requests("/v1/subscriptions")
    assert create["method"] == "POST"
    assert create["params"]["items"] == [{"price": price_id, "quantity": "6"}]
    assert create["params"]["metadata"] == {"group": "g1"}
    assert create["idempotency_key"]
    assert (create["status"], create["fault"], create["replayed"]) == (200, None, False)
    assert len(double.requests("/v1/")) == 2

    double.admin.delete("/_double/requests").raise_for_status()
    assert double.requests() == []
