"""Coupons and subscription discounts of the Stripe double (API 2026-10-28.endive),
through the real SDK: validation, `discounts` on subscriptions, and what the renewal
invoice and create_preview take off."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pytest
import stripe
from stripe.params import CouponCreateParams, SubscriptionCreateParams

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

JAN_15 = int(datetime(2026, 1, 15, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2026, 2, 15, tzinfo=UTC).timestamp())
MAR_15 = int(datetime(2026, 3, 15, tzinfo=UTC).timestamp())


def _coupon(double: DoubleEnv, **params: Any) -> Any:
    return double.stripe.v1.coupons.create(params=cast(CouponCreateParams, params))


def _refused(double: DoubleEnv, **params: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        double.stripe.v1.coupons.create(params=cast(CouponCreateParams, params))
    assert raised.value.http_status == 400
    return raised.value


def _on_clock(double: DoubleEnv, quantity: int, **sub_params: Any) -> tuple[str, Any]:
    """A clock at Jan 15, a €5/unit monthly subscription of ``quantity`` on it."""
    double.post("/_double/clock", {"now": JAN_15})
    price_id = double.seed(unit_amount=500)
    clock = double.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": JAN_15})
    customer = double.stripe.v1.customers.create(
        params={"email": "o@example.com", "test_clock": clock.id}
    )
    params = {
        "customer": customer.id,
        "items": [{"price": price_id, "quantity": quantity}],
        **sub_params,
    }
    sub = double.stripe.v1.subscriptions.create(params=cast(SubscriptionCreateParams, params))
    return clock.id, sub


def _renewal(double: DoubleEnv, clock_id: str, sub_id: str, at: int) -> Any:
    """The newest renewal invoice after advancing the clock to ``at``."""
    double.stripe.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": at})
    listed = double.stripe.v1.invoices.list(params={"subscription": sub_id}).data
    cycles = [i for i in listed if i.billing_reason == "subscription_cycle"]
    return max(cycles, key=lambda i: i.created)


def _renewal_total(double: DoubleEnv, clock_id: str, sub_id: str, at: int) -> int:
    return int(_renewal(double, clock_id, sub_id, at).total)


def _preview(double: DoubleEnv, sub: Any, quantity: int) -> Any:
    item_id = sub["items"]["data"][0]["id"]
    return double.stripe.v1.invoices.create_preview(
        params={
            "subscription": sub.id,
            "subscription_details": {
                "items": [{"id": item_id, "quantity": quantity}],
                "proration_behavior": "none",
            },
        }
    )


class TestCoupons:
    def test_a_coupon_is_created_and_retrieved(self, double: DoubleEnv) -> None:
        made = _coupon(double, id="SPRING", percent_off=12.5, duration="forever")
        got = double.stripe.v1.coupons.retrieve("SPRING")
        assert (got.id, got.percent_off, got.amount_off, got.duration) == (
            "SPRING",
            12.5,
            None,
            "forever",
        )
        assert (got.valid, got.times_redeemed, made.object) == (True, 0, "coupon")
        generated = _coupon(double, amount_off=300, currency="EUR", duration="once")
        assert generated.id
        assert generated.currency == "eur"

    def test_an_unknown_coupon_is_missing(self, double: DoubleEnv) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            double.stripe.v1.coupons.retrieve("NOPE")
        assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")
        assert "No such coupon: 'NOPE'" in str(raised.value.user_message)

    @pytest.mark.parametrize(
        ("params", "param"),
        [
            ({}, "percent_off"),
            ({"percent_off": 10, "amount_off": 100, "currency": "eur"}, "amount_off"),
            ({"percent_off": 0}, "percent_off"),
            ({"percent_off": 100.5}, "percent_off"),
            ({"amount_off": 0, "currency": "eur"}, "amount_off"),
            ({"amount_off": 100}, "currency"),
            ({"percent_off": 10, "currency": "eur"}, "currency"),
            ({"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
            ({"percent_off": 10, "duration_in_months": 3}, "duration_in_months"),
            ({"percent_off": 10, "duration": "weekly"}, "duration"),
            ({"percent_off": 10, "redeem_by": 1900000000}, "redeem_by"),
            ({"percent_off": 10, "bogus": "x"}, "bogus"),
        ],
    )
    def test_an_invalid_coupon_is_refused_by_param(
        self, double: DoubleEnv, params: dict[str, Any], param: str
    ) -> None:
        assert _refused(double, **params).param == param

    def test_a_coupon_id_is_unique(self, double: DoubleEnv) -> None:
        _coupon(double, id="ONCE", percent_off=10)
        assert _refused(double, id="ONCE", percent_off=20).code == "resource_already_exists"


class TestSubscriptionDiscounts:
    def test_an_unknown_coupon_on_a_subscription_is_resource_missing(
        self, double: DoubleEnv
    ) -> None:
        price_id = double.seed()
        customer = double.stripe.v1.customers.create(params={"email": "o@example.com"})
        with pytest.raises(stripe.InvalidRequestError) as raised:
            double.stripe.v1.subscriptions.create(
                params={
                    "customer": customer.id,
                    "items": [{"price": price_id}],
                    "discounts": [{"coupon": "NOPE"}],
                }
            )
        error = raised.value
        assert (error.http_status, error.code, error.param) == (
            400,
            "resource_missing",
            "discounts[0][coupon]",
        )
        assert double.stripe.v1.subscriptions.list().data == []

    def test_promotion_codes_are_refused_not_ignored(self, double: DoubleEnv) -> None:
        _clock_id, sub = _on_clock(double, 2)
        with pytest.raises(stripe.InvalidRequestError, match="does not implement"):
            double.stripe.v1.subscriptions.update(
                sub.id, params={"discounts": [{"promotion_code": "promo_x"}]}
            )

    def test_an_amount_off_coupon_in_another_currency_is_refused(self, double: DoubleEnv) -> None:
        _coupon(double, id="USD5", amount_off=500, currency="usd", duration="forever")
        _, sub = _on_clock(double, 2)
        with pytest.raises(stripe.InvalidRequestError, match="currency"):
            double.stripe.v1.subscriptions.update(
                sub.id, params={"discounts": [{"coupon": "USD5"}]}
            )

    def test_discounts_are_ids_expandable_to_objects(self, double: DoubleEnv) -> None:
        _coupon(double, id="TEN", percent_off=10, duration="forever")
        _, sub = _on_clock(double, 3, discounts=[{"coupon": "TEN"}])
        assert len(sub.discounts) == 1
        assert str(sub.discounts[0]).startswith("di_")
        got = double.stripe.v1.subscriptions.retrieve(
            sub.id, params={"expand": ["discounts.source.coupon"]}
        )
        discount = got.to_dict()["discounts"][0]
        assert (discount["object"], discount["subscription"], discount["end"]) == (
            "discount",
            sub.id,
            None,
        )
        assert discount["source"]["type"] == "coupon"
        assert discount["source"]["coupon"]["percent_off"] == 10
        first = double.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
        assert (first.subtotal, first.total) == (1500, 1350)
        assert double.stripe.v1.coupons.retrieve("TEN").times_redeemed == 1

    def test_percent_off_rounds_half_up_on_the_renewal_and_the_preview(
        self, double: DoubleEnv
    ) -> None:
        # 3 * €5 = 1500; 12.5 % of it is 187.5 → 188 off.
        _coupon(double, id="EIGHTH", percent_off=12.5, duration="forever")
        clock_id, sub = _on_clock(double, 3)
        double.stripe.v1.subscriptions.update(
            sub.id, params={"discounts": [{"coupon": "EIGHTH"}], "proration_behavior": "none"}
        )
        preview = _preview(double, sub, 3)
        renewal = _renewal(double, clock_id, sub.id, FEB_15)
        for invoice in (preview, renewal):
            assert (invoice.subtotal, invoice.total_excluding_tax, invoice.total) == (
                1500,
                1312,
                1312,
            )
            [discount_id] = invoice.discounts
            assert [(d.amount, d.discount) for d in invoice.total_discount_amounts] == [
                (188, discount_id)
            ]
            assert [d.amount for d in invoice.lines.data[0].discount_amounts] == [188]
        assert renewal.amount_due == 1312

    def test_tax_is_computed_after_the_discount(self, double: DoubleEnv) -> None:
        _coupon(double, id="FIVE", amount_off=500, currency="eur", duration="forever")
        clock_id, sub = _on_clock(
            double, 4, discounts=[{"coupon": "FIVE"}], automatic_tax={"enabled": True}
        )
        renewal = _renewal(double, clock_id, sub.id, FEB_15)
        # (2000 - 500) * 19 % = 285
        assert (renewal.subtotal, renewal.total_excluding_tax, renewal.total) == (2000, 1500, 1785)

    def test_amount_off_never_exceeds_the_discountable_amount(self, double: DoubleEnv) -> None:
        _coupon(double, id="BIG", amount_off=5000, currency="eur", duration="forever")
        _, sub = _on_clock(double, 2, discounts=[{"coupon": "BIG"}])
        preview = _preview(double, sub, 2)
        assert (preview.subtotal, preview.total, preview.amount_due) == (1000, 0, 0)
        assert preview.total_discount_amounts[0].amount == 1000

    def test_once_applies_to_one_invoice_and_repeating_ends(self, double: DoubleEnv) -> None:
        _coupon(double, id="ONCE", amount_off=100, currency="eur", duration="once")
        _coupon(double, id="TWO", percent_off=50, duration="repeating", duration_in_months=2)
        clock_id, sub = _on_clock(double, 2)
        double.stripe.v1.subscriptions.update(
            sub.id, params={"discounts": [{"coupon": "ONCE"}, {"coupon": "TWO"}]}
        )
        # Feb 15: both (1000 - 100, then half of 900), and ONCE is spent. TWO, redeemed
        # Jan 15 for 2 months, ends Mar 15: the Mar 15 renewal is billed in full.
        assert _renewal_total(double, clock_id, sub.id, FEB_15) == 450
        left = double.stripe.v1.subscriptions.retrieve(sub.id, params={"expand": ["discounts"]})
        [left_discount] = left.to_dict()["discounts"]
        assert (left_discount["source"]["coupon"], left_discount["end"]) == ("TWO", MAR_15)
        assert _renewal_total(double, clock_id, sub.id, MAR_15) == 1000
        assert double.stripe.v1.subscriptions.retrieve(sub.id).discounts == []

    def test_an_empty_string_clears_the_discounts(self, double: DoubleEnv) -> None:
        _coupon(double, id="TEN", percent_off=10, duration="forever")
        _, sub = _on_clock(double, 2, discounts=[{"coupon": "TEN"}])
        cleared = double.stripe.v1.subscriptions.update(sub.id, params={"discounts": ""})
        assert cleared.discounts == []
        assert _preview(double, sub, 2).total == 1000
        kept = double.stripe.v1.subscriptions.update(sub.id, params={"metadata": {"a": "b"}})
        assert kept.discounts == []
