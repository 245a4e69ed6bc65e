"""What the gateway hands app/: Stripe's answers read once, here, into plain values.

Each reader validates the fields the ledger uses and names the one that is wrong
(``TranslationError``), so a use case never subscripts a Stripe object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from adapters.stripe.payload import Node, TranslationError

MAX_URL_LENGTH = 2_000  # Checkout URLs run to a few hundred characters


@dataclass(frozen=True)
class PriceRead:
    """A price as the billing page needs it. ``unit_amount`` is None for a tiered price
    (its amount depends on the quantity: the page then shows no estimate)."""

    price_id: str
    unit_amount: int | None
    currency: str
    interval: str
    billing_scheme: str


@dataclass(frozen=True)
class CheckoutSessionRead:
    session_id: str
    url: str
    expires_at: datetime | None


def read_price(price: Mapping[str, Any]) -> PriceRead:
    node = Node.root(price, "price")
    scheme = node.optional_text("billing_scheme") or "per_unit"
    unit_amount = node.optional_integer("unit_amount") if scheme == "per_unit" else None
    if scheme == "per_unit" and unit_amount is None:
        msg = "price.unit_amount is missing"
        raise TranslationError(msg)
    if unit_amount is not None and unit_amount < 0:
        msg = f"price.unit_amount must not be negative, got {unit_amount}"
        raise TranslationError(msg)
    recurring = node.optional_child("recurring")
    return PriceRead(
        price_id=node.text("id"),
        unit_amount=unit_amount,
        currency=node.currency("currency"),
        interval=(recurring.optional_text("interval") if recurring else None) or "month",
        billing_scheme=scheme,
    )


def read_checkout_session(session: Mapping[str, Any]) -> CheckoutSessionRead:
    node = Node.root(session, "checkout_session")
    return CheckoutSessionRead(
        session_id=node.text("id"),
        url=_page_url(node, "url"),
        expires_at=node.instant("expires_at") if node.has("expires_at") else None,
    )


def _page_url(node: Node, key: str) -> str:
    """A page the organizer's browser is sent to: an absolute http(s) URL (https from
    Stripe; the local test double serves http), bounded, without spaces."""
    value = node.data.get(key)
    where = node.where(key)
    if not isinstance(value, str) or not value:
        msg = f"{where} must be a URL"
        raise TranslationError(msg)
    if len(value) > MAX_URL_LENGTH or not value.isprintable() or " " in value:
        msg = f"{where} must be at most {MAX_URL_LENGTH} printable characters without spaces"
        raise TranslationError(msg)
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        msg = f"{where} must be an absolute http(s) URL"
        raise TranslationError(msg)
    return value
