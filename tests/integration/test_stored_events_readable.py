"""Rows stored by earlier code still read: events and snapshots (issue 11).

``tests/fixtures/stored/organizer-events-v1.json`` holds the rows the ledger stored for a
rich organizer history before the domain was split into modules (written by
``tests/support/stored_history.py`` with that code). They are inserted through each
store's recorder, then the organizer is rebuilt from its events and from each snapshot:
every way gives the same aggregate and the same answers.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent

from app.bootstrap import Container
from app.services.ledger import LedgerApplication
from domain.billing import InvoiceFacts
from domain.claims import invoice_final_key
from domain.organizer import Organizer, organizer_uuid
from domain.syncs import SyncState
from tests.support.stored_history import UNIT, _invoice

FIXTURE = Path(__file__).parents[1] / "fixtures" / "stored" / "organizer-events-v1.json"
ORGANIZER = "org-stored"
RENEWED = datetime(2026, 2, 1, tzinfo=UTC)
FINAL_VERSION = 45
MIDDLE_VERSION = 28


def _stored(rows: list[dict[str, Any]]) -> list[StoredEvent]:
    return [
        StoredEvent(
            originator_id=UUID(row["originator_id"]),
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=row["state"].encode(),
        )
        for row in rows
    ]


@pytest.fixture
def ledger(container: Container) -> LedgerApplication:
    rows = json.loads(FIXTURE.read_text())
    ledger = container.ledger
    if ledger.snapshots is None:
        pytest.fail("the test container stores no snapshots")
    ledger.recorder.insert_events(_stored(rows["events"]))
    ledger.snapshots.recorder.insert_events(_stored(rows["snapshots"]))
    return ledger


def from_events(
    ledger: LedgerApplication, *, after: Organizer | None = None, lte: int | None = None
) -> Organizer:
    organizer = after
    gt = None if after is None else after.version
    for event in ledger.events.get(organizer_uuid(ORGANIZER), gt=gt, lte=lte):
        if not isinstance(event, Organizer.Event | Organizer.Registered):
            pytest.fail(f"not an organizer event: {event!r}")
        organizer = event.mutate(organizer)
    if not isinstance(organizer, Organizer):
        pytest.fail("no organizer stream")
    return organizer


def snapshots(ledger: LedgerApplication) -> list[Organizer]:
    if ledger.snapshots is None:
        pytest.fail("the test container stores no snapshots")
    stored = ledger.snapshots.get(organizer_uuid(ORGANIZER))
    taken = [s.mutate(None) for s in stored if isinstance(s, Snapshot)]
    return [o for o in taken if isinstance(o, Organizer)]


def sync_answers(organizer: Organizer) -> dict[str, tuple[str, int, str]]:
    return {
        sync_id: (sync.status, sync.quantity, Organizer.sync_key(sync))
        for sync_id, sync in organizer.syncs.items()
    }


class TestStoredRowsStillRead:
    def test_the_stored_topics_resolve_and_rebuild_the_history(
        self, ledger: LedgerApplication
    ) -> None:
        organizer = from_events(ledger)
        assert organizer.version == FINAL_VERSION
        assert organizer.platform_organizer_id == ORGANIZER

    def test_each_snapshot_equals_the_organizer_rebuilt_from_events(
        self, ledger: LedgerApplication
    ) -> None:
        middle, final = snapshots(ledger)
        assert (middle.version, final.version) == (MIDDLE_VERSION, FINAL_VERSION)
        assert final == from_events(ledger)
        assert from_events(ledger, after=middle) == from_events(ledger)
        assert ledger.get(ORGANIZER) == from_events(ledger)

    def test_a_snapshot_taken_now_of_the_stored_history_reloads_identically(
        self, ledger: LedgerApplication
    ) -> None:
        organizer = from_events(ledger, lte=FINAL_VERSION - 1)
        ledger.take_snapshot(organizer.id, version=organizer.version)
        (taken,) = [s for s in snapshots(ledger) if s.version == organizer.version]
        assert taken == organizer
        assert all(isinstance(s, SyncState) for s in taken.syncs.values())

    def test_the_groups_answers_are_the_stored_ones(self, ledger: LedgerApplication) -> None:
        for organizer in (from_events(ledger), snapshots(ledger)[-1]):
            assert organizer.active_group_ids == ["g1", "g3", "g4", "g5", "g6"]
            assert organizer.billable_quantity() == 5
            assert organizer.billable_quantity(RENEWED) == 5
            assert organizer.change_outcomes["c0"] == "stale"
            assert organizer.change_outcomes["c5"] == "reaffirmed"

    def test_the_stripe_facts_are_the_stored_ones(self, ledger: LedgerApplication) -> None:
        for organizer in (from_events(ledger), snapshots(ledger)[-1]):
            snapshot = organizer.subscription_snapshot
            assert snapshot is not None
            assert (snapshot.status, snapshot.quantity) == ("canceled", 5)
            assert not organizer.is_enrolled
            assert organizer.stripe_customer_deleted
            assert organizer.invoices == {"in_1": "open", "in_2": "draft"}
            assert organizer.payments == {"in_1": "succeeded"}
            assert organizer.upcoming_renewals == {RENEWED.isoformat(): 5}
            assert organizer.drift_reports == {"reconcile-1": 5}
            assert organizer.enrollments_started == 1
            assert len(organizer.seen_sources) == 13

    def test_the_syncs_and_their_keys_are_the_stored_ones(self, ledger: LedgerApplication) -> None:
        middle, final = snapshots(ledger)
        assert sync_answers(from_events(ledger)) == sync_answers(final)
        assert sync_answers(final) == {
            "sync_37623487f736bf854e58a1e4": (
                "confirmed",
                3,
                "renewal-ledger-37623487f736bf854e58a1e41999d367e15e7be2a8c7d458-r1",
            ),
            "sync_173ad4bd2c00fc8703ffb29a": (
                "superseded",
                4,
                "renewal-ledger-173ad4bd2c00fc8703ffb29a8d8d6527a8c8c548d620222c",
            ),
            "sync_36ff40f491455f8238964abe": (
                "superseded",
                5,
                "renewal-ledger-36ff40f491455f8238964abe835c4cdd66084d21f86859a2",
            ),
            "sync_a2b4238d9744d98ef3bdfd58": (
                "superseded",
                5,
                "renewal-ledger-a2b4238d9744d98ef3bdfd58f841f89ca070f481496e2169",
            ),
        }
        assert [s[0] for s in sync_answers(middle).values()].count("pending") == 1
        assert final.last_synced_quantity == 3

    def test_the_corrections_are_the_stored_ones(self, ledger: LedgerApplication) -> None:
        for organizer in (from_events(ledger), snapshots(ledger)[-1]):
            corrections = {
                cid: (c["kind"], c["status"], c["quantity"])
                for cid, c in organizer.corrections.items()
            }
            assert corrections == {
                "corr_3a83c7c79c1913094bfaa0a4": ("draft_item", "missed", 2),
                "corr_deb3c8ec64b9a0243e380f38": ("one_off_invoice", "confirmed", 2),
            }
            assert sorted(organizer.renewal_invoices) == ["in_1", "in_2"]

    def test_facts_stored_before_the_claims_are_never_forgotten(
        self, ledger: LedgerApplication
    ) -> None:
        """Issue 12: the state forgets only what a claim remembers. The stored payment has
        no claim, so it stays; the invoice made final now does, so a late update is refused."""
        paid = replace(_invoice("in_1", "paid", 5, UNIT), amount_paid=5 * UNIT)
        stale = _invoice("in_1", "open", 5, UNIT)

        def record(invoice: InvoiceFacts, source: str) -> bool:
            return ledger.update(
                ORGANIZER, lambda org, at: org.record_invoice(invoice, source=source, at=at)
            )

        assert record(paid, "evt_paid_now")
        organizer = ledger.get(ORGANIZER)
        assert organizer.payments == {"in_1": "succeeded"}  # stored without a claim
        assert ledger.claimed(organizer.id, invoice_final_key("in_1"))
        assert organizer.invoices.get("in_1") in (None, "paid")
        assert not record(stale, "evt_late_open")
        assert not ledger.update(
            ORGANIZER,
            lambda org, at: org.record_payment_succeeded(
                invoice_id="in_1", amount=5 * UNIT, currency="eur", source="evt_again", at=at
            ),
        )


class TestSubscriptionsUpcast:
    """Issue 13: snapshots stored with one ``subscription`` read it as the map's entry."""

    def test_the_single_subscription_of_an_old_snapshot_becomes_its_only_entry(
        self, ledger: LedgerApplication
    ) -> None:
        rebuilt = from_events(ledger)
        for organizer in snapshots(ledger):
            assert not hasattr(organizer, "subscription")
            assert organizer.duplicate_subscriptions == {}
            assert list(organizer.subscriptions) == list(rebuilt.subscriptions)
            primary = organizer.subscription_snapshot
            assert primary is not None
            assert primary.created is None
