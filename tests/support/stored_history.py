"""A rich organizer history, and the stored rows the ledger wrote for it.

``python -m tests.support.stored_history tests/fixtures/stored/organizer-events-v1.json``
builds the history with the code of the day, saves it (events and snapshots) through the
real application on a SQLite file and dumps the stored rows. The fixture it wrote is
committed: ``tests/integration/test_stored_events_readable.py`` loads those rows into
fresh stores, so that stored topics and snapshot states stay readable by later code.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.persistence import StoredEvent

from app.services.ledger import LedgerApplication
from domain.billing import InvoiceFacts, SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from domain.renewal import ProrationPolicy, SyncTrigger

ORGANIZER = "org-stored"
T0 = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
RENEWED = datetime(2026, 2, 1, tzinfo=UTC)
NEXT = datetime(2026, 3, 1, tzinfo=UTC)
UNIT = 1000
ACT, DEACT = GroupAction.ACTIVATED, GroupAction.DEACTIVATED


class Ticks:
    """Recording instants, one minute apart (the domain never reads a clock)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def _subscription(status: str, quantity: int, observed: datetime) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id="sub_1",
        item_id="si_1",
        price_id="price_group",
        status=status,
        quantity=quantity,
        current_period_start=RENEWED - timedelta(days=31),
        current_period_end=RENEWED,
        observed_at=observed,
    )


def _invoice(invoice_id: str, status: str, billed: int, unit: int | None) -> InvoiceFacts:
    return InvoiceFacts(
        invoice_id=invoice_id,
        subscription_id="sub_1",
        billing_reason="subscription_cycle",
        period_start=RENEWED,
        period_end=NEXT,
        quantity=billed,
        subtotal=billed * UNIT,
        tax=0,
        total=billed * UNIT,
        amount_due=billed * UNIT,
        amount_paid=0,
        currency="EUR",
        status=status,
        customer_id="cus_1",
        line_id="il_group",
        unit_amount=unit,
    )


def _groups(org: Organizer, tick: Ticks) -> None:
    changes = [
        (ACT, "g1", "c1", 0),
        (ACT, "g2", "c2", 1),
        (ACT, "g3", "c3", 2),
        (DEACT, "g2", "c4", 3),
        (ACT, "g2", "c0", -5),  # older than c4: stale
        (ACT, "g1", "c5", 4),  # restates g1: reaffirmed
        (ACT, "g4", "c6", 5),
    ]
    for action, group, change, minute in changes:
        occurred = T0 - timedelta(days=5) + timedelta(minutes=minute)
        org.change_group(
            action=action, group_id=group, change_id=change, occurred_at=occurred, at=tick()
        )


def _stripe_facts(org: Organizer, tick: Ticks) -> None:
    org.link_stripe_customer("cus_1", source="evt_cus", at=tick())
    org.start_enrollment(
        session_id="cs_1",
        url="https://checkout.stripe.test/cs_1",
        expires_at=T0 + timedelta(days=1),
        quantity=3,
        customer_id="cus_1",
        at=tick(),
    )
    org.observe_subscription(_subscription("active", 5, T0), source="evt_sub1", at=tick())
    old = _subscription("incomplete", 1, T0 - timedelta(hours=1))
    org.observe_subscription(old, source="evt_sub0", at=tick())
    org.note_renewal_upcoming(
        subscription_id="sub_1",
        period_end=RENEWED,
        expected_quantity=5,
        expected_amount=5 * UNIT,
        currency="EUR",
        source="evt_upcoming",
        at=tick(),
    )


def _syncs(org: Organizer, tick: Ticks) -> None:
    def check(trigger: SyncTrigger, cause: str) -> None:
        org.check_renewal_quantity(
            trigger=trigger,
            cause=cause,
            period_end=RENEWED,
            policy=ProrationPolicy.NONE,
            minimum=1,
            at=tick(),
        )

    check(SyncTrigger.UPCOMING_INVOICE, "evt_upcoming")
    (first,) = org.syncs
    org.fail_quantity_sync(
        sync_id=first,
        error_code="api_error",
        message="boom",
        retryable=True,
        next_attempt_at=tick(),
        outcome_unknown=True,
        at=tick(),
    )
    org.confirm_quantity_sync(sync_id=first, stripe_request_id="req_1", at=tick())
    org.change_group(action=ACT, group_id="g5", change_id="c7", occurred_at=tick(), at=tick())
    check(SyncTrigger.SCHEDULED, "run-1")
    org.change_group(action=ACT, group_id="g6", change_id="c8", occurred_at=tick(), at=tick())
    check(SyncTrigger.DRIFT, "run-2")  # supersedes the pending one
    (pending,) = [i for i, s in org.syncs.items() if s.status == "pending"]
    org.fail_quantity_sync(
        sync_id=pending,
        error_code="invalid_request",
        message="no",
        retryable=False,
        next_attempt_at=None,
        at=tick(),
    )
    org.retry_failed_sync(pending, at=tick())
    org.detect_drift(billed_quantity=4, source="reconcile-1", minimum=1, at=tick())


def _invoices(org: Organizer, tick: Ticks) -> None:
    org.record_invoice(_invoice("in_1", "draft", 3, UNIT), source="evt_in1", at=tick())
    org.supersede_syncs_renewed("in_1", at=tick())
    (draft,) = org.correct_renewal_invoices(minimum=1, at=tick(), cause="stored-history")
    org.fail_correction(
        draft,
        error_code="api_error",
        message="boom",
        retryable=True,
        outcome_unknown=True,
        next_attempt_at=tick(),
        step="item",
        at=tick(),
    )
    org.record_invoice(_invoice("in_1", "open", 3, UNIT), source="evt_in1_open", at=tick())
    late = org.miss_draft_correction(draft, reason="finalized", minimum=1, at=tick())
    org.confirm_correction_step(
        late, step="item", stripe_object_id="ii_1", stripe_request_id="req_2", at=tick()
    )
    org.confirm_correction(late, stripe_object_id="in_extra", stripe_request_id="req_3", at=tick())
    org.record_invoice(_invoice("in_2", "draft", 1, None), source="evt_in2", at=tick())
    org.correct_renewal_invoices(minimum=1, at=tick(), cause="stored-history", invoice_id="in_2")
    org.trigger_event(
        org.DraftInvoiceQuantityMismatch,
        invoice_id="in_2",
        subscription_id="sub_1",
        period_start=RENEWED,
        billed_quantity=1,
        expected_quantity=6,
        source="evt_in2_legacy",
        timestamp=tick(),
    )
    org.record_payment_failed(
        invoice_id="in_1",
        amount=3 * UNIT,
        currency="EUR",
        attempt_count=1,
        source="evt_pf",
        at=tick(),
    )
    org.record_payment_succeeded(
        invoice_id="in_1",
        amount=3 * UNIT,
        currency="EUR",
        source="evt_ps",
        at=tick(),
        occurred_at=tick(),
    )


def build_history() -> tuple[Organizer, int]:
    """The organizer, and the version at which a mid-history snapshot is taken."""
    tick = Ticks()
    org = Organizer.register(ORGANIZER, at=tick())
    _groups(org, tick)
    _stripe_facts(org, tick)
    _syncs(org, tick)
    middle = org.version
    _invoices(org, tick)
    ended = _subscription("canceled", 5, T0 + timedelta(days=2))
    org.observe_subscription(ended, source="evt_sub_end", at=tick())
    org.delete_stripe_customer("cus_1", source="evt_cus_del", at=tick())
    return org, middle


def _rows(records: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    return [
        {
            "originator_id": str(r.originator_id),
            "originator_version": r.originator_version,
            "topic": r.topic,
            "state": r.state.decode(),
        }
        for r in records
    ]


def stored_rows() -> dict[str, Any]:
    """Save the history through the application on a SQLite file; return its rows."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(Path(tmp) / "ledger.sqlite3"),
            "IS_SNAPSHOTTING_ENABLED": "y",
            "LEDGER_SNAPSHOT_INTERVAL": "1000",
        }
        app = LedgerApplication(env)
        org, middle = build_history()
        app.save(org)
        app.take_snapshot(org.id, version=middle)
        app.take_snapshot(org.id)
        if app.snapshots is None:
            msg = "snapshotting is off"
            raise RuntimeError(msg)
        events = app.recorder.select_events(org.id)
        snapshots = app.snapshots.recorder.select_events(org.id)
        rows = {"events": _rows(events), "snapshots": _rows(snapshots)}
        app.close()
    return rows


def main(argv: list[str]) -> None:
    target = Path(argv[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(orjson.dumps(stored_rows(), option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main(sys.argv)
