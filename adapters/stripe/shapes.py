"""Where each API version keeps the fields we read: one reader per payload shape.

Stripe renders a webhook payload in the API version of the endpoint (``api_version``
on the event). We accept 2020-03-02 up to the version the SDK pins. Three shapes
cover that range, and the rest of the adapter asks a shape, never the raw fields:

- ``LegacyShape`` (2020-03-02): billing period on the subscription,
  ``invoice.subscription``, ``invoice.tax``, lines typed ``subscription``.
- ``TaxAmountsShape`` (2020-08-27 up to basil): as legacy, but tax is the sum of
  ``invoice.total_tax_amounts``.
- ``BasilShape`` (2025-03-31.basil on): billing period on the subscription items,
  ``invoice.parent.subscription_details``, ``invoice.total_taxes``, lines whose
  ``parent`` is ``subscription_item_details``.

See docs/stripe-translation.md for why the tax boundary sits at 2020-08-27.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

import stripe

from adapters.stripe.payload import Node, TranslationError

MINIMUM_API_VERSION = "2020-03-02"
PINNED_API_VERSION: str = str(stripe.api_version)
# The first version whose payloads may lack `invoice.tax` is not pinned down in
# Stripe's changelog; `total_tax_amounts` (same sum) exists from before 2020-03-02
# until basil, so switching early is always safe and switching late is not.
TAX_AMOUNTS_SINCE = "2020-08-27"
BASIL_SINCE = "2025-03-31.basil"

_VERSION = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:\.[a-z]+)?")


def release_date(version: str) -> date:
    """The date an API version (``2025-03-31.basil``) was released; versions sort by it."""
    match = _VERSION.fullmatch(version)
    if match is not None:
        with contextlib.suppress(ValueError):  # 2025-13-01 matches but is no date
            return date(int(match[1]), int(match[2]), int(match[3]))
    msg = f"api_version {version!r} is not a Stripe API version"
    raise TranslationError(msg)


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionLine:
    """A regular (not proration) invoice line that bills a subscription item."""

    price_id: str | None
    quantity: int
    period: Period
    line_id: str | None = None
    # The per-unit price in minor units (None: the line does not say, e.g. tiered).
    unit_amount: int | None = None


def read_period(node: Node, start_key: str, end_key: str) -> Period:
    period = Period(node.instant(start_key), node.instant(end_key))
    if period.end < period.start:
        msg = f"{node.where(end_key)} is before {node.where(start_key)}"
        raise TranslationError(msg)
    return period


def _whole(text: str | None) -> int | None:
    """``"500"`` or ``"500.000"`` → 500; fractions of a minor unit (or nothing) → None."""
    if text is None:
        return None
    whole, _, fraction = text.partition(".")
    if not whole.lstrip("-").isdigit() or fraction.strip("0"):
        return None
    return int(whole)


def unit_amount_of(line: Node, stated: str | None, quantity: int) -> int | None:
    """A regular line's unit price: the one it states, else its amount per unit."""
    unit = _whole(stated)
    if unit is not None:
        return unit
    amount = line.optional_integer("amount")
    if quantity and amount is not None and amount % quantity == 0:
        return amount // quantity
    return None


def price_of(node: Node) -> str | None:
    """The price id of a subscription item or invoice line.

    Objects rendered before Prices existed carry only ``plan`` (same id space).
    """
    if node.has("price"):
        return node.ref("price")
    return node.ref("plan") if node.has("plan") else None


class Shape(Protocol):
    name: str

    def subscription_period(self, subscription: Node, item: Node) -> Period: ...

    def invoice_subscription(self, invoice: Node) -> str | None: ...

    def invoice_tax(self, invoice: Node) -> int: ...

    def subscription_lines(self, invoice: Node) -> list[SubscriptionLine]: ...


class LegacyShape:
    """2020-03-02: the shape of the stripe_sync_engine fixtures."""

    name = "legacy"

    def subscription_period(self, subscription: Node, item: Node) -> Period:
        return read_period(subscription, "current_period_start", "current_period_end")

    def invoice_subscription(self, invoice: Node) -> str | None:
        return invoice.optional_ref("subscription")

    def invoice_tax(self, invoice: Node) -> int:
        # null means no tax was computed, not an unknown amount.
        tax = invoice.optional_integer("tax")
        return 0 if tax is None else tax

    def subscription_lines(self, invoice: Node) -> list[SubscriptionLine]:
        return [
            _legacy_line(line)
            for line in invoice.list_data("lines")
            if line.optional_text("type") == "subscription" and not line.flag("proration")
        ]


def _legacy_line(line: Node) -> SubscriptionLine:
    quantity = line.line_quantity()
    return SubscriptionLine(
        price_id=price_of(line),
        quantity=quantity,
        period=read_period(line.child("period"), "start", "end"),
        line_id=line.optional_text("id"),
        unit_amount=unit_amount_of(line, _legacy_unit(line), quantity),
    )


def _decimal_text(value: object) -> str | None:
    """A decimal string as Stripe sends it (the SDK's objects hold it as ``Decimal``)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    return str(value)


def _legacy_unit(line: Node) -> str | None:
    """``price.unit_amount_decimal`` (or the plan's ``amount``) of an expanded price."""
    for key, field in (("price", "unit_amount_decimal"), ("plan", "amount")):
        value = line.data.get(key)
        if isinstance(value, dict):
            text = _decimal_text(value.get(field))
            if text is not None:
                return text
    return None


class TaxAmountsShape(LegacyShape):
    """2020-08-27 up to basil: tax from ``total_tax_amounts``."""

    name = "tax_amounts"

    def invoice_tax(self, invoice: Node) -> int:
        return sum(entry.integer("amount") for entry in invoice.entries("total_tax_amounts"))


class BasilShape:
    """2025-03-31.basil and later: the shape of the realworld and openapi fixtures."""

    name = "basil"

    def subscription_period(self, subscription: Node, item: Node) -> Period:
        return read_period(item, "current_period_start", "current_period_end")

    def invoice_subscription(self, invoice: Node) -> str | None:
        # Only a parent of type subscription_details is a subscription: a quote's invoice
        # (``quote_details``) or a type Stripe adds later is not billed per group.
        parent = invoice.optional_child("parent")
        if parent is None or parent.optional_text("type") != "subscription_details":
            return None
        details = parent.optional_child("subscription_details")
        return details.optional_ref("subscription") if details else None

    def invoice_tax(self, invoice: Node) -> int:
        return sum(entry.integer("amount") for entry in invoice.entries("total_taxes"))

    def subscription_lines(self, invoice: Node) -> list[SubscriptionLine]:
        lines: list[SubscriptionLine] = []
        for line in invoice.list_data("lines"):
            parent = line.optional_child("parent")
            if parent is None or parent.optional_text("type") != "subscription_item_details":
                continue
            if parent.child("subscription_item_details").flag("proration"):
                continue
            lines.append(_basil_line(line))
        return lines


def _basil_line(line: Node) -> SubscriptionLine:
    pricing = line.optional_child("pricing")
    details = pricing.optional_child("price_details") if pricing else None
    stated = _decimal_text(pricing.data.get("unit_amount_decimal")) if pricing else None
    quantity = line.line_quantity()
    return SubscriptionLine(
        price_id=details.optional_ref("price") if details else None,
        quantity=quantity,
        period=read_period(line.child("period"), "start", "end"),
        line_id=line.optional_text("id"),
        unit_amount=unit_amount_of(line, stated, quantity),
    )


LEGACY = LegacyShape()
TAX_AMOUNTS = TaxAmountsShape()
BASIL = BasilShape()
# Newest first: a payload takes the first shape released on or before its version.
_SHAPES_SINCE: tuple[tuple[date, Shape], ...] = (
    (release_date(BASIL_SINCE), BASIL),
    (release_date(TAX_AMOUNTS_SINCE), TAX_AMOUNTS),
    (release_date(MINIMUM_API_VERSION), LEGACY),
)


def shape_for_version(api_version: str) -> Shape:
    """The shape of payloads rendered in ``api_version``; refuses versions out of range."""
    released = release_date(api_version)
    if released > release_date(PINNED_API_VERSION):
        msg = f"api_version {api_version} is newer than the pinned {PINNED_API_VERSION}"
        raise TranslationError(msg)
    for since, shape in _SHAPES_SINCE:
        if released >= since:
            return shape
    msg = f"api_version {api_version} is older than the oldest supported {MINIMUM_API_VERSION}"
    raise TranslationError(msg)


def shape_from_fields(obj: Node) -> Shape:
    """The shape of an object whose event names no ``api_version``: fields only one
    shape has decide (a legacy subscription always carries its period itself)."""
    if obj.data.get("object") == "subscription":
        return LEGACY if "current_period_end" in obj.data else BASIL
    if "parent" in obj.data or "total_taxes" in obj.data:
        return BASIL
    return LEGACY if "tax" in obj.data else TAX_AMOUNTS
