"""The invoice object (drafts, previews, one-off invoices) in the current API shape."""

from __future__ import annotations

from typing import Any

from stripe_double import discounts
from stripe_double.invoices import totals
from stripe_double.objects import automatic_tax, list_object
from stripe_double.state import DoubleState, new_id


def _parent(sub: dict[str, Any] | None) -> dict[str, Any] | None:
    """Since basil an invoice names its subscription under `parent.subscription_details`."""
    if sub is None:
        return None
    return {
        "quote_details": None,
        "subscription_details": {"metadata": dict(sub["metadata"]), "subscription": sub["id"]},
        "type": "subscription_details",
    }


def build(
    state: DoubleState,
    *,
    customer_id: str,
    currency: str,
    tax_enabled: bool,
    lines: list[dict[str, Any]],
    billing_reason: str,
    created: int,
    period: tuple[int, int],
    sub: dict[str, Any] | None = None,
    with_id: bool = True,
) -> dict[str, Any]:
    """A draft invoice of a customer, for `sub` if given (no `id` for previews), with the
    subscription's discounts that apply at `created` (discounts.py)."""
    customer = state.get("customer", customer_id)
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
        "automatic_tax": automatic_tax(tax_enabled, for_invoice=True),
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
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
        "discounts": [] if sub is None else discounts.active_ids(state, sub, at=created),
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
        "parent": _parent(sub),
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
        "test_clock": customer["test_clock"],
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
    return totals(state, inv)


def for_subscription(
    state: DoubleState,
    *,
    sub: dict[str, Any],
    lines: list[dict[str, Any]],
    billing_reason: str,
    created: int,
    period: tuple[int, int],
    with_id: bool = True,
) -> dict[str, Any]:
    """A draft invoice of `sub` (its customer, currency and automatic tax)."""
    return build(
        state,
        customer_id=sub["customer"],
        currency=sub["currency"],
        tax_enabled=bool(sub["automatic_tax"]["enabled"]),
        lines=lines,
        billing_reason=billing_reason,
        created=created,
        period=period,
        sub=sub,
        with_id=with_id,
    )


def preview(
    state: DoubleState,
    sub: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    at: int,
    period: tuple[int, int],
) -> dict[str, Any]:
    """An invoice preview (create_preview, `invoice.upcoming`): like a draft, with no id."""
    return for_subscription(
        state,
        sub=sub,
        lines=lines,
        billing_reason="upcoming",
        created=at,
        period=period,
        with_id=False,
    )
