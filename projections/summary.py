"""Organizer summary: everything an organizer's billing page needs, in one row.

The row holds one JSON document (sorted keys, so replays are byte-identical), updated
event by event; the API serves it without touching the event store.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson

from adapters.persistence.database import Cursor, Database
from domain.organizer import Organizer
from domain.statuses import PaymentStatus, SyncStatus, after_failure
from projections.base import Positioned, ReadModel, load_rows, organizer_keys, upsert_rows
from projections.events import CORRECTION_EVENTS, DUPLICATE_EVENTS, NEVER_RECORDED, EventClass
from projections.paging import KeysetQuery
from projections.renewals import drift_between
from projections.times import fmt_time, to_text
from projections.view import Column, ReadModelView, TableSpec

SUMMARY = TableSpec(
    "rm_organizer_summary",
    (
        Column("organizer_uuid", "text", primary_key=True),
        Column("organizer_id", "text", nullable=False),
        Column("document", "text", nullable=False),
        Column("position", "bigint", nullable=False),
    ),
    indexes=(("organizer_id",),),
)

Doc = dict[str, Any]


def new_document(organizer_id: str, minimum_quantity: int) -> Doc:
    return {
        "organizer_id": organizer_id,
        "customer_id": None,
        "subscription": None,
        "active_group_ids": [],
        "billable_quantity": minimum_quantity,
        "drift": False,
        "upcoming_renewal": None,
        "last_invoice": None,
        "invoice_count": 0,
        "last_payment": None,
        "last_sync": None,
        "enrollment": None,
        "updated_at": None,
    }


def _groups(doc: Doc, event: Any, *, active: bool) -> None:
    ids: list[str] = doc["active_group_ids"]
    if active and event.group_id not in ids:
        bisect.insort(ids, event.group_id)
    elif not active and event.group_id in ids:
        ids.remove(event.group_id)


def _subscription(doc: Doc, event: Any) -> None:
    doc["subscription"] = {
        "subscription_id": event.subscription_id,
        "item_id": event.item_id,
        "price_id": event.price_id,
        "status": event.status,
        "billed_quantity": event.quantity,
        "current_period_start": fmt_time(event.current_period_start),
        "current_period_end": fmt_time(event.current_period_end),
        "discount_ids": list(event.discount_ids),
    }


def _invoice(doc: Doc, event: Any) -> None:
    previous = doc["last_invoice"]
    if previous is None or previous["invoice_id"] != event.invoice_id:
        doc["invoice_count"] += 1
    doc["last_invoice"] = {
        "invoice_id": event.invoice_id,
        "status": event.status,
        "billing_reason": event.billing_reason,
        "quantity": event.quantity,
        "subtotal": event.subtotal,
        "tax": event.tax,
        "total": event.total,
        "currency": event.currency,
        "period_start": fmt_time(event.period_start),
        "period_end": fmt_time(event.period_end),
    }


def _sync(doc: Doc, event: Any, status: str) -> None:
    last = doc["last_sync"] or {}
    doc["last_sync"] = {
        "sync_id": event.sync_id,
        "status": status,
        "quantity": getattr(event, "quantity", last.get("quantity")),
        "at": fmt_time(event.timestamp),
        "error": f"{event.error_code}: {event.message}"
        if status in (SyncStatus.RETRYING, SyncStatus.FAILED)
        else None,
    }


def _customer(doc: Doc, event: Organizer.StripeCustomerLinked) -> None:
    doc["customer_id"] = event.customer_id


def _canceled(doc: Doc, event: Organizer.SubscriptionCanceled) -> None:
    if doc["subscription"] is not None:
        doc["subscription"]["status"] = "canceled"


def _upcoming(doc: Doc, event: Organizer.RenewalUpcoming) -> None:
    doc["upcoming_renewal"] = {
        "period_end": fmt_time(event.period_end),
        "expected_quantity": event.expected_quantity,
        "expected_amount": event.expected_amount,
        "currency": event.currency,
    }


def _payment(doc: Doc, event: Any) -> None:
    doc["last_payment"] = {
        "invoice_id": event.invoice_id,
        "status": PaymentStatus.SUCCEEDED
        if type(event) is Organizer.PaymentSucceeded
        else PaymentStatus.FAILED,
        "amount": event.amount,
        "currency": event.currency,
        "at": fmt_time(event.timestamp),
    }


def _enrollment(doc: Doc, event: Organizer.EnrollmentStarted) -> None:
    doc["enrollment"] = {
        "session_id": event.session_id,
        "expires_at": fmt_time(event.expires_at),
        "quantity": event.quantity,
    }


def _tax_ids(doc: Doc, event: Organizer.TaxIdsObserved) -> None:
    # Per (type, value) the latest observation wins (a removal over an addition at the
    # same instant): any arrival order ends on the same set. Documents from before
    # issue 13 have no ``tax_ids``.
    known: dict[str, Any] = doc.setdefault("tax_ids", {})
    at = fmt_time(event.observed_at)
    for kind, value in event.tax_ids:
        key = f"{kind}:{value}"
        seen = known.get(key)
        if seen is None or (seen["at"], not seen["present"]) < (at, event.removed):
            known[key] = {"type": kind, "value": value, "at": at, "present": not event.removed}


def tax_ids_of(doc: Doc) -> list[tuple[str, str]]:
    """The customer's current tax ids, (type, value), in order."""
    known: dict[str, Any] = doc.get("tax_ids") or {}
    return sorted((t["type"], t["value"]) for t in known.values() if t["present"])


def _preview(doc: Doc, event: Organizer.RenewalPreviewRecorded) -> None:
    # The latest recorded preview wins (documents from before it have none).
    doc["renewal_preview"] = {
        "subscription_id": event.subscription_id,
        "price_id": event.price_id,
        "quantity": event.quantity,
        "subtotal": event.subtotal,
        "tax": event.tax,
        "total": event.total,
        "currency": event.currency,
        "period_end": fmt_time(event.period_end),
        "discount_ids": list(event.discount_ids),
        "discount": event.discount,
    }


def preview_of(doc: Doc) -> dict[str, Any] | None:
    """The latest renewal preview (domain/preview_events.py), if any."""
    found: dict[str, Any] | None = doc.get("renewal_preview")
    return found


# event class → how it changes the summary document.
CHANGES: dict[EventClass, Callable[[Doc, Any], None]] = {
    Organizer.GroupActivated: lambda doc, event: _groups(doc, event, active=True),
    Organizer.GroupDeactivated: lambda doc, event: _groups(doc, event, active=False),
    Organizer.StripeCustomerLinked: _customer,
    Organizer.SubscriptionObserved: _subscription,
    Organizer.SubscriptionCanceled: _canceled,
    Organizer.RenewalUpcoming: _upcoming,
    Organizer.InvoiceRecorded: _invoice,
    Organizer.PaymentSucceeded: _payment,
    Organizer.PaymentFailed: _payment,
    Organizer.EnrollmentStarted: _enrollment,
    Organizer.TaxIdsObserved: _tax_ids,
    Organizer.RenewalPreviewRecorded: _preview,
    Organizer.QuantitySyncRequested: lambda doc, event: _sync(doc, event, SyncStatus.PENDING),
    Organizer.QuantitySyncConfirmed: lambda doc, event: _sync(doc, event, SyncStatus.CONFIRMED),
    Organizer.QuantitySyncFailed: lambda doc, event: _sync(
        doc, event, after_failure(event.retryable)
    ),
}


def update(doc: Doc, event: Any) -> None:
    """How one event changes the summary document."""
    change = CHANGES.get(type(event))
    if change is not None:
        change(doc, event)


class SummaryProjection(ReadModel):
    name = "summary"
    tables = (SUMMARY,)
    handles = frozenset({Organizer.Registered, *CHANGES})
    IGNORED = (
        NEVER_RECORDED
        | DUPLICATE_EVENTS
        | CORRECTION_EVENTS
        | {
            Organizer.GroupChangeReaffirmed,
            Organizer.StaleGroupChangeIgnored,
            Organizer.StripeCustomerDeleted,
            Organizer.StaleSubscriptionSnapshotIgnored,
            Organizer.RenewalQuantityChecked,
            Organizer.DriftDetected,
            Organizer.QuantitySyncSuperseded,
        }
    )

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)
        self.minimum_quantity = minimum_quantity

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        table = self.t("rm_organizer_summary")
        keys = organizer_keys(events)
        rows = load_rows(cursor, table, "organizer_uuid", keys)
        docs = {key: orjson.loads(row["document"]) for key, row in rows.items()}
        updated: dict[str, datetime] = {}
        for (event, position), key in zip(events, keys, strict=True):
            if type(event) is Organizer.Registered:
                organizer_id = event.platform_organizer_id
                docs.setdefault(key, new_document(organizer_id, self.minimum_quantity))
                rows.setdefault(key, {"organizer_uuid": key, "organizer_id": organizer_id})
            doc = docs.get(key)
            if doc is None:
                continue
            update(doc, event)
            self.derive(doc)
            updated[key] = event.timestamp  # formatted once, for the last event
            rows[key]["position"] = position
        for key, row in rows.items():
            doc = docs[key]
            if key in updated:
                doc["updated_at"] = to_text(updated[key])
            row["document"] = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()
        upsert_rows(cursor, table, SUMMARY, list(rows.values()))

    def derive(self, doc: Doc) -> None:
        doc["billable_quantity"] = max(len(doc["active_group_ids"]), self.minimum_quantity)
        subscription = doc["subscription"] or {}
        doc["drift"] = drift_between(
            subscription.get("status"),
            subscription.get("billed_quantity"),
            doc["billable_quantity"],
        )


def read_summary(database: Database, organizer_id: str) -> Doc | None:
    """The organizer's summary document (see ``new_document``), or None if unknown."""
    with database.transaction() as cursor:
        row = cursor.execute(
            "SELECT document FROM rm_organizer_summary WHERE organizer_id = :o", {"o": organizer_id}
        ).fetchone()
    return None if row is None else dict(orjson.loads(row["document"]))


# -- the staff search (app/entrypoints/http/routes/staff.py) --

SEARCH_SELECT = (
    "t.organizer_uuid, t.organizer_id, t.document, r.subscription_id, r.subscription_status,"
    " r.current_period_end, r.drift"
)


def like_literal(text: str) -> str:
    """``text`` as a LIKE pattern that matches it literally (``\\`` escapes)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_query(text: str) -> KeysetQuery:
    """Organizers whose platform id starts with ``text``, or whose Stripe customer or
    subscription id is ``text``, by organizer id. The customer id lives in the summary
    document (compact JSON, sorted keys), so it is matched in the document's text (with
    LIKE, which SQLite compares without case: Stripe's random ids do not collide so)."""
    where = (
        "(substr(t.organizer_id, 1, :length) = :text OR r.subscription_id = :text"
        " OR t.document LIKE :customer ESCAPE '\\')"
    )
    field = orjson.dumps({"customer_id": text}).decode()[1:-1]
    params = {"length": len(text), "text": text, "customer": f"%{like_literal(field)}%"}
    source = "rm_organizer_summary t LEFT JOIN rm_renewals r ON r.organizer_uuid = t.organizer_uuid"
    return KeysetQuery(SEARCH_SELECT, source, ("organizer_id", "organizer_uuid"), where, params)


def search_hit(row: Any) -> dict[str, Any]:
    """One search result: the organizer, its Stripe customer and subscription, drift."""
    document = orjson.loads(row["document"])
    return {
        "organizer_id": row["organizer_id"],
        "customer_id": document.get("customer_id"),
        "subscription_id": row["subscription_id"],
        "subscription_status": row["subscription_status"],
        "current_period_end": row["current_period_end"],
        "drift": bool(row["drift"]),
    }
