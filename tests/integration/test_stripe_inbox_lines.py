"""The worker completes an invoice whose per-group line is beyond its embedded lines
(``lines.has_more``) from Stripe before it translates it, on both stores; and routes an
invoice billing an account (``customer`` null) by its subscription."""

from __future__ import annotations

import copy
from typing import Any

from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container
from app.services.intake.stripe_inbox import InboxProcessor
from domain.organizer import Organizer
from tests.support.inbox import deliver
from tests.support.stripe_payloads import Payload, checkout_event, invoice_event

GROUP_PRICE = "price_Ledger0001"


class StripeLines:
    """Serves an invoice's lines as the gateway would, counting the fetches."""

    def __init__(self, lines: dict[str, list[dict[str, Any]]]) -> None:
        self.lines = lines
        self.fetched: list[str] = []

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        self.fetched.append(invoice_id)
        return copy.deepcopy(self.lines[invoice_id])


def _twelve_lines(quantity: int) -> tuple[Payload, list[dict[str, Any]]]:
    """An invoice event embedding 10 of its 12 lines; the per-group one is the 12th."""
    event = invoice_event("basil", event_id="evt_many", quantity=1, amount=500)
    invoice = event["data"]["object"]
    template = invoice["lines"]["data"][0]
    lines = []
    for index in range(12):
        line = copy.deepcopy(template)
        line["id"] = f"il_Ledger{index:04d}"
        line["pricing"]["price_details"]["price"] = (
            GROUP_PRICE if index == 11 else f"price_Other{index:04d}"
        )
        lines.append(line)
    lines[11].update(quantity=quantity, amount=500 * quantity)
    invoice["lines"].update(data=copy.deepcopy(lines[:10]), has_more=True, total_count=12)
    return event, lines


def _recorded_quantities(container: Container, organizer: Organizer) -> list[int]:
    return [
        event.quantity
        for event in container.ledger.repository.event_store.get(organizer.id)
        if isinstance(event, Organizer.InvoiceRecorded)
    ]


def test_the_lines_beyond_the_embedded_page_are_fetched_before_reading(
    container: Container,
) -> None:
    inbox = StripeInbox(container.database)
    event, lines = _twelve_lines(quantity=9)
    stripe = StripeLines({"in_Ledger0001": lines})
    processor = InboxProcessor(container.ledger, inbox, group_price_ids={GROUP_PRICE}, lines=stripe)
    deliver(inbox, checkout_event("basil", event_id="evt_co", client_reference_id="org-1"))
    deliver(inbox, event)
    while processor.process_pending():
        pass
    row = inbox.get("evt_many")
    assert row is not None
    assert row.status == "processed", row.reason
    assert stripe.fetched == ["in_Ledger0001"]
    organizer = container.ledger.get("org-1")
    assert _recorded_quantities(container, organizer) == [9]


def test_without_stripe_the_row_fails_naming_the_missing_lines(container: Container) -> None:
    inbox = StripeInbox(container.database)
    event, _ = _twelve_lines(quantity=9)
    processor = InboxProcessor(container.ledger, inbox, group_price_ids={GROUP_PRICE})
    deliver(inbox, event)
    processor.process_pending()
    row = inbox.get("evt_many")
    assert row is not None
    assert row.status == "failed"
    assert "data.object.lines embeds only the first page" in (row.reason or "")


def test_an_invoice_billing_an_account_is_routed_by_its_subscription(
    container: Container,
) -> None:
    inbox = StripeInbox(container.database)
    processor = InboxProcessor(container.ledger, inbox)
    event = invoice_event("basil", event_id="evt_acct", quantity=5)
    event["data"]["object"].update(customer=None, customer_account="acct_Ledger0001")
    deliver(inbox, event)
    processor.process_pending()
    parked = inbox.get("evt_acct")
    assert parked is not None
    assert (parked.status, parked.reason) == (
        "parked",
        "waiting for subscription sub_Ledger0001 to be linked to an organizer",
    )
    deliver(inbox, checkout_event("basil", event_id="evt_co", client_reference_id="org-1"))
    while processor.process_pending():
        pass
    row = inbox.get("evt_acct")
    assert row is not None
    assert row.status == "processed", row.reason
    organizer = container.ledger.get("org-1")
    assert _recorded_quantities(container, organizer) == [5]
