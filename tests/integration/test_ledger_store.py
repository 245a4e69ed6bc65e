"""The ledger application on real stores: a SQLite file and PostgreSQL (same tests)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from app.bootstrap import Container
from domain.groups import ChangeOutcome, GroupAction
from domain.organizer import Organizer
from tests.support.clock import SteppingClock

T0 = datetime(2026, 2, 1, tzinfo=UTC)
ACT, DEACT = GroupAction.ACTIVATED, GroupAction.DEACTIVATED


def activate(
    container: Container, organizer: str, group: str, change: str, minute: int
) -> ChangeOutcome:
    return container.ledger.change_group(
        organizer,
        action=ACT,
        group_id=group,
        change_id=change,
        occurred_at=T0 + timedelta(minutes=minute),
    )


class TestRegisterOrganizer:
    def test_registering_twice_is_idempotent(self, container: Container) -> None:
        first = container.ledger.register_organizer("org-1")
        second = container.ledger.register_organizer("org-1")
        assert first == second
        assert container.ledger.get("org-1").version == 1

    def test_an_unknown_organizer_is_not_found(self, container: Container) -> None:
        assert container.ledger.find("nobody") is None


class TestGroupChangesOnTheStore:
    def test_changes_survive_a_reload_in_a_new_process_view(self, container: Container) -> None:
        activate(container, "org-1", "g1", "c1", 0)
        activate(container, "org-1", "g2", "c2", 1)
        container.ledger.change_group(
            "org-1",
            action=DEACT,
            group_id="g1",
            change_id="c3",
            occurred_at=T0 + timedelta(minutes=2),
        )
        fresh = Container(container.settings)  # no shared cache: reads go to the store
        try:
            assert fresh.ledger.get("org-1").active_group_ids == ["g2"]
        finally:
            fresh.close()

    def test_a_duplicate_change_id_is_reported_and_records_nothing(
        self, container: Container
    ) -> None:
        activate(container, "org-1", "g1", "c1", 0)
        version = container.ledger.get("org-1").version
        assert activate(container, "org-1", "g1", "c1", 0) is ChangeOutcome.DUPLICATE
        assert container.ledger.get("org-1").version == version

    def test_long_histories_are_snapshotted_and_reload_identically(
        self, container: Container
    ) -> None:
        for i in range(23):  # snapshot interval is 5 in the test container
            activate(container, "org-1", f"g{i % 4}", f"c{i}", i)
        ledger = container.ledger
        assert ledger.snapshots is not None
        organizer = ledger.get("org-1")
        snapshots = list(ledger.snapshots.get(organizer.id))
        assert snapshots, "expected snapshots for a long stream"
        rebuilt = ledger.find("org-1", version=organizer.version)
        assert rebuilt == organizer


class TestAsOf:
    def test_state_as_of_an_instant_is_the_state_recorded_by_then(
        self, container: Container, clock: SteppingClock
    ) -> None:
        marks = []
        for i in range(12):
            clock.advance(timedelta(minutes=1))
            activate(container, "org-1", f"g{i}", f"c{i}", i)
            marks.append(clock.now)
        ledger = container.ledger
        for count, mark in enumerate(marks, start=1):
            organizer = ledger.get_as_of("org-1", mark + timedelta(seconds=30))
            assert organizer is not None
            assert len(organizer.active_group_ids) == count
        assert ledger.get_as_of("org-1", marks[0] - timedelta(days=1)) is None


class TestConcurrentWriters:
    def test_two_writers_on_one_organizer_lose_nothing(self, container: Container) -> None:
        container.ledger.register_organizer("org-busy")
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def writer(name: str) -> None:
            try:
                barrier.wait()
                for i in range(15):
                    activate(container, "org-busy", f"{name}-{i}", f"{name}-c{i}", i)
            except BaseException as error:  # surfaced below
                errors.append(error)

        threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        organizer = container.ledger.get("org-busy")
        assert len(organizer.active_group_ids) == 30
        assert organizer.version == 31
        assert isinstance(organizer, Organizer)


@pytest.mark.parametrize("minimum", [0, 1, 3])
def test_minimum_quantity_is_applied_to_the_billable_quantity(
    container: Container, minimum: int
) -> None:
    activate(container, "org-1", "g1", "c1", 0)
    organizer = container.ledger.get("org-1")
    assert organizer.billable_quantity(minimum=minimum) == max(1, minimum)
