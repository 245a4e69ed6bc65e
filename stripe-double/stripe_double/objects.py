"""Builders for Stripe objects in the current (basil and later) API shape."""

from __future__ import annotations

import secrets
from typing import Any

from stripe_double.state import new_id, snapshot


def list_object(data: list[dict[str, Any]], url: str, *, has_more: bool = False) -> dict[str, Any]:
    """Stripe's `{"object": "list", ...}` envelope."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def product(
    *, name: str, created: int, metadata: dict[str, str], description: str | None, active: bool
) -> dict[str, Any]:
    """A `product` object."""
    return {
        "id": new_id("prod", 14),
        "object": "product",
        "active": active,
        "created": created,
        "default_price": None,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata,
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def price(
    *,
    product_id: str,
    unit_amount: int,
    currency: str,
    recurring: dict[str, Any] | None,
    created: int,
    metadata: dict[str, str],
    nickname: str | None,
    lookup_key: str | None,
    tax_behavior: str,
    tiers_mode: str | None = None,
    tiers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A `price` object; `recurring` is None for one-time prices; `tiers_mode` and
    `tiers` (kept, shown only when expanded) for a tiered price (no `unit_amount`)."""
    tiered = tiers_mode is not None
    return {
        "id": new_id("price"),
        "object": "price",
        "active": True,
        "billing_scheme": "tiered" if tiered else "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata,
        "nickname": nickname,
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": tax_behavior,
        "tiers": tiers if tiered else None,
        "tiers_mode": tiers_mode,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": None if tiered else unit_amount,
        "unit_amount_decimal": None if tiered else str(unit_amount),
    }


def plan_from_price(p: dict[str, Any]) -> dict[str, Any]:
    """The legacy `plan` view Stripe still embeds in subscription items."""
    recurring = p["recurring"] or {}
    return {
        "id": p["id"],
        "object": "plan",
        "active": p["active"],
        "amount": p["unit_amount"],
        "amount_decimal": p["unit_amount_decimal"],
        "billing_scheme": p["billing_scheme"],
        "created": p["created"],
        "currency": p["currency"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": False,
        "metadata": p["metadata"],
        "meter": None,
        "nickname": p["nickname"],
        "product": p["product"],
        "tiers_mode": p["tiers_mode"],
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def customer(
    *,
    created: int,
    email: str | None,
    name: str | None,
    metadata: dict[str, str],
    test_clock: str | None,
    description: str | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    """A `customer` object."""
    return {
        "id": new_id("cus", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "invoice_prefix": secrets.token_hex(4).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": metadata,
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": test_clock,
    }


def subscription_item(
    *,
    sub_id: str,
    price_obj: dict[str, Any],
    quantity: int,
    created: int,
    period: tuple[int, int],
    metadata: dict[str, str],
) -> dict[str, Any]:
    """A `subscription_item`; its billing period lives here since API version basil."""
    return {
        "id": new_id("si", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": created,
        "current_period_end": period[1],
        "current_period_start": period[0],
        "discounts": [],
        "metadata": metadata,
        "plan": plan_from_price(price_obj),
        "price": snapshot(price_obj),
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    }


def automatic_tax(enabled: bool, *, for_invoice: bool = False) -> dict[str, Any]:
    """The `automatic_tax` hash of subscriptions, invoices and checkout sessions."""
    out: dict[str, Any] = {
        "disabled_reason": None,
        "enabled": enabled,
        "liability": {"type": "self"} if enabled else None,
    }
    if for_invoice:
        out["provider"] = "stripe" if enabled else None
        out["status"] = "complete" if enabled else None
    return out


def subscription(
    *,
    sub_id: str,
    customer_id: str,
    currency: str,
    created: int,
    metadata: dict[str, str],
    tax_enabled: bool,
    test_clock: str | None,
) -> dict[str, Any]:
    """A `subscription` without items (the caller appends them to `items.data`)."""
    return {
        "id": sub_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": automatic_tax(tax_enabled),
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": list_object([], f"/v1/subscription_items?subscription={sub_id}"),
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": "incomplete",
        "test_clock": test_clock,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def test_clock(*, frozen_time: int, name: str | None, created: int) -> dict[str, Any]:
    """A `test_helpers.test_clock` (Stripe deletes them 30 days after creation)."""
    return {
        "id": new_id("clock"),
        "object": "test_helpers.test_clock",
        "created": created,
        "deletes_after": created + 30 * 86400,
        "frozen_time": frozen_time,
        "livemode": False,
        "name": name,
        "status": "ready",
        "status_details": {},
    }


def webhook_endpoint(
    *,
    url: str,
    enabled_events: list[str],
    api_version: str | None,
    description: str | None,
    metadata: dict[str, str],
    created: int,
) -> dict[str, Any]:
    """A `webhook_endpoint` (its secret is stored apart; Stripe shows it only on create)."""
    return {
        "id": new_id("we"),
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": created,
        "description": description,
        "enabled_events": enabled_events,
        "livemode": False,
        "metadata": metadata,
        "status": "enabled",
        "url": url,
    }
