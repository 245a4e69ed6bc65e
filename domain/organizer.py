"""The ``Organizer`` aggregate: one organizer's groups and Stripe billing facts.

Every method takes ``at`` — the instant the ledger records the fact — so that the
domain never reads a clock and replays are exact. Events carry plain values only.
Their class paths (``domain.organizer:Organizer.<Name>``) are stored in every row:
renaming one is a migration, not a refactor.

This is the root: the events are defined by subject beside it (``domain/*_events.py``)
and assigned here, one line each, so that their topics are this class's; the commands
are mixins by subject (``domain/*_commands.py``) over the state in
``domain/organizer_state.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain import correction_events as corrections
from domain import group_events as groups
from domain import invoice_events as invoices
from domain import preview_events as previews
from domain import stripe_fact_events as facts
from domain import subscription_events as subscriptions
from domain import sync_events
from domain import tax_id_events as tax_ids
from domain.correction_commands import CorrectionCommands
from domain.group_commands import GroupCommands
from domain.guards import OrganizerError, check_aware, check_platform_id
from domain.stripe_fact_commands import StripeFactCommands
from domain.stripe_fact_events import source_key
from domain.sync_commands import SyncCommands
from domain.syncs import upcast_syncs

__all__ = ["ORGANIZER_NAMESPACE", "Organizer", "OrganizerError", "organizer_uuid", "source_key"]

# Fixed forever: organizer ids are derived from it (changing it orphans every stream).
ORGANIZER_NAMESPACE = uuid5(NAMESPACE_URL, "https://renewal-ledger.invalid/organizer")


def organizer_uuid(platform_organizer_id: str) -> UUID:
    """The aggregate id for a platform organizer id: same input, same id, forever."""
    return uuid5(ORGANIZER_NAMESPACE, platform_organizer_id)


class Organizer(GroupCommands, StripeFactCommands, SyncCommands, CorrectionCommands, Aggregate):
    """An organizer on the enterprise plan, billed per active group."""

    class Event(Aggregate.Event):
        pass

    class Registered(Aggregate.Created):
        platform_organizer_id: str

    # Platform group changes (domain/group_events.py).
    class GroupActivated(groups.GroupActivated, Event): ...

    class GroupDeactivated(groups.GroupDeactivated, Event): ...

    class GroupChangeReaffirmed(groups.GroupChangeReaffirmed, Event): ...

    class StaleGroupChangeIgnored(groups.StaleGroupChangeIgnored, Event): ...

    # Stripe facts and enrollment (domain/stripe_fact_events.py).
    class StripeFact(facts.StripeFact, Event): ...

    class StripeCustomerLinked(facts.StripeCustomerLinked, StripeFact): ...

    class StripeCustomerDeleted(facts.StripeCustomerDeleted, StripeFact): ...

    class SubscriptionObserved(facts.SubscriptionObserved, StripeFact): ...

    class StaleSubscriptionSnapshotIgnored(facts.StaleSubscriptionSnapshotIgnored, StripeFact): ...

    class OtherSubscriptionObserved(facts.OtherSubscriptionObserved, StripeFact): ...

    class SubscriptionCanceled(facts.SubscriptionCanceled, StripeFact): ...

    class RenewalUpcoming(facts.RenewalUpcoming, StripeFact): ...

    class EnrollmentStarted(facts.EnrollmentStarted, Event): ...

    # A second live subscription, issue 13 (domain/subscription_events.py).
    class DuplicateSubscriptionFound(subscriptions.DuplicateSubscriptionFound, Event): ...

    class DuplicateSubscriptionResolved(subscriptions.DuplicateSubscriptionResolved, Event): ...

    # The customer's tax ids, issue 13 (domain/tax_id_events.py).
    class TaxIdsObserved(tax_ids.TaxIdsObserved, StripeFact): ...

    class RenewalPreviewRecorded(previews.RenewalPreviewRecorded, StripeFact): ...

    # Renewal quantity checks, syncs and drift (domain/sync_events.py).
    class RenewalQuantityChecked(sync_events.RenewalQuantityChecked, Event): ...

    class QuantitySyncRequested(sync_events.QuantitySyncRequested, Event): ...

    class QuantitySyncSuperseded(sync_events.QuantitySyncSuperseded, Event): ...

    class QuantitySyncConfirmed(sync_events.QuantitySyncConfirmed, Event): ...

    class QuantitySyncFailed(sync_events.QuantitySyncFailed, Event): ...

    class DriftDetected(sync_events.DriftDetected, Event): ...

    # Invoices and payments, Stripe facts too (domain/invoice_events.py).
    class DraftInvoiceQuantityMismatch(invoices.DraftInvoiceQuantityMismatch, StripeFact): ...

    class InvoiceRecorded(invoices.InvoiceRecorded, StripeFact): ...

    class PaymentSucceeded(invoices.PaymentSucceeded, StripeFact): ...

    class PaymentFailed(invoices.PaymentFailed, StripeFact): ...

    # Renewal invoice corrections, issue 10 (domain/correction_events.py).
    class CorrectionRequested(corrections.CorrectionRequested, Event): ...

    class DraftCorrectionRequested(corrections.DraftCorrectionRequested, CorrectionRequested): ...

    class LateDifferenceRequested(corrections.LateDifferenceRequested, CorrectionRequested): ...

    class CorrectionStepDone(corrections.CorrectionStepDone, Event): ...

    class CorrectionConfirmed(corrections.CorrectionConfirmed, Event): ...

    class CorrectionAttemptFailed(corrections.CorrectionAttemptFailed, Event): ...

    class DraftCorrectionMissed(corrections.DraftCorrectionMissed, Event): ...

    class RenewalInvoiceLeftUncorrected(corrections.RenewalInvoiceLeftUncorrected, Event): ...

    # Snapshots taken before issue 10 lack the correction state; before issue 11 they
    # hold each sync's state as a plain dict; before issue 12 no group history is folded
    # (v4: no invoice is forgotten, domain/settled.py); before issue 13 (v5) they hold one
    # ``subscription`` (now one entry per subscription).
    class_version = 7

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.setdefault("renewal_invoices", {})
        state.setdefault("corrections", {})

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        upcast_syncs(state)

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        state.setdefault("groups_settled_until", None)

    @staticmethod
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        state.setdefault("final_invoices", {})

    @staticmethod
    def upcast_v5_v6(state: dict[str, Any]) -> None:
        single = state.pop("subscription", None)
        if single is not None:
            single.setdefault("created", None)
            single.setdefault("schedule_id", None)
        state["subscriptions"] = {} if single is None else {single["subscription_id"]: single}
        state.setdefault("duplicate_subscriptions", {})

    @staticmethod
    def upcast_v6_v7(state: dict[str, Any]) -> None:
        for subscription in state.get("subscriptions", {}).values():
            subscription.setdefault("discount_ids", [])  # since issue 13's discounts

    def __init__(self, platform_organizer_id: str) -> None:
        self.platform_organizer_id = platform_organizer_id
        self.groups = {}
        self.groups_settled_until = None
        self.change_outcomes = {}
        self.stripe_customer_id = None
        self.stripe_customer_deleted = False
        self.subscriptions = {}
        self.duplicate_subscriptions = {}
        self.canceled_at = None
        self.upcoming_renewals = {}
        self.syncs = {}
        self.last_synced_quantity = None
        self.last_synced_at = None
        self.invoices = {}
        self.final_invoices = {}
        self.payments = {}
        self.seen_sources = {}
        self.renewal_checks = {}
        self.enrollment = None
        self.subscription_recorded_at = None
        self.enrollments_started = 0
        self.drift_reports = {}
        self.renewal_invoices = {}
        self.corrections = {}

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
