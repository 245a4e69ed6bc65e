"""Duplicate subscriptions (issue 13): an organizer's second live subscription, which the
ledger never syncs nor corrects, listed for ops until it is resolved (canceled in Stripe,
or it became the primary). Rows and tracking in one transaction, like every read model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.persistence.database import Cursor, Database
from domain.organizer import Organizer
from projections.base import Positioned, ReadModel, load_rows, upsert_rows
from projections.events import (
    CORRECTION_EVENTS,
    CUSTOMER_EVENTS,
    GROUP_EVENTS,
    INVOICE_EVENTS,
    NEVER_RECORDED,
    SUBSCRIPTION_EVENTS,
    SYNC_EVENTS,
)
from projections.paging import KeysetQuery
from projections.times import fmt_time
from projections.view import Column, TableSpec

DUPLICATES = TableSpec(
    "rm_duplicate_subscriptions",
    (
        Column("subscription_id", "text", primary_key=True),
        Column("organizer_uuid", "text", nullable=False),
        Column("organizer_id", "text", nullable=False),
        Column("primary_subscription_id", "text", nullable=False),
        Column("customer_id", "text", nullable=False),
        Column("status", "text", nullable=False),  # "open" or "resolved"
        Column("reason", "text"),
        Column("found_at", "text", nullable=False),
        Column("resolved_at", "text"),
    ),
    indexes=(("organizer_id",), ("status", "found_at")),
)


REPORTS = frozenset({Organizer.DuplicateSubscriptionFound, Organizer.DuplicateSubscriptionResolved})


class DuplicatesProjection(ReadModel):
    name = "duplicates"
    tables = (DUPLICATES,)
    handles = REPORTS
    IGNORED = (
        NEVER_RECORDED
        | {Organizer.Registered, Organizer.OtherSubscriptionObserved}
        | GROUP_EVENTS
        | CUSTOMER_EVENTS
        | SUBSCRIPTION_EVENTS
        | SYNC_EVENTS
        | INVOICE_EVENTS
        | CORRECTION_EVENTS
    )

    def __init__(self, view: Any, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        ids = [e.subscription_id for e, _ in events if type(e) in REPORTS]
        rows = load_rows(cursor, self.t("rm_duplicate_subscriptions"), "subscription_id", ids)
        for event, _ in events:
            if type(event) is Organizer.DuplicateSubscriptionFound:
                rows[event.subscription_id] = {
                    "subscription_id": event.subscription_id,
                    "organizer_uuid": event.originator_id.hex,
                    "organizer_id": event.organizer_id,
                    "primary_subscription_id": event.primary_subscription_id,
                    "customer_id": event.customer_id,
                    "status": "open",
                    "reason": None,
                    "found_at": fmt_time(event.timestamp),
                    "resolved_at": None,
                }
            elif type(event) is Organizer.DuplicateSubscriptionResolved:
                row = rows.get(event.subscription_id)
                if row is not None:
                    reason, at = event.reason, fmt_time(event.timestamp)
                    row.update(status="resolved", reason=reason, resolved_at=at)
        upsert_rows(cursor, self.t("rm_duplicate_subscriptions"), DUPLICATES, list(rows.values()))


# -- the queries (the ops list, the billing page) -------------------------------------

DUPLICATE_FIELDS = (
    "subscription_id",
    "organizer_id",
    "primary_subscription_id",
    "customer_id",
    "found_at",
)
# Open duplicates, oldest first (app/services/ops/duplicates.py pages it).
OPEN_DUPLICATES_QUERY = KeysetQuery(
    ", ".join(f"t.{name}" for name in DUPLICATE_FIELDS),
    "rm_duplicate_subscriptions t",
    ("found_at", "subscription_id"),
    where="t.status = 'open'",
)


def open_duplicates_of(database: Database, organizer_id: str) -> list[Mapping[str, Any]]:
    """The organizer's open duplicates, oldest first (its billing page)."""
    with database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT subscription_id, primary_subscription_id, customer_id, found_at"
            " FROM rm_duplicate_subscriptions WHERE organizer_id = :o AND status = 'open'"
            " ORDER BY found_at, subscription_id",
            {"o": organizer_id},
        ).fetchall()
    return [dict(row) for row in rows]
