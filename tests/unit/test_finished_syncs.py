"""Finished quantity syncs leave the state once their period is over (issue 12): the state
holds the open syncs and the current period's, whatever the number of renewals; the log
keeps every one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.services.ledger import LedgerApplication
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from domain.renewal import ProrationPolicy, SyncTrigger
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD = timedelta(days=30)
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "5"}


def renew(ledger: LedgerApplication, clock: SteppingClock, month: int) -> str | None:
    """Month ``month``: Stripe renewed the subscription (billing one group more than the
    month before), one more group is activated, and the upcoming renewal is checked: a
    sync is requested for the period ending at ``T0 + (month + 1) * PERIOD``."""
    start = T0 + month * PERIOD
    clock.now = start + timedelta(days=25)
    snapshot = SubscriptionSnapshot(
        subscription_id="sub_1",
        item_id="si_1",
        price_id="price_group",
        status="active",
        quantity=month + 1,
        current_period_start=start,
        current_period_end=start + PERIOD,
        observed_at=clock.now,
    )
    ledger.update(
        "org-1",
        lambda org, at: org.observe_subscription(snapshot, source=f"evt_sub_{month}", at=at),
        register=True,
    )
    for group in (f"g{month}", f"h{month}"):
        ledger.change_group(
            "org-1",
            action=GroupAction.ACTIVATED,
            group_id=group,
            change_id=f"chg-{group}",
            occurred_at=clock.now,
        )
    ledger.update(
        "org-1",
        lambda org, at: org.check_renewal_quantity(
            trigger=SyncTrigger.UPCOMING_INVOICE,
            cause=f"evt_upcoming_{month}",
            period_end=start + PERIOD,
            policy=ProrationPolicy.NONE,
            minimum=1,
            at=at,
        ),
    )
    organizer = ledger.get("org-1")
    return next((i for i, s in organizer.syncs.items() if s.status == "pending"), None)


def confirm(ledger: LedgerApplication, sync_id: str) -> None:
    ledger.update(
        "org-1",
        lambda org, at: org.confirm_quantity_sync(
            sync_id=sync_id, stripe_request_id=f"req_{sync_id}", at=at
        ),
    )


def test_confirmed_syncs_of_past_periods_leave_the_state() -> None:
    clock = SteppingClock(T0)
    ledger = LedgerApplication(MEMORY, clock=clock)
    for month in range(12):
        sync_id = renew(ledger, clock, month)
        assert sync_id is not None, f"month {month} requested no sync"
        confirm(ledger, sync_id)
    organizer = ledger.get("org-1")
    requested = [
        e for e in ledger.events.get(organizer.id) if isinstance(e, Organizer.QuantitySyncRequested)
    ]
    assert len(requested) == 12  # the log keeps every one
    # The state: the syncs of the periods not yet renewed past (the latest), not twelve.
    assert len(organizer.syncs) == 1
    (kept,) = organizer.syncs.values()
    assert kept.status == "confirmed"
    assert kept.period_end == (T0 + 12 * PERIOD).isoformat()
    assert organizer.last_synced_quantity == kept.quantity


def test_a_failed_sync_stays_for_ops_to_retry() -> None:
    clock = SteppingClock(T0)
    ledger = LedgerApplication(MEMORY, clock=clock)
    failed = renew(ledger, clock, 0)
    assert failed is not None
    ledger.update(
        "org-1",
        lambda org, at: org.fail_quantity_sync(
            sync_id=failed,
            error_code="resource_missing",
            message="No such subscription item",
            retryable=False,
            next_attempt_at=None,
            at=at,
        ),
    )
    for month in range(1, 4):
        confirmed = renew(ledger, clock, month)
        assert confirmed is not None
        confirm(ledger, confirmed)
    syncs = ledger.get("org-1").syncs
    assert syncs[failed].status == "failed"
    assert {s.status for i, s in syncs.items() if i != failed} == {"confirmed"}
    assert len(syncs) == 2
