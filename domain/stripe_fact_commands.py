"""The organizer's commands on Stripe facts and enrollment (a mixin of ``Organizer``).

Each fact command returns whether it recorded something. A delivery already taken (same
kind, same source) records nothing, so reprocessing the inbox is harmless.
"""

from __future__ import annotations

from datetime import datetime

from domain.billing import (
    TERMINAL_SUBSCRIPTION_STATUSES,
    InvoiceFacts,
    SubscriptionSnapshot,
    invoice_status_advances,
    is_newer_snapshot,
)
from domain.guards import OrganizerError, check_platform_id
from domain.organizer_state import OrganizerState


class StripeFactCommands(OrganizerState):
    def start_enrollment(
        self,
        *,
        session_id: str,
        url: str,
        expires_at: datetime,
        quantity: int,
        customer_id: str,
        at: datetime,
    ) -> None:
        if self.is_enrolled:
            msg = "the organizer is already enrolled"
            raise OrganizerError(msg)
        self.trigger_event(
            self.EnrollmentStarted,
            session_id=session_id,
            url=url,
            expires_at=expires_at,
            quantity=quantity,
            customer_id=customer_id,
            timestamp=at,
        )

    def link_stripe_customer(self, customer_id: str, *, source: str, at: datetime) -> bool:
        check_platform_id(customer_id, "customer_id")
        if self.stripe_customer_id == customer_id or self.has_seen(
            self.StripeCustomerLinked, source
        ):
            return False
        self.trigger_event(
            self.StripeCustomerLinked, customer_id=customer_id, source=source, timestamp=at
        )
        return True

    def delete_stripe_customer(self, customer_id: str, *, source: str, at: datetime) -> bool:
        if self.stripe_customer_id != customer_id or self.stripe_customer_deleted:
            return False
        self.trigger_event(
            self.StripeCustomerDeleted, customer_id=customer_id, source=source, timestamp=at
        )
        return True

    def observe_subscription(
        self, snapshot: SubscriptionSnapshot, *, source: str, at: datetime
    ) -> bool:
        """Take a subscription snapshot from Stripe unless a newer one is already known.

        Returns whether it was applied. A stale snapshot is recorded, not applied.
        """
        current = self.subscription_snapshot
        if self.has_seen(self.SubscriptionObserved, source) or self.has_seen(
            self.StaleSubscriptionSnapshotIgnored, source
        ):
            return False
        if current is not None and snapshot.order_key() == current.order_key():
            return False
        if current is not None and not is_newer_snapshot(snapshot, than=current):
            self.trigger_event(
                self.StaleSubscriptionSnapshotIgnored,
                subscription_id=snapshot.subscription_id,
                status=snapshot.status,
                quantity=snapshot.quantity,
                observed_at=snapshot.observed_at,
                newest_observed_at=current.observed_at,
                source=source,
                timestamp=at,
            )
            return False
        self.trigger_event(
            self.SubscriptionObserved, source=source, timestamp=at, **snapshot.as_event_fields()
        )
        if snapshot.status in TERMINAL_SUBSCRIPTION_STATUSES and self.canceled_at is None:
            self.trigger_event(
                self.SubscriptionCanceled,
                subscription_id=snapshot.subscription_id,
                canceled_at=snapshot.observed_at,
                source=source,
                timestamp=at,
            )
        return True

    def note_renewal_upcoming(
        self,
        *,
        subscription_id: str,
        period_end: datetime,
        expected_quantity: int,
        expected_amount: int,
        currency: str,
        source: str,
        at: datetime,
    ) -> bool:
        if (
            self.has_seen(self.RenewalUpcoming, source)
            or period_end.isoformat() in self.upcoming_renewals
        ):
            return False
        self.trigger_event(
            self.RenewalUpcoming,
            subscription_id=subscription_id,
            period_end=period_end,
            expected_quantity=expected_quantity,
            expected_amount=expected_amount,
            currency=currency.lower(),
            source=source,
            timestamp=at,
        )
        return True

    def record_invoice(
        self,
        invoice: InvoiceFacts,
        *,
        source: str,
        at: datetime,
        occurred_at: datetime | None = None,
    ) -> bool:
        """Record an invoice state from Stripe. It only moves forward (draft → open → paid).
        ``occurred_at``: when Stripe says the invoice got there (``at`` is when we learnt)."""
        current = self.invoices.get(invoice.invoice_id)
        if self.has_seen(self.InvoiceRecorded, source) or not invoice_status_advances(
            current, invoice.status
        ):
            return False
        self.trigger_event(
            self.InvoiceRecorded,
            source=source,
            timestamp=at,
            occurred_at=occurred_at,
            **invoice.as_event_fields(),
        )
        return True

    def record_payment_succeeded(
        self,
        *,
        invoice_id: str,
        amount: int,
        currency: str,
        source: str,
        at: datetime,
        occurred_at: datetime | None = None,
    ) -> bool:
        if self.payments.get(invoice_id) == "succeeded":
            return False
        self.trigger_event(
            self.PaymentSucceeded,
            invoice_id=invoice_id,
            amount=amount,
            currency=currency.lower(),
            source=source,
            timestamp=at,
            occurred_at=occurred_at,
        )
        return True

    def record_payment_failed(
        self,
        *,
        invoice_id: str,
        amount: int,
        currency: str,
        attempt_count: int,
        source: str,
        at: datetime,
        occurred_at: datetime | None = None,
    ) -> bool:
        if self.has_seen(self.PaymentFailed, source) or self.payments.get(invoice_id) in (
            "succeeded",
            f"failed:{attempt_count}",
        ):
            return False
        self.trigger_event(
            self.PaymentFailed,
            invoice_id=invoice_id,
            amount=amount,
            currency=currency.lower(),
            attempt_count=attempt_count,
            source=source,
            timestamp=at,
            occurred_at=occurred_at,
        )
        return True
