"""One-off invoices and invoice actions of the Stripe double, through the real SDK:
create (`billing_reason=manual`), update, finalize, pay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

HOUR = 3600
JAN_15 = int(datetime(2026, 1, 15, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2026, 2, 15, tzinfo=UTC).timestamp())


def _customer_with_items(double: DoubleEnv, *amounts: int) -> str:
    customer = double.stripe.v1.customers.create(params={"email": "o@example.com"})
    for amount in amounts:
        double.stripe.v1.invoice_items.create(
            params={"customer": customer.id, "amount": amount, "currency": "eur"}
        )
    return str(customer.id)


class TestCreate:
    def test_a_one_off_invoice_takes_pending_items_when_asked(self, double: DoubleEnv) -> None:
        customer_id = _customer_with_items(double, 1500, -500)

        inv = double.stripe.v1.invoices.create(
            params={
                "customer": customer_id,
                "pending_invoice_items_behavior": "include",
                "description": "Groups added after the renewal",
                "metadata": {"decision": "late-1"},
            }
        )

        assert (inv.status, inv.billing_reason, inv.auto_advance) == ("draft", "manual", False)
        assert (inv.subtotal, inv.amount_due, len(inv.lines.data)) == (1000, 1000, 2)
        assert inv.automatically_finalizes_at is None
        assert inv.description == "Groups added after the renewal"
        assert double.event_types()[-1] == "invoice.created"
        pending = double.stripe.v1.invoice_items.list(params={"pending": True}).data
        assert pending == []

    def test_pending_items_stay_pending_by_default(self, double: DoubleEnv) -> None:
        customer_id = _customer_with_items(double, 700)
        inv = double.stripe.v1.invoices.create(params={"customer": customer_id})
        assert (inv.subtotal, inv.lines.data) == (0, [])
        assert len(double.stripe.v1.invoice_items.list(params={"pending": True}).data) == 1

    def test_an_invoice_for_a_subscription_names_it_as_parent(self, double: DoubleEnv) -> None:
        customer_id, sub = double.subscribe(price=double.seed())
        inv = double.stripe.v1.invoices.create(
            params={"customer": customer_id, "subscription": sub.id}
        )
        assert inv.parent is not None
        assert inv.parent.subscription_details is not None
        assert inv.parent.subscription_details.subscription == sub.id
        assert inv.currency == "eur"

    def test_send_invoice_needs_a_due_date(self, double: DoubleEnv) -> None:
        customer_id = _customer_with_items(double)
        with pytest.raises(stripe.InvalidRequestError) as refused:
            double.stripe.v1.invoices.create(
                params={"customer": customer_id, "collection_method": "send_invoice"}
            )
        assert refused.value.param == "days_until_due"
        sent = double.stripe.v1.invoices.create(
            params={
                "customer": customer_id,
                "collection_method": "send_invoice",
                "days_until_due": 14,
            }
        )
        assert sent.due_date == sent.created + 14 * 86_400


class TestFinalizeAndPay:
    def test_finalize_then_pay_emits_stripes_sequence(self, double: DoubleEnv) -> None:
        customer_id = _customer_with_items(double, 2500)
        inv = double.stripe.v1.invoices.create(
            params={"customer": customer_id, "pending_invoice_items_behavior": "include"}
        )
        since = len(double.event_types())
        assert (inv.hosted_invoice_url, inv.invoice_pdf) == (None, None)  # a draft has none

        opened = double.stripe.v1.invoices.finalize_invoice(inv.id)
        assert (opened.status, opened.number is not None) == ("open", True)
        assert str(opened.hosted_invoice_url).startswith("https://invoice.stripe.com/i/")
        assert str(opened.invoice_pdf).startswith("https://pay.stripe.com/invoice/")
        with pytest.raises(stripe.InvalidRequestError):
            double.stripe.v1.invoices.finalize_invoice(inv.id)
        paid = double.stripe.v1.invoices.pay(inv.id)

        assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 2500, 0)
        assert double.event_types(since=since) == [
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
        ]
        with pytest.raises(stripe.InvalidRequestError) as again:
            double.stripe.v1.invoices.pay(inv.id)
        assert again.value.code == "invoice_already_paid"

    def test_finalizing_with_auto_advance_collects_at_once(self, double: DoubleEnv) -> None:
        customer_id = _customer_with_items(double, 900)
        inv = double.stripe.v1.invoices.create(
            params={"customer": customer_id, "pending_invoice_items_behavior": "include"}
        )
        done = double.stripe.v1.invoices.finalize_invoice(inv.id, params={"auto_advance": True})
        assert (done.status, done.amount_paid) == ("paid", 900)

    def test_a_declined_card_leaves_the_invoice_open(self, double: DoubleEnv) -> None:
        customer_id = _customer_with_items(double, 400)
        inv = double.stripe.v1.invoices.create(
            params={"customer": customer_id, "pending_invoice_items_behavior": "include"}
        )
        double.stripe.v1.invoices.finalize_invoice(inv.id)
        double.fail_payments(customer_id)

        with pytest.raises(stripe.CardError):
            double.stripe.v1.invoices.pay(inv.id)

        failed = double.stripe.v1.invoices.retrieve(inv.id)
        assert (failed.status, failed.attempt_count) == ("open", 1)
        assert double.event_types()[-1] == "invoice.payment_failed"
        double.fail_payments(customer_id, fail=False)
        assert double.stripe.v1.invoices.pay(inv.id).status == "paid"

    def test_paid_out_of_band_marks_it_paid(self, double: DoubleEnv) -> None:
        customer_id = _customer_with_items(double, 400)
        inv = double.stripe.v1.invoices.create(
            params={"customer": customer_id, "pending_invoice_items_behavior": "include"}
        )
        double.stripe.v1.invoices.finalize_invoice(inv.id)
        marked = double.stripe.v1.invoices.pay(inv.id, params={"paid_out_of_band": True})
        assert (marked.status, marked.amount_remaining) == ("paid", 0)

    def test_a_draft_cannot_be_paid(self, double: DoubleEnv) -> None:
        inv = double.stripe.v1.invoices.create(params={"customer": _customer_with_items(double)})
        with pytest.raises(stripe.InvalidRequestError):
            double.stripe.v1.invoices.pay(inv.id)

    def test_an_empty_invoice_is_paid_when_finalized(self, double: DoubleEnv) -> None:
        inv = double.stripe.v1.invoices.create(params={"customer": _customer_with_items(double)})
        assert double.stripe.v1.invoices.finalize_invoice(inv.id).status == "paid"


class TestDrafts:
    def _clock_renewal(self, double: DoubleEnv) -> tuple[str, Any]:
        double.post("/_double/clock", {"now": JAN_15})
        clock = double.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": JAN_15})
        _, sub = double.subscribe(price=double.seed(), quantity=2, clock=clock.id)
        double.stripe.v1.test_helpers.test_clocks.advance(
            clock.id, params={"frozen_time": FEB_15 + 60}
        )
        return clock.id, double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0]

    def test_a_renewal_draft_can_be_finalized_early(self, double: DoubleEnv) -> None:
        _, draft = self._clock_renewal(double)
        assert draft.status == "draft"
        done = double.stripe.v1.invoices.finalize_invoice(draft.id)
        assert (done.status, done.amount_paid, done.automatically_finalizes_at) == (
            "paid",
            1000,
            None,
        )

    def test_a_draft_takes_description_and_metadata(self, double: DoubleEnv) -> None:
        _, draft = self._clock_renewal(double)
        updated = double.stripe.v1.invoices.update(
            draft.id, params={"description": "Corrected", "metadata": {"corrected": "yes"}}
        )
        assert updated.description == "Corrected"
        assert updated.to_dict()["metadata"] == {"corrected": "yes"}
        event = double.stripe.v1.events.list(params={"type": "invoice.updated"}).data[0]
        assert event.data.previous_attributes is not None
        assert event.data.previous_attributes["description"] is None

    def test_auto_advance_false_keeps_a_draft_past_its_window(self, double: DoubleEnv) -> None:
        clock_id, draft = self._clock_renewal(double)
        held = double.stripe.v1.invoices.update(draft.id, params={"auto_advance": False})
        assert held.automatically_finalizes_at is None
        double.stripe.v1.test_helpers.test_clocks.advance(
            clock_id, params={"frozen_time": FEB_15 + 5 * HOUR}
        )
        assert double.stripe.v1.invoices.retrieve(draft.id).status == "draft"

    def test_an_explicit_finalization_time_is_kept(self, double: DoubleEnv) -> None:
        clock_id, draft = self._clock_renewal(double)
        double.stripe.v1.invoices.update(
            draft.id, params={"automatically_finalizes_at": FEB_15 + 3 * HOUR}
        )
        double.stripe.v1.test_helpers.test_clocks.advance(
            clock_id, params={"frozen_time": FEB_15 + 2 * HOUR}
        )
        assert double.stripe.v1.invoices.retrieve(draft.id).status == "draft"
        double.stripe.v1.test_helpers.test_clocks.advance(
            clock_id, params={"frozen_time": FEB_15 + 3 * HOUR}
        )
        assert double.stripe.v1.invoices.retrieve(draft.id).status == "paid"

    def test_money_fields_freeze_at_finalization(self, double: DoubleEnv) -> None:
        _, draft = self._clock_renewal(double)
        double.stripe.v1.invoices.finalize_invoice(draft.id)
        with pytest.raises(stripe.InvalidRequestError) as refused:
            double.stripe.v1.invoices.update(draft.id, params={"automatic_tax": {"enabled": True}})
        assert refused.value.param == "automatic_tax"
        kept: Any = double.stripe.v1.invoices.update(draft.id, params={"metadata": {"k": "v"}})
        assert kept.to_dict()["metadata"] == {"k": "v"}
