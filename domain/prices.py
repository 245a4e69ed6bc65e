"""Stripe prices as facts the ledger records (issue 13: reads never call Stripe).

A price is no organizer's: it has a small ``StripePrice`` aggregate of its own, its id
derived from the Stripe price id, so every process finds the same stream. Stripe tells the
ledger about a price in subscription snapshots (the item's price), in ``price.*`` webhooks
and when ``ledger stripe setup`` / ``check`` or the worker retrieves the per-group price.
Those arrive unordered and at least once: the observation with the greatest
``(observed_at, source)`` wins, and one that is not newer records nothing, so any
permutation or duplication of the same observations ends on the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.flat import field_values
from domain.guards import OrganizerError, check_aware, check_platform_id

# Fixed forever: price stream ids are derived from it (changing it orphans every stream).
PRICE_NAMESPACE = uuid5(NAMESPACE_URL, "https://renewal-ledger.invalid/stripe-price")
PER_UNIT = "per_unit"


def price_uuid(price_id: str) -> UUID:
    """The aggregate id for a Stripe price id: same input, same id, forever."""
    return uuid5(PRICE_NAMESPACE, price_id)


@dataclass(frozen=True, slots=True)
class PriceTier:
    """One tier of a tiered price, in minor units (``up_to`` None: the last tier)."""

    up_to: int | None
    unit_amount: int | None
    flat_amount: int | None


@dataclass(frozen=True, slots=True)
class PriceFacts:
    """What Stripe said a price was at ``observed_at`` (plain values, minor units)."""

    price_id: str
    unit_amount: int | None  # None for a tiered price: it depends on the quantity
    currency: str
    interval: str
    interval_count: int
    billing_scheme: str
    tiers_mode: str | None
    tiers: tuple[PriceTier, ...]
    active: bool
    deleted: bool
    observed_at: datetime
    source: str  # the Stripe event id, or what read it (``retrieved:<time>``)

    def __post_init__(self) -> None:
        check_platform_id(self.price_id, "price_id")
        check_aware(self.observed_at, "observed_at")
        if self.unit_amount is not None and self.unit_amount < 0:
            msg = f"unit_amount must not be negative, got {self.unit_amount}"
            raise OrganizerError(msg)
        if self.interval_count < 1:
            msg = f"interval_count must be at least 1, got {self.interval_count}"
            raise OrganizerError(msg)

    @property
    def is_per_unit(self) -> bool:
        return self.billing_scheme == PER_UNIT and self.unit_amount is not None

    def order_key(self) -> tuple[datetime, str]:
        return (self.observed_at, self.source)

    def as_event_fields(self) -> dict[str, Any]:
        fields_ = field_values(self)
        fields_["tiers"] = [[t.up_to, t.unit_amount, t.flat_amount] for t in self.tiers]
        return fields_

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> PriceFacts:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["tiers"] = tuple(PriceTier(*tier) for tier in data.get("tiers") or ())
        return cls(**values)


def same_facts(one: PriceFacts, other: PriceFacts) -> bool:
    """Equal in everything but when and from where they were observed."""
    return replace(one, observed_at=other.observed_at, source=other.source) == other


class StripePrice(Aggregate):
    """One Stripe price, as last observed. ``name``-independent topics:
    ``domain.prices:StripePrice.Observed``; keep the class names."""

    class Observed(Aggregate.Event):
        price_id: str
        unit_amount: int | None
        currency: str
        interval: str
        interval_count: int
        billing_scheme: str
        tiers_mode: str | None
        tiers: list[list[int | None]]
        active: bool
        deleted: bool
        observed_at: datetime
        source: str

        def apply(self, aggregate: Aggregate) -> None:
            if not isinstance(aggregate, StripePrice):  # pragma: no cover - by construction
                msg = "Observed applies to a StripePrice"
                raise TypeError(msg)
            aggregate.facts = dict(self.__dict__)

    class Started(Aggregate.Created):
        price_id: str

    def __init__(self, price_id: str) -> None:
        self.price_id = price_id
        self.facts: dict[str, Any] | None = None

    @classmethod
    def start(cls, price_id: str, *, at: datetime) -> StripePrice:
        check_platform_id(price_id, "price_id")
        check_aware(at, "at")
        return cls._create(cls.Started, id=price_uuid(price_id), price_id=price_id, timestamp=at)

    @property
    def current(self) -> PriceFacts | None:
        return None if self.facts is None else PriceFacts.from_fields(self.facts)

    def observe(self, facts: PriceFacts, *, at: datetime, only_if_changed: bool = False) -> bool:
        """Record ``facts`` unless an observation as new or newer is already recorded;
        returns whether it recorded something.

        ``only_if_changed`` is for a price seen in passing (a subscription item): it is
        recorded only when it says something new, so the stream grows with the price's
        changes, not with every subscription webhook. That keeps the newest facts whatever
        the order, because every change of a price comes with its own ``price.*`` event
        (recorded whenever newer): after a change at ``tc`` all later observations show
        the new facts, so the newest recorded one, at or after ``tc``, shows them too."""
        if facts.price_id != self.price_id:
            msg = f"price {facts.price_id} observed on the stream of {self.price_id}"
            raise OrganizerError(msg)
        current = self.current
        if current is not None and facts.order_key() <= current.order_key():
            return False
        if only_if_changed and current is not None and same_facts(current, facts):
            return False
        self.trigger_event(self.Observed, timestamp=at, **facts.as_event_fields())
        return True


# Every event class of the aggregate (tests/unit/test_event_dispatch.py).
PRICE_EVENT_CLASSES: frozenset[type[Aggregate.Event]] = frozenset(
    {StripePrice.Started, StripePrice.Observed}
)
