"""Two subscriptions for one organizer (issue 13): one primary, the other a duplicate that
is reported and never synced, whatever order the snapshots arrive in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.ledger import LedgerApplication
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from domain.renewal import CheckOutcome, ProrationPolicy, SyncTrigger
from domain.subscriptions import choose_primary
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD_END = T0 + timedelta(days=3)
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "3"}


def snapshot(
    subscription_id: str,
    *,
    created: datetime | None,
    status: str = "active",
    observed_at: datetime = T0,
    quantity: int = 1,
    schedule_id: str | None = None,
) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id=subscription_id,
        item_id=f"si_{subscription_id}",
        price_id="price_group",
        status=status,
        quantity=quantity,
        current_period_start=PERIOD_END - timedelta(days=30),
        current_period_end=PERIOD_END,
        observed_at=observed_at,
        created=created,
        schedule_id=schedule_id,
    )


FIRST = snapshot("sub_first", created=T0 - timedelta(days=40))
SECOND = snapshot("sub_second", created=T0 - timedelta(days=2))


def new_ledger() -> LedgerApplication:
    return LedgerApplication(MEMORY, clock=SteppingClock(T0, step=timedelta(seconds=1)))


def observe(ledger: LedgerApplication, snap: SubscriptionSnapshot, source: str) -> None:
    ledger.update(
        "org-1",
        lambda org, at: org.observe_subscription(snap, source=source, at=at),
        register=True,
    )


def events(ledger: LedgerApplication) -> list[object]:
    return list(ledger.events.get(ledger.get("org-1").id))


def check(ledger: LedgerApplication, subscription_id: str = "") -> CheckOutcome | None:
    return ledger.update(
        "org-1",
        lambda org, at: org.check_renewal_quantity(
            trigger=SyncTrigger.SCHEDULED,
            cause=f"test {subscription_id}",
            period_end=PERIOD_END,
            policy=ProrationPolicy.NONE,
            minimum=1,
            at=at,
            subscription_id=subscription_id,
        ),
    )


def activate_groups(ledger: LedgerApplication, count: int) -> None:
    for i in range(count):
        ledger.change_group(
            "org-1",
            action=GroupAction.ACTIVATED,
            group_id=f"g{i}",
            change_id=f"c{i}",
            occurred_at=T0 - timedelta(days=1),
        )


class TestObserveSubscription:
    def test_a_second_subscription_does_not_overwrite_the_first(self) -> None:
        ledger = new_ledger()
        observe(ledger, FIRST, "evt_1")
        observe(ledger, SECOND, "evt_2")
        organizer = ledger.get("org-1")
        assert sorted(organizer.subscriptions) == ["sub_first", "sub_second"]
        snap = organizer.subscription_snapshot
        assert snap is not None
        assert snap.subscription_id == "sub_first"

    def test_a_second_live_subscription_is_recorded_as_a_duplicate_with_both_ids(self) -> None:
        ledger = new_ledger()
        observe(ledger, FIRST, "evt_1")
        observe(ledger, SECOND, "evt_2")
        found = [e for e in events(ledger) if isinstance(e, Organizer.DuplicateSubscriptionFound)]
        assert [(e.subscription_id, e.primary_subscription_id) for e in found] == [
            ("sub_second", "sub_first")
        ]

    def test_canceling_the_duplicate_resolves_it(self) -> None:
        ledger = new_ledger()
        observe(ledger, FIRST, "evt_1")
        observe(ledger, SECOND, "evt_2")
        ended = replace(SECOND, status="canceled", observed_at=T0 + timedelta(hours=1))
        observe(ledger, ended, "evt_3")
        assert ledger.get("org-1").duplicate_subscriptions == {}
        assert any(isinstance(e, Organizer.DuplicateSubscriptionResolved) for e in events(ledger))

    def test_when_the_primary_ends_the_other_becomes_the_primary(self) -> None:
        ledger = new_ledger()
        observe(ledger, FIRST, "evt_1")
        observe(ledger, SECOND, "evt_2")
        ended = replace(FIRST, status="canceled", observed_at=T0 + timedelta(hours=1))
        observe(ledger, ended, "evt_3")
        organizer = ledger.get("org-1")
        snap = organizer.subscription_snapshot
        assert snap is not None
        assert snap.subscription_id == "sub_second"
        assert organizer.duplicate_subscriptions == {}
        assert organizer.is_enrolled


class TestWhatReadModelsFollow:
    """``SubscriptionObserved`` always names the primary: the read models show it."""

    def observed(self, ledger: LedgerApplication) -> list[str]:
        return [
            e.subscription_id
            for e in events(ledger)
            if isinstance(e, Organizer.SubscriptionObserved)
        ]

    def test_the_duplicate_is_observed_as_another_subscription(self) -> None:
        ledger = new_ledger()
        observe(ledger, FIRST, "evt_1")
        observe(ledger, SECOND, "evt_2")
        assert self.observed(ledger) == ["sub_first"]
        others = [e for e in events(ledger) if isinstance(e, Organizer.OtherSubscriptionObserved)]
        assert [e.subscription_id for e in others] == ["sub_second"]

    def test_when_the_primary_ends_the_other_is_observed_again_as_the_primary(self) -> None:
        ledger = new_ledger()
        observe(ledger, FIRST, "evt_1")
        observe(ledger, replace(SECOND, quantity=6), "evt_2")
        observe(ledger, replace(FIRST, status="canceled", observed_at=T0 + timedelta(1)), "evt_3")
        assert self.observed(ledger) == ["sub_first", "sub_first", "sub_second"]
        [promoted] = [
            e
            for e in events(ledger)
            if isinstance(e, Organizer.SubscriptionObserved) and e.source == "evt_3:primary"
        ]
        assert promoted.quantity == 6

    def test_an_earlier_subscription_seen_later_becomes_the_primary(self) -> None:
        ledger = new_ledger()
        observe(ledger, SECOND, "evt_2")
        observe(ledger, FIRST, "evt_1")
        assert self.observed(ledger) == ["sub_second", "sub_first"]
        assert ledger.get("org-1").duplicate_subscriptions == {"sub_second": "sub_first"}


class TestSyncsTargetThePrimaryOnly:
    def test_a_check_about_the_duplicate_records_nothing(self) -> None:
        ledger = new_ledger()
        observe(ledger, FIRST, "evt_1")
        observe(ledger, SECOND, "evt_2")
        activate_groups(ledger, 3)
        assert check(ledger, "sub_second") is None
        assert ledger.get("org-1").syncs == {}

    def test_a_check_syncs_the_primary_item(self) -> None:
        ledger = new_ledger()
        observe(ledger, SECOND, "evt_2")
        observe(ledger, FIRST, "evt_1")
        activate_groups(ledger, 3)
        assert check(ledger, "sub_first") is CheckOutcome.REQUESTED
        [sync] = ledger.get("org-1").syncs.values()
        assert sync.item_id == "si_sub_first"

    def test_a_subscription_owned_by_a_schedule_is_refused_with_the_reason(self) -> None:
        ledger = new_ledger()
        observe(ledger, replace(FIRST, schedule_id="sub_sched_1"), "evt_1")
        activate_groups(ledger, 3)
        assert check(ledger) is CheckOutcome.SKIPPED
        [checked] = [e for e in events(ledger) if isinstance(e, Organizer.RenewalQuantityChecked)]
        assert "schedule sub_sched_1" in checked.reason
        assert ledger.get("org-1").syncs == {}


class TestPrimaryRule:
    def test_unknown_creation_time_counts_as_the_earliest(self) -> None:
        old = snapshot("sub_z_old", created=None)
        primary = choose_primary([SECOND, old])
        assert primary is not None
        assert primary.subscription_id == "sub_z_old"

    def test_with_none_live_the_one_that_ended_last(self) -> None:
        a = replace(FIRST, status="canceled")
        b = replace(SECOND, status="canceled", current_period_end=PERIOD_END + timedelta(days=1))
        primary = choose_primary([a, b])
        assert primary is not None
        assert primary.subscription_id == "sub_second"


# Each subscription's deliveries: created incomplete, then active, (maybe) the duplicate
# canceled by support. Any order, any repetition, must give the same final answer.
DELIVERIES = [
    ("evt_f1", replace(FIRST, status="incomplete", observed_at=T0 - timedelta(days=40))),
    ("evt_f2", replace(FIRST, observed_at=T0 - timedelta(days=40, seconds=-5))),
    ("evt_s1", replace(SECOND, status="incomplete", observed_at=T0 - timedelta(days=2))),
    ("evt_s2", replace(SECOND, observed_at=T0 - timedelta(days=2, seconds=-5))),
    ("evt_s3", replace(SECOND, quantity=4, observed_at=T0 - timedelta(days=1))),
]
CANCEL = ("evt_s4", replace(SECOND, status="canceled", observed_at=T0))


def final_report(deliveries: list[tuple[str, SubscriptionSnapshot]]) -> tuple[object, ...]:
    """The primary, the duplicates reported now (and, with both live, every duplicate
    ever reported), and each subscription's newest quantity."""
    ledger = new_ledger()
    for source, snap in deliveries:
        observe(ledger, snap, source)
    organizer = ledger.get("org-1")
    primary = organizer.subscription_snapshot
    reported = {
        (e.subscription_id, e.primary_subscription_id, e.customer_id)
        for e in events(ledger)
        if isinstance(e, Organizer.DuplicateSubscriptionFound)
    }
    return (
        None if primary is None else primary.subscription_id,
        dict(organizer.duplicate_subscriptions),
        # A duplicate canceled before it was ever seen live was never reported.
        reported if organizer.duplicate_subscriptions else None,
        {k: v["quantity"] for k, v in organizer.subscriptions.items()},
    )


@pytest.mark.parametrize("canceled", [False, True], ids=["both-live", "duplicate-canceled"])
def test_any_order_or_repetition_gives_the_same_primary_and_duplicate_report(
    canceled: bool,
) -> None:
    deliveries = [*DELIVERIES, CANCEL] if canceled else DELIVERIES
    expected = final_report(deliveries)
    assert expected[0] == "sub_first"
    if canceled:
        assert expected[1] == {}
    else:
        assert expected[1] == {"sub_second": "sub_first"}
        assert expected[2] == {("sub_second", "sub_first", "")}

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.sampled_from(deliveries), max_size=5).flatmap(
            lambda extra: st.permutations([*deliveries, *extra])
        )
    )
    def prop(order: list[tuple[str, SubscriptionSnapshot]]) -> None:
        assert final_report(order) == expected

    prop()
