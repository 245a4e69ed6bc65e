"""Credit notes: lowering a finalized invoice, before or after it was paid.

Stripe's rule (docs.stripe.com/api/credit_notes/create): a credit note first reduces
the invoice's `amount_remaining` (and `amount_due`), never below zero — its
`pre_payment_amount`; the rest is its `post_payment_amount`, which must be given out
exactly as `credit_amount` (to the customer balance, applied to the next invoice),
`refund_amount` and `out_of_band_amount` (required explicitly since 2019-12-03).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stripe_double import balance, billing
from stripe_double.errors import invalid
from stripe_double.events import emit
from stripe_double.invoices import div_round, settle_amounts
from stripe_double.objects import list_object
from stripe_double.state import DoubleState, new_id, snapshot

REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


@dataclass(frozen=True)
class Allocation:
    """Where the post-payment part of a credit note goes."""

    credit_amount: int = 0
    refund_amount: int = 0
    out_of_band_amount: int = 0

    def total(self) -> int:
        """What the allocation hands out."""
        return self.credit_amount + self.refund_amount + self.out_of_band_amount


@dataclass(frozen=True)
class NoteLine:
    """One requested line: a custom amount, or (part of) an invoice line."""

    kind: str
    amount: int
    quantity: int | None
    unit_amount: int | None
    description: str | None
    invoice_line_item: str | None
    metadata: dict[str, str]


def creditable(inv: dict[str, Any]) -> int:
    """What credit notes may still take off the invoice."""
    credited = int(inv["pre_payment_credit_notes_amount"])
    credited += int(inv["post_payment_credit_notes_amount"])
    return int(inv["total"]) - credited


def _tax(inv: dict[str, Any], amount: int, bps: int) -> int:
    return div_round(amount * bps, 10_000) if inv["automatic_tax"]["enabled"] else 0


def _line_object(
    state: DoubleState, inv: dict[str, Any], line: NoteLine, note_id: str
) -> dict[str, Any]:
    tax = _tax(inv, line.amount, state.config.tax_rate_bps)
    taxes = (
        [{"amount": tax, "tax_behavior": "exclusive", "taxable_amount": line.amount}]
        if inv["automatic_tax"]["enabled"]
        else []
    )
    return {
        "id": new_id("cnli"),
        "object": "credit_note_line_item",
        "amount": line.amount,
        "credit_note": note_id,
        "description": line.description,
        "discount_amount": 0,
        "discount_amounts": [],
        "invoice_line_item": line.invoice_line_item,
        "livemode": False,
        "metadata": line.metadata,
        "pretax_credit_amounts": [],
        "quantity": line.quantity,
        "tax_rates": [],
        "taxes": taxes,
        "type": line.kind,
        "unit_amount": line.unit_amount,
        "unit_amount_decimal": None if line.unit_amount is None else str(line.unit_amount),
    }


def _split(
    inv: dict[str, Any], total: int, allocation: Allocation, *, preview: bool
) -> tuple[int, int]:
    """(pre-payment, post-payment) parts of a credit note of `total`; a preview does not
    insist on the allocation (it is how a caller learns the amount to allocate)."""
    if total <= 0:
        raise invalid("The credit note total must be positive.", param="amount")
    limit = creditable(inv)
    if total > limit:
        raise invalid(
            f"The credit note total ({total}) exceeds the invoice's remaining creditable "
            f"amount ({limit}).",
            param="amount",
        )
    pre = min(total, int(inv["amount_remaining"])) if inv["status"] == "open" else 0
    post = total - pre
    if allocation.total() != post and not (preview and not allocation.total()):
        raise invalid(
            f"The sum of credit_amount, refund_amount and out_of_band_amount "
            f"({allocation.total()}) must equal the credit note's post-payment amount ({post}).",
            param="credit_amount",
        )
    return pre, post


def issue(
    state: DoubleState,
    inv: dict[str, Any],
    *,
    lines: list[NoteLine],
    amount: int | None,
    allocation: Allocation,
    reason: str | None,
    memo: str | None,
    metadata: dict[str, str],
    preview: bool = False,
) -> dict[str, Any]:
    """Create a credit note on a finalized invoice and apply it (events included);
    `preview`: only answer the credit note it would be (`GET /v1/credit_notes/preview`)."""
    if inv["status"] not in ("open", "paid"):
        raise invalid(
            f"A credit note needs a finalized (open or paid) invoice; {inv['id']} is "
            f"{inv['status']}.",
            param="invoice",
        )
    note_id = new_id("cn")
    objs = [_line_object(state, inv, line, note_id) for line in lines]
    subtotal = sum(line.amount for line in lines) if lines else int(amount or 0)
    tax = sum(int(t["amount"]) for obj in objs for t in obj["taxes"])
    total = subtotal + tax
    if lines and amount is not None and amount != total:
        raise invalid(f"amount ({amount}) must equal the lines' total ({total}).", param="amount")
    pre, post = _split(inv, total, allocation, preview=preview)
    at = state.now_for(inv["customer"])
    count = sum(1 for n in state.objects["credit_note"].values() if n["invoice"] == inv["id"])
    note: dict[str, Any] = {
        "id": note_id,
        "object": "credit_note",
        "amount": total,
        "amount_shipping": 0,
        "created": at,
        "currency": inv["currency"],
        "customer": inv["customer"],
        "customer_account": None,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": at,
        "invoice": inv["id"],
        "lines": list_object(objs, f"/v1/credit_notes/{note_id}/lines"),
        "livemode": False,
        "memo": memo,
        "metadata": metadata,
        "number": f"{inv['number']}-CN-{count + 1:02d}",
        "out_of_band_amount": allocation.out_of_band_amount or None,
        "pdf": f"https://pay.stripe.com/credit_notes/{note_id}/pdf",
        "post_payment_amount": post,
        "pre_payment_amount": pre,
        "pretax_credit_amounts": [],
        "reason": reason,
        "refunds": _refunds(allocation),
        "shipping_cost": None,
        "status": "issued",
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "total": total,
        "total_excluding_tax": subtotal,
        "total_taxes": [],
        "type": "mixed" if pre and post else ("pre_payment" if pre else "post_payment"),
        "voided_at": None,
    }
    if not preview:
        state.put(note)
        _apply(state, inv, note, allocation, at=at)
    return note


def _refunds(allocation: Allocation) -> list[dict[str, Any]]:
    if not allocation.refund_amount:
        return []
    return [
        {
            "amount_refunded": allocation.refund_amount,
            "payment_record_refund": None,
            "refund": new_id("re"),
            "type": "refund",
        }
    ]


def _apply(
    state: DoubleState,
    inv: dict[str, Any],
    note: dict[str, Any],
    allocation: Allocation,
    *,
    at: int,
) -> None:
    before = snapshot(inv)
    inv["pre_payment_credit_notes_amount"] = (
        int(inv["pre_payment_credit_notes_amount"]) + note["pre_payment_amount"]
    )
    inv["post_payment_credit_notes_amount"] = (
        int(inv["post_payment_credit_notes_amount"]) + note["post_payment_amount"]
    )
    settle_amounts(inv)
    emit(state, "credit_note.created", note, at=at)
    if allocation.credit_amount:
        customer = state.get("customer", inv["customer"])
        txn = balance.record(
            state,
            customer,
            -allocation.credit_amount,
            kind="credit_note",
            currency=inv["currency"],
            at=at,
            invoice=inv["id"],
            credit_note=note["id"],
        )
        note["customer_balance_transaction"] = txn["id"]
    # Credited down to nothing: an open invoice has nothing left to collect.
    if inv["status"] == "open" and inv["amount_remaining"] == 0:
        inv["status"] = "paid"
        inv["status_transitions"]["paid_at"] = at
        emit(state, "invoice.updated", inv, at=at, previous=before)
        emit(state, "invoice.paid", inv, at=at)
        billing.settle_invoice(state, inv, paid=True, at=at)
    else:
        emit(state, "invoice.updated", inv, at=at, previous=before)
