"""``GET /api/organizers/{id}/invoices/{invoice_id}``: one invoice explained (issue 16).

Everything comes from read models (a read path never calls Stripe): the invoice row
(``projections.invoices``), the group history (``projections.group_history``) and the
corrections queue (``projections.corrections``). The groups counted are those active at
the invoice's period start, the instant the renewal rule bills (domain/corrections.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.persistence.database import Database
from app.services.organizers.models import (
    CountedGroup,
    GroupChangeMade,
    Invoice,
    InvoiceCorrection,
    InvoiceDetail,
    Money,
)
from projections.corrections import corrections_of_invoice
from projections.group_history import (
    GroupChange,
    active_at,
    count_moves,
    group_names,
    read_group_changes,
)
from projections.invoices import read_invoice
from projections.times import from_text


def invoice_detail(database: Database, organizer_id: str, invoice_id: str) -> InvoiceDetail | None:
    """The invoice explained, or None when the organizer has no such invoice."""
    found = read_invoice(database, organizer_id, invoice_id)
    if found is None:
        return None
    row, previous = found
    changes = read_group_changes(database, organizer_id)
    names = group_names(changes)
    counted_at = from_text(str(row["period_start"]))
    since = None if previous is None else from_text(str(previous["period_start"]))
    return InvoiceDetail(
        invoice=Invoice(**{k: row[k] for k in Invoice.model_fields}),
        counted_at=counted_at,
        counted_groups=[
            CountedGroup(group_id=g, group_name=names.get(g))
            for g in active_at(changes, counted_at)
        ],
        previous_invoice_id=None if previous is None else str(previous["invoice_id"]),
        changes_since=since,
        changes_since_previous=changes_between(changes, names, since, counted_at),
        corrections=[_correction(c) for c in corrections_of_invoice(database, invoice_id)],
        hosted_invoice_url=row["hosted_invoice_url"],
        invoice_pdf=row["invoice_pdf"],
    )


def changes_between(
    changes: Sequence[GroupChange],
    names: Mapping[str, str],
    since: datetime | None,
    until: datetime,
) -> list[GroupChangeMade]:
    """The count-moving changes in (since, until], oldest first."""
    return [
        GroupChangeMade(
            group_id=c.group_id,
            group_name=names.get(c.group_id),
            change="opened" if c.active else "closed",
            occurred_at=c.occurred_at,
            change_id=c.change_id,
        )
        for c in count_moves(changes)
        if (since is None or c.occurred_at > since) and c.occurred_at <= until
    ]


def _correction(row: Mapping[str, Any]) -> InvoiceCorrection:
    return InvoiceCorrection(
        correction_id=str(row["correction_id"]),
        kind=row["kind"],
        quantity=int(row["quantity"]),
        amount=Money(amount=int(row["amount"]), currency=str(row["currency"])),
        status=str(row["status"]),
        requested_at=from_text(str(row["requested_at"])),
    )
