"""Stripe Tax at Checkout on the double, through the real SDK: refused as Stripe refuses
(a customer without an address, ``customer_update`` without a customer, tax ids without
the name), and the address and tax id the page collects saved on the customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import stripe

from adapters.stripe.checkout import with_tax_collection

if TYPE_CHECKING:
    from stripe.params import CustomerCreateParams

    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

TAX_LOCATION_MESSAGE = (
    "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a "
    "valid address to the Customer or set either `customer_update[address]` to 'auto' or "
    "`customer_update[shipping]` to 'auto' to save the address entered in Checkout to the "
    "Customer."
)
ADDRESS = {
    "billingLine1": "Unter den Linden 1",
    "billingCity": "Berlin",
    "billingPostalCode": "10117",
    "billingCountry": "DE",
}


def _params(double: DoubleEnv, customer: str | None, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": double.seed(unit_amount=500), "quantity": 2}],
        "client_reference_id": "org-tax",
        "success_url": "https://ledger.example/done",
        "automatic_tax": {"enabled": True},
        **extra,
    }
    if customer is not None:
        params["customer"] = customer
    return params


def _customer(double: DoubleEnv, *, country: str | None = None) -> str:
    params: CustomerCreateParams = {"email": "o@example.com"}
    if country is not None:
        params["address"] = {"country": country, "postal_code": "10117"}
    return str(double.stripe.v1.customers.create(params=params).id)


def test_a_customer_without_an_address_is_refused_as_stripe_does(double: DoubleEnv) -> None:
    customer = _customer(double)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        double.stripe.v1.checkout.sessions.create(params=_params(double, customer))  # type: ignore[arg-type]
    error = caught.value
    assert (error.http_status, error.code, error.user_message) == (
        400,
        "customer_tax_location_invalid",
        TAX_LOCATION_MESSAGE,
    )
    assert error.error is not None
    assert error.error.type == "invalid_request_error"


def test_a_customer_with_an_address_needs_no_update(double: DoubleEnv) -> None:
    customer = _customer(double, country="DE")
    session = double.stripe.v1.checkout.sessions.create(params=_params(double, customer))  # type: ignore[arg-type]
    assert session.status == "open"


def test_customer_update_needs_a_customer(double: DoubleEnv) -> None:
    params = _params(double, None, customer_update={"address": "auto"})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        double.stripe.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    assert (caught.value.param, caught.value.user_message) == (
        "customer_update",
        "`customer_update` can only be used with `customer`.",
    )


def test_tax_ids_for_an_existing_customer_need_the_name_updated(double: DoubleEnv) -> None:
    customer = _customer(double)
    params = _params(
        double,
        customer,
        customer_update={"address": "auto"},
        tax_id_collection={"enabled": True},
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        double.stripe.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    assert caught.value.user_message == (
        "Tax ID collection requires updating business name on the customer. To enable tax ID "
        "collection for an existing customer, please set `customer_update[name]` to `auto`."
    )


def test_the_ledgers_params_are_accepted_and_paying_saves_address_and_tax_id(
    double: DoubleEnv,
) -> None:
    customer = _customer(double)
    params = with_tax_collection(_params(double, customer))
    session = double.stripe.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    assert session.url is not None
    page = double.admin.get(session.url)
    assert "name='billingCountry'" in page.text
    assert "name='taxIdValue'" in page.text

    refused = double.admin.post(session.url)
    assert refused.status_code == 402
    assert "Enter your billing address." in refused.text
    assert double.stripe.v1.checkout.sessions.retrieve(session.id).status == "open"

    form = {**ADDRESS, "businessName": "Acme GmbH", "taxIdValue": "DE123456789"}
    assert double.admin.post(session.url, data=form).status_code == 303

    done = double.stripe.v1.checkout.sessions.retrieve(session.id)
    assert done.status == "complete"
    assert done.customer_details is not None
    assert [t.to_dict() for t in done.customer_details.tax_ids or []] == [
        {"type": "eu_vat", "value": "DE123456789"}
    ]
    saved = double.stripe.v1.customers.retrieve(customer)
    assert saved.address is not None
    assert (saved.address.country, saved.address.postal_code, saved.name) == (
        "DE",
        "10117",
        "Acme GmbH",
    )
    (tax_id,) = double.stripe.v1.customers.tax_ids.list(customer).data
    assert (tax_id.type, tax_id.value, tax_id.customer) == ("eu_vat", "DE123456789", customer)
    types = double.event_types()
    assert "customer.tax_id.created" in types
    assert "customer.updated" in types
    assert types[-1] == "checkout.session.completed"
