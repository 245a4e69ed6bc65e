"""Invoices: one row per Stripe invoice, at its latest recorded status (organizer API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.persistence.database import Cursor, Database
from domain.organizer import Organizer
from projections.base import Positioned, ReadModel, load_rows, organizer_keys
from projections.events import (
    CORRECTION_EVENTS,
    CUSTOMER_EVENTS,
    DUPLICATE_EVENTS,
    GROUP_EVENTS,
    NEVER_RECORDED,
    SUBSCRIPTION_EVENTS,
    SYNC_EVENTS,
)
from projections.times import fmt_time
from projections.view import Column, ReadModelView, TableSpec

INVOICES = TableSpec(
    "rm_invoices",
    (
        Column("invoice_id", "text", primary_key=True),
        Column("organizer_uuid", "text", nullable=False),
        Column("organizer_id", "text", nullable=False),
        Column("subscription_id", "text", nullable=False),
        Column("status", "text", nullable=False),
        Column("billing_reason", "text", nullable=False),
        Column("period_start", "text", nullable=False),
        Column("period_end", "text", nullable=False),
        Column("quantity", "int", nullable=False),
        Column("subtotal", "bigint", nullable=False),
        Column("tax", "bigint", nullable=False),
        Column("total", "bigint", nullable=False),
        Column("currency", "text", nullable=False),
        Column("position", "bigint", nullable=False),
        # Since issue 16: Stripe's links, null until it finalizes the invoice.
        Column("hosted_invoice_url", "text"),
        Column("invoice_pdf", "text"),
    ),
    indexes=(("organizer_id", "period_start"),),
)
NAMES = TableSpec(
    "rm_invoice_organizers",
    (
        Column("organizer_uuid", "text", primary_key=True),
        Column("organizer_id", "text", nullable=False),
    ),
)


class InvoicesProjection(ReadModel):
    name = "invoices"
    tables = (INVOICES, NAMES)
    handles = frozenset({Organizer.Registered, Organizer.InvoiceRecorded})
    IGNORED = (
        NEVER_RECORDED
        | DUPLICATE_EVENTS
        | GROUP_EVENTS
        | CUSTOMER_EVENTS
        | SUBSCRIPTION_EVENTS
        | SYNC_EVENTS
        | CORRECTION_EVENTS
        | {Organizer.PaymentSucceeded, Organizer.PaymentFailed}
    )

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        keys = organizer_keys(events)
        known = load_rows(cursor, self.t("rm_invoice_organizers"), "organizer_uuid", keys)
        names = {k: str(r["organizer_id"]) for k, r in known.items()}
        new_names: list[dict[str, Any]] = []
        invoices: dict[str, dict[str, Any]] = {}
        for (event, position), key in zip(events, keys, strict=True):
            if type(event) is Organizer.Registered:
                names[key] = event.platform_organizer_id
                new_names.append({"organizer_uuid": key, "organizer_id": names[key]})
            elif type(event) is Organizer.InvoiceRecorded:
                invoices[event.invoice_id] = {
                    "invoice_id": event.invoice_id,
                    "organizer_uuid": key,
                    "organizer_id": names.get(key, key),
                    "subscription_id": event.subscription_id,
                    "status": event.status,
                    "billing_reason": event.billing_reason,
                    "period_start": fmt_time(event.period_start),
                    "period_end": fmt_time(event.period_end),
                    "quantity": event.quantity,
                    "subtotal": event.subtotal,
                    "tax": event.tax,
                    "total": event.total,
                    "currency": event.currency,
                    "position": position,
                    **_links(event, invoices.get(event.invoice_id)),
                }
        _keep_known_links(cursor, self.t("rm_invoices"), invoices)
        self.view.upsert(cursor, NAMES, new_names)
        self.view.upsert(cursor, INVOICES, list(invoices.values()))


_LINKS = ("hosted_invoice_url", "invoice_pdf")


def _links(event: Organizer.InvoiceRecorded, earlier: Mapping[str, Any] | None) -> dict[str, Any]:
    """The event's links, or the batch's earlier ones where it has none: an invoice's
    links arrive once Stripe finalizes it, and the newest known one wins."""
    return {
        name: getattr(event, name) or (None if earlier is None else earlier[name])
        for name in _LINKS
    }


def _keep_known_links(cursor: Cursor, table: str, invoices: Mapping[str, dict[str, Any]]) -> None:
    """Fill links an invoice's newest event lacks from its stored row (an earlier batch)."""
    missing = [key for key, row in invoices.items() if any(row[n] is None for n in _LINKS)]
    if not missing:
        return
    for key, stored in load_rows(cursor, table, "invoice_id", missing).items():
        row = invoices[key]
        for name in _LINKS:
            row[name] = row[name] or stored.get(name)


@dataclass(frozen=True)
class InvoiceKey:
    """An invoice's place in its organizer's list: newest period first, then its id.

    Both are fixed once Stripe issues the invoice (a later status only rewrites the other
    columns), so a client paging while invoices are recorded never sees one twice.
    """

    period_start: str  # fmt_time text: fixed width, sorts as it reads on both stores
    invoice_id: str


def read_invoices(
    database: Database, organizer_id: str, *, before: InvoiceKey | None, limit: int
) -> tuple[list[Mapping[str, Any]], InvoiceKey | None]:
    """Up to ``limit`` of the organizer's invoices after ``before`` (keyset paging), newest
    period first, and the key to continue from (None on the last page)."""
    where = "organizer_id = :o"
    params: dict[str, Any] = {"o": organizer_id, "limit": limit + 1}
    if before is not None:
        where += " AND (period_start < :p OR (period_start = :p AND invoice_id < :i))"
        params |= {"p": before.period_start, "i": before.invoice_id}
    with database.transaction() as cursor:
        rows = cursor.execute(
            f"SELECT * FROM rm_invoices WHERE {where}"
            " ORDER BY period_start DESC, invoice_id DESC LIMIT :limit",
            params,
        ).fetchall()
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return page, (
        None if last is None else InvoiceKey(str(last["period_start"]), str(last["invoice_id"]))
    )


def read_invoice(
    database: Database, organizer_id: str, invoice_id: str
) -> tuple[Mapping[str, Any], Mapping[str, Any] | None] | None:
    """The organizer's invoice and the one before it (by period start), or None: unknown
    here, or another organizer's (the same answer, so an id reveals nothing)."""
    with database.transaction() as cursor:
        row = cursor.execute(
            "SELECT * FROM rm_invoices WHERE organizer_id = :o AND invoice_id = :i",
            {"o": organizer_id, "i": invoice_id},
        ).fetchone()
        if row is None:
            return None
        previous = cursor.execute(
            "SELECT * FROM rm_invoices WHERE organizer_id = :o AND period_start < :p"
            " ORDER BY period_start DESC, invoice_id DESC LIMIT 1",
            {"o": organizer_id, "p": row["period_start"]},
        ).fetchone()
    return row, previous


def read_invoices_between(
    database: Database, organizer_id: str, start: str, end: str
) -> list[Mapping[str, Any]]:
    """The organizer's invoices whose period meets [start, end] (fmt_time text), oldest first."""
    with database.transaction() as cursor:
        return list(
            cursor.execute(
                "SELECT * FROM rm_invoices WHERE organizer_id = :o"
                " AND period_end >= :s AND period_start <= :e"
                " ORDER BY period_start, invoice_id",
                {"o": organizer_id, "s": start, "e": end},
            ).fetchall()
        )
