"""Billing facts observed from the payment provider, as plain value objects.

Stripe delivers snapshots unordered and at least once. The ordering rules here
decide, whatever the arrival order, which snapshot is the newest: the provider's
own timestamp first, then the object's own state, then a deterministic tie-break,
so that any permutation of the same deliveries converges on the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from domain.flat import field_values

# A subscription in one of these states never becomes live again.
TERMINAL_SUBSCRIPTION_STATUSES = frozenset({"canceled", "incomplete_expired"})
# Subscriptions in these states get no quantity sync (the reason is recorded).
NON_SYNCABLE_SUBSCRIPTION_STATUSES = frozenset(
    {"canceled", "incomplete_expired", "unpaid", "paused", "incomplete"}
)
# An invoice only moves forward through these ranks.
INVOICE_STATUS_RANK = {"draft": 0, "open": 1, "paid": 2, "void": 2, "uncollectible": 2}


@dataclass(frozen=True, slots=True)
class SubscriptionSnapshot:
    """What Stripe said a subscription looked like at ``observed_at``."""

    subscription_id: str
    item_id: str
    price_id: str
    status: str
    quantity: int
    current_period_start: datetime
    current_period_end: datetime
    observed_at: datetime
    # Stripe cancels the subscription at ``current_period_end`` instead of renewing it.
    cancel_at_period_end: bool = False
    # Since issue 13 (older records: unknown). When Stripe created the subscription
    # (which of two is the primary), and the schedule that owns it, if any.
    created: datetime | None = None
    schedule_id: str | None = None
    # Since issue 13 (older records: none). The ids of the subscription's discounts
    # (coupons redeemed on it): with one, the renewal's amount is Stripe's preview.
    discount_ids: tuple[str, ...] = ()

    def as_event_fields(self) -> dict[str, Any]:
        return field_values(self)

    def as_state(self) -> dict[str, Any]:
        # JSON-friendly, so a snapshot round-trips equal: a tuple would come back a list.
        state = field_values(self)
        state["discount_ids"] = list(self.discount_ids)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SubscriptionSnapshot:
        # State saved before a field existed (snapshots, old events) takes its default;
        # the transcoder gives a stored tuple back as a list.
        known = {f.name: state[f.name] for f in fields(cls) if f.name in state}
        if "discount_ids" in known:
            known["discount_ids"] = tuple(known["discount_ids"])
        return cls(**known)

    def same_facts(self, other: SubscriptionSnapshot) -> bool:
        """Equal in everything but the time it was observed."""
        return _facts(self) == _facts(other)

    def order_key(self) -> tuple[Any, ...]:
        return (
            self.observed_at,
            self.status in TERMINAL_SUBSCRIPTION_STATUSES,
            self.current_period_end,
            self.current_period_start,
            self.status,
            self.quantity,
            self.subscription_id,
            self.item_id,
            self.price_id,
            self.cancel_at_period_end,
            # Unknown sorts first (None is never compared with a datetime or a str).
            () if self.created is None else (self.created,),
            self.schedule_id or "",
            self.discount_ids,
        )


def _facts(snapshot: SubscriptionSnapshot) -> tuple[Any, ...]:
    return snapshot.order_key()[1:]


def is_newer_snapshot(candidate: SubscriptionSnapshot, *, than: SubscriptionSnapshot) -> bool:
    """Whether ``candidate`` supersedes ``than``: a strict total order, never arrival order."""
    return candidate.order_key() > than.order_key()


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """An invoice as Stripe reported it, amounts in integer minor units."""

    invoice_id: str
    subscription_id: str
    billing_reason: str
    period_start: datetime
    period_end: datetime
    quantity: int
    subtotal: int
    tax: int
    total: int
    amount_due: int
    amount_paid: int
    currency: str
    status: str
    # Since issue 10 (older records: unknown). What correcting a renewal invoice needs:
    # whom it bills, its per-group line, and that line's unit price.
    customer_id: str = ""
    line_id: str = ""
    unit_amount: int | None = None
    # Since issue 16: Stripe's hosted page and PDF, once it finalized the invoice.
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None

    def as_event_fields(self) -> dict[str, Any]:
        values = field_values(self)
        values["currency"] = self.currency.lower()
        return values


def invoice_status_advances(current: str | None, candidate: str) -> bool:
    """Whether recording ``candidate`` moves an invoice forward from ``current``."""
    if current is None:
        return True
    return INVOICE_STATUS_RANK.get(candidate, 0) > INVOICE_STATUS_RANK.get(current, 0)
