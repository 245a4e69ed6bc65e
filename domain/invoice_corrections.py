"""The organizer's renewal invoice corrections: decide, record, follow the sender's outcome.

Functions over an organizer's state (``CorrectionCommands`` delegates here, so the
aggregate root stays small). Each decision is recorded before anything is sent; the policy
is in ``domain/corrections.py``, the events in ``domain/correction_events.py``, the keys in
``domain/keys.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from domain.billing import TERMINAL_SUBSCRIPTION_STATUSES, InvoiceFacts
from domain.corrections import (
    OPEN_STATUSES,
    Applied,
    CorrectionKind,
    CorrectionStatus,
    RenewalInvoice,
    decide_correction,
)
from domain.keys import correction_identity, step_key

if TYPE_CHECKING:
    from domain.organizer_state import OrganizerState

RENEWAL = "subscription_cycle"
# Stripe finalises a renewal draft at the latest 72 h after creating it.
DRAFT_WINDOW = timedelta(hours=72)


class CorrectionError(ValueError):
    """A correction command the organizer's state does not allow."""


def take_renewal_invoice(org: OrganizerState, invoice: InvoiceFacts) -> None:
    """State change of an ``InvoiceRecorded`` for a renewal invoice (others: none)."""
    if invoice.billing_reason != RENEWAL:
        return
    known = org.renewal_invoices.get(invoice.invoice_id, {})
    org.renewal_invoices[invoice.invoice_id] = RenewalInvoice(
        invoice_id=invoice.invoice_id,
        subscription_id=invoice.subscription_id,
        customer_id=invoice.customer_id or known.get("customer_id", ""),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        billed_quantity=invoice.quantity,
        unit_amount=invoice.unit_amount,
        currency=invoice.currency,
        line_id=invoice.line_id or known.get("line_id", ""),
        status=invoice.status,
        # Once known finalised (a missed correction says so too), never a draft again.
        editable=invoice.status == "draft" and known.get("editable", True),
        uncorrected_target=known.get("uncorrected_target"),
    ).as_state()


def correct_renewal_invoices(
    org: OrganizerState, *, minimum: int, at: datetime, cause: str, invoice_id: str | None = None
) -> list[str]:
    """Decide the corrections the renewal invoices need now (``invoice_id``: only that
    one; else every one whose period has not ended). Returns the new correction ids."""
    if invoice_id is not None:
        chosen = [invoice_id] if invoice_id in org.renewal_invoices else []
    else:
        chosen = [i for i, inv in org.renewal_invoices.items() if inv["period_end"] > at]
    decided = []
    # A duplicate subscription's invoices are never corrected (issue 13): reported only.
    duplicates = org.duplicate_subscriptions
    chosen = [i for i in chosen if org.renewal_invoices[i]["subscription_id"] not in duplicates]
    for chosen_id in chosen:
        correction_id = _correct(org, chosen_id, minimum=minimum, at=at, cause=cause)
        if correction_id is not None:
            decided.append(correction_id)
    return decided


def _applied(org: OrganizerState, invoice_id: str) -> list[Applied]:
    return [
        Applied(c["kind"], c["quantity"], c["status"])
        for c in org.corrections.values()
        if c["invoice_id"] == invoice_id
    ]


def _subscription_ended(org: OrganizerState, subscription_id: str) -> bool:
    snapshot = org.observed_subscription(subscription_id)
    return snapshot is not None and snapshot.status in TERMINAL_SUBSCRIPTION_STATUSES


def _correct(
    org: OrganizerState,
    invoice_id: str,
    *,
    minimum: int,
    at: datetime,
    cause: str,
    replaces: str = "",
) -> str | None:
    invoice = RenewalInvoice.from_state(org.renewal_invoices[invoice_id])
    target = org.billable_quantity(invoice.period_start, minimum=minimum)
    decision = decide_correction(
        invoice,
        target=target,
        applied=_applied(org, invoice_id),
        subscription_ended=_subscription_ended(org, invoice.subscription_id),
    )
    if decision is None:
        return None
    if decision.kind is None:
        if invoice.uncorrected_target != target:
            org.trigger_event(
                org.RenewalInvoiceLeftUncorrected,
                invoice_id=invoice_id,
                subscription_id=invoice.subscription_id,
                period_start=invoice.period_start,
                period_end=invoice.period_end,
                billed_quantity=invoice.billed_quantity,
                target_quantity=target,
                reason=decision.reason,
                timestamp=at,
            )
        return None
    generation = 1 + sum(1 for c in org.corrections.values() if c["invoice_id"] == invoice_id)
    correction_id, key = correction_identity(
        organizer_id=org.platform_organizer_id,
        invoice_id=invoice_id,
        kind=decision.kind,
        billed_quantity=invoice.billed_quantity,
        target_quantity=target,
        generation=generation,
    )
    unit = invoice.unit_amount or 0  # decide_correction refuses an unknown unit price
    fields: dict[str, Any] = {
        "correction_id": correction_id,
        "kind": decision.kind.value,
        "invoice_id": invoice_id,
        "subscription_id": invoice.subscription_id,
        "customer_id": invoice.customer_id,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "billed_quantity": invoice.billed_quantity,
        "target_quantity": target,
        "quantity": decision.quantity,
        "unit_amount": unit,
        "amount": decision.quantity * unit,
        "currency": invoice.currency,
        "line_id": invoice.line_id,
        "generation": generation,
        "idempotency_key": key,
        "cause": cause,
        "timestamp": at,
    }
    if decision.kind is CorrectionKind.DRAFT_ITEM:
        org.trigger_event(org.DraftCorrectionRequested, **fields)
    else:
        org.trigger_event(org.LateDifferenceRequested, replaces=replaces, **fields)
    return correction_id


def correction(org: OrganizerState, correction_id: str) -> dict[str, Any]:
    try:
        return org.corrections[correction_id]
    except KeyError:
        msg = f"unknown correction {correction_id!r}"
        raise CorrectionError(msg) from None


def is_open(state: dict[str, Any]) -> bool:
    return CorrectionStatus(state["status"]) in OPEN_STATUSES


def confirm_step(
    org: OrganizerState,
    correction_id: str,
    *,
    step: str,
    stripe_object_id: str,
    stripe_request_id: str,
    at: datetime,
) -> bool:
    state = correction(org, correction_id)
    if not is_open(state) or step in state["steps"]:
        return False
    org.trigger_event(
        org.CorrectionStepDone,
        correction_id=correction_id,
        step=step,
        stripe_object_id=stripe_object_id,
        stripe_request_id=stripe_request_id,
        timestamp=at,
    )
    return True


def confirm(
    org: OrganizerState,
    correction_id: str,
    *,
    stripe_object_id: str,
    stripe_request_id: str,
    at: datetime,
) -> bool:
    state = correction(org, correction_id)
    if not is_open(state):
        return False
    org.trigger_event(
        org.CorrectionConfirmed,
        correction_id=correction_id,
        kind=state["kind"],
        invoice_id=state["invoice_id"],
        stripe_object_id=stripe_object_id,
        stripe_request_id=stripe_request_id,
        period_start=state["period_start"],
        billed_quantity=state["billed_quantity"],
        target_quantity=state["target_quantity"],
        quantity=state["quantity"],
        unit_amount=state["unit_amount"],
        amount=state["amount"],
        currency=state["currency"],
        timestamp=at,
    )
    return True


def fail(
    org: OrganizerState,
    correction_id: str,
    *,
    error_code: str,
    message: str,
    retryable: bool,
    outcome_unknown: bool,
    next_attempt_at: datetime | None,
    step: str,
    at: datetime,
) -> bool:
    state = correction(org, correction_id)
    if not is_open(state):
        return False
    unknown = outcome_unknown and retryable
    org.trigger_event(
        org.CorrectionAttemptFailed,
        correction_id=correction_id,
        error_code=error_code,
        message=message[:500],
        retryable=retryable,
        attempt=state["attempts"] + 1,
        next_attempt_at=next_attempt_at if retryable else None,
        outcome_unknown=unknown,
        next_idempotency_key=step_key(state, step, state["key_generation"] + 1) if unknown else "",
        timestamp=at,
    )
    return True


def miss(
    org: OrganizerState, correction_id: str, *, reason: str, minimum: int, at: datetime
) -> str:
    """The draft was finalised before this correction reached it: record that, then decide
    the late difference at once. Returns the new correction id ("" if none)."""
    state = correction(org, correction_id)
    if state["kind"] != CorrectionKind.DRAFT_ITEM or not is_open(state):
        return ""
    org.trigger_event(
        org.DraftCorrectionMissed,
        correction_id=correction_id,
        invoice_id=state["invoice_id"],
        reason=reason[:500],
        timestamp=at,
    )
    late = _correct(
        org,
        state["invoice_id"],
        minimum=minimum,
        at=at,
        cause=f"draft correction {correction_id} missed",
        replaces=correction_id,
    )
    return late or ""


def draft_window_closes(state: dict[str, Any]) -> datetime:
    """When no draft correction can land any more (Stripe has finalised the draft)."""
    closes: datetime = state["period_start"] + DRAFT_WINDOW
    return closes
