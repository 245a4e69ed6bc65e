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

from domain.invoice_corrections import DRAFT_WINDOW
from domain.syncs import SyncState

if TYPE_CHECKING:
    from domain.organizer import Organizer


# A confirmed or superseded sync is kept until this long after the end of the period it
# prepared (the renewal draft's window: a correction may still ask about that period),
# then forgotten by the next sync requested (issue 12: the state holds open syncs, not
# every renewal's; the log and ``rm_quantity_syncs`` keep them). A failed one stays, for
# ops to retry.
FINISHED_SYNC_KEPT = DRAFT_WINDOW
FINISHED_SYNC_STATUSES = frozenset({"confirmed", "superseded"})


def forget_finished_syncs(org: Organizer, *, at: datetime) -> None:
    """Drop the finished syncs of periods that ended more than ``FINISHED_SYNC_KEPT``
    before ``at`` (an event's own time: the same on every replay) and that their
    subscription has renewed past. No sync is ever requested for such a period again
    (checks aim at the subscription's current period or a later one, and a snapshot
    never moves back), so a sync's generation, hence its id and key, is never reused."""
    done = []
    for sync_id, sync in org.syncs.items():
        if sync.status not in FINISHED_SYNC_STATUSES:
            continue
        ended = datetime.fromisoformat(sync.period_end)
        subscription = org.subscriptions.get(sync.subscription_id)
        if (
            ended + FINISHED_SYNC_KEPT < at
            and subscription is not None
            and subscription["current_period_end"] > ended
        ):
            done.append(sync_id)
    for sync_id in done:
        del org.syncs[sync_id]


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
        forget_finished_syncs(org, at=self.timestamp)
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
        sync = org.syncs.get(self.sync_id)
        if sync is not None:  # (a finished sync of a past period is forgotten)
            org.syncs[self.sync_id] = replace(sync, status="superseded")


class QuantitySyncConfirmed(Aggregate.Event):
    sync_id: str
    quantity: int
    stripe_request_id: str

    def apply(self, org: Organizer) -> None:
        sync = org.syncs.get(self.sync_id)
        if sync is not None:  # (a finished sync of a past period is forgotten)
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
        if self.sync_id not in org.syncs:  # (a finished sync of a past period is forgotten)
            return
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
