"""Customers of the Stripe double take Stripe's real parameters: payment methods,
invoice settings, balances (through the real SDK)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]


def test_a_customer_can_be_created_with_a_default_payment_method(double: DoubleEnv) -> None:
    # The call Stripe's test-clock guide makes.
    customer = double.stripe.v1.customers.create(
        params={
            "email": "o@example.com",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    assert customer.invoice_settings is not None
    assert customer.invoice_settings.default_payment_method == "pm_card_visa"
    _, sub = double.subscribe(price=double.seed())
    assert sub.status == "active"


def test_the_default_payment_method_must_be_attached(double: DoubleEnv) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        double.stripe.v1.customers.create(
            params={"invoice_settings": {"default_payment_method": "pm_card_visa"}}
        )
    assert refused.value.param == "invoice_settings[default_payment_method]"
    assert double.stripe.v1.customers.list().data == []


def test_update_sets_the_default_after_attaching(double: DoubleEnv) -> None:
    customer = double.stripe.v1.customers.create(params={})
    # Stripe's update has no `payment_method` (the SDK's types say so too).
    not_a_param: Any = {"payment_method": "pm_x"}
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        double.stripe.v1.customers.update(customer.id, params=not_a_param)
    assert unknown.value.code == "parameter_unknown"

    attached = double.stripe.v1.payment_methods.attach(
        "pm_card_mastercard", params={"customer": customer.id}
    )
    updated = double.stripe.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": attached.id}}
    )

    assert (attached.customer, attached.type) == (customer.id, "card")
    # A test token attaches as a new card (a new pm_ id), as on Stripe.
    assert updated.invoice_settings is not None
    assert updated.invoice_settings.default_payment_method == attached.id


def test_a_declining_test_card_fails_the_first_payment(double: DoubleEnv) -> None:
    customer = double.stripe.v1.customers.create(
        params={
            "payment_method": "pm_card_chargeCustomerFail",
            "invoice_settings": {"default_payment_method": "pm_card_chargeCustomerFail"},
        }
    )
    sub = double.stripe.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": double.seed(), "quantity": 1}]}
    )
    assert sub.status == "incomplete"


def test_a_balance_given_on_create_and_update_is_recorded(double: DoubleEnv) -> None:
    customer = double.stripe.v1.customers.create(params={"balance": -500})
    since = len(double.event_types())
    updated = double.stripe.v1.customers.update(customer.id, params={"balance": -200})

    assert (customer.balance, updated.balance) == (-500, -200)
    kinds = [
        (t.type, t.amount)
        for t in double.stripe.v1.customers.balance_transactions.list(customer.id).data
    ]
    assert kinds == [("adjustment", 300), ("initial", -500)]
    assert double.event_types(since=since) == ["customer.updated"]


def test_subscriptions_take_a_default_payment_method_and_description(double: DoubleEnv) -> None:
    customer = double.stripe.v1.customers.create(params={"payment_method": "pm_card_visa"})
    price = double.seed()
    sub = double.stripe.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price, "quantity": 1}],
            "default_payment_method": "pm_card_visa",
            "description": "Groups",
        }
    )
    assert (sub.default_payment_method, sub.description) == ("pm_card_visa", "Groups")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        double.stripe.v1.subscriptions.update(
            sub.id, params={"default_payment_method": "pm_card_amex"}
        )
    assert refused.value.param == "default_payment_method"
    renamed = double.stripe.v1.subscriptions.update(sub.id, params={"description": "Seats"})
    assert renamed.description == "Seats"


@pytest.mark.parametrize(
    "params",
    [
        {"tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}]},
        {"payment_method": "card_123"},
    ],
)
def test_what_the_double_cannot_do_is_refused_by_name(
    double: DoubleEnv, params: dict[str, Any]
) -> None:
    sent: Any = params
    with pytest.raises(stripe.InvalidRequestError) as refused:
        double.stripe.v1.customers.create(params=sent)
    assert refused.value.param == next(iter(params))


def test_tax_ids_are_created_and_deleted_as_stripe_does_with_their_events(
    double: DoubleEnv,
) -> None:
    customer = double.stripe.v1.customers.create(params={})
    before = len(double.event_types())
    created = double.stripe.v1.customers.tax_ids.create(
        customer.id, params={"type": "eu_vat", "value": "DE123456789"}
    )
    assert (created.object, created.type, created.value) == ("tax_id", "eu_vat", "DE123456789")
    assert created.customer == customer.id
    listed = double.stripe.v1.customers.tax_ids.list(customer.id).data
    assert [t.id for t in listed] == [created.id]
    deleted = double.stripe.v1.customers.tax_ids.delete(customer.id, created.id)
    assert deleted.deleted
    assert double.stripe.v1.customers.tax_ids.list(customer.id).data == []
    assert double.event_types(since=before) == [
        "customer.tax_id.created",
        "customer.tax_id.deleted",
    ]


def test_a_tax_id_needs_its_type_and_value(double: DoubleEnv) -> None:
    customer = double.stripe.v1.customers.create(params={})
    no_value: Any = {"type": "eu_vat"}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        double.stripe.v1.customers.tax_ids.create(customer.id, params=no_value)
    assert refused.value.param == "value"
