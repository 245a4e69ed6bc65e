"""Invoice items: one-off charges or credits, pending or on a draft invoice.

An item with `invoice` set sits on that draft as a line (`parent.type =
"invoice_item_details"`) and counts in its totals; an item without one is *pending* and
is pulled into the customer's next invoice: the next subscription invoice (renewal
drafts included) unless it names another subscription, or a one-off invoice created with
`pending_invoice_items_behavior=include` (docs.stripe.com/api/invoiceitems/create).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from stripe_double.errors import invalid
from stripe_double.events import emit
from stripe_double.invoices import totals
from stripe_double.state import DoubleState, new_id, snapshot

MAX_ITEMS_PER_INVOICE = 250


@dataclass(frozen=True)
class Pricing:
    """What one unit costs: a decimal amount in minor units, and the price behind it."""

    unit_amount_decimal: Decimal
    price: dict[str, Any] | None = None

    def amount(self, quantity: Decimal) -> int:
        """unit times quantity in whole minor units, half away from zero (negatives too)."""
        return int((self.unit_amount_decimal * quantity).to_integral_value(ROUND_HALF_UP))

    def wire(self) -> dict[str, Any]:
        """The `pricing` hash of an invoice item and of its line."""
        details = (
            {"price": self.price["id"], "product": self.price["product"]}
            if self.price is not None
            else None
        )
        return {
            "price_details": details,
            "type": "price_details",
            "unit_amount_decimal": decimal_text(self.unit_amount_decimal),
        }


def decimal_text(value: Decimal) -> str:
    """A decimal as Stripe writes it: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def editable(state: DoubleState, item: dict[str, Any]) -> bool:
    """Pending items, and items on a draft, can still change."""
    inv = state.find("invoice", item["invoice"])
    return inv is None or inv["status"] == "draft"


def new_item(
    *,
    customer: dict[str, Any],
    currency: str,
    pricing: Pricing,
    quantity: Decimal,
    amount: int,
    description: str | None,
    metadata: dict[str, str],
    period: tuple[int, int],
    subscription_id: str | None,
    discountable: bool,
    at: int,
) -> dict[str, Any]:
    """An `invoiceitem` object, not attached to any invoice yet."""
    parent = (
        {
            "subscription_details": {"subscription": subscription_id, "subscription_item": None},
            "type": "subscription_details",
        }
        if subscription_id
        else None
    )
    return {
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer["id"],
        "customer_account": None,
        "date": at,
        "description": description,
        "discountable": discountable,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": metadata,
        "net_amount": amount,
        "parent": parent,
        "period": {"end": period[1], "start": period[0]},
        "pricing": pricing.wire(),
        "proration": False,
        "proration_details": {"credited_items": None, "discount_amounts": []},
        "quantity": int(quantity),
        "quantity_decimal": decimal_text(quantity),
        "tax_rates": [],
        "test_clock": customer.get("test_clock"),
    }


def subscription_of(item: dict[str, Any]) -> str | None:
    """The subscription an item was created for, if any."""
    details = (item.get("parent") or {}).get("subscription_details") or {}
    sub_id = details.get("subscription")
    return str(sub_id) if sub_id else None


def line_for(item: dict[str, Any], *, invoice_id: str | None) -> dict[str, Any]:
    """The invoice line showing `item` (basil shape: `parent.invoice_item_details`)."""
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discount_amounts": [],
        "discountable": item["discountable"],
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(item["metadata"]),
        "parent": {
            "invoice_item_details": {
                "invoice_item": item["id"],
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": subscription_of(item),
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "period": dict(item["period"]),
        "pretax_credit_amounts": [],
        "pricing": snapshot(item["pricing"]),
        "quantity": item["quantity"],
        "subtotal": item["amount"],
        "taxes": [],
    }


def attach(state: DoubleState, item: dict[str, Any], inv: dict[str, Any]) -> None:
    """Put `item` on the draft `inv` as a line (totals recomputed)."""
    if item["currency"] != inv["currency"]:
        raise invalid(
            f"The currency of the invoice item ({item['currency']}) must match the currency "
            f"of the invoice ({inv['currency']}).",
            param="currency",
        )
    lines: list[dict[str, Any]] = inv["lines"]["data"]
    on_invoice = sum(1 for entry in lines if entry["parent"]["type"] == "invoice_item_details")
    if on_invoice >= MAX_ITEMS_PER_INVOICE:
        raise invalid(
            f"An invoice can have at most {MAX_ITEMS_PER_INVOICE} invoice items.", param="invoice"
        )
    entry = line_for(item, invoice_id=inv["id"])
    lines.append(entry)
    item["invoice"] = inv["id"]
    state.item_lines[item["id"]] = entry["id"]
    _recount(state, inv)


def detach(state: DoubleState, item: dict[str, Any], inv: dict[str, Any]) -> None:
    """Take `item`'s line off `inv` (the item itself is deleted by the caller)."""
    line_id = state.item_lines.pop(item["id"], None)
    inv["lines"]["data"] = [entry for entry in inv["lines"]["data"] if entry["id"] != line_id]
    _recount(state, inv)


def refresh_line(state: DoubleState, item: dict[str, Any], inv: dict[str, Any]) -> None:
    """After an item update: its line shows the new values, under the same line id."""
    line_id = state.item_lines.get(item["id"])
    for index, entry in enumerate(inv["lines"]["data"]):
        if entry["id"] == line_id:
            fresh = line_for(item, invoice_id=inv["id"])
            fresh["id"] = entry["id"]
            inv["lines"]["data"][index] = fresh
    _recount(state, inv)


def _recount(state: DoubleState, inv: dict[str, Any]) -> None:
    inv["lines"]["total_count"] = len(inv["lines"]["data"])
    totals(state, inv)


def pending(
    state: DoubleState, customer_id: str, currency: str, *, subscription_id: str | None, only: bool
) -> list[dict[str, Any]]:
    """Pending items an invoice of `customer_id` would take, oldest first.

    A subscription's invoice takes items for that subscription and items for none
    (`only=False`); a one-off invoice given a `subscription` takes only that
    subscription's (`only=True`, as Stripe documents `invoices.create[subscription]`).
    """
    found = []
    for item in state.objects["invoiceitem"].values():
        if item["customer"] != customer_id or item["invoice"] is not None:
            continue
        if item["currency"] != currency:
            continue
        owner = subscription_of(item)
        if owner == subscription_id or (not only and owner is None):
            found.append(item)
    return found


def pull_pending(
    state: DoubleState, inv: dict[str, Any], *, subscription_id: str | None, only: bool = False
) -> None:
    """Attach the pending items `inv` takes (before its `invoice.created`)."""
    for item in pending(
        state, inv["customer"], inv["currency"], subscription_id=subscription_id, only=only
    ):
        attach(state, item, inv)


def pending_lines(state: DoubleState, sub: dict[str, Any]) -> list[dict[str, Any]]:
    """Lines the pending items would add to `sub`'s next invoice (previews)."""
    items = pending(state, sub["customer"], sub["currency"], subscription_id=sub["id"], only=False)
    return [line_for(item, invoice_id=None) for item in items]


def emit_invoice_updated(
    state: DoubleState, inv: dict[str, Any], before: dict[str, Any], *, at: int
) -> None:
    """`invoice.updated` with what changed, if anything did."""
    if inv != before:
        emit(state, "invoice.updated", inv, at=at, previous=before)
