"""Quantity sync decisions on the in-memory store: which subscriptions get one, and when a
sync becomes a permanent failure (issue 10: the right item, the right subscriptions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services.ledger import LedgerApplication
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.keys import fresh_key
from domain.renewal import CheckOutcome, ProrationPolicy, SyncTrigger, gives_up
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD_END = T0 + timedelta(days=3)
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "3"}


@pytest.fixture
def ledger() -> LedgerApplication:
    return LedgerApplication(MEMORY, clock=SteppingClock(T0, step=timedelta(seconds=1)))


def observe(
    ledger: LedgerApplication,
    *,
    price_id: str = "price_group",
    cancel_at_period_end: bool = False,
    groups: int = 3,
) -> None:
    snapshot = SubscriptionSnapshot(
        subscription_id="sub_1",
        item_id="si_1",
        price_id=price_id,
        status="active",
        quantity=1,
        current_period_start=PERIOD_END - timedelta(days=30),
        current_period_end=PERIOD_END,
        observed_at=T0,
        cancel_at_period_end=cancel_at_period_end,
    )
    ledger.update(
        "org-1",
        lambda org, at: org.observe_subscription(snapshot, source="evt_sub", at=at),
        register=True,
    )
    for i in range(groups):
        ledger.change_group(
            "org-1",
            action=GroupAction.ACTIVATED,
            group_id=f"g{i}",
            change_id=f"c{i}",
            occurred_at=T0 - timedelta(days=1),
        )


def check(ledger: LedgerApplication, prices: frozenset[str] = frozenset()) -> CheckOutcome | None:
    return ledger.update(
        "org-1",
        lambda org, at: org.check_renewal_quantity(
            trigger=SyncTrigger.SCHEDULED,
            cause="test",
            period_end=PERIOD_END,
            policy=ProrationPolicy.ALWAYS_INVOICE,
            minimum=1,
            at=at,
            group_price_ids=prices,
        ),
    )


class TestCheckRenewalQuantity:
    def test_a_subscription_ending_at_its_period_close_gets_no_sync(
        self, ledger: LedgerApplication
    ) -> None:
        observe(ledger, cancel_at_period_end=True)
        assert check(ledger) is CheckOutcome.SKIPPED
        assert ledger.get("org-1").syncs == {}

    def test_an_item_with_another_price_than_the_per_group_one_is_left_alone(
        self, ledger: LedgerApplication
    ) -> None:
        observe(ledger, price_id="price_addon")
        assert check(ledger, frozenset({"price_group"})) is CheckOutcome.SKIPPED
        assert ledger.get("org-1").syncs == {}

    def test_the_per_group_item_is_synced_with_always_invoice_on_an_increase(
        self, ledger: LedgerApplication
    ) -> None:
        observe(ledger)
        assert check(ledger, frozenset({"price_group"})) is CheckOutcome.REQUESTED
        (sync,) = ledger.get("org-1").syncs.values()
        assert (sync["quantity"], sync["proration_behavior"]) == (3, "always_invoice")

    def test_a_snapshot_recorded_before_the_flag_existed_reads_as_renewing(self) -> None:
        state = SubscriptionSnapshot(
            subscription_id="sub_1",
            item_id="si_1",
            price_id="p",
            status="active",
            quantity=1,
            current_period_start=T0,
            current_period_end=PERIOD_END,
            observed_at=T0,
        ).as_state()
        del state["cancel_at_period_end"]
        assert SubscriptionSnapshot.from_state(state).cancel_at_period_end is False


class TestRetryHorizon:
    def test_no_permanent_failure_while_the_renewal_is_ahead(self) -> None:
        requested = T0
        day = timedelta(hours=24)
        assert not gives_up(
            requested_at=requested, window_closes=PERIOD_END, now=T0 + 2 * day, horizon=day
        )
        assert gives_up(
            requested_at=requested, window_closes=PERIOD_END, now=PERIOD_END, horizon=day
        )

    def test_not_before_the_horizon_either(self) -> None:
        assert not gives_up(
            requested_at=PERIOD_END,
            window_closes=PERIOD_END,
            now=PERIOD_END + timedelta(hours=1),
            horizon=timedelta(hours=24),
        )

    def test_each_unknown_outcome_spends_a_key_and_the_next_is_fresh(self) -> None:
        keys = [fresh_key("k", generation) for generation in range(3)]
        assert keys == ["k", "k-r1", "k-r2"]
