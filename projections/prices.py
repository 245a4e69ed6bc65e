"""Prices: the last recorded observation of each Stripe price (domain/prices.py).

What the billing page's estimate reads (app/services/organizers/billing.py), so that a
page view never calls Stripe. One row per price; the aggregate already decided which
observation is the newest, so the row is simply its latest ``Observed`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from adapters.persistence.database import Cursor, Database
from domain.prices import PriceFacts, PriceTier, StripePrice
from projections.base import Positioned, ReadModel, upsert_rows
from projections.events import organizer_event_classes
from projections.times import fmt_time, from_text
from projections.view import Column, ReadModelView, TableSpec

PRICES = TableSpec(
    "rm_prices",
    (
        Column("price_id", "text", primary_key=True),
        Column("unit_amount", "bigint"),
        Column("currency", "text", nullable=False),
        Column("interval", "text", nullable=False),
        Column("interval_count", "bigint", nullable=False),
        Column("billing_scheme", "text", nullable=False),
        Column("tiers_mode", "text"),
        Column("tiers", "text", nullable=False),
        Column("active", "bigint", nullable=False),
        Column("deleted", "bigint", nullable=False),
        Column("observed_at", "text", nullable=False),
        Column("source", "text", nullable=False),
        Column("position", "bigint", nullable=False),
    ),
)


@dataclass(frozen=True, slots=True)
class RecordedPrice:
    """A price as the ledger last recorded it."""

    facts: PriceFacts
    position: int


class PricesProjection(ReadModel):
    name = "prices"
    tables = (PRICES,)
    handles = frozenset({StripePrice.Observed})
    # Its stream's creation says nothing about the price; every organizer event is
    # another aggregate's (tests/unit/test_event_dispatch.py).
    IGNORED = frozenset({StripePrice.Started}) | organizer_event_classes()

    def __init__(self, view: ReadModelView, *, minimum_quantity: int = 1) -> None:
        super().__init__(view)

    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        rows: dict[str, dict[str, Any]] = {}
        for event, position in events:
            if type(event) is StripePrice.Observed:
                rows[event.price_id] = _row(event, position)
        upsert_rows(cursor, self.t("rm_prices"), PRICES, list(rows.values()))


def _row(event: Any, position: int) -> dict[str, Any]:
    return {
        "price_id": event.price_id,
        "unit_amount": event.unit_amount,
        "currency": event.currency,
        "interval": event.interval,
        "interval_count": event.interval_count,
        "billing_scheme": event.billing_scheme,
        "tiers_mode": event.tiers_mode,
        "tiers": orjson.dumps(list(event.tiers)).decode(),
        "active": int(event.active),
        "deleted": int(event.deleted),
        "observed_at": fmt_time(event.observed_at),
        "source": event.source,
        "position": position,
    }


def read_price(database: Database, price_id: str) -> RecordedPrice | None:
    """The price as last recorded, or None if the ledger has never seen it."""
    with database.transaction() as cursor:
        row = cursor.execute(
            "SELECT * FROM rm_prices WHERE price_id = :p", {"p": price_id}
        ).fetchone()
    if row is None:
        return None
    facts = PriceFacts(
        price_id=str(row["price_id"]),
        unit_amount=None if row["unit_amount"] is None else int(row["unit_amount"]),
        currency=str(row["currency"]),
        interval=str(row["interval"]),
        interval_count=int(row["interval_count"]),
        billing_scheme=str(row["billing_scheme"]),
        tiers_mode=row["tiers_mode"],
        tiers=tuple(PriceTier(*tier) for tier in orjson.loads(row["tiers"])),
        active=bool(row["active"]),
        deleted=bool(row["deleted"]),
        observed_at=from_text(str(row["observed_at"])),
        source=str(row["source"]),
    )
    return RecordedPrice(facts, int(row["position"]))
