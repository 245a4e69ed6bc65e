"""One-off invoices and invoice actions: create, update, finalize, pay.

Parameters are the API reference's for the pinned version (the SDK's
`InvoiceCreateParams`, `InvoiceUpdateParams`, `InvoiceFinalizeInvoiceParams`,
`InvoicePayParams`). Real parameters the double cannot honour are refused by name.
"""

from __future__ import annotations

from typing import Any

from stripe_double import billing, finalization, invoice_items, invoice_objects
from stripe_double import invoices as invoice_math
from stripe_double.errors import card_declined, invalid
from stripe_double.events import emit
from stripe_double.objects import automatic_tax
from stripe_double.params import Params, merge_metadata
from stripe_double.router import Ctx, Route, route
from stripe_double.state import DoubleState, snapshot

_UNSUPPORTED = (
    "account_tax_ids application_fee_amount custom_fields customer_account default_source "
    "default_tax_rates discounts from_invoice issuer on_behalf_of payment_settings rendering "
    "shipping_cost shipping_details transfer_data"
)
_EDITABLE = (
    "auto_advance automatic_tax automatically_finalizes_at collection_method days_until_due "
    "default_payment_method description due_date effective_at footer metadata number "
    "statement_descriptor"
)
_CREATE = (
    f"{_UNSUPPORTED} {_EDITABLE} currency customer pending_invoice_items_behavior subscription"
)
# Monetary values and collection settings freeze at finalization (Stripe's "Edit invoices").
_DRAFT_ONLY = ("automatic_tax", "automatically_finalizes_at", "collection_method", "days_until_due")
_COLLECTION = ("charge_automatically", "send_invoice")
_TEXT_FIELDS = ("description", "footer", "statement_descriptor", "number", "default_payment_method")


def _apply(state: DoubleState, inv: dict[str, Any], p: Params) -> None:
    """Apply the editable fields sent (validated against the invoice's status)."""
    if inv["status"] != "draft":
        for name in _DRAFT_ONLY:
            if p.has(name):
                raise invalid("Finalized invoices can't be updated in this way", param=name)
    for name in _TEXT_FIELDS:
        if p.has(name):
            inv[name] = p.get_str(name) or None
    inv["metadata"] = merge_metadata(inv["metadata"], p.metadata())
    for name in ("due_date", "effective_at"):
        if p.has(name):
            inv[name] = p.get_int(name)
    method = p.get_enum("collection_method", _COLLECTION)
    if method is not None:
        inv["collection_method"] = method
    days = p.get_int("days_until_due", minimum=0)
    if days is not None:
        inv["due_date"] = int(inv["created"]) + days * 86_400
    if inv["collection_method"] == "send_invoice" and not inv["due_date"]:
        raise invalid(
            "Missing required param: days_until_due (or due_date) for send_invoice.",
            param="days_until_due",
            code="parameter_missing",
        )
    tax = p.get_obj("automatic_tax").get_bool("enabled")
    if tax is not None:
        inv["automatic_tax"] = automatic_tax(tax, for_invoice=True)
        invoice_math.totals(state, inv)
    advance = p.get_bool("auto_advance")
    if advance is not None:
        inv["auto_advance"] = advance
    if p.has("automatically_finalizes_at"):
        finalization.fix(state, inv, p.get_int("automatically_finalizes_at"))
    elif inv["status"] == "draft":
        finalization.refresh(state, inv)


def _create(ctx: Ctx) -> dict[str, Any]:
    """A one-off invoice (`billing_reason=manual`); `auto_advance` defaults to false."""
    p, state = ctx.params, ctx.state
    p.reject_unknown(_CREATE)
    p.refuse_unimplemented(_UNSUPPORTED)
    customer = state.get("customer", p.req_str("customer"), param="customer")
    sub_id = p.get_str("subscription")
    sub = state.get("subscription", sub_id, param="subscription") if sub_id else None
    if sub is not None and sub["customer"] != customer["id"]:
        raise invalid(
            f"The subscription {sub_id} belongs to another customer.", param="subscription"
        )
    behavior = p.get_enum(
        "pending_invoice_items_behavior", ("exclude", "include"), default="exclude"
    )
    currency = (
        (p.get_str("currency") or "").lower()
        or (sub["currency"] if sub else None)
        or customer["currency"]
        or "eur"
    )
    at = state.now_for(customer["id"])
    inv = invoice_objects.build(
        state,
        customer_id=customer["id"],
        currency=currency,
        tax_enabled=False,
        lines=[],
        billing_reason="manual",
        created=at,
        period=(at, at),
        sub=sub,
    )
    inv["auto_advance"] = False
    state.put(inv)
    _apply(state, inv, p)
    if behavior == "include":
        invoice_items.pull_pending(state, inv, subscription_id=sub_id or None, only=bool(sub))
    finalization.announce(state, inv, at=at)
    return inv


def _update(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown(f"{_UNSUPPORTED} {_EDITABLE}")
    p.refuse_unimplemented(_UNSUPPORTED)
    inv = state.get("invoice", ctx.arg())
    before = snapshot(inv)
    _apply(state, inv, p)
    invoice_items.emit_invoice_updated(state, inv, before, at=state.now_for(inv["customer"]))
    return inv


def _finalize(ctx: Ctx) -> dict[str, Any]:
    """Finalize a draft now (before its window closes); `auto_advance` then collects."""
    p, state = ctx.params, ctx.state
    p.reject_unknown("auto_advance")
    inv = state.get("invoice", ctx.arg())
    if inv["status"] != "draft":
        raise invalid(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            param="id",
        )
    advance = p.get_bool("auto_advance")
    if advance is not None:
        inv["auto_advance"] = advance
    finalization.finalize_and_collect(state, inv, at=state.now_for(inv["customer"]))
    return inv


def _pay(ctx: Ctx) -> dict[str, Any]:
    """Collect an open invoice with the customer's card (simulated), or record it paid
    out of band. A declined card answers 402 after `invoice.payment_failed`."""
    p, state = ctx.params, ctx.state
    p.reject_unknown("forgive mandate off_session paid_out_of_band payment_method source")
    inv = state.get("invoice", ctx.arg())
    if inv["status"] == "paid":
        raise invalid("Invoice is already paid", param="id", code="invoice_already_paid")
    if inv["status"] not in ("open", "uncollectible"):
        raise invalid(
            f"This invoice can't be paid: its status is {inv['status']}.",
            param="id",
            code="invoice_not_editable" if inv["status"] == "draft" else None,
        )
    at = state.now_for(inv["customer"])
    if p.get_bool("paid_out_of_band"):
        inv.update(status="paid", amount_remaining=0)
        inv["status_transitions"]["paid_at"] = at
        emit(state, "invoice.paid", inv, at=at)
        billing.settle_invoice(state, inv, paid=True, at=at)
        return inv
    paid = invoice_math.attempt_payment(state, inv, at=at)
    billing.settle_invoice(state, inv, paid=paid, at=at)
    if not paid:
        raise card_declined()
    return inv


ROUTES: list[Route] = [
    route("POST", "/v1/invoices", _create),
    route("POST", "/v1/invoices/{id}", _update),
    route("POST", "/v1/invoices/{id}/finalize", _finalize),
    route("POST", "/v1/invoices/{id}/pay", _pay),
]
