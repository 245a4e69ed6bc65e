"""Events of platform group changes, assigned in ``Organizer``'s body.

``Organizer`` subclasses each as ``Organizer.<Name>`` (with ``Organizer.Event``), so their
stored topics read ``domain.organizer:Organizer.<Name>``. Trigger them through the
aggregate (``org.GroupActivated``), never from this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from domain.groups import (
    FOLD_ABOVE,
    ChangeOutcome,
    GroupAction,
    GroupEntry,
    GroupLog,
    fold,
    insert_in_history,
)

if TYPE_CHECKING:
    from domain.organizer import Organizer


def take_group_change(
    org: Organizer,
    group_id: str,
    change_id: str,
    occurred_at: datetime,
    *,
    active: bool,
    claimed: bool,
    outcome: ChangeOutcome = ChangeOutcome.APPLIED,
) -> None:
    """State transition shared by the events that move a group's watermark."""
    entry: GroupEntry = {"occurred_at": occurred_at, "change_id": change_id, "active": active}
    log_of(org, group_id).append(entry)
    remember_legacy(org, change_id, outcome, claimed=claimed)


def log_of(org: Organizer, group_id: str) -> GroupLog:
    """The group's entries in the state, as a ``GroupLog`` (old snapshots: plain lists)."""
    entries = org.groups.get(group_id)
    if not isinstance(entries, GroupLog):
        entries = org.groups[group_id] = GroupLog(entries or [])
    return entries


def remember_legacy(
    org: Organizer, change_id: str, outcome: ChangeOutcome, *, claimed: bool
) -> None:
    """Changes recorded before issue 12 are remembered in the state (``change_outcomes``:
    bounded by what existed then); later ones by their ``InputClaim`` (domain/claims.py)."""
    if not claimed:
        org.change_outcomes[change_id] = outcome.value


def keep_bounded(org: Organizer, group_id: str, at: datetime) -> None:
    """Fold a group's settled past once it holds more than a few entries (issue 12)."""
    entries = org.groups[group_id]
    if len(entries) <= FOLD_ABOVE:
        return
    settled = org.settled_instant(at)
    org.groups[group_id] = GroupLog(fold(entries, settled))
    org.groups_settled_until = settled


class GroupActivated(Aggregate.Event):
    group_id: str
    change_id: str
    occurred_at: datetime
    claimed: bool = False  # recorded since issue 12: its id is in an InputClaim
    group_name: str | None = None  # since issue 16 (older records: None)

    def apply(self, org: Organizer) -> None:
        take_group_change(
            org, self.group_id, self.change_id, self.occurred_at, active=True, claimed=self.claimed
        )
        keep_bounded(org, self.group_id, self.timestamp)


class GroupDeactivated(Aggregate.Event):
    group_id: str
    change_id: str
    occurred_at: datetime
    claimed: bool = False  # recorded since issue 12: its id is in an InputClaim
    group_name: str | None = None  # since issue 16 (older records: None)

    def apply(self, org: Organizer) -> None:
        take_group_change(
            org, self.group_id, self.change_id, self.occurred_at, active=False, claimed=self.claimed
        )
        keep_bounded(org, self.group_id, self.timestamp)


class GroupChangeReaffirmed(Aggregate.Event):
    """A change newer than the group's last one that restates its current state.

    The active set does not change, but the group's watermark moves, so that an
    older opposite change arriving later is recognised as stale (see docs/domain.md).
    """

    group_id: str
    change_id: str
    action: str
    occurred_at: datetime
    claimed: bool = False  # recorded since issue 12: its id is in an InputClaim
    group_name: str | None = None  # since issue 16 (older records: None)

    def apply(self, org: Organizer) -> None:
        take_group_change(
            org,
            self.group_id,
            self.change_id,
            self.occurred_at,
            active=self.action == GroupAction.ACTIVATED,
            claimed=self.claimed,
            outcome=ChangeOutcome.REAFFIRMED,
        )
        keep_bounded(org, self.group_id, self.timestamp)


class StaleGroupChangeIgnored(Aggregate.Event):
    group_id: str
    change_id: str
    action: str
    occurred_at: datetime
    newest_change_id: str
    newest_occurred_at: datetime
    claimed: bool = False  # recorded since issue 12: its id is in an InputClaim
    group_name: str | None = None  # since issue 16 (older records: None)

    def apply(self, org: Organizer) -> None:
        # Not in the current set (a newer change won), but part of the group's
        # history, so "active at instant t" is the same whatever the arrival order.
        entry: GroupEntry = {
            "occurred_at": self.occurred_at,
            "change_id": self.change_id,
            "active": self.action == GroupAction.ACTIVATED,
        }
        insert_in_history(log_of(org, self.group_id), entry)
        remember_legacy(org, self.change_id, ChangeOutcome.STALE, claimed=self.claimed)
        keep_bounded(org, self.group_id, self.timestamp)


def group_entry(event: object) -> tuple[str, GroupEntry] | None:
    """The history entry a stored group event made (None: not a group change)."""
    if isinstance(event, GroupActivated | GroupDeactivated):
        active = isinstance(event, GroupActivated)
    elif isinstance(event, GroupChangeReaffirmed | StaleGroupChangeIgnored):
        active = event.action == GroupAction.ACTIVATED
    else:
        return None
    entry: GroupEntry = {
        "occurred_at": event.occurred_at,
        "change_id": event.change_id,
        "active": active,
    }
    return event.group_id, entry
