"""Renewal invoice corrections: the sender's work queue (issue 10), a table of the
``syncs`` read model (the gateway's work queue), kept here beside its queries.

One row per correction the ledger decided (an item on a renewal draft, a one-off invoice,
a credit note), with where it stands. Rebuilt from the log like any read model, so a
replay never makes a confirmed correction due again. The organizer aggregate stays the
judge: the sender re-reads it before every attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.persistence.database import Cursor, Database
from domain.organizer import Organizer
from domain.statuses import CorrectionStatus, after_failure
from projections.base import (
    Positioned,
    due_work,
    load_rows,
    upsert_rows,
)
from projections.events import EventClass
from projections.paging import KeysetQuery
from projections.times import fmt_time
from projections.view import Column, TableSpec

CORRECTIONS = TableSpec(
    "rm_billing_corrections",
    (
        Column("correction_id", "text", primary_key=True),
        Column("organizer_uuid", "text", nullable=False),
        Column("kind", "text", nullable=False),
        Column("invoice_id", "text", nullable=False),
        Column("quantity", "int", nullable=False),
        Column("amount", "bigint", nullable=False),
        Column("currency", "text", nullable=False),
        Column("status", "text", nullable=False),
        Column("attempts", "int", nullable=False),
        Column("next_attempt_at", "text"),
        Column("last_error", "text"),
        Column("stripe_object_id", "text"),
        Column("requested_at", "text", nullable=False),
        Column("updated_at", "text", nullable=False),
    ),
    indexes=(("status", "next_attempt_at"),),
)
REQUESTED: frozenset[EventClass] = frozenset(
    {Organizer.DraftCorrectionRequested, Organizer.LateDifferenceRequested}
)
PROGRESS: frozenset[EventClass] = frozenset(
    {
        Organizer.CorrectionConfirmed,
        Organizer.CorrectionAttemptFailed,
        Organizer.DraftCorrectionMissed,
    }
)


def apply_corrections(cursor: Cursor, table: str, events: Sequence[Positioned]) -> None:
    """The queue rows these events imply (inside the syncs read model's transaction)."""
    ids = [e.correction_id for e, _ in events if type(e) in REQUESTED | PROGRESS]
    if not ids:
        return
    rows = load_rows(cursor, table, "correction_id", ids)
    for event, _ in events:
        cls = type(event)
        if cls in REQUESTED:
            rows[event.correction_id] = requested_row(event)
        elif cls in PROGRESS and event.correction_id in rows:
            progress(rows[event.correction_id], event)
    upsert_rows(cursor, table, CORRECTIONS, list(rows.values()))


def requested_row(event: Any) -> dict[str, Any]:
    at = fmt_time(event.timestamp)
    return {
        "correction_id": event.correction_id,
        "organizer_uuid": event.originator_id.hex,
        "kind": event.kind,
        "invoice_id": event.invoice_id,
        "quantity": event.quantity,
        "amount": event.amount,
        "currency": event.currency,
        "status": CorrectionStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": at,
        "requested_at": at,
        "updated_at": at,
    }


def progress(row: dict[str, Any], event: Any) -> None:
    row["updated_at"] = fmt_time(event.timestamp)
    if type(event) is Organizer.CorrectionConfirmed:
        row.update(
            status=CorrectionStatus.CONFIRMED,
            next_attempt_at=None,
            stripe_object_id=event.stripe_object_id,
        )
    elif type(event) is Organizer.DraftCorrectionMissed:
        row.update(status=CorrectionStatus.MISSED, next_attempt_at=None, last_error=event.reason)
    else:
        row.update(
            status=after_failure(event.retryable),
            attempts=event.attempt,
            next_attempt_at=fmt_time(event.next_attempt_at),
            last_error=f"{event.error_code}: {event.message}",
        )


def due_corrections(database: Database, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(organizer uuid, correction id) of corrections due now, oldest request first."""
    return due_work(database, "rm_billing_corrections", "correction_id", fmt_time(now) or "", limit)


# -- the staff list (app/entrypoints/http/routes/staff.py) --

CORRECTION_FIELDS = (
    "correction_id",
    "organizer_id",
    "kind",
    "invoice_id",
    "quantity",
    "amount",
    "currency",
    "status",
    "attempts",
    "last_error",
    "stripe_object_id",
    "requested_at",
    "updated_at",
)
CORRECTION_INTEGERS = frozenset({"quantity", "amount", "attempts"})


def corrections_query(status: CorrectionStatus | None) -> KeysetQuery:
    """Every correction (or those in ``status``) with its platform organizer id, oldest
    request first; ``requested_at`` never changes, so a page boundary never moves."""
    select = ", ".join(
        "r.organizer_id" if name == "organizer_id" else f"t.{name}" for name in CORRECTION_FIELDS
    )
    source = "rm_billing_corrections t JOIN rm_renewals r ON r.organizer_uuid = t.organizer_uuid"
    if status is None:
        return KeysetQuery(select, source, ("requested_at", "correction_id"))
    return KeysetQuery(
        select, source, ("requested_at", "correction_id"), "t.status = :status", {"status": status}
    )


def corrections_of_invoice(database: Database, invoice_id: str) -> list[dict[str, Any]]:
    """The corrections decided for one invoice, oldest request first (invoice detail)."""
    with database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT * FROM rm_billing_corrections WHERE invoice_id = :i"
            " ORDER BY requested_at, correction_id",
            {"i": invoice_id},
        ).fetchall()
    return [dict(row) for row in rows]
