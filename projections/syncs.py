"""Quantity syncs: the gateway's work queue and the operators' view of failures.

Rebuilt from the log like any read model, so a replay reproduces exactly which syncs
are pending, confirmed or failed — and never makes a confirmed one pending again.
Also lists renewal invoices found billing an unexpected quantity (each is corrected since
issue 10; the list keeps the first report of each), and holds the queue of those
corrections (``rm_billing_corrections``, projections/corrections.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.persistence.database import Cursor, Database
from domain.organizer import Organizer
from domain.statuses import SyncStatus, after_failure
from projections.base import (
    Positioned,
    ReadModel,
    due_work,
    load_rows,
    organizer_keys,
)
from projections.corrections import CORRECTIONS, PROGRESS, REQUESTED, apply_corrections
from projections.events import (
    CUSTOMER_EVENTS,
    DUPLICATE_EVENTS,
    GROUP_EVENTS,
    INVOICE_EVENTS,
    NEVER_RECORDED,
    SUBSCRIPTION_EVENTS,
    SYNC_EVENTS,
)
from projections.paging import KeysetQuery
from projections.times import fmt_time
from projections.view import Column, TableSpec

SYNCS = TableSpec(
    "rm_quantity_syncs",
    (
        Column("sync_id", "text", primary_key=True),
        Column("organizer_uuid", "text", nullable=False),
        Column("organizer_id", "text", nullable=False),
        Column("subscription_id", "text", nullable=False),
        Column("item_id", "text", nullable=False),
        Column("period_end", "text", nullable=False),
        Column("quantity", "int", nullable=False),
        Column("previous_quantity", "int", nullable=False),
        Column("proration_behavior", "text", nullable=False),
        Column("trigger", "text", nullable=False),
        Column("idempotency_key", "text", nullable=False),
        Column("status", "text", nullable=False),
        Column("attempts", "int", nullable=False),
        Column("next_attempt_at", "text"),
        Column("last_error", "text"),
        Column("stripe_request_id", "text"),
        Column("requested_at", "text", nullable=False),
        Column("updated_at", "text", nullable=False),
    ),
    indexes=(("status", "next_attempt_at"), ("organizer_id",)),
)
DRAFT_MISMATCHES = TableSpec(
    "rm_draft_mismatches",
    (
        Column("invoice_id", "text", primary_key=True),
        Column("organizer_uuid", "text", nullable=False),
        Column("organizer_id", "text", nullable=False),
        Column("subscription_id", "text", nullable=False),
        Column("period_start", "text", nullable=False),
        Column("billed_quantity", "int", nullable=False),
        Column("expected_quantity", "int", nullable=False),
        Column("reported_at", "text", nullable=False),
    ),
)
ORGANIZERS = TableSpec(
    "rm_sync_organizers",
    (
        Column("organizer_uuid", "text", primary_key=True),
        Column("organizer_id", "text", nullable=False),
    ),
)


# A renewal invoice found billing another quantity than the groups at its period start:
# before issue 10 only reported; since, reported by the correction decided for it.
MISMATCH_REPORTS = frozenset(
    {
        Organizer.DraftInvoiceQuantityMismatch,
        Organizer.DraftCorrectionRequested,
        Organizer.LateDifferenceRequested,
        Organizer.RenewalInvoiceLeftUncorrected,
    }
)
SYNC_PROGRESS = frozenset(
    {
        Organizer.QuantitySyncConfirmed,
        Organizer.QuantitySyncFailed,
        Organizer.QuantitySyncSuperseded,
    }
)


class SyncsProjection(ReadModel):
    name = "syncs"
    tables = (SYNCS, DRAFT_MISMATCHES, ORGANIZERS, CORRECTIONS)
    handles = frozenset({Organizer.Registered, *SYNC_EVENTS, *MISMATCH_REPORTS})
    handles |= REQUESTED | PROGRESS  # the corrections queue (projections/corrections.py)
    IGNORED = (
        NEVER_RECORDED
        | DUPLICATE_EVENTS
        | GROUP_EVENTS
        | CUSTOMER_EVENTS
        | SUBSCRIPTION_EVENTS
        | INVOICE_EVENTS
        | {Organizer.CorrectionStepDone}
    )

    def __init__(self, view: Any, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        keys = organizer_keys(events)
        names = {
            k: r["organizer_id"]
            for k, r in load_rows(
                cursor, self.t("rm_sync_organizers"), "organizer_uuid", keys
            ).items()
        }
        new_names: dict[str, str] = {}
        sync_ids = [e.sync_id for e, _ in events if hasattr(e, "sync_id")]
        syncs = load_rows(cursor, self.t("rm_quantity_syncs"), "sync_id", sync_ids)
        mismatches: list[dict[str, Any]] = []
        invoice_ids = [e.invoice_id for e, _ in events if type(e) in MISMATCH_REPORTS]
        # The first report of an invoice stays (its time is the list's paging key).
        reported = set(load_rows(cursor, self.t("rm_draft_mismatches"), "invoice_id", invoice_ids))
        for (event, _), key in zip(events, keys, strict=True):
            cls = type(event)
            if cls is Organizer.Registered:
                names[key] = new_names[key] = event.platform_organizer_id
            elif cls is Organizer.QuantitySyncRequested:
                syncs[event.sync_id] = self.requested(event, key, names.get(key, key))
            elif cls in SYNC_PROGRESS:
                row = syncs.get(event.sync_id)
                if row is not None:
                    self.progress(row, event)
            elif cls in MISMATCH_REPORTS and event.invoice_id not in reported:
                reported.add(event.invoice_id)
                mismatches.append(
                    {
                        "invoice_id": event.invoice_id,
                        "organizer_uuid": key,
                        "organizer_id": names.get(key, key),
                        "subscription_id": event.subscription_id,
                        "period_start": fmt_time(event.period_start),
                        "billed_quantity": event.billed_quantity,
                        "expected_quantity": getattr(
                            event, "expected_quantity", getattr(event, "target_quantity", 0)
                        ),
                        "reported_at": fmt_time(event.timestamp),
                    }
                )
        self.view.upsert(
            cursor,
            ORGANIZERS,
            [{"organizer_uuid": k, "organizer_id": v} for k, v in new_names.items()],
        )
        self.view.upsert(cursor, SYNCS, list(syncs.values()))
        self.view.upsert(cursor, DRAFT_MISMATCHES, mismatches)
        apply_corrections(cursor, self.t("rm_billing_corrections"), events)

    @staticmethod
    def requested(event: Any, key: str, organizer_id: str) -> dict[str, Any]:
        at = fmt_time(event.timestamp)
        return {
            "sync_id": event.sync_id,
            "organizer_uuid": key,
            "organizer_id": organizer_id,
            "subscription_id": event.subscription_id,
            "item_id": event.item_id,
            "period_end": fmt_time(event.period_end),
            "quantity": event.quantity,
            "previous_quantity": event.previous_quantity,
            "proration_behavior": event.proration_behavior,
            "trigger": event.trigger,
            "idempotency_key": event.idempotency_key,
            "status": SyncStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": at,
            "requested_at": at,
            "updated_at": at,
        }

    @staticmethod
    def progress(row: dict[str, Any], event: Any) -> None:
        row["updated_at"] = fmt_time(event.timestamp)
        if type(event) is Organizer.QuantitySyncConfirmed:
            row.update(
                status=SyncStatus.CONFIRMED,
                next_attempt_at=None,
                stripe_request_id=event.stripe_request_id,
            )
        elif type(event) is Organizer.QuantitySyncSuperseded:
            row.update(status=SyncStatus.SUPERSEDED, next_attempt_at=None)
        else:
            row.update(
                status=after_failure(event.retryable),
                attempts=event.attempt,
                next_attempt_at=fmt_time(event.next_attempt_at),
                last_error=f"{event.error_code}: {event.message}",
            )


def due_syncs(database: Database, now: datetime, limit: int) -> list[tuple[str, str]]:
    """(organizer uuid, sync id) of syncs due now, oldest request first."""
    return due_work(database, "rm_quantity_syncs", "sync_id", fmt_time(now) or "", limit)


# -- the queries (the ops lists, app/services/ops/) ----------------------------------------------

DRAFT_FIELDS = (
    "invoice_id",
    "organizer_id",
    "subscription_id",
    "period_start",
    "billed_quantity",
    "expected_quantity",
    "reported_at",
)
# Reported renewal drafts, oldest report first.
DRAFTS_QUERY = KeysetQuery(
    ", ".join(f"t.{name}" for name in DRAFT_FIELDS),
    "rm_draft_mismatches t",
    ("reported_at", "invoice_id"),
)
SYNC_FIELDS = (
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
# The newest sync for the same organizer, item and period requested after row ``t``
# (``organizer_id`` is indexed; an organizer has a handful of syncs per period).
_LATER = (
    "FROM rm_quantity_syncs l WHERE l.organizer_id = t.organizer_id"
    " AND l.item_id = t.item_id AND l.period_end = t.period_end"
    " AND l.requested_at > t.requested_at"
)
_NEWEST_LATER = f"{_LATER} ORDER BY l.requested_at DESC, l.sync_id DESC LIMIT 1"
_FAILURE_SELECT = ", ".join(
    [
        *(f"t.{name}" for name in SYNC_FIELDS),
        f"(SELECT l.sync_id {_NEWEST_LATER}) AS later_sync_id",
        f"(SELECT l.status {_NEWEST_LATER}) AS later_sync_status",
    ]
)


def failures_query(*, include_retrying: bool, include_retried: bool) -> KeysetQuery:
    """Failed syncs still the newest for their item and period (app/services/ops/failures.py says
    what each option adds), oldest request first."""
    shown = (SyncStatus.FAILED, SyncStatus.RETRYING) if include_retrying else (SyncStatus.FAILED,)
    statuses = ", ".join(f"'{status}'" for status in shown)
    where = f"(t.status IN ({statuses}) AND NOT EXISTS (SELECT 1 {_LATER}))"
    if include_retried:
        # A retry settles the failed sync as ``superseded``; one that a newer
        # decision overtook stays ``failed``. ``last_error`` says it did fail.
        where = (
            f"({where} OR (t.status IN ('{SyncStatus.FAILED}', '{SyncStatus.SUPERSEDED}')"
            f" AND t.last_error IS NOT NULL AND EXISTS (SELECT 1 {_LATER})))"
        )
    # requested_at never changes, so a page boundary never moves under a client.
    return KeysetQuery(_FAILURE_SELECT, "rm_quantity_syncs t", ("requested_at", "sync_id"), where)


def sync_owner(database: Database, sync_id: str) -> str | None:
    """The platform organizer id whose sync this is (None: unknown to the read model)."""
    with database.transaction() as cursor:
        row = cursor.execute(
            "SELECT organizer_id FROM rm_quantity_syncs WHERE sync_id = :sync_id",
            {"sync_id": sync_id},
        ).fetchone()
    return None if row is None else str(row["organizer_id"])
