"""The next renewal invoice as Stripe would build it (``POST /v1/invoices/create_preview``),
read once at the boundary into a small validated value (issue 13: the estimate for a
tiered or volume price, recorded when groups change, never fetched per page view)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.stripe.payload import Node, TranslationError


@dataclass(frozen=True)
class RenewalPreviewRead:
    """Minor units of ``currency``; ``period_end``: when the previewed renewal is billed."""

    quantity: int
    subtotal: int
    tax: int
    total: int
    amount_due: int
    currency: str
    period_end: datetime
    discount: int = 0  # what the invoice's discounts take off the subtotal


def read_renewal_preview(
    invoice: Mapping[str, Any], quantity: int, path: str = "invoice_preview"
) -> RenewalPreviewRead:
    """An invoice preview read and validated (the amounts the billing page shows)."""
    node = Node.root(invoice, path)
    amounts = {key: node.integer(key) for key in ("subtotal", "total", "amount_due")}
    excluding = node.optional_integer("total_excluding_tax")
    tax = amounts["total"] - (amounts["subtotal"] if excluding is None else excluding)
    discount = sum(entry.integer("amount") for entry in node.entries("total_discount_amounts"))
    if tax < 0 or amounts["amount_due"] < 0 or not 0 <= discount <= amounts["subtotal"]:
        msg = (
            f"{path}: negative tax ({tax}) or amount_due ({amounts['amount_due']}), or a"
            f" discount ({discount}) outside 0..subtotal"
        )
        raise TranslationError(msg)
    return RenewalPreviewRead(
        quantity=quantity,
        subtotal=amounts["subtotal"],
        tax=tax,
        total=amounts["total"],
        amount_due=amounts["amount_due"],
        currency=node.currency("currency"),
        period_end=node.instant("period_end"),
        discount=discount,
    )
