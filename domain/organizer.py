"""The ``Organizer`` aggregate: one organizer's groups and Stripe billing facts.

Every method takes ``at`` — the instant the ledger records the fact — so that the
domain never reads a clock and replays are exact. Events carry plain values only.
Their class paths (``domain.organizer:Organizer.<Name>``) are stored in every row:
renaming one is a migration, not a refactor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.billing import (
    TERMINAL_SUBSCRIPTION_STATUSES,
    InvoiceFacts,
    SubscriptionSnapshot,
    invoice_status_advances,
    is_newer_snapshot,
)
from domain.groups import (
    ChangeOutcome,
    GroupAction,
    GroupEntry,
    classify_change,
    insert_in_history,
)
from domain.policy import DEFAULT_MINIMUM_QUANTITY, billable_quantity

# Fixed forever: organizer ids are derived from it (changing it orphans every stream).
ORGANIZER_NAMESPACE = uuid5(NAMESPACE_URL, "https://renewal-ledger.invalid/organizer")


def organizer_uuid(platform_organizer_id: str) -> UUID:
    """The aggregate id for a platform organizer id: same input, same id, forever."""
    return uuid5(ORGANIZER_NAMESPACE, platform_organizer_id)


class OrganizerError(ValueError):
    """A command that the organizer's current state does not allow."""


def source_key(fact: type[Any], source: str) -> str:
    return f"{fact.__name__}:{source}"


def check_platform_id(value: str, what: str) -> None:
    if not value or not value.strip() or len(value) > 200:
        msg = f"{what} must be a non-empty string of at most 200 characters"
        raise OrganizerError(msg)


def check_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"{what} must be timezone-aware (UTC)"
        raise OrganizerError(msg)


class Organizer(Aggregate):
    """An organizer on the enterprise plan, billed per active group."""

    class Event(Aggregate.Event):
        pass

    class Registered(Aggregate.Created):
        platform_organizer_id: str

    class StripeFact(Event):
        """A fact taken from one Stripe delivery (``source`` is its event id).

        Remembering (kind, source) makes every Stripe-sourced command idempotent, so
        re-running translation over archived deliveries records nothing twice.
        """

        source: str

        def apply(self, org: Organizer) -> None:
            org.seen_sources[source_key(type(self), self.source)] = None
            self.take(org)

        def take(self, org: Organizer) -> None:
            """The state change of this fact (none by default)."""

    class GroupActivated(Event):
        group_id: str
        change_id: str
        occurred_at: datetime

        def apply(self, org: Organizer) -> None:
            org.take_group_change(self.group_id, self.change_id, self.occurred_at, active=True)

    class GroupDeactivated(Event):
        group_id: str
        change_id: str
        occurred_at: datetime

        def apply(self, org: Organizer) -> None:
            org.take_group_change(self.group_id, self.change_id, self.occurred_at, active=False)

    class GroupChangeReaffirmed(Event):
        """A change newer than the group's last one that restates its current state.

        The active set does not change, but the group's watermark moves, so that an
        older opposite change arriving later is recognised as stale (see docs/domain.md).
        """

        group_id: str
        change_id: str
        action: str
        occurred_at: datetime

        def apply(self, org: Organizer) -> None:
            active = self.action == GroupAction.ACTIVATED
            org.take_group_change(
                self.group_id,
                self.change_id,
                self.occurred_at,
                active=active,
                outcome=ChangeOutcome.REAFFIRMED,
            )

    class StaleGroupChangeIgnored(Event):
        group_id: str
        change_id: str
        action: str
        occurred_at: datetime
        newest_change_id: str
        newest_occurred_at: datetime

        def apply(self, org: Organizer) -> None:
            # Not in the current set (a newer change won), but part of the group's
            # history, so "active at instant t" is the same whatever the arrival order.
            entry: GroupEntry = {
                "occurred_at": self.occurred_at,
                "change_id": self.change_id,
                "active": self.action == GroupAction.ACTIVATED,
            }
            insert_in_history(org.groups.setdefault(self.group_id, []), entry)
            org.change_outcomes[self.change_id] = ChangeOutcome.STALE.value

    class StripeCustomerLinked(StripeFact):
        customer_id: str

        def take(self, org: Organizer) -> None:
            org.stripe_customer_id = self.customer_id

    class StripeCustomerDeleted(StripeFact):
        customer_id: str

        def take(self, org: Organizer) -> None:
            org.stripe_customer_deleted = True

    class SubscriptionObserved(StripeFact):
        subscription_id: str
        item_id: str
        price_id: str
        status: str
        quantity: int
        current_period_start: datetime
        current_period_end: datetime
        observed_at: datetime

        def take(self, org: Organizer) -> None:
            org.subscription = SubscriptionSnapshot(
                subscription_id=self.subscription_id,
                item_id=self.item_id,
                price_id=self.price_id,
                status=self.status,
                quantity=self.quantity,
                current_period_start=self.current_period_start,
                current_period_end=self.current_period_end,
                observed_at=self.observed_at,
            ).as_state()

    class StaleSubscriptionSnapshotIgnored(StripeFact):
        subscription_id: str
        status: str
        quantity: int
        observed_at: datetime
        newest_observed_at: datetime

    class SubscriptionCanceled(StripeFact):
        subscription_id: str
        canceled_at: datetime

        def take(self, org: Organizer) -> None:
            if org.subscription is not None:
                org.subscription["status"] = "canceled"
            org.canceled_at = self.canceled_at

    class RenewalUpcoming(StripeFact):
        subscription_id: str
        period_end: datetime
        expected_quantity: int
        expected_amount: int
        currency: str

        def take(self, org: Organizer) -> None:
            org.upcoming_renewals[self.period_end.isoformat()] = self.expected_quantity

    class QuantitySyncRequested(Event):
        sync_id: str
        subscription_id: str
        item_id: str
        period_end: datetime
        quantity: int
        previous_quantity: int
        trigger: str
        idempotency_key: str

        def apply(self, org: Organizer) -> None:
            org.syncs[self.sync_id] = {
                "status": "pending",
                "quantity": self.quantity,
                "idempotency_key": self.idempotency_key,
                "requested_at": self.timestamp,
                "error": None,
            }

    class QuantitySyncConfirmed(Event):
        sync_id: str
        quantity: int
        stripe_request_id: str

        def apply(self, org: Organizer) -> None:
            org.syncs[self.sync_id]["status"] = "confirmed"
            org.last_synced_quantity = self.quantity
            org.last_synced_at = self.timestamp

    class QuantitySyncFailed(Event):
        sync_id: str
        error_code: str
        message: str
        retryable: bool

        def apply(self, org: Organizer) -> None:
            sync = org.syncs[self.sync_id]
            sync["status"] = "retrying" if self.retryable else "failed"
            sync["error"] = f"{self.error_code}: {self.message}"

    class InvoiceRecorded(StripeFact):
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

        def take(self, org: Organizer) -> None:
            org.invoices[self.invoice_id] = self.status

    class PaymentSucceeded(StripeFact):
        invoice_id: str
        amount: int
        currency: str

        def take(self, org: Organizer) -> None:
            org.payments[self.invoice_id] = "succeeded"

    class PaymentFailed(StripeFact):
        invoice_id: str
        amount: int
        currency: str
        attempt_count: int

        def take(self, org: Organizer) -> None:
            org.payments[self.invoice_id] = f"failed:{self.attempt_count}"

    def __init__(self, platform_organizer_id: str) -> None:
        self.platform_organizer_id = platform_organizer_id
        self.groups: dict[str, list[GroupEntry]] = {}
        self.change_outcomes: dict[str, str] = {}
        self.stripe_customer_id: str | None = None
        self.stripe_customer_deleted = False
        self.subscription: dict[str, Any] | None = None
        self.canceled_at: datetime | None = None
        self.upcoming_renewals: dict[str, int] = {}
        self.syncs: dict[str, dict[str, Any]] = {}
        self.last_synced_quantity: int | None = None
        self.last_synced_at: datetime | None = None
        self.invoices: dict[str, str] = {}
        self.payments: dict[str, str] = {}
        self.seen_sources: dict[str, None] = {}

    def has_seen(self, fact: type[Organizer.StripeFact], source: str) -> bool:
        return source_key(fact, source) in self.seen_sources

    # -- creation ------------------------------------------------------------------

    @classmethod
    def register(cls, platform_organizer_id: str, *, at: datetime) -> Organizer:
        check_platform_id(platform_organizer_id, "organizer_id")
        check_aware(at, "at")
        return cls._create(
            cls.Registered,
            id=organizer_uuid(platform_organizer_id),
            platform_organizer_id=platform_organizer_id,
            timestamp=at,
        )

    # -- queries -------------------------------------------------------------------

    @property
    def active_group_ids(self) -> list[str]:
        return sorted(g for g, entries in self.groups.items() if entries and entries[-1]["active"])

    def billable_quantity(
        self, at: datetime | None = None, *, minimum: int = DEFAULT_MINIMUM_QUANTITY
    ) -> int:
        return billable_quantity(self.groups, at, minimum=minimum)

    @property
    def subscription_snapshot(self) -> SubscriptionSnapshot | None:
        if self.subscription is None:
            return None
        return SubscriptionSnapshot.from_state(self.subscription)

    # -- group changes -------------------------------------------------------------

    def change_group(
        self,
        *,
        action: GroupAction,
        group_id: str,
        change_id: str,
        occurred_at: datetime,
        at: datetime,
    ) -> ChangeOutcome:
        """Apply one platform change; returns what it did. Unseen ids always leave a trace."""
        check_platform_id(group_id, "group_id")
        check_platform_id(change_id, "change_id")
        check_aware(occurred_at, "occurred_at")
        if change_id in self.change_outcomes:
            return ChangeOutcome.DUPLICATE
        entries = self.groups.get(group_id, [])
        outcome = classify_change(
            entries, action=action, occurred_at=occurred_at, change_id=change_id
        )
        fields: dict[str, Any] = {
            "group_id": group_id,
            "change_id": change_id,
            "occurred_at": occurred_at,
            "timestamp": at,
        }
        if outcome is ChangeOutcome.STALE:
            newest = entries[-1]
            self.trigger_event(
                self.StaleGroupChangeIgnored,
                action=action.value,
                newest_change_id=newest["change_id"],
                newest_occurred_at=newest["occurred_at"],
                **fields,
            )
        elif outcome is ChangeOutcome.REAFFIRMED:
            self.trigger_event(self.GroupChangeReaffirmed, action=action.value, **fields)
        elif action is GroupAction.ACTIVATED:
            self.trigger_event(self.GroupActivated, **fields)
        else:
            self.trigger_event(self.GroupDeactivated, **fields)
        return outcome

    def take_group_change(
        self,
        group_id: str,
        change_id: str,
        occurred_at: datetime,
        *,
        active: bool,
        outcome: ChangeOutcome = ChangeOutcome.APPLIED,
    ) -> None:
        """State transition shared by the events that move a group's watermark."""
        entry: GroupEntry = {"occurred_at": occurred_at, "change_id": change_id, "active": active}
        self.groups.setdefault(group_id, []).append(entry)
        self.change_outcomes[change_id] = outcome.value

    # -- Stripe facts --------------------------------------------------------------
    # Each returns whether it recorded something. A delivery already taken (same kind,
    # same source) records nothing, so reprocessing the inbox is harmless.

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

    def record_invoice(self, invoice: InvoiceFacts, *, source: str, at: datetime) -> bool:
        """Record an invoice state from Stripe. It only moves forward (draft → open → paid)."""
        current = self.invoices.get(invoice.invoice_id)
        if self.has_seen(self.InvoiceRecorded, source) or not invoice_status_advances(
            current, invoice.status
        ):
            return False
        self.trigger_event(
            self.InvoiceRecorded, source=source, timestamp=at, **invoice.as_event_fields()
        )
        return True

    def record_payment_succeeded(
        self, *, invoice_id: str, amount: int, currency: str, source: str, at: datetime
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
        )
        return True

    # -- quantity sync (driven by the process manager) -----------------------------

    def request_quantity_sync(
        self,
        *,
        sync_id: str,
        period_end: datetime,
        quantity: int,
        trigger: str,
        idempotency_key: str,
        at: datetime,
    ) -> bool:
        snapshot = self.subscription_snapshot
        if snapshot is None:
            msg = "cannot sync a quantity before a subscription is known"
            raise OrganizerError(msg)
        if sync_id in self.syncs:
            return False
        self.trigger_event(
            self.QuantitySyncRequested,
            sync_id=sync_id,
            subscription_id=snapshot.subscription_id,
            item_id=snapshot.item_id,
            period_end=period_end,
            quantity=quantity,
            previous_quantity=snapshot.quantity,
            trigger=trigger,
            idempotency_key=idempotency_key,
            timestamp=at,
        )
        return True

    def confirm_quantity_sync(self, *, sync_id: str, stripe_request_id: str, at: datetime) -> bool:
        sync = self._sync(sync_id)
        if sync["status"] == "confirmed":
            return False
        self.trigger_event(
            self.QuantitySyncConfirmed,
            sync_id=sync_id,
            quantity=sync["quantity"],
            stripe_request_id=stripe_request_id,
            timestamp=at,
        )
        return True

    def fail_quantity_sync(
        self, *, sync_id: str, error_code: str, message: str, retryable: bool, at: datetime
    ) -> bool:
        sync = self._sync(sync_id)
        if sync["status"] in ("confirmed", "failed"):
            return False
        self.trigger_event(
            self.QuantitySyncFailed,
            sync_id=sync_id,
            error_code=error_code,
            message=message[:500],
            retryable=retryable,
            timestamp=at,
        )
        return True

    def _sync(self, sync_id: str) -> dict[str, Any]:
        try:
            return self.syncs[sync_id]
        except KeyError:
            msg = f"unknown quantity sync {sync_id!r}"
            raise OrganizerError(msg) from None
