"""Correcting a renewal invoice to the groups active when its period started. Pure.

The rule (issue 10): the renewal invoice for the period starting at ``T`` charges
``billable_quantity(T)`` groups. When the renewal draft bills another quantity, the
difference is added to the draft while Stripe still lets it change (an invoice item on
the draft, negative for fewer groups). When the draft was finalised first, the
difference is charged or credited at once on its own document: a one-off invoice for
more groups, a credit note on the renewal invoice for fewer.

Corrections are additive: each covers the difference still outstanding when it was
decided, so a late group change after a correction adds another one, and the same
situation decided again (a replay, a duplicate webhook, a second worker) finds nothing
outstanding and records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.flat import field_values


class CorrectionKind(StrEnum):
    DRAFT_ITEM = "draft_item"  # an invoice item on the open renewal draft
    ONE_OFF_INVOICE = "one_off_invoice"  # more groups, draft missed: an invoice of its own
    CREDIT_NOTE = "credit_note"  # fewer groups, draft missed: a credit note on the invoice


class CorrectionStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    CONFIRMED = "confirmed"
    FAILED = "failed"  # Stripe refused it for good: a person decides (listed at risk)
    MISSED = "missed"  # the draft was finalised first: a late difference replaces it


OPEN_STATUSES = frozenset({CorrectionStatus.PENDING, CorrectionStatus.RETRYING})
# What no longer counts toward an invoice's quantity (a late difference replaces it).
VOID_STATUSES = frozenset({CorrectionStatus.MISSED})
# Invoices nothing is added to or credited on.
CLOSED_INVOICE_STATUSES = frozenset({"void", "uncollectible", "deleted"})


@dataclass(frozen=True, slots=True)
class RenewalInvoice:
    """What correcting one renewal invoice needs (aggregate state)."""

    invoice_id: str
    subscription_id: str
    customer_id: str
    period_start: datetime
    period_end: datetime
    billed_quantity: int
    unit_amount: int | None
    currency: str
    line_id: str
    status: str
    editable: bool  # a draft, as far as the ledger knows
    uncorrected_target: int | None = None  # reported as not correctable for this target

    def as_state(self) -> dict[str, Any]:
        return field_values(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RenewalInvoice:
        return cls(**state)


@dataclass(frozen=True, slots=True)
class Applied:
    """A correction already decided for an invoice: its kind, signed groups, status."""

    kind: str
    quantity: int
    status: str


@dataclass(frozen=True, slots=True)
class CorrectionDecision:
    """``kind`` None: the difference cannot be corrected automatically (``reason``)."""

    kind: CorrectionKind | None
    quantity: int  # signed: groups to add (> 0) or take off (< 0)
    target_quantity: int
    reason: str


def outstanding(invoice: RenewalInvoice, target: int, applied: Iterable[Applied]) -> int:
    """Groups the invoice still bills wrong once every live correction lands."""
    counted = sum(a.quantity for a in applied if a.status not in VOID_STATUSES)
    return target - invoice.billed_quantity - counted


def decide_correction(
    invoice: RenewalInvoice,
    *,
    target: int,
    applied: Iterable[Applied],
    subscription_ended: bool,
) -> CorrectionDecision | None:
    """What to do about one renewal invoice now. None: nothing (right, or waiting).

    A finalised invoice waits while a draft correction is still in flight: it either
    landed before finalisation (nothing more to do) or was refused (then it is missed,
    and the late difference is decided from what is outstanding).
    """
    corrections = list(applied)
    difference = outstanding(invoice, target, corrections)
    if difference == 0:
        return None
    billed = f"billed {invoice.billed_quantity}, {target} billable at the period start"

    def unresolved(why: str) -> CorrectionDecision:
        return CorrectionDecision(None, difference, target, f"{billed}; {why}")

    if invoice.status in CLOSED_INVOICE_STATUSES:
        return unresolved(f"the invoice is {invoice.status}")
    if subscription_ended:
        return unresolved("the subscription has ended")
    if invoice.unit_amount is None or not invoice.customer_id:
        return unresolved("the invoice does not state the per-group price or customer")
    if invoice.editable:
        return CorrectionDecision(CorrectionKind.DRAFT_ITEM, difference, target, billed)
    if any(a.kind == CorrectionKind.DRAFT_ITEM and a.status in OPEN_STATUSES for a in corrections):
        return None
    if difference > 0:
        return CorrectionDecision(CorrectionKind.ONE_OFF_INVOICE, difference, target, billed)
    if not invoice.line_id:
        return unresolved("the invoice's per-group line is unknown, so it cannot be credited")
    return CorrectionDecision(CorrectionKind.CREDIT_NOTE, difference, target, billed)
