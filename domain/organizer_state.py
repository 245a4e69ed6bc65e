"""What an ``Organizer`` holds, and the queries over it, shared by its command mixins.

The command mixins (``domain/*_commands.py``) are plain classes over this one, so each
subject's commands sit in a module of their own while ``Organizer`` (which inherits them
all) stays the aggregate root. The event class attributes declared here are the
``Organizer.<Name>`` classes assigned in ``Organizer``'s body (their stored topics).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from domain import correction_events, group_events, invoice_events, stripe_fact_events, sync_events
from domain.billing import TERMINAL_SUBSCRIPTION_STATUSES, SubscriptionSnapshot
from domain.groups import GroupEntry
from domain.policy import DEFAULT_MINIMUM_QUANTITY, billable_quantity
from domain.stripe_fact_events import source_key
from domain.syncs import SyncState


class OrganizerState:
    """The state attributes of an organizer (set in ``Organizer.__init__``) and queries."""

    platform_organizer_id: str
    groups: dict[str, list[GroupEntry]]
    change_outcomes: dict[str, str]
    stripe_customer_id: str | None
    stripe_customer_deleted: bool
    subscription: dict[str, Any] | None
    canceled_at: datetime | None
    upcoming_renewals: dict[str, int]
    syncs: dict[str, SyncState]
    last_synced_quantity: int | None
    last_synced_at: datetime | None
    invoices: dict[str, str]
    payments: dict[str, str]
    seen_sources: dict[str, None]
    renewal_checks: dict[str, str]
    enrollment: dict[str, Any] | None
    subscription_recorded_at: datetime | None
    enrollments_started: int
    drift_reports: dict[str, int]
    renewal_invoices: dict[str, dict[str, Any]]
    corrections: dict[str, dict[str, Any]]

    GroupActivated: ClassVar[type[group_events.GroupActivated]]
    GroupDeactivated: ClassVar[type[group_events.GroupDeactivated]]
    GroupChangeReaffirmed: ClassVar[type[group_events.GroupChangeReaffirmed]]
    StaleGroupChangeIgnored: ClassVar[type[group_events.StaleGroupChangeIgnored]]
    StripeCustomerLinked: ClassVar[type[stripe_fact_events.StripeCustomerLinked]]
    StripeCustomerDeleted: ClassVar[type[stripe_fact_events.StripeCustomerDeleted]]
    SubscriptionObserved: ClassVar[type[stripe_fact_events.SubscriptionObserved]]
    StaleSubscriptionSnapshotIgnored: ClassVar[
        type[stripe_fact_events.StaleSubscriptionSnapshotIgnored]
    ]
    SubscriptionCanceled: ClassVar[type[stripe_fact_events.SubscriptionCanceled]]
    RenewalUpcoming: ClassVar[type[stripe_fact_events.RenewalUpcoming]]
    EnrollmentStarted: ClassVar[type[stripe_fact_events.EnrollmentStarted]]
    InvoiceRecorded: ClassVar[type[invoice_events.InvoiceRecorded]]
    PaymentSucceeded: ClassVar[type[invoice_events.PaymentSucceeded]]
    PaymentFailed: ClassVar[type[invoice_events.PaymentFailed]]
    RenewalQuantityChecked: ClassVar[type[sync_events.RenewalQuantityChecked]]
    QuantitySyncRequested: ClassVar[type[sync_events.QuantitySyncRequested]]
    QuantitySyncSuperseded: ClassVar[type[sync_events.QuantitySyncSuperseded]]
    QuantitySyncConfirmed: ClassVar[type[sync_events.QuantitySyncConfirmed]]
    QuantitySyncFailed: ClassVar[type[sync_events.QuantitySyncFailed]]
    DriftDetected: ClassVar[type[sync_events.DriftDetected]]
    DraftCorrectionRequested: ClassVar[type[correction_events.DraftCorrectionRequested]]
    LateDifferenceRequested: ClassVar[type[correction_events.LateDifferenceRequested]]
    CorrectionStepDone: ClassVar[type[correction_events.CorrectionStepDone]]
    CorrectionConfirmed: ClassVar[type[correction_events.CorrectionConfirmed]]
    CorrectionAttemptFailed: ClassVar[type[correction_events.CorrectionAttemptFailed]]
    DraftCorrectionMissed: ClassVar[type[correction_events.DraftCorrectionMissed]]
    RenewalInvoiceLeftUncorrected: ClassVar[type[correction_events.RenewalInvoiceLeftUncorrected]]

    if TYPE_CHECKING:  # Aggregate's, which ``Organizer`` also inherits

        def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None: ...

    def has_seen(self, fact: type[stripe_fact_events.StripeFact], source: str) -> bool:
        return source_key(fact, source) in self.seen_sources

    @property
    def active_group_ids(self) -> list[str]:
        return sorted(g for g, entries in self.groups.items() if entries and entries[-1]["active"])

    def billable_quantity(
        self, at: datetime | None = None, *, minimum: int = DEFAULT_MINIMUM_QUANTITY
    ) -> int:
        return billable_quantity(self.groups, at, minimum=minimum)

    @property
    def is_enrolled(self) -> bool:
        """A subscription that bills (or will bill again): enrolling again makes no sense."""
        snapshot = self.subscription_snapshot
        return snapshot is not None and snapshot.status not in TERMINAL_SUBSCRIPTION_STATUSES

    def open_enrollment(self, at: datetime) -> dict[str, Any] | None:
        """The Checkout Session opened for this organizer, while it can still be paid."""
        if self.enrollment is None or self.is_enrolled or self.enrollment["expires_at"] <= at:
            return None
        return self.enrollment

    @property
    def subscription_snapshot(self) -> SubscriptionSnapshot | None:
        if self.subscription is None:
            return None
        return SubscriptionSnapshot.from_state(self.subscription)
