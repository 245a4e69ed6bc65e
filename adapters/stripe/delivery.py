"""One webhook delivery being translated, and what its translation says.

Shared by the per-resource handlers (translate.py, invoices.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from adapters.stripe.commands import Command
from adapters.stripe.payload import Node, TranslationError
from adapters.stripe.shapes import Shape
from domain.prices import PriceFacts


@dataclass(frozen=True, slots=True)
class Translation:
    """What one Stripe event means for the ledger."""

    outcome: Literal["commands", "ignored"]
    reason: str
    organizer_hint: str | None
    customer_id: str | None
    subscription_id: str | None
    commands: tuple[Command, ...]
    # Prices the event shows (price.*, a subscription's items): facts of no organizer,
    # recorded whatever the outcome for the organizer (domain/prices.py).
    prices: tuple[PriceFacts, ...] = ()

    @classmethod
    def ignored(cls, reason: str) -> Translation:
        return cls("ignored", reason, None, None, None, ())

    def with_prices(self, prices: Iterable[PriceFacts]) -> Translation:
        return replace(self, prices=(*self.prices, *prices))


@dataclass(frozen=True, slots=True)
class Delivery:
    """The envelope of a handled event, read once and validated."""

    event_id: str
    type: str
    created: datetime
    obj: Node
    shape: Shape
    group_price_ids: AbstractSet[str]

    def translation(
        self,
        about: str,
        *,
        hint: str | None,
        customer_id: str | None,
        subscription_id: str | None,
        commands: Iterable[Command],
    ) -> Translation:
        reason = f"{self.type} for {about}"
        return Translation("commands", reason, hint, customer_id, subscription_id, tuple(commands))


def metadata_organizer(obj: Node) -> str | None:
    """The platform organizer id our code put in an object's metadata, if any."""
    metadata = obj.optional_child("metadata")
    return metadata.optional_text("organizer_id") if metadata else None


def count(node: Node, key: str) -> int:
    """A quantity or amount that cannot be negative."""
    value = node.integer(key)
    if value < 0:
        msg = f"{node.where(key)} must not be negative, got {value}"
        raise TranslationError(msg)
    return value
