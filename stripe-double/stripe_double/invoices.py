"""Invoices and their lines: amounts, tax, finalization and payment attempts."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from stripe_double import balance, discounts, tiers
from stripe_double.events import emit
from stripe_double.state import DoubleState, new_id

AUTOMATIC_TAX_RATE_ID = "txr_double_automatic"
# The double's own account (its links name it as Stripe's name the live account).
_ACCOUNT = "acct_1StripeDouble0000"
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
    full = tiers.amount(price, quantity)
    unit = full // quantity if quantity else 0
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
        "amount": full if amount is None else amount,
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


def apply_totals(
    inv: dict[str, Any],
    *,
    tax_rate_bps: int,
    coupons: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Compute the discounts (`coupons`: discount id → coupon, see discounts.py), the
    per-line exclusive tax on what is left, and the invoice totals from its lines.

    What is due is the total, plus the customer balance applied at finalization
    (`starting_balance - ending_balance`), less pre-payment credit notes, never below 0.
    """
    tax_on = bool(inv["automatic_tax"]["enabled"])
    lines = inv["lines"]["data"]
    per_discount = discounts.apply(lines, coupons or {})
    subtotal = 0
    tax = 0
    for entry in lines:
        amount = int(entry["amount"])
        subtotal += amount
        taxable = amount - sum(int(d["amount"]) for d in entry["discount_amounts"])
        line_tax = div_round(taxable * tax_rate_bps, 10_000) if tax_on else 0
        entry["taxes"] = [_tax_entry(line_tax, taxable)] if tax_on else []
        entry["subtotal"] = amount
        tax += line_tax
    discounted = subtotal - sum(per_discount.values())
    inv.update(
        subtotal=subtotal,
        subtotal_excluding_tax=subtotal,
        total_discount_amounts=[
            {"amount": amount, "discount": discount_id}
            for discount_id, amount in per_discount.items()
        ],
        total_excluding_tax=discounted,
        total=discounted + tax,
        total_taxes=[_tax_entry(tax, discounted)] if tax_on else [],
    )
    return settle_amounts(inv)


def totals(state: DoubleState, inv: dict[str, Any]) -> dict[str, Any]:
    """`apply_totals` with the state's tax rate and the coupons of the invoice's discounts."""
    return apply_totals(
        inv, tax_rate_bps=state.config.tax_rate_bps, coupons=discounts.coupons_of(state, inv)
    )


def settle_amounts(inv: dict[str, Any]) -> dict[str, Any]:
    """`amount_due` / `amount_remaining` from the total, balance and credit notes."""
    due = int(inv["total"])
    if inv["ending_balance"] is not None:
        due += int(inv["starting_balance"]) - int(inv["ending_balance"])
    due = max(due - int(inv["pre_payment_credit_notes_amount"]), 0)
    inv.update(amount_due=due, amount_remaining=max(due - int(inv["amount_paid"]), 0))
    return inv


def stripe_links(invoice_id: str) -> dict[str, str]:
    """The hosted page and PDF Stripe sets at finalization (null on a draft), in its
    shapes: ``invoice.stripe.com/i/<account>/<token>`` and ``pay.stripe.com/.../pdf``."""
    token = "test_" + base64.urlsafe_b64encode(f"{_ACCOUNT},{invoice_id}".encode()).decode()
    token = token.rstrip("=")
    return {
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{_ACCOUNT}/{token}?s=ap",
        "invoice_pdf": f"https://pay.stripe.com/invoice/{_ACCOUNT}/{token}/pdf?s=ap",
    }


def finalize(state: DoubleState, inv: dict[str, Any], *, at: int) -> None:
    """Draft → open: apply the customer balance, number it, emit `invoice.finalized`."""
    customer = state.get("customer", inv["customer"])
    sequence = int(customer["next_invoice_sequence"])
    customer["next_invoice_sequence"] = sequence + 1
    balance.apply_to_invoice(state, inv, at=at)
    settle_amounts(inv)
    inv.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        effective_at=at,
        automatically_finalizes_at=None,
    )
    inv["status_transitions"]["finalized_at"] = at
    inv.update(stripe_links(inv["id"]))
    state.drafts.pop(inv["id"], None)
    emit(state, "invoice.finalized", inv, at=at)


# Stripe's test payment methods that attach fine and then decline every charge.
DECLINING_METHODS = frozenset({"pm_card_chargeCustomerFail", "pm_card_visa_chargeDeclined"})


def declines(state: DoubleState, customer_id: str) -> bool:
    """Whether a charge to this customer fails: marked with `fail_payments`, or paying
    with one of Stripe's declining test payment methods."""
    if customer_id in state.failing_customers:
        return True
    customer = state.find("customer", customer_id)
    default = (customer or {}).get("invoice_settings", {}).get("default_payment_method")
    return default in DECLINING_METHODS


def attempt_payment(state: DoubleState, inv: dict[str, Any], *, at: int) -> bool:
    """Charge an open invoice; a declined charge emits `invoice.payment_failed`."""
    inv["attempted"] = True
    if inv["amount_due"] > 0 and declines(state, inv["customer"]):
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
