"""What the organizer's state forgets once nothing can still be decided about it (issue 12).

The per-invoice maps (``invoices``, ``renewal_invoices``, ``payments``, ``corrections``)
and the renewal notices grew with every renewal, so every command on a long-lived
organizer paid for its whole billing history. An entry leaves the state here, in the
events' ``take``/``apply`` and deterministically from event data (a replay forgets the
same entries at the same versions), once no decision can ask about it any more:

- an invoice whose status can never move again (``is_final``: paid, void, uncollectible
  rank highest, see ``domain.billing.INVOICE_STATUS_RANK``), recorded with its claim
  (``InvoiceRecorded.claimed``: the ledger saved ``invoice-final:<id>`` with it), at a
  later invoice event than the one that made it final (the reactor reviews that one with
  the invoice still there), and, for a renewal invoice, whose period ended more than
  ``DRAFT_WINDOW`` before (no late difference is decided for an ended period, see
  ``correct_renewal_invoices``; the window covers a reactor that lags) and whose
  corrections are all closed. A later
  delivery about it reads the claim (``record_invoice``): only unknown invoices pay that
  read. Invoices recorded before the claims existed are never forgotten (exact as before).
- a succeeded payment recorded with its claim (``payment-succeeded:<id>``): nothing but
  a later payment delivery asks about it, and that reads the claim.
- a renewal notice whose renewal is more than ``DRAFT_WINDOW`` past: the settled instant
  no longer asks about it, and a notice that late is refused as stale
  (``note_renewal_upcoming``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.billing import INVOICE_STATUS_RANK
from domain.corrections import OPEN_STATUSES, CorrectionStatus
from domain.invoice_corrections import DRAFT_WINDOW

if TYPE_CHECKING:
    from domain.organizer_state import OrganizerState

_FINAL_RANK = max(INVOICE_STATUS_RANK.values())


def is_final(status: str) -> bool:
    """An invoice status nothing advances from (``invoice_status_advances``)."""
    return INVOICE_STATUS_RANK.get(status, 0) == _FINAL_RANK


def forget_settled_invoices(org: OrganizerState, at: datetime) -> None:
    """Drop every invoice final by its claim that no decision can ask about after ``at``."""
    for invoice_id in list(org.final_invoices):
        renewal = org.renewal_invoices.get(invoice_id)
        if renewal is not None and (
            renewal["period_end"] + DRAFT_WINDOW > at or _has_open_correction(org, invoice_id)
        ):
            continue
        del org.final_invoices[invoice_id]
        org.invoices.pop(invoice_id, None)
        org.renewal_invoices.pop(invoice_id, None)
        for correction_id in [
            c for c, state in org.corrections.items() if state["invoice_id"] == invoice_id
        ]:
            del org.corrections[correction_id]


def _has_open_correction(org: OrganizerState, invoice_id: str) -> bool:
    return any(
        state["invoice_id"] == invoice_id and CorrectionStatus(state["status"]) in OPEN_STATUSES
        for state in org.corrections.values()
    )


def is_past_renewal(period_end: datetime, at: datetime) -> bool:
    """A renewal more than ``DRAFT_WINDOW`` past at ``at``: nothing decides about it."""
    return period_end < at - DRAFT_WINDOW


def forget_past_renewals(org: OrganizerState, at: datetime) -> None:
    """Drop the renewal notices whose renewal is past (``is_past_renewal``)."""
    for instant in [i for i in org.upcoming_renewals if is_past_renewal(_instant(i), at)]:
        del org.upcoming_renewals[instant]


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso)
