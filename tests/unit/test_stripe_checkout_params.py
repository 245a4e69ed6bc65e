"""With Stripe Tax on, a Checkout Session collects the billing address and tax ids, and
lets Checkout write them to the ledger's customer (Stripe refuses the session otherwise)."""

from __future__ import annotations

from typing import Any

from adapters.stripe.checkout import with_tax_collection

BASE: dict[str, Any] = {"mode": "subscription", "customer": "cus_1", "client_reference_id": "o"}


def test_with_automatic_tax_the_address_and_tax_ids_are_collected_and_saved() -> None:
    params = {**BASE, "automatic_tax": {"enabled": True}}
    assert with_tax_collection(params) == {
        **params,
        "billing_address_collection": "required",
        "tax_id_collection": {"enabled": True},
        "customer_update": {"address": "auto", "name": "auto"},
    }


def test_without_a_customer_there_is_no_customer_update() -> None:
    params = {"mode": "subscription", "automatic_tax": {"enabled": True}}
    collected = with_tax_collection(params)
    assert "customer_update" not in collected
    assert collected["billing_address_collection"] == "required"


def test_without_automatic_tax_nothing_is_added() -> None:
    for params in (BASE, {**BASE, "automatic_tax": {"enabled": False}}):
        assert with_tax_collection(params) == params


def test_the_params_given_are_left_as_they_were() -> None:
    params = {**BASE, "automatic_tax": {"enabled": True}}
    before = dict(params)
    with_tax_collection(params)
    assert params == before
