"""Failed quantity syncs, as operators list them (``rm_quantity_syncs``).

An *open* failure is a sync whose status is ``failed`` (Stripe refused it, or it was not
confirmed within the retry horizon) and that is still the newest sync for its
subscription item and renewal period. A retry, or any newer decision for the same item
and period (a scheduled check, drift), is a new sync requested later; from then on the
failed one is history: it is listed only with ``include_retried``, and names the newest
later sync in ``later_sync_id``.

"Later" is by ``requested_at``: the read model keeps no generation. Two requests for one
item and period recorded at the very same microsecond (a clock stepping back) would both
look latest; the failure then stays listed, and a retry of it is still refused by the
organizer, which does know the order (``app.ops.retry``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.persistence.database import Database
from app.audit.entries import Page
from app.ops.paging import KeysetQuery, TextKey, json_row, read_all, read_page

FIELDS = (
    "sync_id",
    "organizer_id",
    "subscription_id",
    "item_id",
    "quantity",
    "previous_quantity",
    "period_end",
    "trigger",
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "requested_at",
    "updated_at",
)
INTEGER_FIELDS = frozenset({"quantity", "previous_quantity", "attempts"})
# The newest sync for the same organizer, item and period requested after row ``t``
# (``organizer_id`` is indexed; an organizer has a handful of syncs per period).
_LATER = (
    "FROM rm_quantity_syncs l WHERE l.organizer_id = t.organizer_id"
    " AND l.item_id = t.item_id AND l.period_end = t.period_end"
    " AND l.requested_at > t.requested_at"
)
_NEWEST_LATER = f"{_LATER} ORDER BY l.requested_at DESC, l.sync_id DESC LIMIT 1"
_SELECT = ", ".join(
    [
        *(f"t.{name}" for name in FIELDS),
        f"(SELECT l.sync_id {_NEWEST_LATER}) AS later_sync_id",
        f"(SELECT l.status {_NEWEST_LATER}) AS later_sync_status",
    ]
)


@dataclass(frozen=True)
class FailureFilter:
    """Open failures; with ``include_retrying`` also syncs the sender still retries; with
    ``include_retried`` also syncs that failed at least once and that a later sync now
    follows (history: ``later_sync_id``/``later_sync_status`` say what became of it)."""

    include_retrying: bool = False
    include_retried: bool = False

    def query(self) -> KeysetQuery:
        statuses = "'failed', 'retrying'" if self.include_retrying else "'failed'"
        where = f"(t.status IN ({statuses}) AND NOT EXISTS (SELECT 1 {_LATER}))"
        if self.include_retried:
            # A retry settles the failed sync as ``superseded``; one that a newer
            # decision overtook stays ``failed``. ``last_error`` says it did fail.
            where = (
                f"({where} OR (t.status IN ('failed', 'superseded')"
                f" AND t.last_error IS NOT NULL AND EXISTS (SELECT 1 {_LATER})))"
            )
        # requested_at never changes, so a page boundary never moves under a client.
        return KeysetQuery(_SELECT, "rm_quantity_syncs t", ("requested_at", "sync_id"), where)


def failure_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as the JSON the API and ``ledger ops failures --json`` print."""
    return json_row(row, (*FIELDS, "later_sync_id", "later_sync_status"), INTEGER_FIELDS)


def read_failures(
    database: Database, failure_filter: FailureFilter, *, after: TextKey | None, limit: int
) -> Page:
    """One page of failures, oldest request first."""
    return read_page(database, failure_filter.query(), after=after, limit=limit, entry=failure_of)


def all_failures(database: Database, failure_filter: FailureFilter) -> list[dict[str, Any]]:
    """Every failure the filter selects (the CLI prints whole lists)."""
    return read_all(database, failure_filter.query(), entry=failure_of)


def owner_of(database: Database, sync_id: str) -> str | None:
    """The platform organizer id whose sync this is, per the read model (None: unknown)."""
    with database.transaction() as cursor:
        row = cursor.execute(
            "SELECT organizer_id FROM rm_quantity_syncs WHERE sync_id = :sync_id",
            {"sync_id": sync_id},
        ).fetchone()
    return None if row is None else str(row["organizer_id"])
