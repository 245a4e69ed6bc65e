"""The Stripe double's search (``/v1/customers/search``, ``/v1/subscriptions/search``) for
the one clause the ledger sends, through the real SDK; anything else is a 400."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]


def test_subscriptions_are_found_by_a_metadata_value(double: DoubleEnv) -> None:
    price = double.seed()
    _, wanted = double.subscribe(price=price, metadata={"organizer_id": "org-1"})
    double.subscribe(price=price, metadata={"organizer_id": "org-2"})
    double.subscribe(price=price)
    found = double.stripe.v1.subscriptions.search(
        params={"query": "metadata['organizer_id']:'org-1'"}
    )
    assert found["object"] == "search_result"
    assert [sub.id for sub in found.data] == [wanted.id]


def test_customers_are_found_by_a_metadata_value(double: DoubleEnv) -> None:
    wanted = double.stripe.v1.customers.create(params={"metadata": {"organizer_id": "org-1"}})
    double.stripe.v1.customers.create(params={"metadata": {"organizer_id": "org-10"}})
    found = double.stripe.v1.customers.search(params={"query": 'metadata["organizer_id"]:"org-1"'})
    assert [customer.id for customer in found.data] == [wanted.id]


@pytest.mark.parametrize("query", ["email:'a@example.com'", "metadata['a']:'b' AND x:'y'", ""])
def test_another_query_is_refused(double: DoubleEnv, query: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        double.stripe.v1.customers.search(params={"query": query})
    assert refused.value.param == "query"
