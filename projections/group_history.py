"""Group history: one row per platform group change the ledger recorded (issue 16).

Every change that is part of a group's history is a row, at its own ``occurred_at``:
applied, reaffirmed, and stale ones alike (the aggregate keeps those too, so that "active
at instant T" does not depend on arrival order; see domain/groups.py). From these rows the
organizer API answers which groups a renewal invoice counted (those active at its period
start, as domain/corrections.py bills) and which changes moved the count in between, with
the same rule as the aggregate (:func:`domain.groups.is_active_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.persistence.database import Cursor, Database
from domain.groups import GroupAction, GroupEntry, active_group_ids
from domain.organizer import Organizer, organizer_uuid
from projections.base import Positioned, ReadModel
from projections.events import (
    CORRECTION_EVENTS,
    CUSTOMER_EVENTS,
    DUPLICATE_EVENTS,
    GROUP_EVENTS,
    INVOICE_EVENTS,
    NEVER_RECORDED,
    SUBSCRIPTION_EVENTS,
    SYNC_EVENTS,
)
from projections.times import fmt_time, from_text
from projections.view import Column, ReadModelView, TableSpec

CHANGES = TableSpec(
    "rm_group_changes",
    (
        Column("organizer_uuid", "text", primary_key=True),
        Column("change_id", "text", primary_key=True),
        Column("group_id", "text", nullable=False),
        Column("action", "text", nullable=False),
        Column("occurred_at", "text", nullable=False),
        Column("group_name", "text"),
        Column("position", "bigint", nullable=False),
    ),
    indexes=(("organizer_uuid", "occurred_at"),),
)
_ACTIONS: dict[type[Any], str] = {
    Organizer.GroupActivated: GroupAction.ACTIVATED.value,
    Organizer.GroupDeactivated: GroupAction.DEACTIVATED.value,
}


class GroupHistoryProjection(ReadModel):
    name = "group_history"
    tables = (CHANGES,)
    bulk_writes = True
    handles = GROUP_EVENTS
    IGNORED = (
        NEVER_RECORDED
        | DUPLICATE_EVENTS
        | {Organizer.Registered}
        | CUSTOMER_EVENTS
        | SUBSCRIPTION_EVENTS
        | SYNC_EVENTS
        | INVOICE_EVENTS
        | CORRECTION_EVENTS
    )

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        handles = self.handles
        # Built directly from the event (what ``change_of`` reads): no dataclass copy
        # per row, this is the hottest loop of a rebuild (one row per group change).
        rows = [
            {
                "organizer_uuid": event.originator_id.hex,
                "change_id": event.change_id,
                "group_id": event.group_id,
                "action": _ACTIONS.get(type(event)) or event.action,
                "occurred_at": fmt_time(event.occurred_at),
                "group_name": event.group_name,
                "position": position,
            }
            for event, position in events
            if type(event) in handles
        ]
        self.view.upsert(cursor, CHANGES, rows)


@dataclass(frozen=True, slots=True)
class GroupChange:
    """One recorded change of one group."""

    group_id: str
    change_id: str
    action: str
    occurred_at: datetime
    group_name: str | None

    @property
    def active(self) -> bool:
        return self.action == GroupAction.ACTIVATED.value


def change_of(event: Any) -> GroupChange:
    """The change one group event records (any of the four: each keeps its action)."""
    return GroupChange(
        event.group_id,
        event.change_id,
        _ACTIONS.get(type(event)) or event.action,
        event.occurred_at,
        event.group_name,
    )


def read_group_changes(database: Database, organizer_id: str) -> list[GroupChange]:
    """Every recorded change of the organizer's groups, in (occurred_at, change_id) order."""
    with database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT group_id, change_id, action, occurred_at, group_name FROM rm_group_changes"
            " WHERE organizer_uuid = :o ORDER BY occurred_at, change_id",
            {"o": organizer_uuid(organizer_id).hex},
        ).fetchall()
    return [_change(row) for row in rows]


def active_at(changes: Sequence[GroupChange], at: datetime) -> list[str]:
    """Sorted ids of the groups active at ``at``, by the aggregate's own rule."""
    groups: dict[str, list[GroupEntry]] = {}
    for change in sorted(changes, key=lambda c: (c.occurred_at, c.change_id)):
        entry: GroupEntry = {
            "occurred_at": change.occurred_at,
            "change_id": change.change_id,
            "active": change.active,
        }
        groups.setdefault(change.group_id, []).append(entry)
    return active_group_ids(groups, at)


def count_moves(changes: Sequence[GroupChange]) -> list[GroupChange]:
    """The changes that moved the active count (a group opened or closed), in time order.

    A reaffirmation or a stale change restating the state it lands in moves nothing.
    """
    state: dict[str, bool] = {}
    moved: list[GroupChange] = []
    for change in sorted(changes, key=lambda c: (c.occurred_at, c.change_id)):
        if state.get(change.group_id, False) != change.active:
            moved.append(change)
        state[change.group_id] = change.active
    return moved


def latest_group_names(
    database: Database, organizer_id: str, group_ids: Sequence[str]
) -> dict[str, str]:
    """The latest name sent for each of these groups (those never named are absent)."""
    unique = sorted(set(group_ids))
    params: dict[str, Any] = {f"g{i}": group_id for i, group_id in enumerate(unique)}
    params["o"] = organizer_uuid(organizer_id).hex
    with database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT group_id, change_id, action, occurred_at, group_name FROM rm_group_changes"
            f" WHERE organizer_uuid = :o AND group_name IS NOT NULL"
            f" AND group_id IN ({', '.join(':g' + str(i) for i in range(len(unique)))})",
            params,
        ).fetchall()
    return group_names([_change(row) for row in rows])


def _change(row: Any) -> GroupChange:
    return GroupChange(
        str(row["group_id"]),
        str(row["change_id"]),
        str(row["action"]),
        from_text(str(row["occurred_at"])),
        None if row["group_name"] is None else str(row["group_name"]),
    )


def group_names(changes: Sequence[GroupChange]) -> dict[str, str]:
    """Each group's latest name the platform sent (by the changes' own times)."""
    names: dict[str, str] = {}
    for change in sorted(changes, key=lambda c: (c.occurred_at, c.change_id)):
        if change.group_name is not None:
            names[change.group_id] = change.group_name
    return names
