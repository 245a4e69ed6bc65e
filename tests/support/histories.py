"""Generating organizer histories through the real application (for read-model tests)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import partial

from app.services.ledger import LedgerApplication
from domain.billing import InvoiceFacts, SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def seed_history(ledger: LedgerApplication, *, organizers: int, steps: int, seed: int = 7) -> None:
    """Group churn, subscription snapshots and invoices for a few organizers."""
    rnd = random.Random(seed)
    for step in range(steps):
        org = f"org-{rnd.randrange(organizers)}"
        at = T0 + timedelta(minutes=step)
        roll = rnd.random()
        if roll < 0.6:
            ledger.change_group(
                org,
                action=rnd.choice(list(GroupAction)),
                group_id=f"g{rnd.randrange(6)}",
                change_id=f"chg-{step}",
                occurred_at=at - timedelta(seconds=rnd.randrange(120)),
            )
        elif roll < 0.85:
            snapshot = SubscriptionSnapshot(
                subscription_id=f"sub_{org}",
                item_id=f"si_{org}",
                price_id="price_group",
                status=rnd.choice(["active", "active", "past_due"]),
                quantity=rnd.randrange(1, 6),
                current_period_start=T0,
                current_period_end=T0 + timedelta(days=30),
                observed_at=at,
            )
            observe = partial(_observe, snapshot=snapshot, source=f"evt_{step}")
            ledger.update(org, observe, register=True)
        else:
            invoice = InvoiceFacts(
                invoice_id=f"in_{step}",
                subscription_id=f"sub_{org}",
                billing_reason="subscription_cycle",
                period_start=T0,
                period_end=T0 + timedelta(days=30),
                quantity=rnd.randrange(1, 6),
                subtotal=500,
                tax=95,
                total=595,
                amount_due=595,
                amount_paid=595,
                currency="eur",
                status="paid",
            )
            record = partial(_record, invoice=invoice, source=f"evt_{step}")
            ledger.update(org, record, register=True)


def _observe(
    organizer: Organizer, now: datetime, *, snapshot: SubscriptionSnapshot, source: str
) -> bool:
    return organizer.observe_subscription(snapshot, source=source, at=now)


def _record(organizer: Organizer, now: datetime, *, invoice: InvoiceFacts, source: str) -> bool:
    return organizer.record_invoice(invoice, source=source, at=now)


def seed_bulk(ledger: LedgerApplication, *, organizers: int, changes: int, seed: int = 5) -> None:
    """Many group changes per save (one transaction per organizer): a long log, fast."""
    rnd = random.Random(seed)
    for index in range(organizers):

        def churn(organizer: Organizer, now: datetime, index: int = index) -> None:
            for step in range(changes):
                organizer.change_group(
                    action=rnd.choice(list(GroupAction)),
                    group_id=f"g{rnd.randrange(12)}",
                    change_id=f"bulk-{index}-{step}",
                    occurred_at=T0 + timedelta(seconds=step),
                    at=now,
                )

        ledger.update(f"bulk-{index}", churn, register=True)
