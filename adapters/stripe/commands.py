"""Ledger commands translated from one Stripe event, ready to apply to an organizer.

Plain values only (str, int, bool, aware UTC datetimes, the domain's value objects):
nothing from a payload survives translation. ``source`` is the Stripe event id, which
the organizer remembers so that applying the same delivery twice records nothing.
Each ``apply`` returns whether the organizer recorded something.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.billing import InvoiceFacts, SubscriptionSnapshot
from domain.organizer import Organizer
from domain.tax_id_events import record_tax_ids


@dataclass(frozen=True, slots=True)
class LinkCustomer:
    source: str
    customer_id: str

    def apply(self, organizer: Organizer, at: datetime) -> bool:
        return organizer.link_stripe_customer(self.customer_id, source=self.source, at=at)


@dataclass(frozen=True, slots=True)
class ObserveSubscription:
    source: str
    snapshot: SubscriptionSnapshot

    def apply(self, organizer: Organizer, at: datetime) -> bool:
        return organizer.observe_subscription(self.snapshot, source=self.source, at=at)


@dataclass(frozen=True, slots=True)
class NoteRenewalUpcoming:
    source: str
    subscription_id: str
    period_end: datetime
    expected_quantity: int
    expected_amount: int
    currency: str

    def apply(self, organizer: Organizer, at: datetime) -> bool:
        return organizer.note_renewal_upcoming(
            subscription_id=self.subscription_id,
            period_end=self.period_end,
            expected_quantity=self.expected_quantity,
            expected_amount=self.expected_amount,
            currency=self.currency,
            source=self.source,
            at=at,
        )


@dataclass(frozen=True, slots=True)
class RecordInvoice:
    source: str
    invoice: InvoiceFacts
    occurred_at: datetime | None = None  # when Stripe says it happened

    def apply(self, organizer: Organizer, at: datetime) -> bool:
        return organizer.record_invoice(
            self.invoice, source=self.source, at=at, occurred_at=self.occurred_at
        )


@dataclass(frozen=True, slots=True)
class RecordPaymentSucceeded:
    source: str
    invoice_id: str
    amount: int
    currency: str
    occurred_at: datetime | None = None

    def apply(self, organizer: Organizer, at: datetime) -> bool:
        return organizer.record_payment_succeeded(
            invoice_id=self.invoice_id,
            amount=self.amount,
            currency=self.currency,
            source=self.source,
            at=at,
            occurred_at=self.occurred_at,
        )


@dataclass(frozen=True, slots=True)
class RecordPaymentFailed:
    source: str
    invoice_id: str
    amount: int
    currency: str
    attempt_count: int
    occurred_at: datetime | None = None

    def apply(self, organizer: Organizer, at: datetime) -> bool:
        return organizer.record_payment_failed(
            invoice_id=self.invoice_id,
            amount=self.amount,
            currency=self.currency,
            attempt_count=self.attempt_count,
            source=self.source,
            at=at,
            occurred_at=self.occurred_at,
        )


@dataclass(frozen=True, slots=True)
class DeleteCustomer:
    source: str
    customer_id: str

    def apply(self, organizer: Organizer, at: datetime) -> bool:
        return organizer.delete_stripe_customer(self.customer_id, source=self.source, at=at)


@dataclass(frozen=True, slots=True)
class RecordTaxIds:
    source: str
    customer_id: str
    tax_ids: tuple[tuple[str, str], ...]  # (type, value)
    removed: bool
    observed_at: datetime

    def apply(self, organizer: Organizer, at: datetime) -> bool:
        return record_tax_ids(
            organizer,
            customer_id=self.customer_id,
            tax_ids=self.tax_ids,
            removed=self.removed,
            observed_at=self.observed_at,
            source=self.source,
            at=at,
        )


Command = (
    LinkCustomer
    | ObserveSubscription
    | NoteRenewalUpcoming
    | RecordInvoice
    | RecordPaymentSucceeded
    | RecordPaymentFailed
    | DeleteCustomer
    | RecordTaxIds
)
