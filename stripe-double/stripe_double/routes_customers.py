"""/v1/customers (attaching payment methods: routes_payment_methods).

Parameters are the API reference's for the pinned version (the SDK's
`CustomerCreateParams` / `CustomerUpdateParams`). Payment is simulated: a payment
method is an id attached to a customer (Stripe's test ids such as `pm_card_visa` work
as given); `pm_card_chargeCustomerFail` and `pm_card_visa_chargeDeclined` attach fine
and then decline every charge, as in Stripe's test mode.
"""

from __future__ import annotations

from typing import Any

from stripe_double import balance, billing, objects
from stripe_double.checkout_tax import record_tax_id
from stripe_double.errors import invalid, missing
from stripe_double.events import emit
from stripe_double.params import Params, merge_metadata
from stripe_double.router import Ctx, Route, list_kind, paginate, retrieve, route
from stripe_double.state import DoubleState, snapshot

_TEXT = ("email", "name", "description", "phone", "invoice_prefix")
_HASHES = ("address", "shipping")
_EDITABLE = (
    "address balance description email invoice_prefix invoice_settings metadata name "
    "next_invoice_sequence phone preferred_locales shipping tax_exempt validate"
)
_UNSUPPORTED = "business_name cash_balance default_source individual_name source tax tax_id_data"
_INVOICE_SETTINGS = "custom_fields default_payment_method footer rendering_options"


def _payment_method_id(value: str, param: str) -> str:
    if not value.startswith("pm_"):
        raise missing(value, param=param, noun="PaymentMethod")
    return value


def attach(state: DoubleState, customer: dict[str, Any], pm_id: str) -> None:
    """Attach a payment method (id) to a customer; attaching twice changes nothing."""
    attached = state.payment_methods.setdefault(customer["id"], [])
    if pm_id not in attached:
        attached.append(pm_id)


def _apply(state: DoubleState, cus: dict[str, Any], p: Params, *, kind: str) -> None:
    """Apply the editable fields sent; `kind` names a balance change (initial/adjustment)."""
    for key in _TEXT:
        if p.has(key):
            cus[key] = p.get_str(key) or None
    for key in _HASHES:
        if p.has(key):
            cus[key] = p.get_obj(key).data or None
    if p.has("preferred_locales"):
        cus["preferred_locales"] = p.get_str_list("preferred_locales")
    exempt = p.get_enum("tax_exempt", ("exempt", "none", "reverse"))
    if exempt is not None:
        cus["tax_exempt"] = exempt
    sequence = p.get_int("next_invoice_sequence", minimum=1)
    if sequence is not None:
        cus["next_invoice_sequence"] = sequence
    p.get_bool("validate")
    cus["metadata"] = merge_metadata(cus["metadata"], p.metadata())
    settings = p.get_obj("invoice_settings")
    settings.reject_unknown(_INVOICE_SETTINGS)
    if settings.has("footer"):
        cus["invoice_settings"]["footer"] = settings.get_str("footer") or None
    if settings.has("default_payment_method"):
        cus["invoice_settings"]["default_payment_method"] = _default_method(state, cus, settings)
    target = p.get_int("balance")
    if target is not None and target != int(cus["balance"]):
        at = state.now_for(cus["id"])
        currency = cus["currency"] or "eur"
        change = target - int(cus["balance"])
        # The caller announces the customer (created / updated) once, balance included.
        balance.record(state, cus, change, kind=kind, currency=currency, at=at, announce=False)


def _default_method(state: DoubleState, cus: dict[str, Any], settings: Params) -> str | None:
    return attached_method(state, cus["id"], settings, "default_payment_method")


def attached_method(state: DoubleState, customer_id: str, p: Params, key: str) -> str | None:
    """The payment method id in `p[key]` (empty: None); it must be attached to the customer."""
    param = p.name(key)
    pm_id = p.get_str(key)
    if not pm_id:
        return None
    _payment_method_id(pm_id, param)
    if pm_id not in state.payment_methods.get(customer_id, []):
        raise invalid(
            f"The customer does not have a payment method with the ID {pm_id}. The payment "
            "method must be attached to the customer.",
            param=param,
        )
    return pm_id


def _create(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown(f"{_EDITABLE} {_UNSUPPORTED} payment_method test_clock")
    p.refuse_unimplemented(_UNSUPPORTED)
    clock_id = p.get_str("test_clock")
    if clock_id is not None:
        state.get("test_helpers.test_clock", clock_id, param="test_clock")
    pm_id = p.get_str("payment_method")
    if pm_id:
        _payment_method_id(pm_id, "payment_method")
    at = state.scope_now(clock_id)
    cus = objects.customer(
        created=at, email=None, name=None, metadata={}, test_clock=clock_id, description=None
    )
    if pm_id:
        attach(state, cus, pm_id)
    try:
        _apply(state, cus, p, kind="initial")
    except Exception:
        state.payment_methods.pop(cus["id"], None)
        raise
    state.put(cus)
    emit(state, "customer.created", cus, at=at)
    return cus


def _update(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    # No `payment_method` here: Stripe attaches through /v1/payment_methods/{id}/attach.
    p.reject_unknown(f"{_EDITABLE} {_UNSUPPORTED}")
    p.refuse_unimplemented(_UNSUPPORTED)
    cus = state.get("customer", ctx.arg())
    before = snapshot(cus)
    _apply(state, cus, p, kind="adjustment")
    if cus != before:
        emit(state, "customer.updated", cus, at=state.now_for(cus["id"]), previous=before)
    return cus


def _delete(ctx: Ctx) -> dict[str, Any]:
    """Deleting a customer cancels its subscriptions first, as Stripe does."""
    state = ctx.state
    cus = state.get("customer", ctx.arg())
    at = state.now_for(cus["id"])
    for sub in state.newest_first("subscription"):
        if sub["customer"] == cus["id"] and sub["status"] != "canceled":
            billing.cancel_subscription(state, sub, at=at)
    del state.objects["customer"][cus["id"]]
    state.failing_customers.discard(cus["id"])
    state.payment_methods.pop(cus["id"], None)
    emit(state, "customer.deleted", cus, at=at)
    return {"id": cus["id"], "object": "customer", "deleted": True}


def _list(ctx: Ctx) -> dict[str, Any]:
    return list_kind(ctx, "customer", "/v1/customers", "email test_clock")


def _tax_ids(ctx: Ctx) -> dict[str, Any]:
    """The customer's tax ids (those Checkout collected), newest first."""
    customer_id = ctx.state.get("customer", ctx.arg())["id"]
    found = [t for t in ctx.state.newest_first("tax_id") if t["customer"] == customer_id]
    return paginate(ctx, found, f"/v1/customers/{customer_id}/tax_ids")


def _create_tax_id(ctx: Ctx) -> dict[str, Any]:
    """``POST /v1/customers/{id}/tax_ids`` (``type`` and ``value`` required, as Stripe)."""
    customer = ctx.state.get("customer", ctx.arg())
    p = ctx.params
    p.reject_unknown("type value")
    kind = p.get_str("type", required=True) or ""
    value = p.get_str("value", required=True) or ""
    if not value.strip():
        raise invalid("Invalid value for tax id.", param="value")
    return record_tax_id(ctx.state, customer, {"type": kind, "value": value.strip()})


def _delete_tax_id(ctx: Ctx) -> dict[str, Any]:
    """``DELETE /v1/customers/{id}/tax_ids/{tax_id}``, with ``customer.tax_id.deleted``."""
    customer = ctx.state.get("customer", ctx.arg())
    tax_id = ctx.state.get("tax_id", ctx.arg(1))
    if tax_id["customer"] != customer["id"]:
        raise missing(tax_id["id"], param="id", noun="tax_id")
    del ctx.state.objects["tax_id"][tax_id["id"]]
    emit(ctx.state, "customer.tax_id.deleted", tax_id, at=ctx.state.now_for(customer["id"]))
    return {"id": tax_id["id"], "object": "tax_id", "deleted": True}


ROUTES: list[Route] = [
    route("POST", "/v1/customers", _create),
    route("GET", "/v1/customers", _list),
    route("GET", "/v1/customers/{id}", retrieve("customer")),
    route("POST", "/v1/customers/{id}", _update),
    route("DELETE", "/v1/customers/{id}", _delete),
    route("GET", "/v1/customers/{id}/tax_ids", _tax_ids),
    route("POST", "/v1/customers/{id}/tax_ids", _create_tax_id),
    route("DELETE", "/v1/customers/{id}/tax_ids/{id}", _delete_tax_id),
]
