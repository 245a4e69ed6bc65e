"""Events of renewal invoice corrections (issue 10), assigned in ``Organizer``'s body.

``Organizer`` subclasses each as ``Organizer.<Name>`` (with ``Organizer.Event``), so
their stored topics read ``domain.organizer:Organizer.<Name>`` like every other
organizer event. Trigger them through the aggregate (``org.CorrectionConfirmed``),
never from this module.

State kept per correction (``org.corrections[id]``) is what the sender's next attempt
needs; the history is the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.corrections import CorrectionStatus


class CorrectionRequested(Aggregate.Event):
    """A decided correction of one renewal invoice, before anything is sent.

    ``quantity`` is signed (groups added, or taken off when negative), ``amount`` is
    ``quantity * unit_amount`` in minor units; ``idempotency_key`` is the deterministic
    base of every Stripe request it makes.
    """

    correction_id: str
    kind: str
    invoice_id: str
    subscription_id: str
    customer_id: str
    period_start: datetime
    period_end: datetime
    billed_quantity: int
    target_quantity: int
    quantity: int
    unit_amount: int
    amount: int
    currency: str
    line_id: str
    generation: int
    idempotency_key: str
    cause: str

    def apply(self, org: Any) -> None:
        org.corrections[self.correction_id] = {
            "kind": self.kind,
            "invoice_id": self.invoice_id,
            "subscription_id": self.subscription_id,
            "customer_id": self.customer_id,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "billed_quantity": self.billed_quantity,
            "target_quantity": self.target_quantity,
            "quantity": self.quantity,
            "unit_amount": self.unit_amount,
            "amount": self.amount,
            "currency": self.currency,
            "line_id": self.line_id,
            "idempotency_key": self.idempotency_key,
            "status": CorrectionStatus.PENDING.value,
            "attempts": 0,
            "key_generation": 0,
            "verify_first": False,
            "next_attempt_at": None,
            "requested_at": self.timestamp,
            "error": None,
            "steps": {},
        }


class DraftCorrectionRequested(CorrectionRequested):
    """The renewal draft bills another quantity: an invoice item on it will fix it."""


class LateDifferenceRequested(CorrectionRequested):
    """The renewal invoice was finalised first: the difference is charged (one-off
    invoice) or credited (credit note) at once. ``replaces``: the draft correction that
    missed, if any."""

    replaces: str


class CorrectionStepDone(Aggregate.Event):
    """One Stripe call of a correction that takes several (the one-off invoice's item)."""

    correction_id: str
    step: str
    stripe_object_id: str
    stripe_request_id: str

    def apply(self, org: Any) -> None:
        correction = org.corrections[self.correction_id]
        correction["steps"] = {**correction["steps"], self.step: self.stripe_object_id}
        correction["verify_first"] = False


class CorrectionConfirmed(Aggregate.Event):
    """Stripe holds the correction. The fields say what it changed, for the audit."""

    correction_id: str
    kind: str
    invoice_id: str
    stripe_object_id: str
    stripe_request_id: str
    period_start: datetime
    billed_quantity: int
    target_quantity: int
    quantity: int
    unit_amount: int
    amount: int
    currency: str

    def apply(self, org: Any) -> None:
        correction = org.corrections[self.correction_id]
        correction["status"] = CorrectionStatus.CONFIRMED.value
        correction["stripe_object_id"] = self.stripe_object_id
        correction["next_attempt_at"] = None


class CorrectionAttemptFailed(Aggregate.Event):
    """An attempt failed. ``outcome_unknown`` (a 5xx): the next attempt reads Stripe
    first, then uses ``next_idempotency_key`` — never the spent key again."""

    correction_id: str
    error_code: str
    message: str
    retryable: bool
    attempt: int
    next_attempt_at: datetime | None
    outcome_unknown: bool
    next_idempotency_key: str

    def apply(self, org: Any) -> None:
        correction = org.corrections[self.correction_id]
        status = CorrectionStatus.RETRYING if self.retryable else CorrectionStatus.FAILED
        correction["status"] = status.value
        correction["attempts"] = self.attempt
        correction["error"] = f"{self.error_code}: {self.message}"
        correction["next_attempt_at"] = self.next_attempt_at
        if self.outcome_unknown:
            correction["key_generation"] += 1
            correction["verify_first"] = True


class DraftCorrectionMissed(Aggregate.Event):
    """Stripe finalised the draft before the correction reached it."""

    correction_id: str
    invoice_id: str
    reason: str

    def apply(self, org: Any) -> None:
        org.corrections[self.correction_id]["status"] = CorrectionStatus.MISSED.value
        org.corrections[self.correction_id]["next_attempt_at"] = None
        invoice = org.renewal_invoices.get(self.invoice_id)
        if invoice is not None:
            invoice["editable"] = False


class RenewalInvoiceLeftUncorrected(Aggregate.Event):
    """A renewal invoice bills another quantity and cannot be corrected automatically
    (``reason``): recorded once per target, listed at risk for finance."""

    invoice_id: str
    subscription_id: str
    period_start: datetime
    period_end: datetime
    billed_quantity: int
    target_quantity: int
    reason: str

    def apply(self, org: Any) -> None:
        invoice = org.renewal_invoices.get(self.invoice_id)
        if invoice is not None:
            invoice["uncorrected_target"] = self.target_quantity
