"""Tiered and volume prices in the Stripe double, and the renewal preview the gateway
reads from ``POST /v1/invoices/create_preview``, through the real SDK (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import stripe

from adapters.stripe.gateway import StripeCallError, StripeGateway
from stripe_double import running_double, sdk_client

# Stripe's documented rules (docs.stripe.com, "Tiered pricing"): graduated bills each
# unit at the tier it falls in, plus the flat amount of each tier reached; volume bills
# every unit at the tier the whole quantity falls in, plus that tier's flat amount.
TIERS: list[dict[str, Any]] = [
    {"up_to": 5, "unit_amount": 500, "flat_amount": 1000},
    {"up_to": 10, "unit_amount": 400},
    {"up_to": "inf", "unit_amount": 300, "flat_amount": 200},
]
GRADUATED = {
    1: 1000 + 500,
    5: 1000 + 5 * 500,
    7: 1000 + 5 * 500 + 2 * 400,
    12: 1000 + 5 * 500 + 5 * 400 + 200 + 2 * 300,
}
VOLUME = {1: 1000 + 500, 5: 1000 + 5 * 500, 7: 7 * 400, 12: 200 + 12 * 300}


def tiered_price(client: stripe.StripeClient, mode: str) -> str:
    """A monthly EUR price on TIERS, ``graduated`` or ``volume``."""
    product = client.v1.products.create(params={"name": "Groups"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "eur",
            "recurring": {"interval": "month"},
            "billing_scheme": "tiered",
            "tiers_mode": mode,
            "tiers": TIERS,  # type: ignore[typeddict-item]
        }
    )
    return str(price.id)


@dataclass
class Tiered:
    client: stripe.StripeClient
    gateway: StripeGateway

    def price(self, mode: str) -> str:
        return tiered_price(self.client, mode)

    def subscription(self, price_id: str, quantity: int = 1) -> tuple[str, str]:
        customer = self.client.v1.customers.create(params={"email": "org@example.com"})
        sub = self.client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price_id, "quantity": quantity}]}
        )
        return sub.id, sub["items"]["data"][0]["id"]


@pytest.fixture
def tiered() -> Iterator[Tiered]:
    with running_double(webhook_delivery=False) as double, sdk_client(double.base_url) as client:
        gateway = StripeGateway(api_key="sk_test_double", api_base=double.base_url)
        try:
            yield Tiered(client, gateway)
        finally:
            gateway.close()


class TestTieredPrices:
    def test_tiers_are_returned_only_when_expanded(self, tiered: Tiered) -> None:
        price_id = tiered.price("graduated")
        plain = tiered.client.v1.prices.retrieve(price_id).to_dict()
        assert (plain["billing_scheme"], plain["tiers_mode"], plain["unit_amount"]) == (
            "tiered",
            "graduated",
            None,
        )
        assert "tiers" not in plain
        expanded = tiered.client.v1.prices.retrieve(price_id, params={"expand": ["tiers"]})
        tiers = expanded.to_dict()["tiers"]
        assert [t["up_to"] for t in tiers] == [5, 10, None]
        assert [t["flat_amount"] for t in tiers] == [1000, None, 200]
        read = tiered.gateway.price(price_id)
        assert read.unit_amount is None
        assert read.tiers_mode == "graduated"
        assert [t.up_to for t in read.tiers] == [5, 10, None]

    def test_a_tiered_price_needs_tiers_ending_in_inf(self, tiered: Tiered) -> None:
        product = tiered.client.v1.products.create(params={"name": "Groups"})
        with pytest.raises(stripe.InvalidRequestError, match="last tier"):
            tiered.client.v1.prices.create(
                params={
                    "product": product.id,
                    "currency": "eur",
                    "recurring": {"interval": "month"},
                    "billing_scheme": "tiered",
                    "tiers_mode": "volume",
                    "tiers": [{"up_to": 5, "unit_amount": 500}],
                }
            )

    @pytest.mark.parametrize(("mode", "expected"), [("graduated", GRADUATED), ("volume", VOLUME)])
    def test_the_preview_bills_the_quantity_by_the_tiers(
        self, tiered: Tiered, mode: str, expected: dict[int, int]
    ) -> None:
        sub_id, item_id = tiered.subscription(tiered.price(mode))
        for quantity, amount in expected.items():
            preview = tiered.gateway.preview_renewal(sub_id, item_id, quantity)
            assert (preview.quantity, preview.subtotal, preview.total) == (
                quantity,
                amount,
                amount,
            ), mode
            assert (preview.tax, preview.currency) == (0, "eur")

    def test_a_renewal_invoice_bills_the_tiers_too(self, tiered: Tiered) -> None:
        sub_id, _ = tiered.subscription(tiered.price("volume"), quantity=7)
        page = tiered.client.v1.invoices.list(params={"subscription": sub_id})
        assert [invoice.amount_due for invoice in page.data] == [VOLUME[7]]

    def test_an_unknown_item_is_a_clear_error(self, tiered: Tiered) -> None:
        sub_id, _ = tiered.subscription(tiered.price("volume"))
        with pytest.raises(StripeCallError) as raised:
            tiered.gateway.preview_renewal(sub_id, "si_missing", 3)
        assert not raised.value.retryable
