"""Invoices and their lines: amounts, tax, finalization and payment attempts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.stripe.double.events import emit
from adapters.stripe.double.objects import automatic_tax, list_object
from adapters.stripe.double.state import DoubleState, new_id

AUTOMATIC_TAX_RATE_ID = "txr_double_automatic"
TIMES = "\u00d7"  # the multiplication sign Stripe uses in "2 x Seat" descriptions


def div_round(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (minor units stay exact)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def money(amount: int, currency: str) -> str:
    """A human-readable amount for line descriptions, e.g. `€5.00`."""
    symbol = {"eur": "€", "usd": "$", "gbp": "£"}.get(currency, currency.upper() + " ")
    return f"{'-' if amount < 0 else ''}{symbol}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%d %b %Y")


def line(
    *,
    item: dict[str, Any],
    quantity: int,
    period: tuple[int, int],
    amount: int | None = None,
    proration: str | None = None,
    product_name: str = "",
) -> dict[str, Any]:
    """An invoice line for a subscription item; `proration` is "unused" or "remaining"."""
    price = item["price"]
    unit = int(price["unit_amount"])
    interval = (price.get("recurring") or {}).get("interval", "")
    label = f"{quantity} {TIMES} {product_name or price['product']}"
    if proration == "unused":
        description = f"Unused time on {label} after {_day(period[0])}"
    elif proration == "remaining":
        description = f"Remaining time on {label} after {_day(period[0])}"
    else:
        description = f"{label} (at {money(unit, price['currency'])} / {interval})"
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": unit * quantity if amount is None else amount,
        "currency": price["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": proration is None,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration is not None,
                "proration_details": {"credited_items": None},
                "subscription": item["subscription"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": str(unit),
        },
        "quantity": quantity,
        "taxes": [],
    }


def _tax_entry(amount: int, taxable: int) -> dict[str, Any]:
    return {
        "amount": amount,
        "tax_behavior": "exclusive",
        "tax_rate_details": {"tax_rate": AUTOMATIC_TAX_RATE_ID},
        "taxability_reason": "standard_rated",
        "taxable_amount": taxable,
        "type": "tax_rate_details",
    }


def apply_totals(inv: dict[str, Any], *, tax_rate_bps: int) -> dict[str, Any]:
    """Compute per-line exclusive tax and the invoice totals from its lines."""
    tax_on = bool(inv["automatic_tax"]["enabled"])
    subtotal = 0
    tax = 0
    for entry in inv["lines"]["data"]:
        amount = int(entry["amount"])
        subtotal += amount
        line_tax = div_round(amount * tax_rate_bps, 10_000) if tax_on else 0
        entry["taxes"] = [_tax_entry(line_tax, amount)] if tax_on else []
        tax += line_tax
    total = subtotal + tax
    inv.update(
        subtotal=subtotal,
        subtotal_excluding_tax=subtotal,
        total_excluding_tax=subtotal,
        total=total,
        total_taxes=[_tax_entry(tax, subtotal)] if tax_on else [],
        amount_due=max(total, 0),
        amount_remaining=max(total, 0) - int(inv["amount_paid"]),
    )
    return inv


def build(
    state: DoubleState,
    *,
    sub: dict[str, Any],
    lines: list[dict[str, Any]],
    billing_reason: str,
    created: int,
    period: tuple[int, int],
    with_id: bool = True,
) -> dict[str, Any]:
    """A draft invoice for `sub` (without `id` for previews and `invoice.upcoming`)."""
    customer = state.get("customer", sub["customer"])
    inv: dict[str, Any] = {
        "id": new_id("in"),
        "object": "invoice",
        "account_country": "DE",
        "account_name": "Renewal Ledger (Stripe double)",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": automatic_tax(bool(sub["automatic_tax"]["enabled"]), for_invoice=True),
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": sub["currency"],
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": None,
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": list_object(lines, ""),
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(sub["metadata"]),
                "subscription": sub["id"],
            },
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": sub["test_clock"],
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }
    if with_id:
        inv["lines"]["url"] = f"/v1/invoices/{inv['id']}/lines"
        for entry in lines:
            entry["invoice"] = inv["id"]
    else:
        # Previews and `invoice.upcoming` objects have no id in Stripe.
        del inv["id"]
        inv["lines"]["url"] = "/v1/invoices/upcoming/lines"
    inv["lines"]["total_count"] = len(lines)
    return apply_totals(inv, tax_rate_bps=state.config.tax_rate_bps)


def preview(
    state: DoubleState,
    sub: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    at: int,
    period: tuple[int, int],
) -> dict[str, Any]:
    """An invoice preview (create_preview, `invoice.upcoming`): like a draft, with no id."""
    return build(
        state,
        sub=sub,
        lines=lines,
        billing_reason="upcoming",
        created=at,
        period=period,
        with_id=False,
    )


def finalize(state: DoubleState, inv: dict[str, Any], *, at: int) -> None:
    """Draft → open: number it and emit `invoice.finalized`."""
    customer = state.get("customer", inv["customer"])
    sequence = int(customer["next_invoice_sequence"])
    customer["next_invoice_sequence"] = sequence + 1
    inv.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        effective_at=at,
        automatically_finalizes_at=None,
        ending_balance=0,
    )
    inv["status_transitions"]["finalized_at"] = at
    emit(state, "invoice.finalized", inv, at=at)


def attempt_payment(state: DoubleState, inv: dict[str, Any], *, at: int) -> bool:
    """Charge an open invoice; customers marked to fail get `invoice.payment_failed`."""
    inv["attempted"] = True
    if inv["amount_due"] > 0 and inv["customer"] in state.failing_customers:
        inv["attempt_count"] = int(inv["attempt_count"]) + 1
        emit(state, "invoice.payment_failed", inv, at=at)
        return False
    if inv["amount_due"] > 0:
        inv["attempt_count"] = int(inv["attempt_count"]) + 1
    inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0)
    inv["status_transitions"]["paid_at"] = at
    emit(state, "invoice.paid", inv, at=at)
    emit(state, "invoice.payment_succeeded", inv, at=at)
    return True


def charge(state: DoubleState, inv: dict[str, Any], *, at: int) -> bool:
    """Finalize a draft and attempt payment right away (subscription create / update)."""
    finalize(state, inv, at=at)
    return attempt_payment(state, inv, at=at)
