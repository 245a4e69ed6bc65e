"""Events of platform group changes, assigned in ``Organizer``'s body.

``Organizer`` subclasses each as ``Organizer.<Name>`` (with ``Organizer.Event``), so their
stored topics read ``domain.organizer:Organizer.<Name>``. Trigger them through the
aggregate (``org.GroupActivated``), never from this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from domain.groups import ChangeOutcome, GroupAction, GroupEntry, insert_in_history

if TYPE_CHECKING:
    from domain.organizer import Organizer


def take_group_change(
    org: Organizer,
    group_id: str,
    change_id: str,
    occurred_at: datetime,
    *,
    active: bool,
    outcome: ChangeOutcome = ChangeOutcome.APPLIED,
) -> None:
    """State transition shared by the events that move a group's watermark."""
    entry: GroupEntry = {"occurred_at": occurred_at, "change_id": change_id, "active": active}
    org.groups.setdefault(group_id, []).append(entry)
    org.change_outcomes[change_id] = outcome.value


class GroupActivated(Aggregate.Event):
    group_id: str
    change_id: str
    occurred_at: datetime
    group_name: str | None = None  # since issue 16 (older records: None)

    def apply(self, org: Organizer) -> None:
        take_group_change(org, self.group_id, self.change_id, self.occurred_at, active=True)


class GroupDeactivated(Aggregate.Event):
    group_id: str
    change_id: str
    occurred_at: datetime
    group_name: str | None = None  # since issue 16 (older records: None)

    def apply(self, org: Organizer) -> None:
        take_group_change(org, self.group_id, self.change_id, self.occurred_at, active=False)


class GroupChangeReaffirmed(Aggregate.Event):
    """A change newer than the group's last one that restates its current state.

    The active set does not change, but the group's watermark moves, so that an
    older opposite change arriving later is recognised as stale (see docs/domain.md).
    """

    group_id: str
    change_id: str
    action: str
    occurred_at: datetime
    group_name: str | None = None  # since issue 16 (older records: None)

    def apply(self, org: Organizer) -> None:
        take_group_change(
            org,
            self.group_id,
            self.change_id,
            self.occurred_at,
            active=self.action == GroupAction.ACTIVATED,
            outcome=ChangeOutcome.REAFFIRMED,
        )


class StaleGroupChangeIgnored(Aggregate.Event):
    group_id: str
    change_id: str
    action: str
    occurred_at: datetime
    newest_change_id: str
    newest_occurred_at: datetime
    group_name: str | None = None  # since issue 16 (older records: None)

    def apply(self, org: Organizer) -> None:
        # Not in the current set (a newer change won), but part of the group's
        # history, so "active at instant t" is the same whatever the arrival order.
        entry: GroupEntry = {
            "occurred_at": self.occurred_at,
            "change_id": self.change_id,
            "active": self.action == GroupAction.ACTIVATED,
        }
        insert_in_history(org.groups.setdefault(self.group_id, []), entry)
        org.change_outcomes[self.change_id] = ChangeOutcome.STALE.value
