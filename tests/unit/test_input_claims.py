"""Change ids are remembered by claims beside the organizer, not in its state (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from app.services.claims import Claims, take_group_change
from app.services.ledger import LedgerApplication
from domain.billing import SubscriptionSnapshot
from domain.claims import InputClaim, change_key, check_key, claim_id, drift_key, fact_key
from domain.groups import FOLD_ABOVE, ChangeOutcome, GroupAction
from domain.organizer import Organizer, organizer_uuid
from domain.renewal import ProrationPolicy, SyncTrigger
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "4"}


@pytest.fixture
def ledger() -> LedgerApplication:
    return LedgerApplication(MEMORY, clock=SteppingClock(T0, step=timedelta(minutes=1)))


def change(ledger: LedgerApplication, change_id: str, minutes: int, *, active: bool) -> str:
    return ledger.change_group(
        "org-1",
        action=GroupAction.ACTIVATED if active else GroupAction.DEACTIVATED,
        group_id="g1",
        change_id=change_id,
        occurred_at=T0 + timedelta(minutes=minutes),
    ).value


def test_a_change_folded_out_of_the_state_is_still_a_duplicate(ledger: LedgerApplication) -> None:
    for i in range(3 * FOLD_ABOVE):
        change(ledger, f"c{i:03d}", i, active=i % 2 == 0)
    organizer = ledger.get("org-1")
    assert all(e["change_id"] != "c000" for e in organizer.groups["g1"])  # folded away
    assert organizer.change_outcomes == {}  # new changes are not kept in the state
    version = organizer.version
    assert change(ledger, "c000", 0, active=True) == ChangeOutcome.DUPLICATE
    assert change(ledger, "c001", 1, active=False) == ChangeOutcome.DUPLICATE
    assert ledger.get("org-1").version == version


def test_each_change_taken_leaves_one_claim_with_its_outcome(ledger: LedgerApplication) -> None:
    change(ledger, "c2", 10, active=True)
    change(ledger, "c1", 5, active=False)  # older: stale
    org_id = organizer_uuid("org-1")
    claims: list[InputClaim] = [
        ledger.repository.get(claim_id(org_id, change_key(c))) for c in ("c1", "c2")
    ]
    assert [(c.key, c.outcome) for c in claims] == [
        ("group-change:c1", "stale"),
        ("group-change:c2", "applied"),
    ]
    assert not ledger.claimed(org_id, change_key("c3"))


def test_the_store_refuses_a_second_claim_of_the_same_input(ledger: LedgerApplication) -> None:
    change(ledger, "c1", 0, active=True)
    again = InputClaim.claim(organizer_uuid("org-1"), change_key("c1"), "applied", at=T0)
    with pytest.raises(IntegrityError):
        ledger.save(again)


def test_a_decision_that_lost_to_the_same_change_is_a_duplicate(ledger: LedgerApplication) -> None:
    """Another writer took the change between this one's check and its save."""
    ledger.register_organizer("org-1")
    org_id = organizer_uuid("org-1")
    raced = [False]

    def decide_once_raced(organizer: Organizer, at: datetime, claims: Claims) -> str:
        outcome = take_group_change(
            organizer,
            claims,
            action=GroupAction.ACTIVATED,
            group_id="g1",
            change_id="c1",
            occurred_at=T0,
            at=at,
        )
        if not raced[0]:  # the rival's save lands after this decision's check
            raced[0] = True
            ledger.save(InputClaim.claim(org_id, change_key("c1"), "applied", at=at))
        return outcome.value

    assert ledger.update_claiming("org-1", decide_once_raced) == ChangeOutcome.DUPLICATE
    assert raced[0]
    assert ledger.get("org-1").active_group_ids == []  # the refused save left nothing


def snapshot(quantity: int, observed_minutes: int) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id="sub_1",
        item_id="si_1",
        price_id="price_group",
        status="active",
        quantity=quantity,
        current_period_start=T0,
        current_period_end=T0 + timedelta(days=30),
        observed_at=T0 + timedelta(minutes=observed_minutes),
    )


def test_a_stripe_delivery_taken_once_records_nothing_again(ledger: LedgerApplication) -> None:
    def observe(source: str, quantity: int, minutes: int) -> bool:
        return ledger.update(
            "org-1",
            lambda org, at: org.observe_subscription(
                snapshot(quantity, minutes), source=source, at=at
            ),
            register=True,
        )

    assert observe("evt_new", 7, 10)
    assert not observe("evt_old", 3, 0)  # older: recorded as stale, not applied
    version = ledger.get("org-1").version
    assert not observe("evt_old", 3, 0)  # the same delivery again: nothing
    assert not observe("evt_new", 7, 10)
    organizer = ledger.get("org-1")
    assert organizer.version == version
    assert organizer.seen_sources == {}  # remembered by claims, not in the state
    key = fact_key(Organizer.StaleSubscriptionSnapshotIgnored, "evt_old")
    assert ledger.claimed(organizer.id, key)
    assert organizer.subscription_snapshot == snapshot(7, 10)


def test_a_renewal_check_and_a_drift_report_are_remembered_by_claims(
    ledger: LedgerApplication,
) -> None:
    """Issue 12: neither stays in the state; the claim refuses the same question again."""
    ledger.register_organizer("org-1")
    ledger.update(
        "org-1", lambda org, at: org.observe_subscription(snapshot(2, 0), source="e1", at=at)
    )

    def check(cause: str) -> object:
        return ledger.update(
            "org-1",
            lambda org, at: org.check_renewal_quantity(
                trigger=SyncTrigger.UPCOMING_INVOICE,
                cause=cause,
                period_end=T0 + timedelta(days=30),
                policy=ProrationPolicy.CREATE_PRORATIONS,
                minimum=1,
                at=at,
            ),
        )

    def drift(source: str) -> bool:
        return ledger.update(
            "org-1",
            lambda org, at: org.detect_drift(billed_quantity=9, source=source, minimum=1, at=at),
        )

    assert check("event 7") is not None
    assert drift("reconcile-1")
    organizer = ledger.get("org-1")
    assert (organizer.renewal_checks, organizer.drift_reports) == ({}, {})
    assert ledger.claimed(organizer.id, check_key("invoice.upcoming", "event 7"))
    assert ledger.claimed(organizer.id, drift_key("reconcile-1"))
    version = organizer.version
    assert check("event 7") is None
    assert not drift("reconcile-1")
    assert ledger.get("org-1").version == version
