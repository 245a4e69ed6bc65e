"""The ``Organizer`` aggregate: one organizer's groups and Stripe billing facts.

Every method takes ``at`` — the instant the ledger records the fact — so that the
domain never reads a clock and replays are exact. Events carry plain values only.
Their class paths (``domain.organizer:Organizer.<Name>``) are stored in every row:
renaming one is a migration, not a refactor.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain import correction_events
from domain import invoice_corrections as corrections
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
from domain.limits import id_problem, instant_problem
from domain.policy import DEFAULT_MINIMUM_QUANTITY, billable_quantity
from domain.renewal import (
    CheckOutcome,
    ProrationPolicy,
    SyncDecision,
    SyncTrigger,
    decide_sync,
    fresh_key,
    price_problem,
    sync_identity,
)

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
    problem = id_problem(value)
    if problem is not None:
        msg = f"{what} {problem}"
        raise OrganizerError(msg)


def check_aware(value: datetime, what: str) -> None:
    problem = instant_problem(value)
    if problem is not None:
        msg = f"{what} {problem}"
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
        cancel_at_period_end: bool = False  # recorded since issue 10 (older: False)

        def take(self, org: Organizer) -> None:
            org.subscription_recorded_at = self.timestamp
            org.subscription = SubscriptionSnapshot(
                subscription_id=self.subscription_id,
                item_id=self.item_id,
                price_id=self.price_id,
                status=self.status,
                quantity=self.quantity,
                current_period_start=self.current_period_start,
                current_period_end=self.current_period_end,
                observed_at=self.observed_at,
                cancel_at_period_end=self.cancel_at_period_end,
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

    class EnrollmentStarted(Event):
        """A Checkout Session was opened for this organizer (reused while it is open)."""

        session_id: str
        url: str
        expires_at: datetime
        quantity: int
        customer_id: str

        def apply(self, org: Organizer) -> None:
            org.enrollment = {
                "session_id": self.session_id,
                "url": self.url,
                "expires_at": self.expires_at,
                "quantity": self.quantity,
            }
            org.enrollments_started += 1

    class RenewalQuantityChecked(Event):
        """The process manager looked at a renewal: what it found and what it decided."""

        trigger: str
        cause: str
        period_end: datetime
        billable_quantity: int
        billed_quantity: int
        outcome: str
        reason: str

        def apply(self, org: Organizer) -> None:
            org.renewal_checks[f"{self.trigger}|{self.cause}"] = self.outcome

    class QuantitySyncRequested(Event):
        sync_id: str
        subscription_id: str
        item_id: str
        period_end: datetime
        quantity: int
        previous_quantity: int
        proration_behavior: str
        trigger: str
        generation: int
        idempotency_key: str

        def apply(self, org: Organizer) -> None:
            org.syncs[self.sync_id] = {
                "status": "pending",
                "quantity": self.quantity,
                "subscription_id": self.subscription_id,
                "item_id": self.item_id,
                "period_end": self.period_end.isoformat(),
                "proration_behavior": self.proration_behavior,
                "generation": self.generation,
                "idempotency_key": self.idempotency_key,
                "attempts": 0,
                "requested_at": self.timestamp,
                "error": None,
            }

    class QuantitySyncSuperseded(Event):
        """A pending sync that must never be sent: a newer decision replaced it."""

        sync_id: str
        superseded_by: str

        def apply(self, org: Organizer) -> None:
            org.syncs[self.sync_id]["status"] = "superseded"

    class QuantitySyncConfirmed(Event):
        sync_id: str
        quantity: int
        stripe_request_id: str

        def apply(self, org: Organizer) -> None:
            org.syncs[self.sync_id]["status"] = "confirmed"
            org.syncs[self.sync_id]["confirmed_at"] = self.timestamp
            org.last_synced_quantity = self.quantity
            org.last_synced_at = self.timestamp

    class QuantitySyncFailed(Event):
        """An attempt failed. ``outcome_unknown``: Stripe answered 5xx, which it stores
        under the key (a retry with that key replays the error, and the update may or
        may not have happened): the next attempt checks Stripe first, then uses a new key.
        """

        sync_id: str
        error_code: str
        message: str
        retryable: bool
        attempt: int
        next_attempt_at: datetime | None
        outcome_unknown: bool
        # The key of the next attempt, decided here (since issue 10; older: derived).
        next_idempotency_key: str = ""

        def apply(self, org: Organizer) -> None:
            sync = org.syncs[self.sync_id]
            sync["status"] = "retrying" if self.retryable else "failed"
            sync["attempts"] = self.attempt
            sync["error"] = f"{self.error_code}: {self.message}"
            sync["next_attempt_at"] = self.next_attempt_at
            if self.outcome_unknown:
                sync["key_generation"] = sync.get("key_generation", 0) + 1
                sync["verify_first"] = True
                if self.next_idempotency_key:
                    sync["next_key"] = self.next_idempotency_key

    class DraftInvoiceQuantityMismatch(StripeFact):
        """A renewal draft billed another quantity than the ledger expected.

        No longer recorded (issue 10: the draft is corrected instead, see
        ``DraftCorrectionRequested``); kept so that stored history still reads."""

        invoice_id: str
        subscription_id: str
        period_start: datetime
        billed_quantity: int
        expected_quantity: int

    class DriftDetected(Event):
        """Reconciliation found Stripe billing another quantity than the ledger expects."""

        subscription_id: str
        billed_quantity: int
        expected_quantity: int
        source: str

        def apply(self, org: Organizer) -> None:
            org.drift_reports[self.source] = self.expected_quantity

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
        # When Stripe says it happened (its event's ``created``); None on facts recorded
        # before the ledger kept it (they tell their time by ``timestamp``).
        occurred_at: datetime | None = None
        # Since issue 10 (older records: unknown); see InvoiceFacts.
        customer_id: str = ""
        line_id: str = ""
        unit_amount: int | None = None

        def take(self, org: Organizer) -> None:
            org.invoices[self.invoice_id] = self.status
            facts = {k: getattr(self, k) for k in InvoiceFacts.__dataclass_fields__}
            corrections.take_renewal_invoice(org, InvoiceFacts(**facts))

    class PaymentSucceeded(StripeFact):
        invoice_id: str
        amount: int
        currency: str
        # When Stripe says it happened (its event's ``created``); None on facts recorded
        # before the ledger kept it (they tell their time by ``timestamp``).
        occurred_at: datetime | None = None

        def take(self, org: Organizer) -> None:
            org.payments[self.invoice_id] = "succeeded"

    class PaymentFailed(StripeFact):
        invoice_id: str
        amount: int
        currency: str
        attempt_count: int
        # When Stripe says it happened (its event's ``created``); None on facts recorded
        # before the ledger kept it (they tell their time by ``timestamp``).
        occurred_at: datetime | None = None

        def take(self, org: Organizer) -> None:
            org.payments[self.invoice_id] = f"failed:{self.attempt_count}"

    # Renewal invoice corrections (issue 10): defined in domain/correction_events.py,
    # made organizer events here (topics ``domain.organizer:Organizer.<Name>``).
    class CorrectionRequested(correction_events.CorrectionRequested, Event):
        pass

    class DraftCorrectionRequested(correction_events.DraftCorrectionRequested, CorrectionRequested):
        pass

    class LateDifferenceRequested(correction_events.LateDifferenceRequested, CorrectionRequested):
        pass

    class CorrectionStepDone(correction_events.CorrectionStepDone, Event):
        pass

    class CorrectionConfirmed(correction_events.CorrectionConfirmed, Event):
        pass

    class CorrectionAttemptFailed(correction_events.CorrectionAttemptFailed, Event):
        pass

    class DraftCorrectionMissed(correction_events.DraftCorrectionMissed, Event):
        pass

    class RenewalInvoiceLeftUncorrected(correction_events.RenewalInvoiceLeftUncorrected, Event):
        pass

    # Snapshots taken before issue 10 lack the correction state.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("renewal_invoices", {})
        state.setdefault("corrections", {})

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
        self.renewal_checks: dict[str, str] = {}
        self.enrollment: dict[str, Any] | None = None
        self.subscription_recorded_at: datetime | None = None
        self.enrollments_started = 0
        self.drift_reports: dict[str, int] = {}
        self.renewal_invoices: dict[str, dict[str, Any]] = {}
        self.corrections: dict[str, dict[str, Any]] = {}

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
    def is_enrolled(self) -> bool:
        """A subscription that bills (or will bill again): enrolling again makes no sense."""
        snapshot = self.subscription_snapshot
        return snapshot is not None and snapshot.status not in TERMINAL_SUBSCRIPTION_STATUSES

    def open_enrollment(self, at: datetime) -> dict[str, Any] | None:
        """The Checkout Session opened for this organizer, while it can still be paid."""
        if self.enrollment is None or self.is_enrolled or self.enrollment["expires_at"] <= at:
            return None
        return self.enrollment

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

    # -- renewal quantity (driven by the process manager) --------------------------

    def check_renewal_quantity(
        self,
        *,
        trigger: SyncTrigger,
        cause: str,
        period_end: datetime,
        policy: ProrationPolicy,
        minimum: int,
        at: datetime,
        group_price_ids: AbstractSet[str] = frozenset(),
    ) -> CheckOutcome | None:
        """Decide (and record) whether this renewal needs a quantity update.

        The billable quantity is taken at ``at``, the sync instant. Each (trigger, cause)
        is decided once: replays and redeliveries of the trigger record nothing.
        Returns None when there is no subscription to check or it was already checked.
        """
        snapshot = self.subscription_snapshot
        if snapshot is None or f"{trigger}|{cause}" in self.renewal_checks:
            return None
        target = self.billable_quantity(at, minimum=minimum)
        latest = self._latest_sync(snapshot.item_id, period_end)
        decision = decide_sync(
            status=snapshot.status,
            billed_quantity=snapshot.quantity,
            target_quantity=target,
            latest_request=None if latest is None else (latest["quantity"], latest["status"]),
            policy=policy,
            observed_since_latest=latest is not None
            and latest.get("confirmed_at") is not None
            and self.subscription_recorded_at is not None
            and self.subscription_recorded_at > latest["confirmed_at"],
            cancel_at_period_end=snapshot.cancel_at_period_end,
            price_problem=price_problem(snapshot.price_id, group_price_ids),
        )
        self.trigger_event(
            self.RenewalQuantityChecked,
            trigger=trigger.value,
            cause=cause,
            period_end=period_end,
            billable_quantity=target,
            billed_quantity=snapshot.quantity,
            outcome=decision.outcome.value,
            reason=decision.reason,
            timestamp=at,
        )
        if decision.outcome is CheckOutcome.REQUESTED:
            self._request_sync(snapshot, period_end, decision, trigger=trigger, at=at)
        return decision.outcome

    def _latest_sync(self, item_id: str, period_end: datetime) -> dict[str, Any] | None:
        candidates = [
            s
            for s in self.syncs.values()
            if s["item_id"] == item_id
            and s["period_end"] == period_end.isoformat()
            and s["status"] != "superseded"
        ]
        return max(candidates, key=lambda s: s["generation"], default=None)

    def _request_sync(
        self,
        snapshot: SubscriptionSnapshot,
        period_end: datetime,
        decision: SyncDecision,
        *,
        trigger: SyncTrigger,
        at: datetime,
    ) -> str:
        generation = 1 + sum(
            1
            for s in self.syncs.values()
            if s["item_id"] == snapshot.item_id and s["period_end"] == period_end.isoformat()
        )
        sync_id, key = sync_identity(
            organizer_id=self.platform_organizer_id,
            item_id=snapshot.item_id,
            period_end=period_end,
            quantity=decision.target_quantity,
            generation=generation,
        )
        for older_id, older in list(self.syncs.items()):
            if older["item_id"] == snapshot.item_id and older["status"] in ("pending", "retrying"):
                self.trigger_event(
                    self.QuantitySyncSuperseded,
                    sync_id=older_id,
                    superseded_by=sync_id,
                    timestamp=at,
                )
        self.trigger_event(
            self.QuantitySyncRequested,
            sync_id=sync_id,
            subscription_id=snapshot.subscription_id,
            item_id=snapshot.item_id,
            period_end=period_end,
            quantity=decision.target_quantity,
            previous_quantity=snapshot.quantity,
            proration_behavior=decision.proration_behavior,
            trigger=trigger.value,
            generation=generation,
            idempotency_key=key,
            timestamp=at,
        )
        return sync_id

    def retry_failed_sync(self, sync_id: str, *, at: datetime) -> str:
        """An operator's retry of a failed sync: a new request (new key), same target."""
        failed = self._sync(sync_id)
        if failed["status"] != "failed":
            msg = f"sync {sync_id} is {failed['status']}, not failed"
            raise OrganizerError(msg)
        snapshot = self.subscription_snapshot
        if snapshot is None or snapshot.item_id != failed["item_id"]:
            msg = f"sync {sync_id} targets an item the organizer no longer has"
            raise OrganizerError(msg)
        decision = SyncDecision(
            CheckOutcome.REQUESTED,
            failed["quantity"],
            f"operator retry of {sync_id}",
            failed["proration_behavior"],
        )
        period_end = datetime.fromisoformat(failed["period_end"])
        new_id = self._request_sync(
            snapshot, period_end, decision, trigger=SyncTrigger.OPS_RETRY, at=at
        )
        # The failed request is settled by its retry: it can't be retried twice.
        self.trigger_event(
            self.QuantitySyncSuperseded, sync_id=sync_id, superseded_by=new_id, timestamp=at
        )
        return new_id

    def confirm_quantity_sync(self, *, sync_id: str, stripe_request_id: str, at: datetime) -> bool:
        sync = self._sync(sync_id)
        if sync["status"] in ("confirmed", "superseded"):
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
        self,
        *,
        sync_id: str,
        error_code: str,
        message: str,
        retryable: bool,
        next_attempt_at: datetime | None,
        at: datetime,
        outcome_unknown: bool = False,
    ) -> bool:
        sync = self._sync(sync_id)
        if sync["status"] in ("confirmed", "failed", "superseded"):
            return False
        unknown = outcome_unknown and retryable
        self.trigger_event(
            self.QuantitySyncFailed,
            sync_id=sync_id,
            error_code=error_code,
            message=message[:500],
            retryable=retryable,
            attempt=sync["attempts"] + 1,
            next_attempt_at=next_attempt_at if retryable else None,
            outcome_unknown=unknown,
            next_idempotency_key=fresh_key(
                sync["idempotency_key"], int(sync.get("key_generation", 0)) + 1
            )
            if unknown
            else "",
            timestamp=at,
        )
        return True

    @staticmethod
    def sync_key(sync: dict[str, Any]) -> str:
        """The Idempotency-Key of a sync's next attempt: the recorded one, replaced after
        each attempt whose outcome Stripe left unknown (its key is spent)."""
        if sync.get("next_key"):
            return str(sync["next_key"])
        return fresh_key(str(sync["idempotency_key"]), int(sync.get("key_generation", 0)))

    def _sync(self, sync_id: str) -> dict[str, Any]:
        try:
            return self.syncs[sync_id]
        except KeyError:
            msg = f"unknown quantity sync {sync_id!r}"
            raise OrganizerError(msg) from None

    # -- renewal invoice corrections (domain/invoice_corrections.py) ----------------

    def correct_renewal_invoices(
        self, *, minimum: int, at: datetime, cause: str, invoice_id: str | None = None
    ) -> list[str]:
        """Correct renewal invoices to the groups active at their period start: an item
        on an open draft, else a one-off invoice or a credit note. Decided once per
        situation: deciding again records nothing. Returns the new correction ids."""
        return corrections.correct_renewal_invoices(
            self, minimum=minimum, at=at, cause=cause, invoice_id=invoice_id
        )

    def supersede_syncs_renewed(self, invoice_id: str, *, at: datetime) -> bool:
        """The renewal at this invoice's period start happened: unconfirmed syncs aimed at
        it are never sent (the invoice is corrected instead, and a late quantity update
        with prorations would charge the difference twice)."""
        invoice = self.renewal_invoices.get(invoice_id)
        if invoice is None:
            return False
        renewed = invoice["period_start"]
        stale = [
            sync_id
            for sync_id, sync in self.syncs.items()
            if sync["status"] in ("pending", "retrying")
            and datetime.fromisoformat(sync["period_end"]) <= renewed
        ]
        for sync_id in stale:
            self.trigger_event(
                self.QuantitySyncSuperseded,
                sync_id=sync_id,
                superseded_by=f"invoice {invoice_id}",
                timestamp=at,
            )
        return bool(stale)

    def confirm_correction_step(
        self,
        correction_id: str,
        *,
        step: str,
        stripe_object_id: str,
        stripe_request_id: str,
        at: datetime,
    ) -> bool:
        return corrections.confirm_step(
            self,
            correction_id,
            step=step,
            stripe_object_id=stripe_object_id,
            stripe_request_id=stripe_request_id,
            at=at,
        )

    def confirm_correction(
        self, correction_id: str, *, stripe_object_id: str, stripe_request_id: str, at: datetime
    ) -> bool:
        return corrections.confirm(
            self,
            correction_id,
            stripe_object_id=stripe_object_id,
            stripe_request_id=stripe_request_id,
            at=at,
        )

    def fail_correction(
        self,
        correction_id: str,
        *,
        error_code: str,
        message: str,
        retryable: bool,
        outcome_unknown: bool,
        next_attempt_at: datetime | None,
        step: str,
        at: datetime,
    ) -> bool:
        return corrections.fail(
            self,
            correction_id,
            error_code=error_code,
            message=message,
            retryable=retryable,
            outcome_unknown=outcome_unknown,
            next_attempt_at=next_attempt_at,
            step=step,
            at=at,
        )

    def miss_draft_correction(
        self, correction_id: str, *, reason: str, minimum: int, at: datetime
    ) -> str:
        """Stripe finalised the draft first: the late difference is decided at once."""
        return corrections.miss(self, correction_id, reason=reason, minimum=minimum, at=at)

    def detect_drift(
        self, *, billed_quantity: int, source: str, minimum: int, at: datetime
    ) -> bool:
        """Record what reconciliation found (once per reconciliation run and organizer)."""
        snapshot = self.subscription_snapshot
        expected = self.billable_quantity(minimum=minimum)
        if snapshot is None or billed_quantity == expected or source in self.drift_reports:
            return False
        self.trigger_event(
            self.DriftDetected,
            subscription_id=snapshot.subscription_id,
            billed_quantity=billed_quantity,
            expected_quantity=expected,
            source=source,
            timestamp=at,
        )
        return True
