"""The organizer's timeline (``app/services/organizers/timeline.py``) from real Stripe
deliveries, on both stores: one entry per payment, entries in the order of the instants
they describe, and words that leave money and dates to the SPA (which formats them in the
organizer's locale).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from adapters.persistence.inbox import StripeInbox
from app.bootstrap import Container
from app.services.intake.stripe_inbox import InboxProcessor
from app.services.organizers.models import TimelineEntry
from app.services.organizers.timeline import decode_cursor, read_timeline
from domain.groups import GroupAction
from projections.runner import LogReader, build_read_models, catch_up
from tests.support.clock import SteppingClock
from tests.support.inbox import deliver
from tests.support.stripe_payloads import (
    DAY,
    T0,
    Payload,
    checkout_event,
    invoice_event,
    subscription_event,
)

ORG = "org-1"
PAYMENT = ("invoice.payment_succeeded", "invoice.paid")


def apply(container: Container, *events: Payload) -> None:
    inbox = StripeInbox(container.database)
    for event in events:
        deliver(inbox, event)
    processor = InboxProcessor(container.ledger, inbox)
    while processor.process_pending():
        pass


def timeline(container: Container, *, limit: int = 100) -> list[TimelineEntry]:
    catch_up(LogReader(container.ledger), build_read_models(container.database, minimum_quantity=1))
    return read_timeline(container.database, ORG, before=None, limit=limit).entries


def enrolled(container: Container) -> None:
    apply(
        container,
        checkout_event("basil", event_id="evt_co", client_reference_id=ORG),
        subscription_event("basil", event_id="evt_sub", quantity=3, created=T0),
    )


def payment_events(order: tuple[str, ...], *, created: int) -> list[Payload]:
    return [
        invoice_event("basil", kind, event_id=f"evt_{kind}", created=created + n, tax=855)
        for n, kind in enumerate(order)
    ]


class TestOnePaymentOneEntry:
    @pytest.mark.parametrize("order", list(itertools.permutations(PAYMENT)))
    def test_a_paid_invoice_is_one_entry_whichever_delivery_comes_first(
        self, container: Container, order: tuple[str, ...]
    ) -> None:
        enrolled(container)
        finalized = invoice_event("basil", "invoice.finalized", event_id="evt_fin", status="open")
        apply(container, finalized, *payment_events(order, created=T0 + 60))
        about_the_invoice = [
            e for e in timeline(container) if e.kind.startswith(("invoice", "pay"))
        ]
        assert [e.title for e in about_the_invoice] == ["Payment received", "Invoice open"]
        (paid, _) = about_the_invoice
        assert paid.amount is not None
        assert (paid.amount.amount, paid.amount.currency) == (5355, "eur")

    def test_a_failed_payment_stays_its_own_entry(self, container: Container) -> None:
        enrolled(container)
        failed = invoice_event(
            "basil", "invoice.payment_failed", event_id="evt_f", status="open", created=T0 + 60
        )
        apply(container, failed, *payment_events(PAYMENT, created=T0 + 120))
        titles = [e.title for e in timeline(container) if e.kind.startswith(("invoice", "pay"))]
        assert titles == ["Payment received", "Payment failed", "Invoice open"]


class TestOrder:
    def test_entries_follow_the_instants_they_describe_not_when_they_were_recorded(
        self, container: Container, clock: SteppingClock
    ) -> None:
        enrolled(container)
        # Recorded first, but happened last: a group opened two days after the payment.
        clock.advance(timedelta(days=5))
        opened_at = datetime.fromtimestamp(T0 + 2 * DAY, UTC)
        container.ledger.change_group(
            ORG, action=GroupAction.ACTIVATED, group_id="late", change_id="c1",
            occurred_at=opened_at,
        )  # fmt: skip
        # Recorded later, but Stripe paid the invoice a day after enrollment.
        clock.advance(timedelta(days=1))
        apply(container, *payment_events(PAYMENT, created=T0 + DAY))
        entries = timeline(container)
        assert [e.kind for e in entries][:2] == ["group_activated", "invoice_recorded"]
        assert entries[0].at == opened_at
        assert entries[1].at == datetime.fromtimestamp(T0 + DAY, UTC)
        instants = [e.at for e in entries]
        assert instants == sorted(instants, reverse=True)

    def test_pages_by_instant_cover_every_entry_once(
        self, container: Container, clock: SteppingClock
    ) -> None:
        enrolled(container)
        for n in range(9):  # recorded in one order, happened in another
            clock.advance(timedelta(seconds=1))
            container.ledger.change_group(
                ORG, action=GroupAction.ACTIVATED, group_id=f"g{n}", change_id=f"c{n}",
                occurred_at=datetime.fromtimestamp(T0 + (n * 7 % 9) * 60, UTC),
            )  # fmt: skip
        everything = timeline(container)
        seen: list[TimelineEntry] = []
        before = None
        while True:
            page = read_timeline(container.database, ORG, before=before, limit=4)
            seen += page.entries
            if page.next_cursor is None:
                break
            before = decode_cursor(page.next_cursor)
        assert seen == everything


class TestWords:
    def test_money_and_dates_are_values_for_the_spa_not_text(self, container: Container) -> None:
        enrolled(container)
        apply(container, *payment_events(PAYMENT, created=T0 + 60))
        entries = timeline(container)
        for entry in entries:
            text = f"{entry.title} {entry.description}"
            assert "EUR" not in text, text
            assert "2025" not in text
            assert "2026" not in text
        paid = next(e for e in entries if e.title == "Payment received")
        assert paid.subtotal is not None
        assert paid.tax is not None
        assert (paid.subtotal.amount, paid.tax.amount) == (4500, 855)
        assert paid.period_start == datetime.fromtimestamp(T0 - 10 * DAY, UTC)
        assert paid.period_end == datetime.fromtimestamp(T0 + 21 * DAY, UTC)
