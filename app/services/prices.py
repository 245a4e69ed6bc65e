"""Recording Stripe prices as facts (domain/prices.py), and the per-group price read once.

Prices come from webhook deliveries (the inbox: ``price.*`` events and subscription
items) and from ``record_configured_price``, which the worker calls when it starts and
``ledger stripe setup`` / ``check`` call with the price they read: one Stripe call then,
never one per page view. The billing page reads the prices read model (projections/prices.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from adapters.stripe.values import PriceRead
from app.services.ledger import LedgerApplication
from domain.prices import PriceFacts, StripePrice, price_uuid

log = logging.getLogger("ledger")
MAX_ATTEMPTS = 8


class PriceSource(Protocol):
    """Where the configured price is read (the gateway)."""

    def price(self, price_id: str) -> PriceRead: ...


def record_price(
    ledger: LedgerApplication, facts: PriceFacts, *, only_if_changed: bool = False
) -> bool:
    """Record one observation of a price; returns whether it was new (a duplicate or an
    older observation records nothing; with ``only_if_changed``, one with the same facts
    neither: see ``StripePrice.observe``). A lost race with another writer decides again."""
    clock = ledger.clock
    for _ in range(MAX_ATTEMPTS):
        try:
            price: StripePrice = ledger.repository.get(price_uuid(facts.price_id))
        except AggregateNotFoundError:
            price = StripePrice.start(facts.price_id, at=clock())
        if not price.observe(facts, at=clock(), only_if_changed=only_if_changed):
            return False
        try:
            ledger.save(price)
        except IntegrityError:
            continue
        return True
    msg = f"price {facts.price_id}: lost the race {MAX_ATTEMPTS} times"
    raise RuntimeError(msg)


def record_prices(
    ledger: LedgerApplication, prices: Iterable[PriceFacts], *, only_if_changed: bool = False
) -> int:
    """Record each observation; returns how many were new."""
    return sum(record_price(ledger, f, only_if_changed=only_if_changed) for f in prices)


def record_read_price(ledger: LedgerApplication, read: PriceRead) -> bool:
    """A price just retrieved from Stripe, observed now."""
    now = ledger.clock()
    return record_price(ledger, read.facts(observed_at=now, source=f"retrieved:{now.isoformat()}"))


def record_configured_price(
    ledger: LedgerApplication, source: PriceSource, price_id: str | None
) -> bool:
    """Read the per-group price from Stripe once and record it (the worker at start).
    Stripe down or the price unreadable: logged, and the page shows no estimate until a
    later start, ``ledger stripe check`` or a ``price.*`` event records it."""
    if price_id is None:
        return False
    try:
        read = source.price(price_id)
    except Exception as error:  # any failure only delays the fact
        log.warning("the per-group price %s was not recorded: %s", price_id, error)
        return False
    return record_read_price(ledger, read)
