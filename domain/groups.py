"""How platform group changes resolve into the set of active groups.

Pure functions over plain data, so that the aggregate, its snapshots and the
property tests share one definition of "which change wins".

A group's history is the list of the changes received for it, in the order of
their *change key* ``(occurred_at, change_id)``. The newest entry is the group's
watermark and decides whether it is active now; a change older than the watermark
is stale: it never alters the current set, but it keeps its place in the history,
so that "active at instant t" is the same whatever order the changes arrived in.

The aggregate keeps only the part of a history that questions still to come can need
(issue 12): once a group holds more than ``FOLD_ABOVE`` entries, every entry that
occurred at or before the organizer's *settled* instant is folded into the newest of
them (``fold``). "Active at t" for any ``t`` at or after that instant is unchanged by
folding (the newest change by key at or before ``t`` is kept), whatever the arrival
order; an earlier instant is answered from the full history, rebuilt from the events
(``history_of``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypedDict


class GroupAction(StrEnum):
    ACTIVATED = "activated"
    DEACTIVATED = "deactivated"


class GroupEntry(TypedDict):
    """One change that took effect for a group (stored in aggregate state)."""

    occurred_at: datetime
    change_id: str
    active: bool


GroupHistory = Mapping[str, Sequence[GroupEntry]]


class GroupLog(list[GroupEntry]):
    """A group's entries as the organizer's state holds them: a plain list of entries,
    stored compactly in snapshots (issue 12: ``organizer_group_log`` in the transcoder,
    each entry ``[occurred_at, change_id, active]``, half the bytes of the dicts)."""

    def compact(self) -> list[list[object]]:
        return [[e["occurred_at"].isoformat(), e["change_id"], e["active"]] for e in self]

    @classmethod
    def from_compact(cls, rows: Iterable[Sequence[object]]) -> GroupLog:
        return cls(
            {
                "occurred_at": datetime.fromisoformat(str(at)),
                "change_id": str(change_id),
                "active": bool(active),
            }
            for at, change_id, active in rows
        )


# Entries a group keeps before its settled past is folded: a few, so the state stays
# small (issue 12: 8 kept ~566 entries, 72 KB, on the 30,000-event benchmark organizer;
# 3 keeps ~375, 48 KB: what is left is the changes since the settled instant); more than
# one, so the usual short histories are never folded.
FOLD_ABOVE = 3


class GroupHistoryNeeded(LookupError):
    """A question about an instant before the organizer's settled one: the state no longer
    holds the answer, the events do (the application recalls them, see ``history_of``)."""

    def __init__(self, at: datetime, settled: datetime) -> None:
        super().__init__(f"groups at {at.isoformat()}: the state is settled until {settled}")
        self.at = at


class ChangeOutcome(StrEnum):
    """What a group change does to an organizer, decided before anything is recorded."""

    APPLIED = "applied"  # the active set changes
    REAFFIRMED = "reaffirmed"  # newer than the watermark, but the set already says so
    STALE = "stale"  # older than the newest change that took effect
    DUPLICATE = "duplicate"  # this change id was seen before


@dataclass(frozen=True, slots=True)
class ChangeKey:
    """Total order of changes for one group: time first, change id breaks ties."""

    occurred_at: datetime
    change_id: str

    def __lt__(self, other: ChangeKey) -> bool:
        return (self.occurred_at, self.change_id) < (other.occurred_at, other.change_id)


def insert_in_history(entries: list[GroupEntry], entry: GroupEntry) -> None:
    """Insert a late (stale) change at its place by change key; the watermark stays."""
    key = (entry["occurred_at"], entry["change_id"])
    bisect.insort(entries, entry, key=lambda e: (e["occurred_at"], e["change_id"]))
    if (entries[-1]["occurred_at"], entries[-1]["change_id"]) == key and len(entries) > 1:
        msg = "a stale change cannot be newer than the group's watermark"
        raise ValueError(msg)


def fold(entries: list[GroupEntry], settled: datetime) -> list[GroupEntry]:
    """The entries that answer "active at t" for every ``t >= settled``: those that
    occurred after ``settled``, and the newest (by change key) of those that did not."""
    past = 0
    while past < len(entries) and entries[past]["occurred_at"] <= settled:
        past += 1
    if past <= 1:
        return entries
    return entries[past - 1 :]


def history_of(changes: Iterable[tuple[str, GroupEntry]]) -> dict[str, list[GroupEntry]]:
    """Every group's full history from its changes (``(group_id, entry)``, any order)."""
    history: dict[str, list[GroupEntry]] = {}
    for group_id, entry in changes:
        bisect.insort(
            history.setdefault(group_id, []),
            entry,
            key=lambda e: (e["occurred_at"], e["change_id"]),
        )
    return history


def watermark(entries: Sequence[GroupEntry]) -> ChangeKey | None:
    if not entries:
        return None
    last = entries[-1]
    return ChangeKey(last["occurred_at"], last["change_id"])


def classify_change(
    entries: Sequence[GroupEntry],
    *,
    action: GroupAction,
    occurred_at: datetime,
    change_id: str,
) -> ChangeOutcome:
    """Decide what a (not yet seen) change does to a group with this history."""
    newest = watermark(entries)
    if newest is not None and ChangeKey(occurred_at, change_id) < newest:
        return ChangeOutcome.STALE
    currently_active = bool(entries) and entries[-1]["active"]
    wants_active = action is GroupAction.ACTIVATED
    if currently_active == wants_active:
        return ChangeOutcome.REAFFIRMED
    return ChangeOutcome.APPLIED


def is_active_at(entries: Sequence[GroupEntry], at: datetime | None = None) -> bool:
    """Whether the group was active at ``at`` (by the changes' own times), or now."""
    if at is None:
        return bool(entries) and entries[-1]["active"]
    state = False
    for entry in entries:
        if entry["occurred_at"] > at:
            break
        state = entry["active"]
    return state


def active_group_ids(groups: GroupHistory, at: datetime | None = None) -> list[str]:
    """Sorted ids of the groups active at ``at`` (or now)."""
    return sorted(group_id for group_id, entries in groups.items() if is_active_at(entries, at))


def resolve_in_order(
    changes: Iterable[tuple[str, GroupAction, datetime, str]],
) -> set[str]:
    """Reference semantics: apply de-duplicated changes sorted by change key, once.

    ``changes`` are ``(group_id, action, occurred_at, change_id)``. Used by tests as
    the oracle the incremental rules must agree with.
    """
    unique = {change_id: (group, action, at) for group, action, at, change_id in changes}
    ordered = sorted(unique.items(), key=lambda item: (item[1][2], item[0]))
    active: set[str] = set()
    for _change_id, (group, action, _at) in ordered:
        if action is GroupAction.ACTIVATED:
            active.add(group)
        else:
            active.discard(group)
    return active
