"""Translation edge cases real payloads have (issue 13): a line's ``quantity`` null with
``quantity_decimal`` set, an invoice billing an account (``customer`` null,
``customer_account`` set), a quote's invoice, and an invoice whose lines are not all
embedded (``lines.has_more``).

Each payload is the real basil delivery varied as the SDK's types say the field is
(``stripe.InvoiceLineItem.quantity_decimal``, ``stripe.Invoice.customer_account``,
``stripe.Invoice.Parent.type``), and read both as JSON sends it and as the SDK holds it
(``stripe.Event.construct_from(...).to_dict()``: ``quantity_decimal`` a ``Decimal``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import stripe

from adapters.stripe.commands import NoteRenewalUpcoming, RecordInvoice
from adapters.stripe.translate import (
    MoreLinesNeeded,
    Translation,
    TranslationError,
    read_invoice,
    translate,
    with_all_lines,
)
from tests.support.stripe_payloads import Payload, invoice_event, upcoming_event

GROUP_PRICE = "price_Ledger0001"


def _fields(cls: type) -> set[str]:
    return set(getattr(cls, "__annotations__", {}))


def _as_json(event: Payload) -> Payload:
    return event


def _as_sdk(event: Payload) -> Payload:
    """The event as the SDK's types parse it, back to a dict (decimals as ``Decimal``)."""
    parsed = stripe.Event.construct_from(event, "sk_test_edges")
    assert isinstance(parsed.data.object, stripe.Invoice)
    result: Payload = parsed.to_dict()
    return result


readings = pytest.mark.parametrize("reading", [_as_json, _as_sdk], ids=["json", "sdk"])
Reading = Callable[[Payload], Payload]


def _invoice(event: Payload) -> Payload:
    found: Payload = event["data"]["object"]
    return found


def _line(event: Payload, index: int = 0) -> Payload:
    found: Payload = _invoice(event)["lines"]["data"][index]
    return found


def _recorded(translation: Translation) -> RecordInvoice:
    assert translation.outcome == "commands", translation.reason
    command = translation.commands[0]
    assert isinstance(command, RecordInvoice)
    return command


class TestQuantityDecimal:
    def test_the_sdk_types_have_the_fields(self) -> None:
        assert {"quantity", "quantity_decimal"} <= _fields(stripe.InvoiceLineItem)

    @readings
    @pytest.mark.parametrize("decimal", ["7", "7.000000000000"])
    def test_a_null_quantity_is_read_from_quantity_decimal(
        self, reading: Reading, decimal: str
    ) -> None:
        event = invoice_event("basil", quantity=7, amount=3500)
        _line(event).update(quantity=None, quantity_decimal=decimal)
        facts = _recorded(translate(reading(event))).invoice
        assert facts.quantity == 7
        assert facts.unit_amount == 500

    @readings
    def test_a_fraction_of_a_group_is_refused_naming_the_field(self, reading: Reading) -> None:
        event = invoice_event("basil")
        _line(event).update(quantity=None, quantity_decimal="2.5")
        with pytest.raises(
            TranslationError,
            match=r"data\.object\.lines\.data\[0\]\.quantity_decimal must be a whole number"
            r" of groups, got 2\.5",
        ):
            translate(reading(event))

    @pytest.mark.parametrize("value", ["-1", "1000001", "NaN", "three", 2.0])
    def test_a_decimal_out_of_range_or_not_a_decimal_string_is_refused(self, value: object) -> None:
        event = invoice_event("basil")
        _line(event).update(quantity=None, quantity_decimal=value)
        with pytest.raises(TranslationError, match=r"lines\.data\[0\]\.quantity_decimal"):
            translate(event)

    def test_neither_quantity_is_refused_naming_quantity(self) -> None:
        event = invoice_event("basil")
        _line(event).update(quantity=None, quantity_decimal=None)
        with pytest.raises(TranslationError, match=r"lines\.data\[0\]\.quantity is missing"):
            translate(event)

    def test_quantity_wins_when_both_are_set(self) -> None:
        event = invoice_event("basil", quantity=4)
        _line(event)["quantity_decimal"] = Decimal("4")
        assert _recorded(translate(event)).invoice.quantity == 4


class TestCustomerAccount:
    def test_the_sdk_type_has_the_field(self) -> None:
        assert {"customer", "customer_account"} <= _fields(stripe.Invoice)

    @readings
    def test_an_invoice_billing_an_account_is_routed_by_its_subscription(
        self, reading: Reading
    ) -> None:
        event = invoice_event("basil", quantity=5)
        _invoice(event).update(customer=None, customer_account="acct_Ledger0001")
        translation = translate(reading(event))
        facts = _recorded(translation).invoice
        # The ledger links customers and subscriptions, never accounts.
        assert translation.customer_id is None
        assert translation.subscription_id == "sub_Ledger0001"
        assert (facts.quantity, facts.customer_id) == (5, "")

    def test_an_upcoming_renewal_billing_an_account_is_routed_by_its_subscription(self) -> None:
        event = upcoming_event("basil", quantity=6)
        _invoice(event).update(customer=None, customer_account="acct_Ledger0001")
        translation = translate(event)
        assert translation.customer_id is None
        assert translation.subscription_id == "sub_Ledger0001"
        (command,) = translation.commands
        assert isinstance(command, NoteRenewalUpcoming)
        assert command.expected_quantity == 6


class TestParentType:
    def test_the_sdk_type_names_the_parents(self) -> None:
        assert {"type", "quote_details", "subscription_details"} <= _fields(stripe.Invoice.Parent)

    @readings
    @pytest.mark.parametrize("parent_type", ["quote_details", "billing_cadence_details"])
    def test_an_invoice_of_another_parent_is_not_a_subscription_invoice(
        self, reading: Reading, parent_type: str
    ) -> None:
        event = invoice_event("basil")
        # Even with subscription_details filled (Stripe's own example quote invoice has it).
        _invoice(event)["parent"].update(type=parent_type, quote_details={"quote": "qt_1"})
        translation = translate(reading(event))
        assert translation.outcome == "ignored"
        assert translation.reason == "invoice in_Ledger0001 is not for a subscription"
        assert read_invoice(_invoice(event)) is None


def _many_lines(count: int, *, group_line: int, quantity: int = 9) -> Payload:
    """A subscription invoice of ``count`` regular lines, each for another price but the
    ``group_line``-th (0-based), which bills ``quantity`` of the per-group price."""
    event = invoice_event("basil", quantity=1, amount=500)
    template = _line(event)
    lines = []
    for index in range(count):
        line = copy.deepcopy(template)
        line["id"] = f"il_Ledger{index:04d}"
        price = GROUP_PRICE if index == group_line else f"price_Other{index:04d}"
        line["pricing"]["price_details"]["price"] = price
        if index == group_line:
            line.update(quantity=quantity, amount=500 * quantity)
        lines.append(line)
    _invoice(event)["lines"].update(data=lines, has_more=False, total_count=count)
    return event


def _embedded(event: Payload, page: int = 10) -> Payload:
    """The event as Stripe sends it: the first ``page`` lines, ``has_more`` set."""
    sent = copy.deepcopy(event)
    listed = _invoice(sent)["lines"]
    listed.update(data=listed["data"][:page], has_more=len(listed["data"]) > page)
    return sent


class TestLinesNotAllEmbedded:
    def test_the_per_group_line_beyond_the_first_page_asks_for_the_rest(self) -> None:
        full = _many_lines(12, group_line=11)
        with pytest.raises(MoreLinesNeeded, match=r"data\.object\.lines embeds only") as caught:
            translate(_embedded(full), group_price_ids={GROUP_PRICE})
        assert caught.value.invoice_id == "in_Ledger0001"

    @readings
    def test_translated_with_all_its_lines_it_reads_the_per_group_line(
        self, reading: Reading
    ) -> None:
        full = _many_lines(12, group_line=11, quantity=9)
        complete = with_all_lines(_embedded(full), _invoice(full)["lines"]["data"])
        facts = _recorded(translate(reading(complete), group_price_ids={GROUP_PRICE})).invoice
        assert (facts.quantity, facts.line_id) == (9, "il_Ledger0011")
        assert _invoice(complete)["lines"]["has_more"] is False

    def test_with_all_lines_leaves_the_event_it_completes_as_it_was(self) -> None:
        sent = _embedded(_many_lines(12, group_line=11))
        before = copy.deepcopy(sent)
        with_all_lines(sent, [])
        assert sent == before

    def test_a_per_group_line_on_the_first_page_needs_no_more(self) -> None:
        sent = _embedded(_many_lines(12, group_line=3, quantity=2))
        facts = _recorded(translate(sent, group_price_ids={GROUP_PRICE})).invoice
        assert (facts.quantity, facts.line_id) == (2, "il_Ledger0003")

    def test_a_listed_invoice_names_the_same_need(self) -> None:
        sent = _embedded(_many_lines(12, group_line=11))
        with pytest.raises(MoreLinesNeeded):
            read_invoice(_invoice(sent), group_price_ids={GROUP_PRICE})

    def test_a_preview_cannot_be_completed_and_says_so(self) -> None:
        event = upcoming_event("basil")
        listed: dict[str, Any] = _invoice(event)["lines"]
        listed["has_more"] = True
        with pytest.raises(TranslationError, match="has no id to fetch them") as caught:
            translate(event, group_price_ids={"price_Elsewhere"})
        assert not isinstance(caught.value, MoreLinesNeeded)
