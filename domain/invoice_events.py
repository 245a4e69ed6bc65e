"""Events of Stripe invoices and payments, assigned in ``Organizer``'s body (all of them
Stripe facts: a delivery already taken records nothing).

``Organizer`` subclasses each as ``Organizer.<Name>`` (with ``Organizer.StripeFact``), so
their stored topics read ``domain.organizer:Organizer.<Name>``. Trigger them through the
aggregate, never from this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain import invoice_corrections as corrections
from domain.billing import InvoiceFacts
from domain.settled import forget_settled_invoices, is_final
from domain.stripe_fact_events import StripeFact

if TYPE_CHECKING:
    from domain.organizer import Organizer


class DraftInvoiceQuantityMismatch(StripeFact):
    """A renewal draft billed another quantity than the ledger expected.

    No longer recorded (issue 10: the draft is corrected instead, see
    ``DraftCorrectionRequested``); kept so that stored history still reads."""

    invoice_id: str
    subscription_id: str
    period_start: datetime
    billed_quantity: int
    expected_quantity: int


class InvoiceRecorded(StripeFact):
    invoice_id: str
    subscription_id: str
    billing_reason: str
    period_start: datetime
    period_end: datetime
    quantity: int
    subtotal: int
    tax: int
    total: int
    amount_due: int
    amount_paid: int
    currency: str
    status: str
    # When Stripe says it happened (its event's ``created``); None on facts recorded
    # before the ledger kept it (they tell their time by ``timestamp``).
    occurred_at: datetime | None = None
    # Since issue 10 (older records: unknown); see InvoiceFacts.
    customer_id: str = ""
    line_id: str = ""
    unit_amount: int | None = None
    # Since issue 16 (older records and drafts: none); see InvoiceFacts.
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    # Since issue 12: a final status saved with its claim (``invoice-final:<id>``), so
    # the state may forget the invoice once settled (domain/settled.py).
    claimed: bool = False

    def take(self, org: Organizer) -> None:
        org.invoices[self.invoice_id] = self.status
        facts = {k: getattr(self, k) for k in InvoiceFacts.__dataclass_fields__}
        corrections.take_renewal_invoice(org, InvoiceFacts(**facts))
        # Before marking this one: the event that makes an invoice final never forgets it,
        # so the reactor's review of that event (corrections, syncs renewed) still sees it.
        forget_settled_invoices(org, self.timestamp)
        if self.claimed and is_final(self.status):
            org.final_invoices[self.invoice_id] = None


class PaymentSucceeded(StripeFact):
    invoice_id: str
    amount: int
    currency: str
    # When Stripe says it happened (its event's ``created``); None on facts recorded
    # before the ledger kept it (they tell their time by ``timestamp``).
    occurred_at: datetime | None = None
    # Since issue 12: saved with its claim (``payment-succeeded:<id>``), which answers
    # later payment deliveries, so the state does not keep it.
    claimed: bool = False

    def take(self, org: Organizer) -> None:
        if self.claimed:
            org.payments.pop(self.invoice_id, None)
        else:
            org.payments[self.invoice_id] = "succeeded"


class PaymentFailed(StripeFact):
    invoice_id: str
    amount: int
    currency: str
    attempt_count: int
    # When Stripe says it happened (its event's ``created``); None on facts recorded
    # before the ledger kept it (they tell their time by ``timestamp``).
    occurred_at: datetime | None = None

    def take(self, org: Organizer) -> None:
        org.payments[self.invoice_id] = f"failed:{self.attempt_count}"
