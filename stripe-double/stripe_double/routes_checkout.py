"""/v1/checkout/sessions and /v1/billing_portal/sessions (their pages live in pages.py)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from stripe_double import billing, checkout_tax, invoices, objects
from stripe_double.errors import card_declined, invalid
from stripe_double.events import emit
from stripe_double.router import Ctx, Route, list_kind, paginate, retrieve, route
from stripe_double.routes_portal_configurations import session_configuration
from stripe_double.state import DoubleState, new_id, snapshot

SESSION_TTL = 24 * 3600


def _session_amounts(
    state: DoubleState, line_items: list[dict[str, Any]], tax: bool
) -> dict[str, int]:
    subtotal = sum(int(li["price"]["unit_amount"]) * int(li["quantity"]) for li in line_items)
    tax_amount = (
        sum(
            invoices.div_round(
                int(li["price"]["unit_amount"]) * int(li["quantity"]) * state.config.tax_rate_bps,
                10_000,
            )
            for li in line_items
        )
        if tax
        else 0
    )
    return {"subtotal": subtotal, "tax": tax_amount, "total": subtotal + tax_amount}


def _create_session(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown(
        "mode line_items client_reference_id customer customer_email success_url cancel_url "
        "metadata subscription_data automatic_tax allow_promotion_codes "
        "billing_address_collection tax_id_collection customer_update locale payment_method_types"
    )
    mode = p.req_str("mode")
    if mode != "subscription":
        raise invalid("The Stripe double only implements mode=subscription.", param="mode")
    customer_id = p.get_str("customer")
    if customer_id:
        state.get("customer", customer_id, param="customer")
    if customer_id and p.get_str("customer_email"):
        raise invalid("You may only specify one of these parameters: customer, customer_email.")
    line_items: list[dict[str, Any]] = []
    for entry in p.get_list("line_items"):
        entry.reject_unknown("price quantity")
        price = billing.recurring_price(state, entry.req_str("price"), param=entry.name("price"))
        line_items.append({"price": price, "quantity": entry.get_int("quantity", minimum=1) or 1})
    if not line_items:
        raise invalid("Missing required param: line_items.", param="line_items")
    tax = bool(p.get_obj("automatic_tax").get_bool("enabled", default=False))
    collection = checkout_tax.session_tax_fields(state, p, customer_id, tax=tax)
    amounts = _session_amounts(state, line_items, tax)
    sub_data = p.get_obj("subscription_data")
    sub_data.reject_unknown("metadata description trial_period_days")
    at = state.now_for(customer_id)
    session_id = "cs_test_" + secrets.token_urlsafe(45).replace("-", "a").replace("_", "b")[:58]
    session: dict[str, Any] = {
        "id": session_id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": p.get_bool("allow_promotion_codes"),
        "amount_subtotal": amounts["subtotal"],
        "amount_total": amounts["total"],
        "automatic_tax": objects.automatic_tax(tax, for_invoice=True),
        "cancel_url": p.get_str("cancel_url"),
        "client_reference_id": p.get_str("client_reference_id"),
        "client_secret": None,
        "created": at,
        "currency": line_items[0]["price"]["currency"],
        "customer": customer_id,
        "customer_creation": None if customer_id else "always",
        "customer_details": None,
        "customer_email": p.get_str("customer_email"),
        **collection,
        "expires_at": at + SESSION_TTL,
        "invoice": None,
        "livemode": False,
        "locale": p.get_str("locale"),
        "metadata": p.metadata() or {},
        "mode": mode,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": p.get_str("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": amounts["tax"]},
        "ui_mode": "hosted",
        "url": f"{ctx.base_url}/_double/checkout/{session_id}",
    }
    state.put(session)
    state.checkout_items[session_id] = {
        "line_items": line_items,
        "subscription_metadata": sub_data.metadata() or {},
    }
    return session


def _paying_customer(state: DoubleState, session: dict[str, Any]) -> tuple[str, bool]:
    """The session's customer (one it creates, if it names none), and whether it is new;
    an existing customer marked to fail payments is declined."""
    customer_id = session["customer"]
    if customer_id is not None:
        if invoices.declines(state, customer_id):
            raise card_declined()
        return str(customer_id), False
    at = state.scope_now(None)
    cus = state.put(
        objects.customer(
            created=at,
            email=session["customer_email"] or "checkout@example.com",
            name=None,
            metadata={},
            test_clock=None,
        )
    )
    emit(state, "customer.created", cus, at=at)
    return str(cus["id"]), True


def complete_session(
    state: DoubleState, session_id: str, form: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What paying on the Checkout page (its ``form``) does: customer, subscription, paid
    first invoice, then `checkout.session.completed` (emitted last: the session completes
    after payment).

    A customer marked to fail payments gets a card_error and the session stays open; so
    does a session requiring a billing address posted without one.
    """
    session = state.get("checkout.session", session_id)
    if session["status"] != "open":
        return session
    collected = checkout_tax.collected(session, form or {})
    details = state.checkout_items[session_id]
    customer_id, new_customer = _paying_customer(state, session)
    new = billing.new_subscription(
        state,
        customer_id=customer_id,
        items=[
            billing.ItemSpec(price=li["price"], quantity=int(li["quantity"]))
            for li in details["line_items"]
        ],
        metadata=dict(details["subscription_metadata"]),
        tax_enabled=bool(session["automatic_tax"]["enabled"]),
    )
    customer_details = checkout_tax.save_collected(
        state, session, customer_id, collected, new_customer=new_customer
    )
    sub = billing.create_subscription(state, new)
    session.update(
        status="complete",
        payment_status="paid",
        customer=customer_id,
        subscription=sub["id"],
        invoice=sub["latest_invoice"],
        url=None,
        customer_details=customer_details,
    )
    session["automatic_tax"]["status"] = "complete" if session["automatic_tax"]["enabled"] else None
    emit(state, "checkout.session.completed", session, at=state.now_for(customer_id))
    return session


_SESSION_STATUSES = ("open", "complete", "expired")


def _list_sessions(ctx: Ctx) -> dict[str, Any]:
    """Stripe's list: newest first, filtered by ``customer``, ``subscription`` and
    ``status`` (open, complete or expired), paged by ``limit`` and the cursors."""
    p = ctx.params
    p.reject_unknown(
        "customer subscription status limit starting_after ending_before "
        "created customer_details payment_intent payment_link"
    )
    p.refuse_unimplemented("created customer_details payment_intent payment_link")
    p.get_enum("status", _SESSION_STATUSES)
    return list_kind(
        ctx, "checkout.session", "/v1/checkout/sessions", "subscription customer status"
    )


def _line_items(ctx: Ctx) -> dict[str, Any]:
    ctx.state.get("checkout.session", ctx.arg())
    data = [
        {
            "id": f"li_{index}_{ctx.arg()[-12:]}",
            "object": "item",
            "amount_subtotal": int(li["price"]["unit_amount"]) * int(li["quantity"]),
            "amount_total": int(li["price"]["unit_amount"]) * int(li["quantity"]),
            "currency": li["price"]["currency"],
            "description": li["price"]["product"],
            "price": snapshot(li["price"]),
            "quantity": li["quantity"],
        }
        for index, li in enumerate(ctx.state.checkout_items[ctx.arg()]["line_items"])
    ]
    return paginate(ctx, data, f"/v1/checkout/sessions/{ctx.arg()}/line_items")


def _create_portal_session(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown("customer return_url configuration flow_data locale")
    customer_id = p.req_str("customer")
    state.get("customer", customer_id, param="customer")
    session_id = new_id("bps")
    return state.put(
        {
            "id": session_id,
            "object": "billing_portal.session",
            "configuration": session_configuration(state, p.get_str("configuration") or None),
            "created": state.now_for(customer_id),
            "customer": customer_id,
            "flow": None,
            "livemode": False,
            "locale": p.get_str("locale"),
            "on_behalf_of": None,
            "return_url": p.get_str("return_url"),
            "url": f"{ctx.base_url}/_double/portal/{session_id}",
        }
    )


ROUTES: list[Route] = [
    route("POST", "/v1/checkout/sessions", _create_session),
    route("GET", "/v1/checkout/sessions", _list_sessions),
    route("GET", "/v1/checkout/sessions/{id}", retrieve("checkout.session")),
    route("GET", "/v1/checkout/sessions/{id}/line_items", _line_items),
    route("POST", "/v1/billing_portal/sessions", _create_portal_session),
]
