"""The renewal settings the process manager works with (built from Settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from domain.renewal import ProrationPolicy


@dataclass(frozen=True)
class RenewalPolicy:
    minimum_quantity: int = 1
    proration: ProrationPolicy = ProrationPolicy.NONE
    lead: timedelta = timedelta(hours=1)
    retry_base: timedelta = timedelta(seconds=2)
    retry_horizon: timedelta = timedelta(hours=24)
    # STRIPE_PRICE_ID: only the item with this price is billed per group (empty: any).
    group_price_ids: frozenset[str] = field(default_factory=frozenset)
    # STRIPE_AUTOMATIC_TAX: one-off invoices for late differences compute tax like renewals.
    automatic_tax: bool = False
