"""Property: the state `as_of` t equals the state of a store that only ever received
the commands recorded up to t."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.ledger import LedgerApplication
from app.services.organizers.state import OrganizerState
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from tests.support.clock import SteppingClock
from tests.support.histories import T0

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "4"}
ORGANIZERS = ("org-a", "org-b")


@dataclass(frozen=True)
class Command:
    organizer: str
    gap_s: int  # seconds after the previous command that this one is recorded
    group_action: GroupAction | None  # a group change, or else a subscription snapshot
    number: int  # group number, or billed quantity


commands = st.lists(
    st.builds(
        Command,
        organizer=st.sampled_from(ORGANIZERS),
        gap_s=st.integers(1, 120),
        group_action=st.none() | st.sampled_from(list(GroupAction)),
        number=st.integers(1, 6),
    ),
    min_size=1,
    max_size=30,
)


def observe(
    organizer: Organizer, at: datetime, *, snapshot: SubscriptionSnapshot, source: str
) -> bool:
    return organizer.observe_subscription(snapshot, source=source, at=at)


def run(history: list[Command], *, until: int | None = None) -> LedgerApplication:
    clock = SteppingClock(T0)
    ledger = LedgerApplication(MEMORY, clock=clock)
    elapsed = 0
    for index, command in enumerate(history):
        elapsed += command.gap_s
        if until is not None and elapsed > until:
            break
        clock.now = T0 + timedelta(seconds=elapsed)
        if command.group_action is not None:
            ledger.change_group(
                command.organizer,
                action=command.group_action,
                group_id=f"g{command.number}",
                change_id=f"c{index}",
                occurred_at=clock.now,
            )
            continue
        snapshot = SubscriptionSnapshot(
            subscription_id=f"sub_{command.organizer}",
            item_id="si",
            price_id="price",
            status="active",
            quantity=command.number,
            current_period_start=T0,
            current_period_end=T0 + timedelta(days=30),
            observed_at=clock.now,
        )
        ledger.update(
            command.organizer,
            partial(observe, snapshot=snapshot, source=f"evt_{index}"),
            register=True,
        )
    return ledger


def state(
    ledger: LedgerApplication, organizer: str, as_of: datetime | None = None
) -> OrganizerState | None:
    found = ledger.find(organizer) if as_of is None else ledger.get_as_of(organizer, as_of)
    return None if found is None else OrganizerState.of(found, minimum_quantity=1)


@settings(max_examples=150, deadline=None)
@given(commands, st.integers(0, 3600))
def test_as_of_equals_a_store_that_stopped_receiving_at_t(history: list[Command], cut: int) -> None:
    full = run(history)
    truncated = run(history, until=cut)
    for organizer in ORGANIZERS:
        assert state(full, organizer, T0 + timedelta(seconds=cut)) == state(truncated, organizer)
