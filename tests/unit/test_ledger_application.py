"""The application service on the in-memory store: retries, registration, as-of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from app.services.ledger import ConcurrencyError, LedgerApplication, UnknownOrganizerError
from domain.groups import GroupAction
from domain.organizer import Organizer
from tests.support.clock import SteppingClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo", "LEDGER_SNAPSHOT_INTERVAL": "3"}


@pytest.fixture
def ledger() -> LedgerApplication:
    return LedgerApplication(MEMORY, clock=SteppingClock(T0, step=timedelta(seconds=1)))


def test_changes_register_unknown_organizers_on_first_sight(ledger: LedgerApplication) -> None:
    ledger.change_group(
        "org-1", action=GroupAction.ACTIVATED, group_id="g", change_id="c", occurred_at=T0
    )
    assert ledger.get("org-1").active_group_ids == ["g"]


def test_updating_an_unknown_organizer_without_register_fails(ledger: LedgerApplication) -> None:
    with pytest.raises(UnknownOrganizerError):
        ledger.update("ghost", lambda org, at: None)


def test_a_lost_race_is_retried_with_a_fresh_decision(ledger: LedgerApplication) -> None:
    ledger.register_organizer("org-1")
    decisions: list[int] = []

    def decide(organizer: Organizer, at: datetime) -> None:
        decisions.append(organizer.version)
        if len(decisions) == 1:  # another writer commits version 2 meanwhile
            ledger.change_group(
                "org-1",
                action=GroupAction.ACTIVATED,
                group_id="other",
                change_id="x",
                occurred_at=T0,
            )
        organizer.change_group(
            action=GroupAction.ACTIVATED, group_id="mine", change_id="m", occurred_at=T0, at=at
        )

    ledger.update("org-1", decide)
    assert decisions == [1, 2]
    assert ledger.get("org-1").active_group_ids == ["mine", "other"]


def test_retries_are_bounded(ledger: LedgerApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger.register_organizer("org-1")

    def always_conflict(*_: object, **__: object) -> None:
        raise IntegrityError("conflict")

    monkeypatch.setattr(ledger, "save", always_conflict)
    with pytest.raises(ConcurrencyError):
        ledger.update("org-1", lambda org, at: None)


def test_recorded_times_never_go_backwards_even_if_the_clock_does() -> None:
    clock = SteppingClock(T0)
    ledger = LedgerApplication(MEMORY, clock=clock)
    ledger.register_organizer("org-1")
    clock.advance(timedelta(hours=-1))
    ledger.change_group(
        "org-1", action=GroupAction.ACTIVATED, group_id="g", change_id="c", occurred_at=T0
    )
    assert ledger.get("org-1").modified_on == T0


def test_as_of_finds_the_version_in_force(ledger: LedgerApplication) -> None:
    for i in range(10):
        ledger.change_group(
            "org-1",
            action=GroupAction.ACTIVATED,
            group_id=f"g{i}",
            change_id=f"c{i}",
            occurred_at=T0,
        )
    organizer = ledger.get("org-1")
    for version in range(1, organizer.version + 1):
        at = ledger.find("org-1", version=version)
        assert at is not None
        found = ledger.get_as_of("org-1", at.modified_on)
        assert found is not None
        assert found.version == version
