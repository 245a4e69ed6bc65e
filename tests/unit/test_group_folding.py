"""Properties (issue 12): a folded group history answers every instant it still may be
asked exactly as the full history does, whatever the arrival order; an earlier instant is
answered from the events, through the application."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.ledger import LedgerApplication
from domain.group_events import group_entry
from domain.groups import FOLD_ABOVE, GroupAction, GroupHistoryNeeded, history_of, resolve_in_order
from domain.organizer import Organizer
from domain.policy import billable_quantity
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Change = tuple[str, GroupAction, datetime, str]
MINUTE = timedelta(minutes=1)

changes = st.lists(
    st.tuples(
        st.sampled_from(["g1", "g2"]),
        st.sampled_from(list(GroupAction)),
        st.integers(min_value=0, max_value=40).map(lambda m: T0 + m * MINUTE),
    ),
    min_size=FOLD_ABOVE,
    max_size=60,
).map(lambda items: [(g, a, t, f"chg-{i:03d}") for i, (g, a, t) in enumerate(items)])


def deliver(deliveries: list[Change], lag: list[int]) -> Organizer:
    """Each change is recorded some minutes after it occurred (recorded times rise)."""
    organizer = Organizer.register("org-fold", at=T0)
    recorded = T0
    for (group, action, occurred_at, change_id), late in zip(deliveries, lag, strict=True):
        recorded = max(recorded, occurred_at + late * MINUTE)
        organizer.change_group(
            action=action, group_id=group, change_id=change_id, occurred_at=occurred_at, at=recorded
        )
    return organizer


@settings(max_examples=300)
@given(changes, st.randoms(use_true_random=False), st.data())
def test_folded_answers_equal_the_in_order_result_from_the_settled_instant_on(
    original: list[Change], rnd: random.Random, data: st.DataObject
) -> None:
    deliveries = list(original)
    rnd.shuffle(deliveries)
    lag = data.draw(
        st.lists(st.integers(0, 30), min_size=len(deliveries), max_size=len(deliveries))
    )
    organizer = deliver(deliveries, lag)
    assert set(organizer.active_group_ids) == resolve_in_order(original)
    settled = organizer.groups_settled_until
    full = history_of(
        (group, {"occurred_at": at, "change_id": cid, "active": a is GroupAction.ACTIVATED})
        for group, a, at, cid in original
    )
    for minute in range(45):
        at = T0 + minute * MINUTE
        expected = len(resolve_in_order([c for c in original if c[2] <= at]))
        assert billable_quantity(full, at, minimum=0) == expected
        if settled is None or at >= settled:
            assert organizer.billable_quantity(at, minimum=0) == expected
        else:
            with pytest.raises(GroupHistoryNeeded):
                organizer.billable_quantity(at, minimum=0)


def test_history_is_folded_once_a_group_holds_more_than_a_few_entries() -> None:
    organizer = Organizer.register("org-fold", at=T0)
    for i in range(4 * FOLD_ABOVE):  # an even count: the last change deactivates
        organizer.change_group(
            action=GroupAction.ACTIVATED if i % 2 == 0 else GroupAction.DEACTIVATED,
            group_id="g1",
            change_id=f"c{i:03d}",
            occurred_at=T0 + i * MINUTE,
            at=T0 + (i + 1) * MINUTE,
        )
    assert len(organizer.groups["g1"]) <= FOLD_ABOVE
    assert organizer.groups_settled_until is not None
    assert organizer.active_group_ids == []  # the last change (odd) deactivated it


def test_the_ledger_answers_a_folded_instant_from_the_events() -> None:
    ledger = LedgerApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "5"},
        clock=SteppingClock(T0 + timedelta(days=1), step=timedelta(seconds=1)),
    )

    def change(action: GroupAction, group_id: str, change_id: str, minutes: float) -> None:
        ledger.change_group(
            "org-1",
            action=action,
            group_id=group_id,
            change_id=change_id,
            occurred_at=T0 + minutes * MINUTE,
        )

    change(GroupAction.ACTIVATED, "g2", "c-g2", 5)
    for i in range(4 * FOLD_ABOVE):
        change(GroupAction.ACTIVATED, "g1", f"c{i:03d}", i)
        change(GroupAction.DEACTIVATED, "g1", f"d{i:03d}", i + 0.5)
    organizer = ledger.get("org-1")
    settled = organizer.groups_settled_until
    assert settled is not None
    with pytest.raises(GroupHistoryNeeded):
        organizer.billable_quantity(T0 + timedelta(seconds=10), minimum=0)
    events = ledger.events.get(organizer.id)
    full = history_of(c for c in map(group_entry, events) if c is not None)
    for second in range(0, 40 * 60, 15):
        at = T0 + timedelta(seconds=second)

        def ask(org: Organizer, _recorded: datetime, t: datetime = at) -> int:
            return org.billable_quantity(t, minimum=0)

        assert ledger.update("org-1", ask) == billable_quantity(full, at, minimum=0)
    assert ledger.get("org-1").groups_settled_until == settled
