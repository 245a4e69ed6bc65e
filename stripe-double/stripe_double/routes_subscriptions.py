"""/v1/subscriptions and /v1/subscription_items."""

from __future__ import annotations

from typing import Any

from stripe_double import billing, changes, discounts, invoices, routes_customers
from stripe_double.billing import ItemSpec
from stripe_double.changes import SubscriptionChange
from stripe_double.errors import card_declined, invalid
from stripe_double.objects import list_object
from stripe_double.params import Params
from stripe_double.router import Ctx, Route, matching, paginate, retrieve, route
from stripe_double.state import DoubleState

_STATUSES = ("active", "past_due", "unpaid", "canceled", "incomplete", "trialing", "all", "ended")
_PAYMENT_BEHAVIORS = (
    "allow_incomplete",
    "default_incomplete",
    "error_if_incomplete",
    "pending_if_incomplete",
)


def _proration(p: Params) -> str:
    return (
        p.get_enum("proration_behavior", billing.PRORATION_BEHAVIORS, default="create_prorations")
        or "create_prorations"
    )


def _item_spec(state: DoubleState, entry: Params) -> ItemSpec:
    entry.reject_unknown("id price quantity metadata deleted clear_usage")
    price_id = entry.get_str("price")
    price = (
        billing.recurring_price(state, price_id, param=entry.name("price")) if price_id else None
    )
    return ItemSpec(
        item_id=entry.get_str("id"),
        price=price,
        quantity=entry.get_int("quantity", minimum=0),
        metadata=entry.metadata(),
        deleted=bool(entry.get_bool("deleted", default=False)),
    )


def _create(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown(
        "customer items metadata proration_behavior automatic_tax payment_behavior "
        "default_payment_method collection_method description off_session discounts"
    )
    customer_id = p.req_str("customer")
    state.get("customer", customer_id, param="customer")
    fields = _fields(state, customer_id, p)
    _proration(p)
    specs = [_item_spec(state, entry) for entry in p.get_list("items")]
    if not specs:
        raise invalid("Missing required param: items.", param="items", code="parameter_missing")
    behavior = p.get_enum("payment_behavior", _PAYMENT_BEHAVIORS, default="allow_incomplete")
    if behavior == "error_if_incomplete" and invoices.declines(state, customer_id):
        raise card_declined()
    new = billing.new_subscription(
        state,
        customer_id=customer_id,
        items=specs,
        metadata=p.metadata() or {},
        tax_enabled=bool(p.get_obj("automatic_tax").get_bool("enabled", default=False)),
    )
    new.update(fields)
    coupons = discounts.requested_coupons(state, p, new["currency"])
    if coupons:
        discounts.redeem(state, new, coupons, at=int(new["created"]))
    return billing.create_subscription(state, new)


def _fields(state: DoubleState, customer_id: str, p: Params) -> dict[str, Any]:
    """Plain fields a subscription takes as given (payment is simulated: recorded only)."""
    fields: dict[str, Any] = {}
    if p.has("description"):
        fields["description"] = p.get_str("description") or None
    if p.has("default_payment_method"):
        fields["default_payment_method"] = routes_customers.attached_method(
            state, customer_id, p, "default_payment_method"
        )
    method = p.get_enum("collection_method", ("charge_automatically",))
    if method is not None:
        fields["collection_method"] = method
    p.get_bool("off_session")
    return fields


def _list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    price_id = p.get_str("price")
    status = p.get_enum("status", _STATUSES)

    def wanted(sub: dict[str, Any]) -> bool:
        if price_id is not None and all(
            item["price"]["id"] != price_id for item in sub["items"]["data"]
        ):
            return False
        if status is None:
            # Stripe's default list leaves canceled subscriptions out.
            return bool(sub["status"] != "canceled")
        if status == "ended":
            return bool(sub["status"] in ("canceled", "incomplete_expired"))
        return status == "all" or sub["status"] == status

    subs = matching(ctx.state.newest_first("subscription"), p, "customer test_clock")
    return paginate(ctx, [s for s in subs if wanted(s)], "/v1/subscriptions")


def _update(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown(
        "items metadata proration_behavior cancel_at_period_end automatic_tax payment_behavior "
        "proration_date description default_payment_method collection_method off_session "
        "discounts"
    )
    sub = state.get("subscription", ctx.arg())
    tax = p.get_obj("automatic_tax").get_bool("enabled")
    change = SubscriptionChange(
        items=[_item_spec(state, entry) for entry in p.get_list("items")],
        proration_behavior=_proration(p),
        metadata=p.metadata(),
        cancel_at_period_end=p.get_bool("cancel_at_period_end"),
        tax_enabled=tax,
        fields=_fields(state, sub["customer"], p),
        coupons=discounts.requested_coupons(state, p, sub["currency"]),
    )
    return changes.update_subscription(state, sub, change)


def _cancel(ctx: Ctx) -> dict[str, Any]:
    ctx.params.reject_unknown("invoice_now prorate cancellation_details")
    sub = ctx.state.get("subscription", ctx.arg())
    return billing.cancel_subscription(ctx.state, sub, at=ctx.state.scope_now(sub["test_clock"]))


def _retrieve_item(ctx: Ctx) -> dict[str, Any]:
    return ctx.state.item(ctx.arg())


def _update_item(ctx: Ctx) -> dict[str, Any]:
    """A quantity change here is a subscription change: same events, same prorations."""
    p, state = ctx.params, ctx.state
    p.reject_unknown("quantity proration_behavior metadata price payment_behavior proration_date")
    item_id = ctx.arg()
    sub = state.subscription_for_item(item_id)
    spec = _item_spec(state, Params({k: v for k, v in p.data.items() if k in _ITEM_KEYS}))
    spec.item_id = item_id
    change = SubscriptionChange(items=[spec], proration_behavior=_proration(p))
    changes.update_subscription(state, sub, change)
    return state.item(item_id)


_ITEM_KEYS = {"quantity", "metadata", "price"}


def _list_items(ctx: Ctx) -> dict[str, Any]:
    sub = ctx.state.get("subscription", ctx.params.req_str("subscription"), param="subscription")
    items = list(sub["items"]["data"])
    if ctx.params.has("limit") or ctx.params.has("starting_after"):
        return paginate(ctx, items, "/v1/subscription_items")
    return list_object(items, "/v1/subscription_items")


ROUTES: list[Route] = [
    route("POST", "/v1/subscriptions", _create),
    route("GET", "/v1/subscriptions", _list),
    route("GET", "/v1/subscriptions/{id}", retrieve("subscription")),
    route("POST", "/v1/subscriptions/{id}", _update),
    route("DELETE", "/v1/subscriptions/{id}", _cancel),
    route("GET", "/v1/subscription_items", _list_items),
    route("GET", "/v1/subscription_items/{id}", _retrieve_item),
    route("POST", "/v1/subscription_items/{id}", _update_item),
]
