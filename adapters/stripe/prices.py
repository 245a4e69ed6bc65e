"""Prices in webhook payloads, read as facts the ledger records (domain/prices.py).

A ``price.created`` / ``price.updated`` / ``price.deleted`` event carries one price; a
subscription event carries its items' prices (expanded in every rendering). Each is read
by ``read_price`` (adapters/stripe/values.py) and stamped with the event's id and
``created``, so the newest observation wins whatever the arrival order.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from adapters.stripe.delivery import Delivery, Translation
from adapters.stripe.payload import Node, TranslationError
from adapters.stripe.values import read_price
from domain.prices import PriceFacts

log = logging.getLogger("ledger.stripe")
PRICE_EVENT_TYPES = ("price.created", "price.updated", "price.deleted")


def price_changed(d: Delivery) -> Translation:
    """A ``price.*`` event: the price it carries, for no organizer (a price is nobody's).
    A malformed price fails the delivery, named (``data.object.unit_amount is missing``)."""
    read = read_price(d.obj.data, d.obj.path)
    if d.type == "price.deleted" and not read.deleted:
        read = replace(read, deleted=True)
    facts = read.facts(observed_at=d.created, source=d.event_id)
    return Translation.ignored(f"{d.type} for {read.price_id}").with_prices((facts,))


def item_prices(d: Delivery) -> tuple[PriceFacts, ...]:
    """The prices of a subscription's items, as observed at the event's ``created``. An
    item whose price is not expanded or is unreadable is passed over (logged): the
    subscription's own translation decides whether the delivery is good."""
    found: dict[str, PriceFacts] = {}
    for item in _items(d.obj):
        price = item.data.get("price")
        if not isinstance(price, dict):
            continue
        try:
            read = read_price(price, item.where("price"))
        except TranslationError as error:
            log.warning("%s: price of an item not recorded: %s", d.event_id, error)
            continue
        found.setdefault(read.price_id, read.facts(observed_at=d.created, source=d.event_id))
    return tuple(found.values())


def _items(subscription: Node) -> list[Node]:
    try:
        return subscription.list_data("items")
    except TranslationError:
        return []
