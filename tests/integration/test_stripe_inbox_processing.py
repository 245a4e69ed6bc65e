"""The worker's translation of inbox rows, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.persistence.inbox import InboxRow, Outcome, StripeInbox
from app.bootstrap import Container
from app.services.intake.stripe_inbox import InboxProcessor
from domain.claims import fact_key, invoice_final_key, payment_key
from domain.groups import GroupAction
from tests.support.inbox import deliver
from tests.support.stripe_payloads import (
    DAY,
    SHAPES,
    T0,
    ShapeName,
    checkout_event,
    invoice_event,
    subscription_event,
)


@pytest.fixture
def pipeline(container: Container) -> tuple[StripeInbox, InboxProcessor]:
    inbox = StripeInbox(container.database)
    return inbox, InboxProcessor(container.ledger, inbox)


class InterleavedWriter(InboxProcessor):
    """Another writer (the platform's group feed) saves the organizer between two rows."""

    def process(self, row: InboxRow) -> Outcome:
        outcome = super().process(row)
        if row.delivery.event_id == "evt_co":
            self.ledger.change_group(
                "org-6",
                action=GroupAction.ACTIVATED,
                group_id="g-between",
                change_id="c-between",
                occurred_at=datetime.fromtimestamp(T0, UTC),
            )
        return outcome


def drain(processor: InboxProcessor) -> None:
    while processor.process_pending():
        pass


@pytest.mark.parametrize("shape", SHAPES)
class TestTranslation:
    def test_checkout_links_the_organizer_then_subscriptions_apply(
        self, shape: ShapeName, container: Container, pipeline: tuple[StripeInbox, InboxProcessor]
    ) -> None:
        inbox, processor = pipeline
        deliver(inbox, checkout_event(shape, event_id="evt_co", client_reference_id="org-1"))
        deliver(inbox, subscription_event(shape, event_id="evt_sub", quantity=4))
        drain(processor)
        organizer = container.ledger.get("org-1")
        assert organizer.stripe_customer_id == "cus_Ledger0001"
        snapshot = organizer.subscription_snapshot
        assert snapshot is not None
        assert (snapshot.subscription_id, snapshot.quantity) == ("sub_Ledger0001", 4)
        assert {r.status for r in inbox.rows()} == {"processed"}

    def test_an_event_for_an_unlinked_customer_is_parked_then_applied_on_link(
        self, shape: ShapeName, container: Container, pipeline: tuple[StripeInbox, InboxProcessor]
    ) -> None:
        inbox, processor = pipeline
        deliver(inbox, subscription_event(shape, event_id="evt_early", quantity=2))
        drain(processor)
        parked = inbox.get("evt_early")
        assert parked is not None
        assert parked.status == "parked"
        assert "cus_Ledger0001" in (parked.reason or "")
        deliver(inbox, checkout_event(shape, event_id="evt_link", client_reference_id="org-9"))
        drain(processor)
        applied = inbox.get("evt_early")
        assert applied is not None
        assert applied.status == "processed"
        snapshot = container.ledger.get("org-9").subscription_snapshot
        assert snapshot is not None
        assert snapshot.quantity == 2

    def test_a_row_parked_earlier_in_a_batch_is_woken_by_a_link_later_in_it(
        self, shape: ShapeName, container: Container, pipeline: tuple[StripeInbox, InboxProcessor]
    ) -> None:
        # Outcomes are marked per batch: the parked mark must land before the link's wake.
        inbox, processor = pipeline
        deliver(inbox, subscription_event(shape, event_id="evt_first", quantity=3, created=T0 - 5))
        deliver(inbox, checkout_event(shape, event_id="evt_then", client_reference_id="org-8"))
        assert processor.process_pending() == 2  # one batch: parked, then linked
        drain(processor)  # a row left parked here would never be woken again
        snapshot = container.ledger.get("org-8").subscription_snapshot
        assert snapshot is not None
        assert snapshot.quantity == 3
        assert {r.status for r in inbox.rows()} == {"processed"}

    def test_many_deliveries_for_a_linked_customer_apply_in_one_batch(
        self, shape: ShapeName, container: Container, pipeline: tuple[StripeInbox, InboxProcessor]
    ) -> None:
        inbox, processor = pipeline
        deliver(inbox, checkout_event(shape, event_id="evt_co", client_reference_id="org-7"))
        for n in range(1, 6):
            deliver(
                inbox,
                subscription_event(shape, event_id=f"evt_q{n}", quantity=n, created=T0 + n),
            )
        assert processor.process_pending() == 6
        snapshot = container.ledger.get("org-7").subscription_snapshot
        assert snapshot is not None
        assert snapshot.quantity == 5  # the newest, applied in order
        assert {r.status for r in inbox.rows()} == {"processed"}
        assert {r.attempts for r in inbox.rows()} == {1}

    def test_a_write_by_another_writer_within_a_batch_is_kept(
        self, shape: ShapeName, container: Container
    ) -> None:
        # The batch reuses the organizer it saved; the other write makes that copy stale,
        # the save conflicts and the ledger reloads: both facts stand.
        inbox = StripeInbox(container.database)
        deliver(inbox, checkout_event(shape, event_id="evt_co", client_reference_id="org-6"))
        deliver(inbox, subscription_event(shape, event_id="evt_s", quantity=4, created=T0 + 1))
        assert InterleavedWriter(container.ledger, inbox).process_pending() == 2
        organizer = container.ledger.get("org-6")
        snapshot = organizer.subscription_snapshot
        assert snapshot is not None
        assert snapshot.quantity == 4
        assert "g-between" in organizer.active_group_ids
        assert {r.status for r in inbox.rows()} == {"processed"}

    def test_an_older_snapshot_never_overwrites_a_newer_one(
        self, shape: ShapeName, container: Container, pipeline: tuple[StripeInbox, InboxProcessor]
    ) -> None:
        inbox, processor = pipeline
        deliver(inbox, checkout_event(shape, event_id="evt_co", client_reference_id="org-1"))
        deliver(inbox, subscription_event(shape, event_id="evt_new", created=T0 + 60, quantity=7))
        drain(processor)
        deliver(inbox, subscription_event(shape, event_id="evt_old", created=T0, quantity=3))
        drain(processor)
        organizer = container.ledger.get("org-1")
        snapshot = organizer.subscription_snapshot
        assert snapshot is not None
        assert snapshot.quantity == 7
        # Remembered by the delivery's claim (issue 12), as the organizer's has_seen asks it.
        stale = fact_key(organizer.StaleSubscriptionSnapshotIgnored, "evt_old")
        assert container.ledger.claimed(organizer.id, stale)

    def test_invoices_and_payments_are_recorded_once(
        self, shape: ShapeName, container: Container, pipeline: tuple[StripeInbox, InboxProcessor]
    ) -> None:
        inbox, processor = pipeline
        deliver(inbox, checkout_event(shape, event_id="evt_co", client_reference_id="org-1"))
        deliver(
            inbox,
            invoice_event(shape, "invoice.payment_succeeded", event_id="evt_inv", amount=900),
        )
        drain(processor)
        organizer = container.ledger.get("org-1")
        recorded = [
            (type(e).__name__, getattr(e, "status", ""))
            for e in container.ledger.events.get(organizer.id)
            if type(e).__name__ in ("InvoiceRecorded", "PaymentSucceeded")
        ]
        assert recorded == [("InvoiceRecorded", "paid"), ("PaymentSucceeded", "")]
        # Final, so remembered by claims, which the state relies on (domain/settled.py).
        assert container.ledger.claimed(organizer.id, invoice_final_key("in_Ledger0001"))
        assert container.ledger.claimed(organizer.id, payment_key("in_Ledger0001"))
        assert organizer.payments == {}
        # Final, but kept until a later invoice event (the reactor reviews this one).
        assert organizer.invoices == {"in_Ledger0001": "paid"}
        assert list(organizer.final_invoices) == ["in_Ledger0001"]

    def test_reprocessing_everything_records_nothing_new(
        self, shape: ShapeName, container: Container, pipeline: tuple[StripeInbox, InboxProcessor]
    ) -> None:
        inbox, processor = pipeline
        deliver(inbox, checkout_event(shape, event_id="evt_co", client_reference_id="org-1"))
        deliver(inbox, subscription_event(shape, event_id="evt_a", created=T0 + 5, quantity=5))
        deliver(inbox, subscription_event(shape, event_id="evt_b", created=T0, quantity=4))
        deliver(inbox, invoice_event(shape, event_id="evt_i", created=T0 + DAY))
        drain(processor)
        version = container.ledger.get("org-1").version
        results = processor.reprocess(inbox.rows())
        assert {outcome.status for _, outcome in results} == {"processed"}
        assert container.ledger.get("org-1").version == version


def test_unknown_types_are_ignored_with_a_reason(
    pipeline: tuple[StripeInbox, InboxProcessor],
) -> None:
    inbox, processor = pipeline
    event = subscription_event("basil", event_id="evt_prod")
    event["type"] = "product.created"
    deliver(inbox, event)
    drain(processor)
    row = inbox.get("evt_prod")
    assert row is not None
    assert row.status == "ignored"
    assert "product.created" in (row.reason or "")


def test_a_malformed_payload_fails_with_the_field_named(
    pipeline: tuple[StripeInbox, InboxProcessor],
) -> None:
    inbox, processor = pipeline
    event = subscription_event("basil", event_id="evt_bad")
    event["data"]["object"]["items"]["data"][0]["quantity"] = "three"
    deliver(inbox, event)
    drain(processor)
    row = inbox.get("evt_bad")
    assert row is not None
    assert row.status == "failed"
    assert "quantity" in (row.reason or "")
