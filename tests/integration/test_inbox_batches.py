"""The worker's inbox batches: claimed rows, organizers applied side by side, on both stores."""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.persistence.database import StoreUnavailableError
from adapters.persistence.inbox import InboxRow, Outcome, StripeInbox
from adapters.stripe.delivery import Translation
from app.bootstrap import Container
from app.services.intake.stripe_inbox import InboxProcessor
from domain.claims import fact_key
from domain.groups import GroupAction
from domain.guards import OrganizerError
from domain.organizer import Organizer
from tests.integration.test_quarantine import FlakyProcessor
from tests.support.inbox import deliver
from tests.support.stripe_payloads import T0, checkout_event, subscription_event

UNIQUE = itertools.count()


def organizer_events(tag: str, k: int, updates: int) -> list[dict[str, Any]]:
    """Organizer ``org-{tag}{k}``'s checkout, then ``updates`` subscription updates a minute
    apart with quantities 2, 3, …"""
    customer, subscription = f"cus_{tag}{k}", f"sub_{tag}{k}"
    events = [
        checkout_event(
            "basil",
            event_id=f"evt_{tag}co{k}",
            client_reference_id=f"org-{tag}{k}",
            customer=customer,
            subscription=subscription,
        )
    ]
    for i in range(updates):
        events.append(
            subscription_event(
                "basil",
                event_id=f"evt_{tag}s{k}x{i}",
                created=T0 + 60 * (i + 1),
                subscription_id=subscription,
                item_id=f"si_{tag}{k}",
                customer=customer,
                quantity=2 + i,
            )
        )
    return events


def drain(processor: InboxProcessor, batch_size: int = 500) -> None:
    while processor.process_pending(batch_size):
        pass


def assert_applied_in_order(container: Container, tag: str, k: int, updates: int) -> None:
    """The newest quantity stands and no update was met after a newer one (a stale one
    would have been remembered as ignored)."""
    organizer = container.ledger.get(f"org-{tag}{k}")
    snapshot = organizer.subscription_snapshot
    assert snapshot is not None
    assert snapshot.quantity == 1 + updates
    for i in range(updates):
        stale = fact_key(Organizer.StaleSubscriptionSnapshotIgnored, f"evt_{tag}s{k}x{i}")
        assert not container.ledger.claimed(organizer.id, stale), f"update {i} of org {k}"


class Recording(InboxProcessor):
    """The real processor, remembering every row it was handed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[str] = []
        self._seen_lock = threading.Lock()

    def process(self, row: InboxRow) -> Outcome:
        with self._seen_lock:
            self.seen.append(row.delivery.event_id)
        return super().process(row)


class CutOff(InboxProcessor):
    """The store goes away in the middle of a batch (at the ``at``-th row), once."""

    def __init__(self, *args: Any, at: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.left = at
        self._lock = threading.Lock()

    def process(self, row: InboxRow) -> Outcome:
        with self._lock:
            self.left -= 1
            cut = self.left == 0
        if cut:
            msg = "connection lost"
            raise StoreUnavailableError(msg)
        return super().process(row)


class Poisoned(FlakyProcessor):
    poison = "evt_pbs1x1"  # organizer 1's second update: one in the middle of its lane


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    updates=st.lists(st.integers(1, 5), min_size=1, max_size=6),
    batch_size=st.integers(1, 30),
    concurrency=st.integers(1, 4),
)
def test_each_organizers_facts_apply_in_order_whatever_the_lanes(
    container: Container, updates: list[int], batch_size: int, concurrency: int
) -> None:
    tag = f"h{next(UNIQUE)}x"
    inbox = StripeInbox(container.database)
    # Organizers interleaved (the same minutes for all): every batch holds several.
    per_organizer = [organizer_events(tag, k, n) for k, n in enumerate(updates)]
    for event in sorted(
        itertools.chain.from_iterable(per_organizer), key=lambda e: (e["created"], e["id"])
    ):
        deliver(inbox, event)
    drain(InboxProcessor(container.ledger, inbox, concurrency=concurrency), batch_size)
    for k, n in enumerate(updates):
        assert_applied_in_order(container, tag, k, n)
    mine = [r for r in inbox.rows(limit=10_000) if r.delivery.event_id.startswith(f"evt_{tag}")]
    assert {(r.status, r.attempts) for r in mine} == {("processed", 1)}


def test_a_poison_row_in_a_batch_fails_alone(container: Container) -> None:
    inbox = StripeInbox(container.database)
    for event in [e for k in range(4) for e in organizer_events("pb", k, 3)]:
        deliver(inbox, event)
    processor = Poisoned(container.ledger, inbox, concurrency=4)
    assert processor.process_pending() == 16  # one batch, four lanes
    poisoned = inbox.get(Poisoned.poison)
    assert poisoned is not None
    assert (poisoned.status, poisoned.attempts) == ("pending", 1)
    others = [r for r in inbox.rows() if r.delivery.event_id != Poisoned.poison]
    assert {r.status for r in others} == {"processed"}
    # Its lane went on after it: organizer 1's last update stands.
    snapshot = container.ledger.get("org-pb1").subscription_snapshot
    assert snapshot is not None
    assert snapshot.quantity == 4


def test_a_batch_cut_off_midway_leaves_its_rows_pending_then_applies_once(
    container: Container,
) -> None:
    inbox = StripeInbox(container.database)
    for event in [e for k in range(3) for e in organizer_events("cut", k, 3)]:
        deliver(inbox, event)
    with pytest.raises(StoreUnavailableError):
        CutOff(container.ledger, inbox, at=7, concurrency=3).process_pending()
    # Not one row half-done: no mark, no attempt counted (organizers saved before the cut
    # are remembered by their claims, so the next pass records nothing twice).
    assert {(r.status, r.attempts) for r in inbox.rows()} == {("pending", 0)}
    drain(InboxProcessor(container.ledger, inbox))
    assert {(r.status, r.attempts) for r in inbox.rows()} == {("processed", 1)}
    for k in range(3):
        assert_applied_in_order(container, "cut", k, 3)


def test_two_processors_never_take_the_same_row(container: Container) -> None:
    if container.settings.database.backend != "postgres":
        pytest.skip("SQLite has one writer and one worker: its batches claim nothing")
    inbox = StripeInbox(container.database)
    for event in [e for k in range(8) for e in organizer_events("two", k, 4)]:
        deliver(inbox, event)
    processors = [Recording(container.ledger, inbox, concurrency=2) for _ in range(2)]
    start = threading.Barrier(2)

    def run(processor: InboxProcessor) -> None:
        start.wait()
        drain(processor, 3)

    threads = [threading.Thread(target=run, args=(p,)) for p in processors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = (set(p.seen) for p in processors)
    assert first, "both took rows"
    assert second, "both took rows"
    assert not first & second
    assert len(first | second) == 40
    assert {(r.status, r.attempts) for r in inbox.rows()} == {("processed", 1)}


def test_a_claimed_batch_is_skipped_by_a_second_claim(container: Container) -> None:
    if container.settings.database.backend != "postgres":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's")
    inbox = StripeInbox(container.database)
    for event in organizer_events("sk", 0, 5):
        deliver(inbox, event)
    with inbox.claim(2) as first:
        with inbox.claim(10) as second:
            taken = {r.delivery.event_id for r in first.rows}
            assert len(taken) == 2
            assert len(second.rows) == 4
            assert not taken & {r.delivery.event_id for r in second.rows}
            second.record_many([(r.delivery.event_id, Outcome("ignored")) for r in second.rows])
        first.record_many([(r.delivery.event_id, Outcome("ignored")) for r in first.rows])
    assert {r.status for r in inbox.rows()} == {"ignored"}


class Refusing(InboxProcessor):
    """The real processor; one delivery's facts are refused by the ledger after the first
    of them applied (a half-made decision the unit must not save)."""

    refused = "evt_us0x1"

    def _translate(self, event: Any) -> Translation:
        translation = super()._translate(event)
        if event["id"] != self.refused:
            return translation
        return replace(translation, commands=(*translation.commands, cast(Any, RefusedCommand())))


class RefusedCommand:
    def apply(self, organizer: Organizer, at: datetime) -> int:
        msg = "refused for the test"
        raise OrganizerError(msg)


class Racing(InboxProcessor):
    """The real processor; another writer changes the organizer while its unit is being
    decided (after the unit's first row), once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.raced = False

    def process(self, row: InboxRow) -> Outcome:
        outcome = super().process(row)
        if not self.raced and row.delivery.event_id == "evt_rcs0x0":
            self.raced = True
            self.ledger.change_group(
                "org-rc0",
                action=GroupAction.ACTIVATED,
                group_id="g-raced",
                change_id="race-1",
                occurred_at=self.ledger.clock(),
            )
        return outcome


def count_organizer_saves(container: Container) -> list[int]:
    """Spy on the real ledger: how many saves held an organizer (prices are saved apart)."""
    saves: list[int] = []
    real = container.ledger.save

    def save(*objs: Any, **kwargs: Any) -> Any:
        if any(isinstance(obj, Organizer) for obj in objs):
            saves.append(len(objs))
        return real(*objs, **kwargs)

    container.ledger.save = save  # type: ignore[method-assign]
    return saves


def one_organizer(container: Container, tag: str, updates: int) -> StripeInbox:
    """Organizer ``org-{tag}0``'s checkout and updates, delivered."""
    inbox = StripeInbox(container.database)
    for event in organizer_events(tag, 0, updates):
        deliver(inbox, event)
    return inbox


def test_one_organizers_rows_in_a_batch_are_saved_once(container: Container) -> None:
    inbox = one_organizer(container, "one", 5)
    saves = count_organizer_saves(container)
    assert InboxProcessor(container.ledger, inbox).process_pending() == 6
    assert_applied_in_order(container, "one", 0, 5)
    # The checkout and five updates: one save, with every claim they took.
    assert len(saves) == 1
    assert saves[0] > 6
    assert {(r.status, r.attempts) for r in inbox.rows()} == {("processed", 1)}


def test_a_refused_row_in_a_unit_is_decided_again_alone(container: Container) -> None:
    inbox = one_organizer(container, "u", 3)
    saves = count_organizer_saves(container)
    assert Refusing(container.ledger, inbox).process_pending() == 4
    refused = inbox.get(Refusing.refused)
    assert refused is not None
    assert refused.status == "failed"
    assert "refused by the ledger" in (refused.reason or "")
    others = [r for r in inbox.rows() if r.delivery.event_id != Refusing.refused]
    assert {(r.status, r.attempts) for r in others} == {("processed", 1)}
    # Row by row, as before units: nothing of the refused decision is saved, the rest is.
    assert len(saves) == 3
    organizer = container.ledger.get("org-u0")
    assert organizer.subscription_snapshot is not None
    assert organizer.subscription_snapshot.quantity == 4
    refused_fact = fact_key(Organizer.SubscriptionObserved, Refusing.refused)
    assert not container.ledger.claimed(organizer.id, refused_fact)


def test_a_unit_that_lost_a_race_is_decided_again_row_by_row(container: Container) -> None:
    inbox = one_organizer(container, "rc", 3)
    processor = Racing(container.ledger, inbox)
    assert processor.process_pending() == 4
    assert processor.raced
    assert {(r.status, r.attempts) for r in inbox.rows()} == {("processed", 1)}
    assert_applied_in_order(container, "rc", 0, 3)
    organizer = container.ledger.get("org-rc0")
    assert "g-raced" in organizer.active_group_ids
    # Each delivery recorded once, whatever the retry.
    observed = [
        e
        for e in container.ledger.events.get(organizer.id)
        if isinstance(e, Organizer.SubscriptionObserved)
    ]
    assert len(observed) == len({e.source for e in observed}) == 3
