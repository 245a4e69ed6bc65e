"""Resources, object shapes and errors of the Stripe double, through the real SDK."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]


def test_objects_have_stripe_ids_and_current_shape(double: DoubleEnv) -> None:
    price_id = double.seed(unit_amount=700)
    customer_id, sub = double.subscribe(price=price_id, quantity=4)

    price = double.stripe.v1.prices.retrieve(price_id)
    assert price.id.startswith("price_")
    assert str(price.product).startswith("prod_")
    assert price.recurring is not None
    assert (price.unit_amount, price.currency, price.recurring.interval) == (700, "eur", "month")
    assert customer_id.startswith("cus_")
    assert sub.id.startswith("sub_")
    assert (sub.object, sub.livemode, sub.status, sub.customer) == (
        "subscription",
        False,
        "active",
        customer_id,
    )
    item = sub["items"].data[0]
    assert item.id.startswith("si_")
    assert item.quantity == 4
    # Since API version basil the billing period lives on the item, not the subscription.
    assert item.current_period_start == sub.created
    assert item.current_period_end > item.current_period_start
    assert "current_period_end" not in sub

    invoice = double.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
    assert invoice.id.startswith("in_")
    assert invoice.parent is not None
    assert invoice.parent.subscription_details is not None
    assert invoice.parent.subscription_details.subscription == sub.id
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == (
        "subscription_create",
        "paid",
        2800,
    )
    line = invoice.lines.data[0]
    assert line.id.startswith("il_")
    assert line.quantity == 4
    assert line.parent is not None
    assert line.parent.subscription_item_details is not None
    assert line.parent.subscription_item_details.subscription_item == item.id
    assert line.pricing is not None
    assert line.pricing.price_details is not None
    assert line.pricing.price_details.price == price_id


def test_customer_update_emits_previous_attributes_and_delete_cancels(double: DoubleEnv) -> None:
    price_id = double.seed()
    customer_id, sub = double.subscribe(price=price_id)
    double.stripe.v1.customers.update(
        customer_id, params={"name": "Ada", "metadata": {"team": "a", "gone": ""}}
    )
    updated = double.stripe.v1.events.list(params={"type": "customer.updated"}).data[0]
    assert updated.data.previous_attributes is not None
    assert updated.data.previous_attributes["name"] is None
    assert updated.data.object["name"] == "Ada"

    deleted = double.stripe.v1.customers.delete(customer_id)
    assert deleted.deleted is True
    assert double.stripe.v1.subscriptions.retrieve(sub.id).status == "canceled"
    assert double.event_types()[-2:] == ["customer.subscription.deleted", "customer.deleted"]


def test_metadata_merges_and_empty_string_unsets(double: DoubleEnv) -> None:
    price_id = double.seed()
    _, sub = double.subscribe(price=price_id, metadata={"group": "g1", "tmp": "x"})
    updated = double.stripe.v1.subscriptions.update(
        sub.id, params={"metadata": {"tmp": "", "plan": "pro"}}
    )
    assert updated.metadata.to_dict() == {"group": "g1", "plan": "pro"}


def test_missing_object_is_a_404_invalid_request_error(double: DoubleEnv) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        double.stripe.v1.subscriptions.retrieve("sub_missing")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"
    assert caught.value.request_id is not None
    assert caught.value.request_id.startswith("req_")


def test_bad_params_are_400s_naming_the_param(double: DoubleEnv) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        double.stripe.v1.subscriptions.create(params={"items": [{"price": "price_x"}]})
    assert (missing.value.http_status, missing.value.param) == (400, "customer")
    assert missing.value.code == "parameter_missing"

    customer = double.stripe.v1.customers.create(params={"email": "a@example.com"})
    with pytest.raises(stripe.InvalidRequestError) as unknown_price:
        double.stripe.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": "price_nope"}]}
        )
    assert (unknown_price.value.http_status, unknown_price.value.param) == (400, "items[0][price]")

    typo: Any = {"emial": "typo@example.com"}
    with pytest.raises(stripe.InvalidRequestError) as unknown_param:
        double.stripe.v1.customers.create(params=typo)
    assert unknown_param.value.code == "parameter_unknown"


def test_every_response_carries_a_request_id(double: DoubleEnv) -> None:
    ok = double.admin.get("/v1/customers", headers={"Authorization": "Bearer sk_test_double"})
    missing = double.admin.get(
        "/v1/customers/cus_nope", headers={"Authorization": "Bearer sk_test_double"}
    )
    unauthenticated = double.admin.get("/v1/customers")
    for response in (ok, missing, unauthenticated):
        assert response.headers["Request-Id"].startswith("req_")
    assert (ok.status_code, missing.status_code, unauthenticated.status_code) == (200, 404, 401)
    assert unauthenticated.json()["error"]["type"] == "authentication_error"


def test_unknown_url_answers_like_stripe(double: DoubleEnv) -> None:
    response = double.admin.get("/v1/nothing_here", headers={"Authorization": "Bearer sk_x"})
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith("Unrecognized request URL")


def test_expand_replaces_ids_with_objects(double: DoubleEnv) -> None:
    price_id = double.seed()
    customer_id, sub = double.subscribe(price=price_id)
    expanded = double.stripe.v1.subscriptions.retrieve(
        sub.id, params={"expand": ["latest_invoice", "customer"]}
    )
    assert isinstance(expanded.customer, stripe.Customer)
    assert expanded.customer.id == customer_id
    assert isinstance(expanded.latest_invoice, stripe.Invoice)


def test_cancel_emits_deleted_and_second_cancel_fails(double: DoubleEnv) -> None:
    price_id = double.seed()
    _, sub = double.subscribe(price=price_id)
    canceled = double.stripe.v1.subscriptions.cancel(sub.id)
    assert (canceled.status, canceled.canceled_at) == ("canceled", canceled.ended_at)
    assert double.event_types()[-1] == "customer.subscription.deleted"
    with pytest.raises(stripe.InvalidRequestError):
        double.stripe.v1.subscriptions.cancel(sub.id)


def test_seed_helper_and_form_decoding_over_plain_http(double: DoubleEnv) -> None:
    price_id = double.seed(unit_amount=1234)
    # Bracket notation with explicit indexes, as any Stripe client library sends it.
    body = "email=x%40example.com&metadata[a][b]=nested-is-invalid"
    response = httpx.post(
        f"{double.base_url}/v1/customers",
        content=body,
        headers={
            "Authorization": "Bearer sk_test_double",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "metadata"
    assert double.stripe.v1.prices.retrieve(price_id).unit_amount == 1234


def test_declined_card_is_a_402_card_error(double: DoubleEnv) -> None:
    price_id = double.seed()
    customer = double.stripe.v1.customers.create(params={"email": "broke@example.com"})
    double.fail_payments(customer.id)
    with pytest.raises(stripe.CardError) as caught:
        double.stripe.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price_id}],
                "payment_behavior": "error_if_incomplete",
            }
        )
    assert (caught.value.http_status, caught.value.code) == (402, "card_declined")
    # Stripe's default (allow_incomplete) creates the subscription, unpaid.
    sub = double.stripe.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price_id}]}
    )
    invoice = double.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (sub.status, invoice.status) == ("incomplete", "open")
    assert double.event_types()[-1] == "invoice.payment_failed"


def test_item_quantity_update_emits_subscription_updated(double: DoubleEnv) -> None:
    price_id = double.seed()
    _, sub = double.subscribe(price=price_id, quantity=2)
    item = double.stripe.v1.subscription_items.update(
        sub["items"].data[0].id, params={"quantity": 5, "proration_behavior": "none"}
    )
    event = double.stripe.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert item.quantity == 5
    assert event.data.object["items"]["data"][0]["quantity"] == 5
    assert event.data.previous_attributes is not None
    assert event.data.previous_attributes["items"]["data"][0]["quantity"] == 2
    assert double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0].id == (
        sub.latest_invoice
    )
