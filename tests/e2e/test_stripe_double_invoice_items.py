"""Invoice items of the Stripe double, through the real SDK: pending items, items on a
renewal draft (lines and totals), credits, deletion, and Stripe's refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

HOUR = 3600
JAN_15 = int(datetime(2026, 1, 15, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2026, 2, 15, tzinfo=UTC).timestamp())
MAR_15 = int(datetime(2026, 3, 15, tzinfo=UTC).timestamp())


def _on_clock(double: DoubleEnv, *, quantity: int = 2, tax: bool = False) -> tuple[str, str, Any]:
    """A clock at Jan 15 and a €5/seat monthly subscription on it: (clock, customer, sub)."""
    double.post("/_double/clock", {"now": JAN_15})
    price = double.seed(unit_amount=500)
    clock = double.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": JAN_15})
    customer_id, sub = double.subscribe(price=price, quantity=quantity, clock=clock.id, tax=tax)
    return clock.id, customer_id, sub


def _advance(double: DoubleEnv, clock_id: str, to: int) -> None:
    double.stripe.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": to})


def _renewal_draft(double: DoubleEnv, sub_id: str) -> Any:
    draft = double.stripe.v1.invoices.list(params={"subscription": sub_id, "limit": 1}).data[0]
    assert (draft.status, draft.billing_reason) == ("draft", "subscription_cycle")
    return draft


def _one_time_price(double: DoubleEnv, unit_amount: int = 500) -> str:
    product = double.stripe.v1.products.create(params={"name": "Extra group"})
    price = double.stripe.v1.prices.create(
        params={"product": product.id, "unit_amount": unit_amount, "currency": "eur"}
    )
    return price.id


class TestCreate:
    def test_a_pending_item_has_stripes_shape_and_event(self, double: DoubleEnv) -> None:
        customer = double.stripe.v1.customers.create(params={"email": "a@example.com"})

        item = double.stripe.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "amount": 1250,
                "currency": "eur",
                "description": "Two more groups",
                "metadata": {"decision": "d-1"},
                "period": {"start": JAN_15, "end": FEB_15},
            }
        )

        assert item.id.startswith("ii_")
        assert (item.object, item.amount, item.currency, item.invoice) == (
            "invoiceitem",
            1250,
            "eur",
            None,
        )
        assert (item.quantity, item.description) == (1, "Two more groups")
        assert item.to_dict()["metadata"] == {"decision": "d-1"}
        assert (item.period.start, item.period.end) == (JAN_15, FEB_15)
        assert item.pricing is not None
        assert item.pricing.unit_amount_decimal == 1250
        assert double.stripe.v1.invoice_items.retrieve(item.id).amount == 1250
        assert double.event_types()[-1] == "invoiceitem.created"

    def test_a_unit_amount_times_quantity_may_be_negative(self, double: DoubleEnv) -> None:
        customer = double.stripe.v1.customers.create(params={})
        credit = double.stripe.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "unit_amount_decimal": Decimal("-500"),
                "quantity": 3,
                "currency": "eur",
            }
        )
        assert (credit.amount, credit.quantity) == (-1500, 3)
        half = double.stripe.v1.invoice_items.create(
            params={
                "customer": customer.id,
                "unit_amount_decimal": Decimal("0.5"),
                "quantity": 3,
                "currency": "eur",
            }
        )
        assert half.amount == 2  # 1.5 rounds half away from zero

    def test_a_one_time_price_gives_product_and_price(self, double: DoubleEnv) -> None:
        customer = double.stripe.v1.customers.create(params={})
        price_id = _one_time_price(double, 700)
        item = double.stripe.v1.invoice_items.create(
            params={"customer": customer.id, "pricing": {"price": price_id}, "quantity": 2}
        )
        assert (item.amount, item.currency, item.description) == (1400, "eur", "Extra group")
        assert item.pricing is not None
        assert item.pricing.price_details is not None
        assert item.pricing.price_details.price == price_id

    @pytest.mark.parametrize(
        ("params", "param"),
        [
            (
                {"amount": 100, "unit_amount_decimal": "100", "currency": "eur"},
                "unit_amount_decimal",
            ),
            ({"amount": 100, "quantity": 2, "currency": "eur"}, "quantity"),
            ({"currency": "eur"}, "amount"),
            ({"amount": 100}, "currency"),
            ({"amount": 100, "currency": "eur", "price": "price_x"}, "price"),
            ({"unit_amount_decimal": "1.0000000000001", "currency": "eur"}, "unit_amount_decimal"),
            ({"amount": 100, "currency": "eur", "period": {"start": 10, "end": 5}}, "period[end]"),
        ],
    )
    def test_invalid_params_are_refused(
        self, double: DoubleEnv, params: dict[str, Any], param: str
    ) -> None:
        customer = double.stripe.v1.customers.create(params={})
        sent: Any = {"customer": customer.id, **params}
        with pytest.raises(stripe.InvalidRequestError) as refused:
            double.stripe.v1.invoice_items.create(params=sent)
        assert refused.value.param == param
        assert double.stripe.v1.invoice_items.list(params={}).data == []

    def test_a_recurring_price_is_refused(self, double: DoubleEnv) -> None:
        customer = double.stripe.v1.customers.create(params={})
        recurring = double.seed()
        with pytest.raises(stripe.InvalidRequestError) as refused:
            double.stripe.v1.invoice_items.create(
                params={"customer": customer.id, "pricing": {"price": recurring}}
            )
        assert refused.value.param == "pricing[price]"
        assert "type=one_time" in str(refused.value.user_message)

    def test_the_same_idempotency_key_creates_one_item(self, double: DoubleEnv) -> None:
        customer = double.stripe.v1.customers.create(params={})
        params: Any = {"customer": customer.id, "amount": 300, "currency": "eur"}
        first = double.stripe.v1.invoice_items.create(
            params=params, options={"idempotency_key": "item-1"}
        )
        again = double.stripe.v1.invoice_items.create(
            params=params, options={"idempotency_key": "item-1"}
        )
        assert again.id == first.id
        other: Any = {**params, "amount": 301}
        with pytest.raises(stripe.IdempotencyError):
            double.stripe.v1.invoice_items.create(
                params=other, options={"idempotency_key": "item-1"}
            )
        assert len(double.stripe.v1.invoice_items.list(params={}).data) == 1


class TestOnADraft:
    def test_items_show_as_lines_and_change_the_totals(self, double: DoubleEnv) -> None:
        clock_id, customer_id, sub = _on_clock(double, quantity=2)
        _advance(double, clock_id, FEB_15 + 10 * 60)
        draft = _renewal_draft(double, sub.id)
        assert (draft.subtotal, draft.amount_due) == (1000, 1000)

        more = double.stripe.v1.invoice_items.create(
            params={
                "customer": customer_id,
                "invoice": draft.id,
                "subscription": sub.id,
                "unit_amount_decimal": Decimal(500),
                "quantity": 3,
                "currency": "eur",
                "description": "3 groups active at the renewal",
                "period": {"start": FEB_15, "end": MAR_15},
            }
        )
        double.stripe.v1.invoice_items.create(
            params={
                "customer": customer_id,
                "invoice": draft.id,
                "amount": -500,
                "currency": "eur",
                "description": "1 group fewer",
            }
        )

        updated = double.stripe.v1.invoices.retrieve(draft.id)
        assert (updated.subtotal, updated.total, updated.amount_due) == (2000, 2000, 2000)
        line = next(
            li
            for li in updated.lines.data
            if li.parent is not None and li.parent.type == "invoice_item_details"
        )
        assert line.parent is not None
        assert line.parent.invoice_item_details is not None
        assert line.parent.invoice_item_details.invoice_item == more.id
        assert line.parent.invoice_item_details.subscription == sub.id
        assert (line.amount, line.quantity, line.invoice) == (1500, 3, draft.id)
        assert (line.period.start, line.period.end) == (FEB_15, MAR_15)
        assert more.invoice == draft.id
        listed = double.stripe.v1.invoice_items.list(params={"invoice": draft.id}).data
        assert len(listed) == 2
        invoice_updates = double.stripe.v1.events.list(params={"type": "invoice.updated"}).data
        previous = invoice_updates[0].data.previous_attributes
        assert previous is not None
        assert previous["subtotal"] == 2500

        _advance(double, clock_id, FEB_15 + 2 * HOUR)
        paid = double.stripe.v1.invoices.retrieve(draft.id)
        assert (paid.status, paid.amount_paid) == ("paid", 2000)

    def test_items_on_a_taxed_draft_are_taxed(self, double: DoubleEnv) -> None:
        clock_id, customer_id, sub = _on_clock(double, quantity=1, tax=True)
        _advance(double, clock_id, FEB_15 + 60)
        draft = _renewal_draft(double, sub.id)
        double.stripe.v1.invoice_items.create(
            params={"customer": customer_id, "invoice": draft.id, "amount": 1000}
        )
        taxed = double.stripe.v1.invoices.retrieve(draft.id)
        assert (taxed.subtotal, taxed.total) == (1500, 1785)  # 19 % on every line

    def test_a_finalized_invoice_takes_no_item_and_loses_none(self, double: DoubleEnv) -> None:
        clock_id, customer_id, sub = _on_clock(double)
        _advance(double, clock_id, FEB_15 + 60)
        draft = _renewal_draft(double, sub.id)
        kept = double.stripe.v1.invoice_items.create(
            params={"customer": customer_id, "invoice": draft.id, "amount": 100}
        )
        _advance(double, clock_id, FEB_15 + 2 * HOUR)

        with pytest.raises(stripe.InvalidRequestError) as refused:
            double.stripe.v1.invoice_items.create(
                params={"customer": customer_id, "invoice": draft.id, "amount": 100}
            )
        assert refused.value.param == "invoice"
        assert "no longer editable" in str(refused.value.user_message)
        with pytest.raises(stripe.InvalidRequestError):
            double.stripe.v1.invoice_items.delete(kept.id)
        with pytest.raises(stripe.InvalidRequestError):
            double.stripe.v1.invoice_items.update(kept.id, params={"amount": 5})
        assert double.stripe.v1.invoices.retrieve(draft.id).subtotal == 1100

    def test_deleting_or_updating_an_item_on_a_draft_changes_the_totals(
        self, double: DoubleEnv
    ) -> None:
        clock_id, customer_id, sub = _on_clock(double)
        _advance(double, clock_id, FEB_15 + 60)
        draft = _renewal_draft(double, sub.id)
        item = double.stripe.v1.invoice_items.create(
            params={"customer": customer_id, "invoice": draft.id, "amount": 700}
        )
        double.stripe.v1.invoice_items.update(item.id, params={"amount": 900})
        assert double.stripe.v1.invoices.retrieve(draft.id).subtotal == 1900

        deleted = double.stripe.v1.invoice_items.delete(item.id)

        assert deleted.deleted is True
        back = double.stripe.v1.invoices.retrieve(draft.id)
        assert (back.subtotal, len(back.lines.data)) == (1000, 1)
        assert double.event_types()[-2:] == ["invoice.updated", "invoiceitem.deleted"]


class TestPending:
    def test_a_new_subscriptions_first_invoice_takes_pending_items(self, double: DoubleEnv) -> None:
        price = double.seed(unit_amount=500)
        customer = double.stripe.v1.customers.create(params={})
        item = double.stripe.v1.invoice_items.create(
            params={"customer": customer.id, "amount": 250, "currency": "eur"}
        )
        sub = double.stripe.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price, "quantity": 1}]}
        )
        first = double.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
        assert (first.amount_paid, double.stripe.v1.invoice_items.retrieve(item.id).invoice) == (
            750,
            first.id,
        )

    def test_pending_items_join_the_next_renewal_of_their_subscription(
        self, double: DoubleEnv
    ) -> None:
        clock_id, customer_id, sub = _on_clock(double, quantity=2)
        second = double.stripe.v1.subscriptions.create(
            params={"customer": customer_id, "items": [{"price": double.seed(), "quantity": 1}]}
        )
        for_sub = double.stripe.v1.invoice_items.create(
            params={"customer": customer_id, "subscription": sub.id, "amount": 300}
        )
        # No subscription named: the customer's next invoice takes it (both renew on Feb
        # 15; the older subscription renews first).
        for_anyone = double.stripe.v1.invoice_items.create(
            params={"customer": customer_id, "amount": -100}
        )
        elsewhere = double.stripe.v1.invoice_items.create(
            params={"customer": customer_id, "subscription": second.id, "amount": 999}
        )

        preview = double.stripe.v1.invoices.create_preview(params={"subscription": sub.id})
        assert preview.subtotal == 1000 + 300 - 100
        _advance(double, clock_id, FEB_15 + 60)

        draft = _renewal_draft(double, sub.id)
        assert draft.subtotal == 1200
        pending = double.stripe.v1.invoice_items.list(
            params={"customer": customer_id, "pending": True}
        ).data
        assert pending == []
        second_draft = _renewal_draft(double, second.id)
        assert double.stripe.v1.invoice_items.retrieve(elsewhere.id).invoice == second_draft.id
        assert double.stripe.v1.invoice_items.retrieve(for_sub.id).invoice == draft.id
        assert double.stripe.v1.invoice_items.retrieve(for_anyone.id).invoice == draft.id
