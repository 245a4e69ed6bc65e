"""/v1/payment_methods (Stripe's test PaymentMethods) and expiring a Checkout Session.

What ``ledger smoke --mode api`` needs to pay without a browser, the way Stripe's test
mode allows it: attach a test PaymentMethod (``pm_card_visa``) to the ledger's customer,
create the subscription with it, and expire the Checkout Session nobody will pay.

Stripe's test PaymentMethods (docs.stripe.com/testing): attaching ``pm_card_<brand>``
creates a new ``pm_…`` card attached to the customer; ``pm_card_chargeDeclined`` is
declined when attached; ``pm_card_chargeCustomerFail`` attaches, and charging the
customer then fails (the double's per-customer failing payments).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stripe_double.errors import StripeError, card_declined, missing
from stripe_double.events import emit
from stripe_double.router import Ctx, Route, route
from stripe_double.routes_customers import attach
from stripe_double.state import DoubleState, new_id

KIND = "payment_method"
# brand, last4, funding of the test PaymentMethods the double knows.
TEST_CARDS: dict[str, tuple[str, str]] = {
    "pm_card_visa": ("visa", "4242"),
    "pm_card_visa_debit": ("visa", "5556"),
    "pm_card_mastercard": ("mastercard", "4444"),
    "pm_card_amex": ("amex", "8431"),
    "pm_card_chargeCustomerFail": ("visa", "0341"),
}
DECLINED_ON_ATTACH = frozenset({"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"})


def _store(state: DoubleState) -> dict[str, dict[str, Any]]:
    # Kept beside the state's own kinds (which a reset recreates): the table is made on
    # first use after each reset, so state.py needs no knowledge of payment methods.
    return state.objects.setdefault(KIND, {})


def card_payment_method(*, brand: str, last4: str, created: int) -> dict[str, Any]:
    """A `payment_method` of type card, shaped like Stripe's."""
    year = datetime.fromtimestamp(created, tz=UTC).year + 3
    return {
        "id": new_id("pm"),
        "object": KIND,
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
        },
        "card": {
            "brand": brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US",
            "display_brand": brand,
            "exp_month": 12,
            "exp_year": year,
            "fingerprint": new_id("fp", 16)[3:],
            "funding": "credit",
            "last4": last4,
            "networks": {"available": [brand], "preferred": None},
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": created,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def _payment_method(state: DoubleState, pm_id: str) -> dict[str, Any]:
    found = _store(state).get(pm_id)
    if found is None:
        raise missing(pm_id, noun="PaymentMethod")
    return found


def _attach(ctx: Ctx) -> dict[str, Any]:
    p, state, pm_id = ctx.params, ctx.state, ctx.arg()
    p.reject_unknown("customer")
    customer_id = p.req_str("customer")
    state.get("customer", customer_id, param="customer")
    if pm_id in DECLINED_ON_ATTACH:
        raise card_declined()
    at = state.now_for(customer_id)
    if pm_id in TEST_CARDS:
        brand, last4 = TEST_CARDS[pm_id]
        pm = card_payment_method(brand=brand, last4=last4, created=at)
        _store(state)[pm["id"]] = pm
        if pm_id == "pm_card_chargeCustomerFail":
            state.failing_customers.add(customer_id)
    else:
        pm = _payment_method(state, pm_id)
        if pm["customer"] not in (None, customer_id):
            raise StripeError(
                "The payment method you provided has already been attached to a customer.",
                code="payment_method_unexpected_state",
                param="payment_method",
            )
    customer = state.get("customer", customer_id, param="customer")
    attach(state, customer, pm["id"])
    if pm_id in TEST_CARDS:  # Stripe also takes the test token itself where a card is named
        attach(state, customer, pm_id)
    if pm["customer"] != customer_id:
        pm["customer"] = customer_id
        emit(state, "payment_method.attached", pm, at=at)
    return pm


def _retrieve(ctx: Ctx) -> dict[str, Any]:
    return _payment_method(ctx.state, ctx.arg())


def _expire_session(ctx: Ctx) -> dict[str, Any]:
    """Stripe: only an open session can be expired; it can then never be paid."""
    ctx.params.reject_unknown("")
    session = ctx.state.get("checkout.session", ctx.arg())
    if session["status"] != "open":
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired. '
            f'This Checkout Session has a status of "{session["status"]}".',
            code="checkout_session_status_invalid",
        )
    at = ctx.state.now_for(session["customer"])
    session.update(status="expired", url=None, expires_at=at)
    emit(ctx.state, "checkout.session.expired", session, at=at)
    return session


ROUTES: list[Route] = [
    route("POST", "/v1/payment_methods/{id}/attach", _attach),
    route("GET", "/v1/payment_methods/{id}", _retrieve),
    route("POST", "/v1/checkout/sessions/{id}/expire", _expire_session),
]
