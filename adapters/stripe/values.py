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
from domain.prices import PriceFacts, PriceTier

MAX_URL_LENGTH = 2_000  # Checkout URLs run to a few hundred characters


@dataclass(frozen=True)
class PriceRead:
    """A price as the ledger records it (domain/prices.py). ``unit_amount`` is None for a
    tiered price (its amount depends on the quantity: the page then shows no estimate)."""

    price_id: str
    unit_amount: int | None
    currency: str
    interval: str
    billing_scheme: str
    interval_count: int = 1
    tiers_mode: str | None = None
    tiers: tuple[PriceTier, ...] = ()
    active: bool = True
    deleted: bool = False

    def facts(self, *, observed_at: datetime, source: str) -> PriceFacts:
        """The price as a fact observed at ``observed_at`` (from ``source``)."""
        return PriceFacts(
            price_id=self.price_id,
            unit_amount=self.unit_amount,
            currency=self.currency,
            interval=self.interval,
            interval_count=self.interval_count,
            billing_scheme=self.billing_scheme,
            tiers_mode=self.tiers_mode,
            tiers=self.tiers,
            active=self.active,
            deleted=self.deleted,
            observed_at=observed_at,
            source=source,
        )


@dataclass(frozen=True)
class CheckoutSessionRead:
    session_id: str
    url: str
    expires_at: datetime | None


def read_price(price: Mapping[str, Any], path: str = "price") -> PriceRead:
    """A price object (retrieved, in a ``price.*`` event or a subscription item) read and
    validated; ``path`` names where it sits in error messages."""
    node = Node.root(price, path)
    scheme = node.optional_text("billing_scheme") or "per_unit"
    unit_amount = node.optional_integer("unit_amount") if scheme == "per_unit" else None
    if scheme == "per_unit" and unit_amount is None:
        msg = f"{node.where('unit_amount')} is missing"
        raise TranslationError(msg)
    if unit_amount is not None and unit_amount < 0:
        msg = f"{node.where('unit_amount')} must not be negative, got {unit_amount}"
        raise TranslationError(msg)
    recurring = node.optional_child("recurring")
    count = (recurring.optional_integer("interval_count") if recurring else None) or 1
    if count < 1:
        msg = f"{recurring.where('interval_count') if recurring else path} must be at least 1"
        raise TranslationError(msg)
    return PriceRead(
        price_id=node.text("id"),
        unit_amount=unit_amount,
        currency=node.currency("currency"),
        interval=(recurring.optional_text("interval") if recurring else None) or "month",
        billing_scheme=scheme,
        interval_count=count,
        tiers_mode=node.optional_text("tiers_mode"),
        tiers=tuple(_tier(tier) for tier in node.entries("tiers")),
        active=node.flag("active") if node.has("active") else True,
        deleted=node.flag("deleted"),
    )


def _tier(node: Node) -> PriceTier:
    amounts = {key: node.optional_integer(key) for key in ("unit_amount", "flat_amount")}
    for key, amount in amounts.items():
        if amount is not None and amount < 0:
            msg = f"{node.where(key)} must not be negative, got {amount}"
            raise TranslationError(msg)
    return PriceTier(node.optional_integer("up_to"), amounts["unit_amount"], amounts["flat_amount"])


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
