"""List endpoints of the Stripe double: cursors, has_more, filters, auto-pagination."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]


def _subscriptions(double: DoubleEnv, count: int) -> list[str]:
    price_id = double.seed()
    customer = double.stripe.v1.customers.create(params={"email": "many@example.com"})
    return [
        double.stripe.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price_id, "quantity": n + 1}]}
        ).id
        for n in range(count)
    ]


def test_auto_paging_iter_walks_more_than_100_subscriptions(double: DoubleEnv) -> None:
    created = _subscriptions(double, 130)

    page = double.stripe.v1.subscriptions.list(params={"limit": 100})
    walked = [sub.id for sub in page.auto_paging_iter()]

    assert (len(page.data), page.has_more, page.url) == (100, True, "/v1/subscriptions")
    # Newest first, like Stripe; every subscription exactly once.
    assert walked == list(reversed(created))
    assert len(double.requests("/v1/subscriptions")) == 130 + 2


def test_cursor_pages_and_default_limit(double: DoubleEnv) -> None:
    created = list(reversed(_subscriptions(double, 12)))

    first = double.stripe.v1.subscriptions.list()
    second = double.stripe.v1.subscriptions.list(params={"starting_after": first.data[-1].id})
    before = double.stripe.v1.subscriptions.list(params={"ending_before": created[5], "limit": 2})

    assert [s.id for s in first.data] == created[:10]
    assert first.has_more is True
    assert [s.id for s in second.data] == created[10:]
    assert second.has_more is False
    assert [s.id for s in before.data] == created[3:5]


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_must_be_between_1_and_100(double: DoubleEnv, limit: int) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        double.stripe.v1.subscriptions.list(params={"limit": limit})
    assert caught.value.param == "limit"


def test_status_filter_hides_canceled_by_default(double: DoubleEnv) -> None:
    kept, canceled = _subscriptions(double, 2)
    double.stripe.v1.subscriptions.cancel(canceled)

    default = [s.id for s in double.stripe.v1.subscriptions.list().data]
    everything = [s.id for s in double.stripe.v1.subscriptions.list(params={"status": "all"}).data]
    only_canceled = double.stripe.v1.subscriptions.list(params={"status": "canceled"}).data

    assert default == [kept]
    assert everything == [canceled, kept]
    assert [s.id for s in only_canceled] == [canceled]


def test_customer_filter_on_subscriptions_and_invoices(double: DoubleEnv) -> None:
    price_id = double.seed()
    alice, alice_sub = double.subscribe(price=price_id)
    double.subscribe(price=price_id)

    subs = double.stripe.v1.subscriptions.list(params={"customer": alice}).data
    invoices = double.stripe.v1.invoices.list(params={"subscription": alice_sub.id}).data

    assert [s.id for s in subs] == [alice_sub.id]
    assert [i.id for i in invoices] == [alice_sub.latest_invoice]
    assert all(i.customer == alice for i in invoices)


def test_unknown_cursor_is_rejected(double: DoubleEnv) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        double.stripe.v1.customers.list(params={"starting_after": "cus_unknown"})
    assert caught.value.param == "starting_after"
