"""Subscription updates: item changes, prorations and the quantity-update limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stripe_double import discounts, invoice_items, invoice_objects, invoices, objects, tiers
from stripe_double.billing import (
    ItemSpec,
    check_prices_compatible,
    item_line,
    open_invoice,
    product_name,
    settle_status,
)
from stripe_double.errors import invalid, missing, rate_limited
from stripe_double.events import emit
from stripe_double.params import merge_metadata
from stripe_double.periods import current_period, period_bounds
from stripe_double.state import DoubleState, snapshot


@dataclass
class SubscriptionChange:
    """Everything `POST /v1/subscriptions/{id}` (or a subscription item update) can change."""

    items: list[ItemSpec] = field(default_factory=list)
    proration_behavior: str = "create_prorations"
    metadata: dict[str, str] | None = None
    cancel_at_period_end: bool | None = None
    tax_enabled: bool | None = None
    # Plain fields set as given (description, default_payment_method, ...).
    fields: dict[str, Any] = field(default_factory=dict)
    # The coupons of `discounts` (None: unchanged; []: cleared), see discounts.py.
    coupons: list[dict[str, Any]] | None = None


def proration_lines(
    state: DoubleState,
    sub: dict[str, Any],
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: int,
) -> list[dict[str, Any]]:
    """Credit the unused rest of the period at the old item, charge it at the new one."""
    start, end = current_period(sub)
    if at >= end or end <= start:
        return []
    out: list[dict[str, Any]] = []
    for item, kind, sign in ((before, "unused", -1), (after, "remaining", 1)):
        if item is None or int(item["quantity"]) == 0:
            continue
        full = tiers.amount(item["price"], int(item["quantity"]))
        amount = sign * invoices.div_round(full * (end - at), end - start)
        if amount:
            out.append(
                invoices.line(
                    item=item,
                    quantity=int(item["quantity"]),
                    period=(at, end),
                    amount=amount,
                    proration=kind,
                    product_name=product_name(state, item["price"]),
                )
            )
    return out


def _note_quantity_updates(state: DoubleState, sub: dict[str, Any], count: int, at: int) -> None:
    """Stripe allows at most 200 quantity updates per subscription per hour."""
    limit = state.config.quantity_updates_per_hour
    extra = state.sub_extra[sub["id"]]
    extra.quantity_updates = [t for t in extra.quantity_updates if t > at - 3600]
    if limit is not None and len(extra.quantity_updates) + count > limit:
        raise rate_limited(
            f"This subscription's quantity was updated more than {limit} times in the last "
            "hour. Please retry later."
        )
    extra.quantity_updates.extend([at] * count)


def _apply_item(
    state: DoubleState, sub: dict[str, Any], spec: ItemSpec, index: int, at: int
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Apply one item change; returns the item before and after (None: absent)."""
    items: list[dict[str, Any]] = sub["items"]["data"]
    if spec.item_id is None:
        if spec.price is None:
            raise invalid("Missing required param: items[].price.", param=f"items[{index}][price]")
        item = objects.subscription_item(
            sub_id=sub["id"],
            price_obj=spec.price,
            quantity=1 if spec.quantity is None else spec.quantity,
            created=at,
            period=current_period(sub),
            metadata=spec.metadata or {},
        )
        items.append(item)
        state.item_index[item["id"]] = sub["id"]
        return None, item
    position = next((i for i, it in enumerate(items) if it["id"] == spec.item_id), None)
    if position is None:
        raise missing(spec.item_id, param=f"items[{index}][id]")
    before = snapshot(items[position])
    if spec.deleted:
        del items[position]
        del state.item_index[spec.item_id]
        return before, None
    item = items[position]
    if spec.price is not None:
        item["price"] = snapshot(spec.price)
        item["plan"] = objects.plan_from_price(spec.price)
    if spec.quantity is not None:
        item["quantity"] = spec.quantity
    item["metadata"] = merge_metadata(item["metadata"], spec.metadata)
    return before, item


def _billing_differs(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    if before is None or after is None:
        return True
    return bool(
        before["quantity"] != after["quantity"] or before["price"]["id"] != after["price"]["id"]
    )


def update_subscription(
    state: DoubleState, sub: dict[str, Any], change: SubscriptionChange
) -> dict[str, Any]:
    """Apply an update, emit `customer.subscription.updated`, and handle prorations."""
    at = state.scope_now(sub["test_clock"])
    if sub["status"] == "canceled" and (
        change.items or change.cancel_at_period_end is not None or change.coupons is not None
    ):
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    quantity_changes = sum(1 for spec in change.items if spec.quantity is not None)
    if quantity_changes:
        _note_quantity_updates(state, sub, quantity_changes, at)
    before_sub = snapshot(sub)
    lines: list[dict[str, Any]] = []
    for index, spec in enumerate(change.items):
        before, after = _apply_item(state, sub, spec, index, at)
        if change.proration_behavior != "none" and _billing_differs(before, after):
            lines += proration_lines(state, sub, before, after, at)
    if not sub["items"]["data"]:
        raise invalid("A subscription must keep at least one item.", param="items")
    check_prices_compatible([item["price"] for item in sub["items"]["data"]])
    sub["metadata"] = merge_metadata(sub["metadata"], change.metadata)
    sub.update(change.fields)
    if change.cancel_at_period_end is not None:
        sub["cancel_at_period_end"] = change.cancel_at_period_end
        sub["cancel_at"] = current_period(sub)[1] if change.cancel_at_period_end else None
    if change.tax_enabled is not None:
        sub["automatic_tax"] = objects.automatic_tax(change.tax_enabled)
    if change.coupons is not None:
        discounts.redeem(state, sub, change.coupons, at=at)
    inv = _invoice_prorations(state, sub, lines, change.proration_behavior, at)
    if sub != before_sub:
        emit(state, "customer.subscription.updated", sub, at=at, previous=before_sub)
    if inv is not None:
        emit(state, "invoice.created", inv, at=at)
        paid = invoices.charge(state, inv, at=at)
        settle_status(state, sub, paid=paid, at=at)
    return sub


def _invoice_prorations(
    state: DoubleState, sub: dict[str, Any], lines: list[dict[str, Any]], behavior: str, at: int
) -> dict[str, Any] | None:
    """Queue prorations for the next invoice, or (always_invoice, net charge) invoice now.

    A net credit under always_invoice is queued too: Stripe would put it on the customer's
    balance and apply it to the next invoice, which nets out to the same amount due.
    """
    if not lines:
        return None
    extra = state.sub_extra[sub["id"]]
    pending = [*extra.pending_lines, *lines]
    if behavior != "always_invoice" or sum(int(line["amount"]) for line in pending) <= 0:
        extra.pending_lines = pending
        return None
    extra.pending_lines = []
    return open_invoice(state, sub, pending, reason="subscription_update", at=at)


def preview_invoice(
    state: DoubleState,
    sub: dict[str, Any],
    *,
    quantities: dict[str, int] | None = None,
    prorate: bool = False,
) -> dict[str, Any]:
    """The next renewal invoice as it would be built now (no `id`), like create_preview.

    With `quantities` (item id → quantity) and `prorate`, the prorations such a change
    would queue are included, as `create_prorations` would bill them at renewal.
    """
    extra = state.sub_extra[sub["id"]]
    period = period_bounds(sub, extra.periods_elapsed + 1)
    at = state.scope_now(sub["test_clock"])
    lines = [snapshot(line) for line in extra.pending_lines]
    overrides = quantities or {}
    for item in sub["items"]["data"]:
        qty = overrides.get(item["id"])
        if prorate and qty is not None and qty != item["quantity"]:
            lines += proration_lines(state, sub, item, {**item, "quantity": qty}, at)
    for item in sub["items"]["data"]:
        lines.append(item_line(state, item, period, overrides.get(item["id"])))
    lines += invoice_items.pending_lines(state, sub)
    return invoice_objects.preview(state, sub, lines, at=at, period=current_period(sub))
