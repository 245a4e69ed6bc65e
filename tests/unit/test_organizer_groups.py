"""Given past events, when a group change, then these new events (and this active set)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.groups import ChangeOutcome, GroupAction
from domain.organizer import Organizer, OrganizerError, organizer_uuid

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACT, DEACT = GroupAction.ACTIVATED, GroupAction.DEACTIVATED


def registered() -> Organizer:
    organizer = Organizer.register("org-42", at=T0)
    organizer.collect_events()
    return organizer


def change(
    organizer: Organizer, action: GroupAction, group: str, change_id: str, minutes: int
) -> tuple[ChangeOutcome, list[type[object]]]:
    outcome = organizer.change_group(
        action=action,
        group_id=group,
        change_id=change_id,
        occurred_at=T0 + timedelta(minutes=minutes),
        at=T0 + timedelta(hours=1),
    )
    return outcome, [type(e) for e in organizer.collect_events()]


class TestRegister:
    def test_the_id_is_derived_from_the_platform_id(self) -> None:
        assert Organizer.register("org-42", at=T0).id == organizer_uuid("org-42")
        assert organizer_uuid("org-42") != organizer_uuid("org-43")

    def test_a_new_organizer_has_no_active_groups(self) -> None:
        assert registered().active_group_ids == []

    def test_a_naive_time_is_refused(self) -> None:
        with pytest.raises(OrganizerError, match="timezone"):
            Organizer.register("org-42", at=datetime(2026, 3, 1))  # noqa: DTZ001

    def test_an_empty_id_is_refused(self) -> None:
        with pytest.raises(OrganizerError, match="organizer_id"):
            Organizer.register("  ", at=T0)


class TestActivateGroup:
    def test_activating_a_new_group_records_group_activated(self) -> None:
        organizer = registered()
        outcome, events = change(organizer, ACT, "g1", "c1", 0)
        assert outcome is ChangeOutcome.APPLIED
        assert events == [Organizer.GroupActivated]
        assert organizer.active_group_ids == ["g1"]

    def test_reactivating_an_active_group_records_no_activation(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c1", 0)
        outcome, events = change(organizer, ACT, "g1", "c2", 5)
        assert outcome is ChangeOutcome.REAFFIRMED
        assert Organizer.GroupActivated not in events
        assert organizer.active_group_ids == ["g1"]

    def test_reactivation_moves_the_watermark_so_an_older_deactivation_is_stale(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c1", 0)
        change(organizer, ACT, "g1", "c3", 30)  # a re-activation newer than c1
        outcome, events = change(organizer, DEACT, "g1", "c2", 10)  # between the two
        assert outcome is ChangeOutcome.STALE
        assert events == [Organizer.StaleGroupChangeIgnored]
        assert organizer.active_group_ids == ["g1"]


class TestDeactivateGroup:
    def test_deactivating_an_active_group_records_group_deactivated(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c1", 0)
        outcome, events = change(organizer, DEACT, "g1", "c2", 5)
        assert outcome is ChangeOutcome.APPLIED
        assert events == [Organizer.GroupDeactivated]
        assert organizer.active_group_ids == []

    def test_deactivating_an_unknown_group_records_no_deactivation(self) -> None:
        organizer = registered()
        outcome, events = change(organizer, DEACT, "g9", "c1", 0)
        assert outcome is ChangeOutcome.REAFFIRMED
        assert Organizer.GroupDeactivated not in events
        assert organizer.active_group_ids == []

    def test_deactivating_an_inactive_group_records_no_deactivation(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c1", 0)
        change(organizer, DEACT, "g1", "c2", 5)
        outcome, events = change(organizer, DEACT, "g1", "c3", 10)
        assert outcome is ChangeOutcome.REAFFIRMED
        assert Organizer.GroupDeactivated not in events
        assert organizer.active_group_ids == []


class TestDuplicatesAndOrder:
    def test_the_same_change_id_twice_records_nothing(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c1", 0)
        outcome, events = change(organizer, ACT, "g1", "c1", 0)
        assert outcome is ChangeOutcome.DUPLICATE
        assert events == []

    def test_a_replayed_stale_change_records_nothing_the_second_time(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c2", 10)
        change(organizer, DEACT, "g1", "c1", 0)
        outcome, events = change(organizer, DEACT, "g1", "c1", 0)
        assert outcome is ChangeOutcome.DUPLICATE
        assert events == []

    def test_an_older_change_is_recorded_as_stale_and_changes_nothing(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c2", 10)
        outcome, events = change(organizer, DEACT, "g1", "c1", 0)
        assert outcome is ChangeOutcome.STALE
        assert events == [Organizer.StaleGroupChangeIgnored]
        assert organizer.active_group_ids == ["g1"]

    def test_equal_times_are_ordered_by_change_id(self) -> None:
        organizer = registered()
        change(organizer, DEACT, "g1", "c-b", 0)
        outcome, _ = change(organizer, ACT, "g1", "c-a", 0)  # same instant, smaller id
        assert outcome is ChangeOutcome.STALE
        assert organizer.active_group_ids == []
        outcome, _ = change(organizer, ACT, "g1", "c-c", 0)  # same instant, larger id
        assert outcome is ChangeOutcome.APPLIED
        assert organizer.active_group_ids == ["g1"]

    def test_a_stale_event_names_the_change_that_won(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c2", 10)
        organizer.change_group(action=DEACT, group_id="g1", change_id="c1", occurred_at=T0, at=T0)
        (event,) = organizer.collect_events()
        assert isinstance(event, Organizer.StaleGroupChangeIgnored)
        assert (event.newest_change_id, event.newest_occurred_at) == (
            "c2",
            T0 + timedelta(minutes=10),
        )


class TestBillableQuantity:
    def test_counts_groups_active_at_the_instant_by_their_own_times(self) -> None:
        organizer = registered()
        change(organizer, ACT, "g1", "c1", 0)
        change(organizer, ACT, "g2", "c2", 10)
        change(organizer, DEACT, "g1", "c3", 20)

        def at(minutes: int) -> datetime:
            return T0 + timedelta(minutes=minutes)

        assert organizer.billable_quantity(at(5), minimum=0) == 1
        assert organizer.billable_quantity(at(15), minimum=0) == 2
        assert organizer.billable_quantity(at(25), minimum=0) == 1
        assert organizer.billable_quantity(minimum=0) == 1

    def test_never_below_the_minimum(self) -> None:
        organizer = registered()
        assert organizer.billable_quantity() == 1
        assert organizer.billable_quantity(minimum=3) == 3
        assert organizer.billable_quantity(minimum=0) == 0
