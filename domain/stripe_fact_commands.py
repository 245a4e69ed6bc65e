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
from domain.claims import invoice_final_key, payment_key
from domain.guards import OrganizerError, check_platform_id
from domain.organizer_state import OrganizerState
from domain.settled import is_final, is_past_renewal
from domain.subscriptions import choose_primary, duplicates_of


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
        """Take a subscription snapshot from Stripe unless a newer one of the same
        subscription is already known (each subscription has its own entry).

        Returns whether it was applied. A stale snapshot is recorded, not applied.
        ``SubscriptionObserved`` always names the primary (domain/subscriptions.py): a
        snapshot of another is ``OtherSubscriptionObserved``, and when the primary
        changes to one observed before, its snapshot is observed again as the primary.
        A second live subscription is recorded as a duplicate in the same save.
        """
        current = self.observed_subscription(snapshot.subscription_id)
        taken_as = (
            self.SubscriptionObserved,
            self.OtherSubscriptionObserved,
            self.StaleSubscriptionSnapshotIgnored,
        )
        if self.has_seen_any(taken_as, source):
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
        before = self.subscription_snapshot
        others = [
            s for s in self.subscription_list if s.subscription_id != snapshot.subscription_id
        ]
        after = choose_primary([*others, snapshot])
        primaries = {s.subscription_id for s in (before, after) if s is not None}
        is_primary = snapshot.subscription_id in primaries
        kind = self.SubscriptionObserved if is_primary else self.OtherSubscriptionObserved
        self.trigger_event(kind, source=source, timestamp=at, **snapshot.as_event_fields())
        ended_before = current is not None and current.status in TERMINAL_SUBSCRIPTION_STATUSES
        if is_primary and snapshot.status in TERMINAL_SUBSCRIPTION_STATUSES and not ended_before:
            self.trigger_event(
                self.SubscriptionCanceled,
                subscription_id=snapshot.subscription_id,
                canceled_at=snapshot.observed_at,
                source=source,
                timestamp=at,
            )
        if after is not None and after.subscription_id not in {
            snapshot.subscription_id,
            None if before is None else before.subscription_id,
        }:
            # Another subscription became the primary: the read models now show it.
            self.trigger_event(
                self.SubscriptionObserved,
                source=f"{source}:primary",
                timestamp=at,
                **after.as_event_fields(),
            )
        self._report_duplicates(at)
        return True

    def _report_duplicates(self, at: datetime) -> None:
        """Bring the reported duplicates in line with the subscriptions now observed."""
        now = duplicates_of(self.subscription_list)
        for duplicate_id, primary_id in sorted(self.duplicate_subscriptions.items()):
            if now.get(duplicate_id) != primary_id:
                self.trigger_event(
                    self.DuplicateSubscriptionResolved,
                    subscription_id=duplicate_id,
                    primary_subscription_id=primary_id,
                    reason=_resolution(now.get(duplicate_id)),
                    timestamp=at,
                )
        for duplicate_id, primary_id in sorted(now.items()):
            if duplicate_id not in self.duplicate_subscriptions:
                self.trigger_event(
                    self.DuplicateSubscriptionFound,
                    subscription_id=duplicate_id,
                    primary_subscription_id=primary_id,
                    customer_id=self.stripe_customer_id or "",
                    organizer_id=self.platform_organizer_id,
                    timestamp=at,
                )

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
            # Stale: the state no longer holds notices this old (domain/settled.py).
            or is_past_renewal(period_end, at)
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
        if current is None and self.claimed(invoice_final_key(invoice.invoice_id)):
            return False  # final, then forgotten by the state (domain/settled.py)
        extra = {"claimed": True} if self.claims_lent and is_final(invoice.status) else {}
        self.trigger_event(
            self.InvoiceRecorded,
            source=source,
            timestamp=at,
            occurred_at=occurred_at,
            **invoice.as_event_fields(),
            **extra,
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
        # A delivery already taken: its claim would refuse the save again and again.
        if self.has_seen(self.PaymentSucceeded, source) or self.payment_succeeded(invoice_id):
            return False
        extra = {"claimed": True} if self.claims_lent else {}
        self.trigger_event(
            self.PaymentSucceeded,
            invoice_id=invoice_id,
            amount=amount,
            currency=currency.lower(),
            source=source,
            timestamp=at,
            occurred_at=occurred_at,
            **extra,
        )
        return True

    def payment_succeeded(self, invoice_id: str) -> bool:
        """Known in the state (recorded before its claim existed) or by its claim."""
        status = self.payments.get(invoice_id)
        if status is not None:
            return status == "succeeded"
        return self.claimed(payment_key(invoice_id))

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
        if (
            self.has_seen(self.PaymentFailed, source)
            or self.payments.get(invoice_id) == f"failed:{attempt_count}"
            or self.payment_succeeded(invoice_id)
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


def _resolution(new_primary: str | None) -> str:
    if new_primary is not None:
        return f"the primary is now {new_primary}"
    return "it ended or became the primary"
