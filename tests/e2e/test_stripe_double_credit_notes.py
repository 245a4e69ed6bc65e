"""Credit notes and the customer balance of the Stripe double, through the real SDK."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

JAN_15 = int(datetime(2026, 1, 15, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2026, 2, 15, tzinfo=UTC).timestamp())


def _open_invoice(double: DoubleEnv, amount: int = 2000) -> Any:
    """A finalized, unpaid one-off invoice of `amount` for a new customer."""
    customer = double.stripe.v1.customers.create(params={"email": "o@example.com"})
    double.stripe.v1.invoice_items.create(
        params={"customer": customer.id, "amount": amount, "currency": "eur"}
    )
    inv = double.stripe.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    return double.stripe.v1.invoices.finalize_invoice(inv.id)


def _paid_invoice(double: DoubleEnv, amount: int = 2000) -> Any:
    return double.stripe.v1.invoices.pay(_open_invoice(double, amount).id)


def _custom(unit_amount: int, quantity: int = 1) -> Any:
    return {
        "type": "custom_line_item",
        "description": "Fewer groups than billed",
        "unit_amount": unit_amount,
        "quantity": quantity,
    }


class TestOnAnOpenInvoice:
    def test_a_credit_note_lowers_what_is_due(self, double: DoubleEnv) -> None:
        inv = _open_invoice(double)
        since = len(double.event_types())

        note = double.stripe.v1.credit_notes.create(
            params={"invoice": inv.id, "lines": [_custom(500)], "reason": "order_change"}
        )

        assert note.id.startswith("cn_")
        assert (note.total, note.pre_payment_amount, note.post_payment_amount, note.type) == (
            500,
            500,
            0,
            "pre_payment",
        )
        assert (note.lines.data[0].type, note.lines.data[0].amount) == ("custom_line_item", 500)
        after = double.stripe.v1.invoices.retrieve(inv.id)
        assert (after.amount_due, after.amount_remaining, after.status) == (1500, 1500, "open")
        assert after.pre_payment_credit_notes_amount == 500
        assert double.event_types(since=since) == ["credit_note.created", "invoice.updated"]
        assert double.stripe.v1.invoices.pay(inv.id).amount_paid == 1500

    def test_crediting_everything_marks_it_paid(self, double: DoubleEnv) -> None:
        inv = _open_invoice(double, 800)
        double.stripe.v1.credit_notes.create(params={"invoice": inv.id, "amount": 800})
        assert double.stripe.v1.invoices.retrieve(inv.id).status == "paid"
        assert double.event_types()[-1] == "invoice.paid"


class TestOnAPaidInvoice:
    def test_credit_amount_goes_to_the_customer_balance(self, double: DoubleEnv) -> None:
        inv = _paid_invoice(double)

        note = double.stripe.v1.credit_notes.create(
            params={"invoice": inv.id, "lines": [_custom(500, 2)], "credit_amount": 1000}
        )

        assert (note.type, note.post_payment_amount) == ("post_payment", 1000)
        customer = double.stripe.v1.customers.retrieve(str(inv.customer))
        assert customer.balance == -1000
        txn = double.stripe.v1.customers.balance_transactions.retrieve(
            customer.id, str(note.customer_balance_transaction)
        )
        assert (txn.type, txn.amount, txn.ending_balance, txn.credit_note) == (
            "credit_note",
            -1000,
            -1000,
            note.id,
        )
        paid = double.stripe.v1.invoices.retrieve(inv.id)
        assert (paid.amount_paid, paid.post_payment_credit_notes_amount) == (2000, 1000)

    def test_the_balance_pays_the_next_invoice(self, double: DoubleEnv) -> None:
        double.post("/_double/clock", {"now": JAN_15})
        clock = double.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": JAN_15})
        customer_id, sub = double.subscribe(price=double.seed(), quantity=2, clock=clock.id)
        first = double.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
        double.stripe.v1.credit_notes.create(
            params={"invoice": first.id, "amount": 300, "credit_amount": 300}
        )

        double.stripe.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": FEB_15 + 7200}
        )

        renewal = double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0]
        assert (renewal.total, renewal.starting_balance, renewal.ending_balance) == (1000, -300, 0)
        assert (renewal.amount_due, renewal.amount_paid) == (700, 700)
        assert double.stripe.v1.customers.retrieve(customer_id).balance == 0

    def test_refund_and_out_of_band_amounts_are_recorded(self, double: DoubleEnv) -> None:
        inv = _paid_invoice(double)
        line = inv.lines.data[0]
        note = double.stripe.v1.credit_notes.create(
            params={
                "invoice": inv.id,
                "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id}],
                "refund_amount": 1500,
                "out_of_band_amount": 500,
            }
        )
        assert (note.total, note.out_of_band_amount) == (2000, 500)
        assert [r.amount_refunded for r in note.refunds] == [1500]
        assert note.lines.data[0].invoice_line_item == line.id

    @pytest.mark.parametrize(
        "params",
        [
            {"amount": 500},  # post-payment needs its allocation
            {"amount": 500, "credit_amount": 400},
            {"amount": 2500, "credit_amount": 2500},  # more than the invoice
            {"lines": [_custom(100)], "amount": 200, "credit_amount": 200},
            {"lines": [{"type": "invoice_line_item", "invoice_line_item": "il_nope"}]},
            {},
        ],
    )
    def test_invalid_credit_notes_change_nothing(
        self, double: DoubleEnv, params: dict[str, Any]
    ) -> None:
        inv = _paid_invoice(double)
        sent: Any = {"invoice": inv.id, **params}
        with pytest.raises(stripe.InvalidRequestError):
            double.stripe.v1.credit_notes.create(params=sent)
        assert double.stripe.v1.credit_notes.list(params={"invoice": inv.id}).data == []
        assert double.stripe.v1.customers.retrieve(str(inv.customer)).balance == 0


def test_a_preview_changes_nothing(double: DoubleEnv) -> None:
    double.post("/_double/clock", {"now": JAN_15})
    _, sub = double.subscribe(price=double.seed(), quantity=3, tax=True)
    inv = double.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
    line: Any = {
        "type": "invoice_line_item",
        "invoice_line_item": inv.lines.data[0].id,
        "quantity": 2,
    }
    preview = double.stripe.v1.credit_notes.preview(params={"invoice": inv.id, "lines": [line]})
    assert (preview.subtotal, preview.total, preview.post_payment_amount) == (1000, 1190, 1190)
    assert double.stripe.v1.credit_notes.list(params={"invoice": inv.id}).data == []
    note = double.stripe.v1.credit_notes.create(
        params={"invoice": inv.id, "lines": [line], "credit_amount": preview.total}
    )
    assert note.total == 1190


def test_a_draft_takes_no_credit_note(double: DoubleEnv) -> None:
    customer = double.stripe.v1.customers.create(params={})
    draft = double.stripe.v1.invoices.create(params={"customer": customer.id})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        double.stripe.v1.credit_notes.create(params={"invoice": draft.id, "amount": 1})
    assert refused.value.param == "invoice"


def test_credit_notes_are_listed_and_idempotent(double: DoubleEnv) -> None:
    inv = _paid_invoice(double)
    params: Any = {"invoice": inv.id, "amount": 100, "credit_amount": 100}
    first = double.stripe.v1.credit_notes.create(params=params, options={"idempotency_key": "cn"})
    again = double.stripe.v1.credit_notes.create(params=params, options={"idempotency_key": "cn"})
    assert again.id == first.id
    listed = double.stripe.v1.credit_notes.list(params={"invoice": inv.id}).data
    assert [n.id for n in listed] == [first.id]
    assert double.stripe.v1.credit_notes.retrieve(first.id).number == f"{inv.number}-CN-01"
    assert double.stripe.v1.customers.retrieve(str(inv.customer)).balance == -100


class TestBalanceTransactions:
    def test_an_adjustment_changes_the_balance(self, double: DoubleEnv) -> None:
        customer = double.stripe.v1.customers.create(params={})
        txn = double.stripe.v1.customers.balance_transactions.create(
            customer.id, params={"amount": -300, "currency": "eur", "description": "Goodwill"}
        )
        assert (txn.type, txn.amount, txn.ending_balance) == ("adjustment", -300, -300)
        refreshed = double.stripe.v1.customers.retrieve(customer.id)
        assert (refreshed.balance, refreshed.currency) == (-300, "eur")
        listed = double.stripe.v1.customers.balance_transactions.list(customer.id).data
        assert [t.id for t in listed] == [txn.id]
        assert double.event_types()[-1] == "customer.updated"
        with pytest.raises(stripe.InvalidRequestError) as other_currency:
            double.stripe.v1.customers.balance_transactions.create(
                customer.id, params={"amount": 100, "currency": "usd"}
            )
        assert other_currency.value.param == "currency"

    def test_a_credit_lowers_a_one_off_invoice(self, double: DoubleEnv) -> None:
        customer = double.stripe.v1.customers.create(params={})
        double.stripe.v1.customers.balance_transactions.create(
            customer.id, params={"amount": -300, "currency": "eur"}
        )
        double.stripe.v1.invoice_items.create(
            params={"customer": customer.id, "amount": 1000, "currency": "eur"}
        )
        inv = double.stripe.v1.invoices.create(
            params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
        )
        opened = double.stripe.v1.invoices.finalize_invoice(inv.id)
        assert (opened.amount_due, opened.starting_balance, opened.ending_balance) == (700, -300, 0)
        applied = double.stripe.v1.customers.balance_transactions.list(customer.id).data[0]
        assert (applied.type, applied.amount, applied.invoice) == (
            "applied_to_invoice",
            300,
            inv.id,
        )
