"""What the gateway returns is validated in the adapter: real Stripe objects (the repo's
fixtures, as the SDK hands them over) in, value objects out; a malformed field is named."""

from __future__ import annotations

import pytest
import stripe

from adapters.stripe.corrections import InvoiceState
from adapters.stripe.gateway import SentUpdate
from adapters.stripe.payload import TranslationError
from tests.support.stripe_payloads import fixture, invoice_event, subscription_object


def sdk_object(values: dict[str, object]) -> stripe.StripeObject:
    return stripe.StripeObject.construct_from(values, "sk_test_unused")


class TestSentUpdate:
    def test_reads_the_item_quantity_stripe_returned(self) -> None:
        item = subscription_object("basil", quantity=12)["items"]["data"][0]
        sent = SentUpdate.read(sdk_object(item))
        assert (sent.quantity, sent.request_id) == (12, "unknown")

    def test_a_quantity_that_is_no_count_is_named(self) -> None:
        item = subscription_object("basil")["items"]["data"][0]
        item["quantity"] = None
        with pytest.raises(TranslationError, match=r"^subscription_item\.quantity is missing"):
            SentUpdate.read(sdk_object(item))


class TestInvoiceState:
    def test_reads_status_remaining_and_the_taxes_of_the_pinned_shape(self) -> None:
        invoice = invoice_event("basil", amount=4500, tax=855, status="open")["data"]["object"]
        state = InvoiceState.read(invoice)
        assert state == InvoiceState(status="open", amount_remaining=5355, tax=855)

    def test_the_real_basil_invoice_reads_as_it_was_paid(self) -> None:
        event = fixture("realworld/basil_invoice_payment_succeeded.payload.json")
        invoice = event["data"]["object"]
        state = InvoiceState.read(invoice)
        assert (state.status, state.amount_remaining) == ("paid", invoice["amount_remaining"])

    def test_a_missing_status_is_named(self) -> None:
        invoice = invoice_event("basil")["data"]["object"]
        del invoice["status"]
        with pytest.raises(TranslationError, match=r"^invoice\.status is missing"):
            InvoiceState.read(invoice)
