"""Renewal previews for prices that are not per unit, and for discounted subscriptions
(issue 13).

A tiered or volume price's amount depends on the quantity, so the billing page cannot
compute it from the price. When the billable quantity changes for an enrolled organizer
on such a price (or when a subscription snapshot arrives: its discounts may have
changed), the reactor asks Stripe once (``create_preview`` through ``PreviewPort``)
and records the answer (domain/preview_events.py): same (subscription, price, quantity,
period, discounts), one preview. A per-unit price is previewed only when the subscription
has discounts (coupons): without, the page's unit amount x quantity is the charge. A
Stripe failure is logged and records nothing; the next change tries again (no retry
loop here).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol
from uuid import UUID

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from app.services.ledger import LedgerApplication
from domain.claims import fact_key
from domain.organizer import Organizer
from domain.preview_events import preview_source, record_renewal_preview
from projections.prices import read_price

log = logging.getLogger(__name__)


class PreviewRead(Protocol):
    @property
    def subtotal(self) -> int: ...
    @property
    def tax(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def period_end(self) -> datetime: ...
    @property
    def discount(self) -> int: ...


class PreviewPort(Protocol):
    def preview_renewal(self, subscription_id: str, item_id: str, quantity: int) -> PreviewRead:
        """The next renewal invoice if the item had ``quantity`` (adapters/stripe)."""


class RenewalPreviews:
    def __init__(
        self,
        database: SQLiteDatabase | PostgresDatabase,
        ledger: LedgerApplication,
        port: PreviewPort,
        *,
        minimum_quantity: int,
    ) -> None:
        self.database = database
        self.ledger = ledger
        self.port = port
        self.minimum_quantity = minimum_quantity

    def refresh(self, organizer_id: UUID, organizer: Organizer | None = None) -> bool:
        """Preview and record the next renewal at the current billable quantity, when the
        price is not per unit or the subscription has discounts; returns whether a
        preview was recorded. ``organizer``: its state, if the caller just read it."""
        if organizer is None:
            organizer = self.ledger.repository.get(organizer_id)
        snapshot = organizer.subscription_snapshot
        if snapshot is None or snapshot.status not in ("active", "trialing", "past_due"):
            return False
        price = read_price(self.database, snapshot.price_id)
        if price is None or (price.facts.is_per_unit and not snapshot.discount_ids):
            return False
        quantity = organizer.billable_quantity(minimum=self.minimum_quantity)
        key = (snapshot.subscription_id, snapshot.price_id, quantity)
        source = preview_source(*key, snapshot.current_period_end, snapshot.discount_ids)
        if self.ledger.claimed(organizer_id, fact_key(Organizer.RenewalPreviewRecorded, source)):
            return False  # the same inputs previewed already: no Stripe call
        try:
            found = self.port.preview_renewal(snapshot.subscription_id, snapshot.item_id, quantity)
        except Exception:  # Stripe down, refused or unreadable: the next change tries again
            log.exception("renewal preview of %s failed; nothing recorded", organizer_id)
            return False
        return self.ledger.update_by_id(
            organizer_id,
            lambda org, at: record_renewal_preview(
                org,
                subscription_id=snapshot.subscription_id,
                price_id=snapshot.price_id,
                quantity=quantity,
                subtotal=found.subtotal,
                tax=found.tax,
                total=found.total,
                currency=found.currency,
                period_end=snapshot.current_period_end,
                at=at,
                discount_ids=snapshot.discount_ids,
                discount=found.discount,
            ),
        )
