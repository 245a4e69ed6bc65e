"""Subscription lifecycle shared by the API routes, Checkout and the renewal engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stripe_double import discounts, invoice_items, invoice_objects, invoices, objects
from stripe_double.errors import StripeError, invalid, missing
from stripe_double.events import emit
from stripe_double.periods import current_period, period_bounds
from stripe_double.state import DoubleState, SubscriptionExtra, new_id, snapshot

PRORATION_BEHAVIORS = ("none", "create_prorations", "always_invoice")
LIVE_STATUSES = ("active", "past_due")


@dataclass
class ItemSpec:
    """One requested item: new (no `item_id`), an update of `item_id`, or `deleted`."""

    item_id: str | None = None
    price: dict[str, Any] | None = None
    quantity: int | None = None
    metadata: dict[str, str] | None = None
    deleted: bool = False


def recurring_price(state: DoubleState, price_id: str, *, param: str) -> dict[str, Any]:
    """A price usable on a subscription (it must be recurring)."""
    found = state.find("price", price_id)
    if found is None:
        raise missing(price_id, param=param)
    if not found["recurring"]:
        raise invalid(
            f"The price specified ({price_id}) is not recurring; subscriptions need a "
            "recurring price.",
            param=param,
        )
    return found


def product_name(state: DoubleState, price: dict[str, Any]) -> str:
    """The product name shown in line descriptions."""
    product = state.find("product", price["product"])
    return str(product["name"]) if product else str(price["product"])


def item_line(
    state: DoubleState, item: dict[str, Any], period: tuple[int, int], quantity: int | None = None
) -> dict[str, Any]:
    """The regular (non-proration) line billing `item` for `period`."""
    qty = int(item["quantity"]) if quantity is None else quantity
    return invoices.line(
        item=item, quantity=qty, period=period, product_name=product_name(state, item["price"])
    )


def check_prices_compatible(prices: list[dict[str, Any]]) -> None:
    """Stripe requires one currency and one billing interval per subscription."""
    shapes = {
        (p["currency"], p["recurring"]["interval"], p["recurring"]["interval_count"])
        for p in prices
    }
    if len(shapes) > 1:
        raise invalid(
            "All prices on a subscription must have the same currency and recurring interval.",
            param="items",
        )


def new_subscription(
    state: DoubleState,
    *,
    customer_id: str,
    items: list[ItemSpec],
    metadata: dict[str, str],
    tax_enabled: bool,
) -> dict[str, Any]:
    """A subscription object with its items and first period, not stored yet."""
    prices = [spec.price for spec in items if spec.price is not None]
    if not prices or len(prices) != len(items):
        raise invalid("Missing required param: items[0][price].", param="items[0][price]")
    check_prices_compatible(prices)
    at = state.now_for(customer_id)
    sub = objects.subscription(
        sub_id=new_id("sub"),
        customer_id=customer_id,
        currency=str(prices[0]["currency"]),
        created=at,
        metadata=metadata,
        tax_enabled=tax_enabled,
        test_clock=state.clock_of_customer(customer_id),
    )
    for spec, price in zip(items, prices, strict=True):
        sub["items"]["data"].append(
            objects.subscription_item(
                sub_id=sub["id"],
                price_obj=price,
                quantity=1 if spec.quantity is None else spec.quantity,
                created=at,
                period=(0, 0),
                metadata=spec.metadata or {},
            )
        )
    period = period_bounds(sub, 0)
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = period
    return sub


def open_invoice(
    state: DoubleState,
    sub: dict[str, Any],
    lines: list[dict[str, Any]],
    *,
    reason: str,
    at: int,
    period: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Store a draft invoice for `sub` and make it the subscription's latest invoice.

    The customer's pending invoice items for this subscription (or for none) join it.
    """
    inv = state.put(
        invoice_objects.for_subscription(
            state,
            sub=sub,
            lines=lines,
            billing_reason=reason,
            created=at,
            period=period or (at, at),
        )
    )
    invoice_items.pull_pending(state, inv, subscription_id=sub["id"])
    discounts.consume(state, sub, inv, at=at)
    sub["latest_invoice"] = inv["id"]
    return inv


def create_subscription(state: DoubleState, sub: dict[str, Any]) -> dict[str, Any]:
    """Store, invoice and charge a `new_subscription` (its first invoice is paid right away).

    Stripe's default `payment_behavior=allow_incomplete` leaves the subscription
    `incomplete` when that first payment fails; customers marked to fail get exactly that.
    """
    customer_id = sub["customer"]
    at = int(sub["created"])
    customer = state.get("customer", customer_id)
    # A customer's first subscription (or invoice) sets its currency, as in Stripe.
    customer["currency"] = customer["currency"] or sub["currency"]
    state.put(sub)
    state.sub_extra[sub["id"]] = SubscriptionExtra()
    for item in sub["items"]["data"]:
        state.item_index[item["id"]] = sub["id"]
    period = current_period(sub)
    lines = [item_line(state, item, period) for item in sub["items"]["data"]]
    inv = open_invoice(state, sub, lines, reason="subscription_create", at=at)
    fails = inv["amount_due"] > 0 and invoices.declines(state, customer_id)
    sub["status"] = "incomplete" if fails else "active"
    emit(state, "customer.subscription.created", sub, at=at)
    emit(state, "invoice.created", inv, at=at)
    invoices.charge(state, inv, at=at)
    return sub


def settle_status(state: DoubleState, sub: dict[str, Any], *, paid: bool, at: int) -> None:
    """After a payment attempt: failed → `past_due`, paid → `active` (with an update event)."""
    if sub["status"] not in (*LIVE_STATUSES, "incomplete"):
        return
    if sub["status"] == "incomplete" and not paid:
        return
    new_status = "active" if paid else "past_due"
    if sub["status"] != new_status:
        before = snapshot(sub)
        sub["status"] = new_status
        emit(state, "customer.subscription.updated", sub, at=at, previous=before)


def settle_invoice(state: DoubleState, inv: dict[str, Any], *, paid: bool, at: int) -> None:
    """After an invoice's payment attempt, its subscription (if any) follows it."""
    details = (inv.get("parent") or {}).get("subscription_details") or {}
    sub = state.find("subscription", details.get("subscription"))
    if sub is not None:
        settle_status(state, sub, paid=paid, at=at)


def cancel_subscription(
    state: DoubleState, sub: dict[str, Any], *, at: int, reason: str = "cancellation_requested"
) -> dict[str, Any]:
    """Cancel now and emit `customer.subscription.deleted`."""
    if sub["status"] == "canceled":
        raise StripeError(
            f"A canceled subscription can't be canceled again: '{sub['id']}'",
            code="resource_missing",
            status=404,
            param="id",
        )
    sub.update(status="canceled", canceled_at=at, ended_at=at)
    sub["cancellation_details"]["reason"] = reason
    state.sub_extra[sub["id"]].pending_lines = []
    emit(state, "customer.subscription.deleted", sub, at=at)
    return sub
