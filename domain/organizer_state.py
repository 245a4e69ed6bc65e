"""What an ``Organizer`` holds, and the queries over it, shared by its command mixins.

The command mixins (``domain/*_commands.py``) are plain classes over this one, so each
subject's commands sit in a module of their own while ``Organizer`` (which inherits them
all) stays the aggregate root. The event class attributes declared here are the
``Organizer.<Name>`` classes assigned in ``Organizer``'s body (their stored topics).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from domain import (
    correction_events,
    group_events,
    invoice_events,
    stripe_fact_events,
    subscription_events,
    sync_events,
)
from domain.billing import TERMINAL_SUBSCRIPTION_STATUSES, SubscriptionSnapshot
from domain.claims import fact_key
from domain.groups import GroupEntry, GroupHistory, GroupHistoryNeeded
from domain.invoice_corrections import DRAFT_WINDOW
from domain.policy import DEFAULT_MINIMUM_QUANTITY, billable_quantity
from domain.stripe_fact_events import source_key
from domain.subscriptions import choose_primary
from domain.syncs import SyncState


class SeenInputs(Protocol):
    """What the store remembers of the inputs an organizer took (``app.ledger.Claims``)."""

    def seen(self, key: str) -> bool: ...

    def seen_any(self, keys: Sequence[str]) -> bool:
        """Whether any of these inputs was taken (one read for all of them)."""
        ...

    def taken(self, key: str) -> bool:
        """For an input whose claim the deciding command itself takes: optimistic (no
        read on a first attempt; a claim already stored refuses the save, and the
        decision is made again with reads)."""
        ...


class OrganizerState:
    """The state attributes of an organizer (set in ``Organizer.__init__``) and queries."""

    platform_organizer_id: str
    groups: dict[str, list[GroupEntry]]
    # Groups' entries that occurred at or before it may be folded (domain/groups.py).
    groups_settled_until: datetime | None
    change_outcomes: dict[str, str]
    stripe_customer_id: str | None
    stripe_customer_deleted: bool
    # Each subscription's newest snapshot, by id (issue 13; before it, one ``subscription``).
    subscriptions: dict[str, dict[str, Any]]
    # The duplicates reported and not resolved: duplicate id → primary id.
    duplicate_subscriptions: dict[str, str]
    canceled_at: datetime | None
    upcoming_renewals: dict[str, int]
    syncs: dict[str, SyncState]
    last_synced_quantity: int | None
    last_synced_at: datetime | None
    invoices: dict[str, str]
    # Invoices whose final status is in a claim: forgotten once settled (domain/settled.py).
    final_invoices: dict[str, None]
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
    OtherSubscriptionObserved: ClassVar[type[stripe_fact_events.OtherSubscriptionObserved]]
    StaleSubscriptionSnapshotIgnored: ClassVar[
        type[stripe_fact_events.StaleSubscriptionSnapshotIgnored]
    ]
    SubscriptionCanceled: ClassVar[type[stripe_fact_events.SubscriptionCanceled]]
    RenewalUpcoming: ClassVar[type[stripe_fact_events.RenewalUpcoming]]
    DuplicateSubscriptionFound: ClassVar[type[subscription_events.DuplicateSubscriptionFound]]
    DuplicateSubscriptionResolved: ClassVar[type[subscription_events.DuplicateSubscriptionResolved]]
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
        """Whether this kind of fact was taken from this delivery: before issue 12 (in the
        state), in this decision, or by a claim (asked through the lent ``SeenInputs``)."""
        if source_key(fact, source) in self.seen_sources:
            return True
        if any(type(e) is fact and e.source == source for e in self.stripe_facts_pending()):
            return True
        return self.claimed(fact_key(fact, source))

    def has_seen_any(
        self, facts: Sequence[type[stripe_fact_events.StripeFact]], source: str
    ) -> bool:
        """``has_seen`` of any of these kinds, their claims asked in one read."""
        if any(source_key(fact, source) in self.seen_sources for fact in facts):
            return True
        kinds = tuple(facts)
        if any(type(e) in kinds and e.source == source for e in self.stripe_facts_pending()):
            return True
        lent: SeenInputs | None = vars(self).get("_lent_claims")
        return lent is not None and lent.seen_any([fact_key(fact, source) for fact in facts])

    @property
    def claims_lent(self) -> bool:
        """Whether this decision runs with the store's claims (the ledger saves the claims
        its facts take): only then may an event promise that a claim remembers it."""
        return "_lent_claims" in vars(self)

    def claimed(self, key: str) -> bool:
        """Whether the store holds this input's claim (False on a bare organizer)."""
        lent: SeenInputs | None = vars(self).get("_lent_claims")
        return lent is not None and lent.seen(key)

    def took(self, key: str) -> bool:
        """``claimed`` for an input whose claim this decision takes if it is new
        (``SeenInputs.taken``: one read fewer per decision)."""
        lent: SeenInputs | None = vars(self).get("_lent_claims")
        return lent is not None and lent.taken(key)

    def stripe_facts_pending(self) -> list[stripe_fact_events.StripeFact]:
        """The Stripe facts this decision recorded so far (each needs its claim)."""
        pending: list[object] = getattr(self, "pending_events", [])
        return [e for e in pending if isinstance(e, stripe_fact_events.StripeFact)]

    def lend_claims(self, claims: SeenInputs | None) -> None:
        """Lend (None: take back) what the store remembers of taken inputs, for one
        decision. Never stored; a bare organizer knows only the deliveries it holds."""
        if claims is None:
            vars(self).pop("_lent_claims", None)
        else:
            vars(self)["_lent_claims"] = claims

    @property
    def active_group_ids(self) -> list[str]:
        return sorted(g for g, entries in self.groups.items() if entries and entries[-1]["active"])

    def billable_quantity(
        self, at: datetime | None = None, *, minimum: int = DEFAULT_MINIMUM_QUANTITY
    ) -> int:
        """Groups active at ``at`` (now if None), never below ``minimum``. An instant before
        the settled one needs the full history: recalled, else ``GroupHistoryNeeded``."""
        settled = self.groups_settled_until
        if at is not None and settled is not None and at < settled:
            recalled: GroupHistory | None = vars(self).get("_recalled_groups")
            if recalled is None:
                raise GroupHistoryNeeded(at, settled)
            return billable_quantity(recalled, at, minimum=minimum)
        return billable_quantity(self.groups, at, minimum=minimum)

    def recall_group_history(self, history: GroupHistory | None) -> None:
        """Lend (None: take back) the full group history, rebuilt from the events, for
        one decision about an instant before the settled one. Never stored."""
        if history is None:
            vars(self).pop("_recalled_groups", None)
        else:
            vars(self)["_recalled_groups"] = history

    def settled_instant(self, at: datetime) -> datetime:
        """The earliest instant the decisions still to come ask about: now (``at``: later
        commands record later), the current period's start, the renewals still awaiting
        their draft and the renewal invoices still open to correction. It never moves back."""
        candidates = [at]
        primary = self.subscription_snapshot
        if primary is not None:
            candidates.append(primary.current_period_start)
        candidates += [
            instant
            for instant in map(datetime.fromisoformat, self.upcoming_renewals)
            if instant >= at - DRAFT_WINDOW
        ]
        candidates += [
            invoice["period_start"]
            for invoice in self.renewal_invoices.values()
            if invoice["period_end"] > at
        ]
        earliest = min(candidates)
        previous = self.groups_settled_until
        return earliest if previous is None else max(previous, earliest)

    @property
    def is_enrolled(self) -> bool:
        """A subscription that bills (or will bill again): enrolling again makes no sense."""
        return any(s.status not in TERMINAL_SUBSCRIPTION_STATUSES for s in self.subscription_list)

    def open_enrollment(self, at: datetime) -> dict[str, Any] | None:
        """The Checkout Session opened for this organizer, while it can still be paid."""
        if self.enrollment is None or self.is_enrolled or self.enrollment["expires_at"] <= at:
            return None
        return self.enrollment

    @property
    def subscription_list(self) -> list[SubscriptionSnapshot]:
        """Every subscription observed, newest snapshot each, by id."""
        return [SubscriptionSnapshot.from_state(s) for _, s in sorted(self.subscriptions.items())]

    @property
    def subscription_snapshot(self) -> SubscriptionSnapshot | None:
        """The primary subscription (domain/subscriptions.py): the one syncs target."""
        return choose_primary(self.subscription_list)

    def observed_subscription(self, subscription_id: str) -> SubscriptionSnapshot | None:
        state = self.subscriptions.get(subscription_id)
        return None if state is None else SubscriptionSnapshot.from_state(state)
