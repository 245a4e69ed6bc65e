"""Events of renewal quantity checks, quantity syncs and drift, assigned in ``Organizer``'s
body.

``Organizer`` subclasses each as ``Organizer.<Name>``, so their stored topics read
``domain.organizer:Organizer.<Name>``. Trigger them through the aggregate, never from
this module.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from domain.syncs import SyncState

if TYPE_CHECKING:
    from domain.organizer import Organizer


class RenewalQuantityChecked(Aggregate.Event):
    """The process manager looked at a renewal: what it found and what it decided."""

    trigger: str
    cause: str
    period_end: datetime
    billable_quantity: int
    billed_quantity: int
    outcome: str
    reason: str
    # Since issue 12: saved with its claim (``renewal-check:<trigger>|<cause>``), which
    # answers a repeated check, so the state does not keep it (older: ``renewal_checks``).
    claimed: bool = False

    def apply(self, org: Organizer) -> None:
        if not self.claimed:
            org.renewal_checks[f"{self.trigger}|{self.cause}"] = self.outcome


class QuantitySyncRequested(Aggregate.Event):
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
        org.syncs[self.sync_id] = SyncState(
            status="pending",
            quantity=self.quantity,
            subscription_id=self.subscription_id,
            item_id=self.item_id,
            period_end=self.period_end.isoformat(),
            proration_behavior=self.proration_behavior,
            generation=self.generation,
            idempotency_key=self.idempotency_key,
            requested_at=self.timestamp,
        )


class QuantitySyncSuperseded(Aggregate.Event):
    """A pending sync that must never be sent: a newer decision replaced it."""

    sync_id: str
    superseded_by: str

    def apply(self, org: Organizer) -> None:
        org.syncs[self.sync_id] = replace(org.syncs[self.sync_id], status="superseded")


class QuantitySyncConfirmed(Aggregate.Event):
    sync_id: str
    quantity: int
    stripe_request_id: str

    def apply(self, org: Organizer) -> None:
        sync = org.syncs[self.sync_id]
        org.syncs[self.sync_id] = replace(sync, status="confirmed", confirmed_at=self.timestamp)
        org.last_synced_quantity = self.quantity
        org.last_synced_at = self.timestamp


class QuantitySyncFailed(Aggregate.Event):
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
        sync = replace(
            org.syncs[self.sync_id],
            status="retrying" if self.retryable else "failed",
            attempts=self.attempt,
            error=f"{self.error_code}: {self.message}",
            next_attempt_at=self.next_attempt_at,
        )
        if self.outcome_unknown:
            sync = replace(
                sync,
                key_generation=sync.key_generation + 1,
                verify_first=True,
                next_key=self.next_idempotency_key or sync.next_key,
            )
        org.syncs[self.sync_id] = sync


class DriftDetected(Aggregate.Event):
    """Reconciliation found Stripe billing another quantity than the ledger expects."""

    subscription_id: str
    billed_quantity: int
    expected_quantity: int
    source: str
    # Since issue 12: saved with its claim (``drift:<source>``); older: ``drift_reports``.
    claimed: bool = False

    def apply(self, org: Organizer) -> None:
        if not self.claimed:
            org.drift_reports[self.source] = self.expected_quantity
