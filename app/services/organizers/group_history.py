"""``GET /api/organizers/{id}/groups/history?from=&to=``: active groups over time, with the
quantity each invoice billed laid over it (the SPA's chart; issue 16).

One point per change that moved the count while that stays readable; past
:data:`MAX_CHANGE_POINTS` the count at the end of each UTC day instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from adapters.persistence.database import Database
from app.services.organizers.models import BilledPeriod, GroupCountPoint, GroupsHistory
from projections.group_history import GroupChange, active_at, count_moves, read_group_changes
from projections.invoices import read_invoices_between
from projections.times import fmt_time, from_text

MAX_CHANGE_POINTS = 200
MAX_RANGE = timedelta(days=3 * 366)


class RangeError(ValueError):
    """``from``/``to`` that make no range (the route's 400, naming ``name``)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name = name


def group_history(
    database: Database,
    organizer_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> GroupsHistory:
    """The history between ``start`` (default: the first change) and ``end`` (default: now)."""
    changes = read_group_changes(database, organizer_id)
    end = end or now
    start = start or (min(changes, key=lambda c: c.occurred_at).occurred_at if changes else end)
    if start > end:
        raise RangeError("from", "must not be after `to`")
    if end - start > MAX_RANGE:
        raise RangeError("to", f"must be at most {MAX_RANGE.days} days after `from`")
    moves = [c for c in count_moves(changes) if start < c.occurred_at <= end]
    if len(moves) <= MAX_CHANGE_POINTS:
        granularity, points = "change", change_points(changes, moves, start)
    else:
        granularity, points = "day", day_points(changes, moves, start, end)
    invoices = read_invoices_between(
        database, organizer_id, fmt_time(start) or "", fmt_time(end) or ""
    )
    return GroupsHistory(
        range_start=start,
        range_end=end,
        granularity=granularity,
        points=points,
        billed=[
            BilledPeriod(
                invoice_id=str(row["invoice_id"]),
                period_start=from_text(str(row["period_start"])),
                period_end=from_text(str(row["period_end"])),
                quantity=int(row["quantity"]),
            )
            for row in invoices
        ],
    )


def change_points(
    changes: Sequence[GroupChange], moves: Sequence[GroupChange], start: datetime
) -> list[GroupCountPoint]:
    """The count at ``start``, then after each move (one point per instant)."""
    count = len(active_at(changes, start))
    points = [GroupCountPoint(at=start, active_groups=count)]
    for move in moves:
        count += 1 if move.active else -1
        if points[-1].at == move.occurred_at:
            points[-1] = GroupCountPoint(at=move.occurred_at, active_groups=count)
        else:
            points.append(GroupCountPoint(at=move.occurred_at, active_groups=count))
    return points


def day_points(
    changes: Sequence[GroupChange], moves: Sequence[GroupChange], start: datetime, end: datetime
) -> list[GroupCountPoint]:
    """The count at ``start``, then at each UTC midnight up to ``end``, and at ``end``."""
    count = len(active_at(changes, start))
    points = [GroupCountPoint(at=start, active_groups=count)]
    day = datetime.combine(start.astimezone(UTC).date(), time(), UTC) + timedelta(days=1)
    pending = iter(moves)
    move = next(pending, None)
    for instant in [*_days(day, end), end]:
        while move is not None and move.occurred_at <= instant:
            count += 1 if move.active else -1
            move = next(pending, None)
        if instant > points[-1].at:
            points.append(GroupCountPoint(at=instant, active_groups=count))
    return points


def _days(first: datetime, end: datetime) -> list[datetime]:
    count = max(0, (end - first).days + 1)
    return [d for d in (first + timedelta(days=n) for n in range(count)) if d <= end]
