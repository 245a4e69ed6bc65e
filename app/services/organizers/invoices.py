"""``GET /api/organizers/{id}/invoices``: the organizer's invoices, keyset-paged.

Pages like the timeline (``limit``, ``cursor`` → ``next_cursor``), newest period first;
the rows come from the invoices read model (``projections.invoices``).
"""

from __future__ import annotations

from adapters.persistence.database import Database
from app.services.audit.entries import InvalidCursorError
from app.services.ops.paging import decode_cursor as decode_text_key
from app.services.ops.paging import encode_cursor as encode_text_key
from app.services.organizers.models import Invoice, Invoices
from app.services.organizers.timeline import INSTANT_TEXT
from projections.invoices import InvoiceKey, read_invoices


def encode_cursor(key: InvoiceKey) -> str:
    return encode_text_key((key.period_start, key.invoice_id))


def decode_cursor(cursor: str) -> InvoiceKey:
    """The key an invoices cursor stands for, or :class:`InvalidCursorError`."""
    period_start, invoice_id = decode_text_key(cursor)
    if not INSTANT_TEXT.match(period_start):
        raise InvalidCursorError("not a cursor returned by this API")
    return InvoiceKey(period_start, invoice_id)


def read_page(
    database: Database, organizer_id: str, *, before: InvoiceKey | None, limit: int
) -> Invoices:
    """One page of invoices below ``before`` and the cursor of the next (None at the end)."""
    rows, last = read_invoices(database, organizer_id, before=before, limit=limit)
    return Invoices(
        invoices=[Invoice(**{k: row[k] for k in Invoice.model_fields}) for row in rows],
        next_cursor=None if last is None else encode_cursor(last),
    )


def read_all(database: Database, organizer_id: str) -> list[Invoice]:
    """Every invoice of the organizer, page by page (dev tools that look for one)."""
    found: list[Invoice] = []
    before: InvoiceKey | None = None
    while True:
        page = read_page(database, organizer_id, before=before, limit=200)
        found += page.invoices
        if page.next_cursor is None:
            return found
        before = decode_cursor(page.next_cursor)
