"""Sending quantity syncs: the process manager's third duty (app/services/process/manager.py).

Due syncs go to Stripe with their recorded idempotency key, and the outcome is recorded.
A crash after Stripe answered but before the outcome was recorded only means the same
key is sent again, and Stripe replays its answer.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol
from uuid import UUID

from adapters.observability.metrics import SYNCS
from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.stripe.gateway import SentUpdate, StripeCallError
from app.services.ledger import LedgerApplication
from app.services.process.policy import RenewalPolicy
from app.services.process.sending import OrganizerQueue
from domain.organizer import Organizer
from domain.renewal import gives_up
from domain.statuses import OPEN_SYNC_STATUSES, SyncStatus, after_failure
from domain.syncs import SyncState
from projections.syncs import due_syncs
from projections.times import from_text

log = logging.getLogger("ledger.renewals")


class QuantityPort(Protocol):
    """What the process manager needs from Stripe (the gateway implements it)."""

    def set_item_quantity(
        self,
        *,
        item_id: str,
        quantity: int,
        proration_behavior: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> SentUpdate: ...

    def item_quantity(self, item_id: str) -> SentUpdate: ...


class SyncSender(OrganizerQueue):
    """Sends due syncs: concurrently across organizers, in order within one."""

    def __init__(
        self,
        database: SQLiteDatabase | PostgresDatabase,
        ledger: LedgerApplication,
        port: QuantityPort,
        policy: RenewalPolicy,
        *,
        concurrency: int = 4,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(ledger, policy, concurrency=concurrency, jitter=jitter)
        self.database = database
        self.port = port

    def due(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        return due_syncs(self.database, now, limit)

    def send(self, organizer_id: UUID, sync_id: str) -> bool:
        """Send one sync if the ledger still says it is due; record what Stripe said."""
        organizer: Organizer = self.ledger.repository.get(organizer_id)
        sync = organizer.syncs.get(sync_id)
        now = self.ledger.clock()
        if sync is None or sync["status"] not in OPEN_SYNC_STATUSES:
            return False  # the read model lags the ledger: already done or superseded
        if sync.get("next_attempt_at") is not None and now < sync["next_attempt_at"]:
            return False  # the read model lags the ledger: the backoff is not over
        if gives_up(
            requested_at=sync["requested_at"],
            window_closes=from_text(sync["period_end"]),
            now=now,
            horizon=self.policy.retry_horizon,
        ):
            self._fail(
                organizer_id,
                sync_id,
                StripeCallError(
                    "gave_up",
                    f"not confirmed within {self.policy.retry_horizon} nor by its renewal",
                    retryable=False,
                    status=None,
                ),
            )
            return True
        try:
            sent = self._attempt(sync_id, sync)
        except StripeCallError as error:
            log.warning("sync %s failed (%s, retryable=%s)", sync_id, error, error.retryable)
            self._fail(organizer_id, sync_id, error, loaded=organizer)
            return True
        self.ledger.update_by_id(
            organizer_id,
            lambda org, at: org.confirm_quantity_sync(
                sync_id=sync_id, stripe_request_id=sent.request_id, at=at
            ),
            loaded=organizer,
        )
        SYNCS.labels(outcome=SyncStatus.CONFIRMED).inc()
        return True

    def _attempt(self, sync_id: str, sync: SyncState) -> SentUpdate:
        """One attempt. After an attempt with an unknown outcome, Stripe is asked first:
        if the quantity is already the target, that attempt did apply it."""
        if sync.get("verify_first"):
            current = self.port.item_quantity(sync["item_id"])
            if current.quantity == sync["quantity"]:
                return current
        return self.port.set_item_quantity(
            item_id=sync["item_id"],
            quantity=sync["quantity"],
            proration_behavior=sync["proration_behavior"],
            idempotency_key=Organizer.sync_key(sync),
            metadata={"ledger_sync_id": sync_id},
        )

    def _fail(
        self,
        organizer_id: UUID,
        sync_id: str,
        error: StripeCallError,
        *,
        loaded: Organizer | None = None,
    ) -> None:
        def record(org: Organizer, at: datetime) -> bool:
            attempt = org.syncs[sync_id]["attempts"] + 1
            return org.fail_quantity_sync(
                sync_id=sync_id,
                error_code=error.code,
                message=error.message,
                retryable=error.retryable,
                next_attempt_at=self.next_attempt_at(attempt, at),
                outcome_unknown=error.outcome_unknown,
                at=at,
            )

        if self.ledger.update_by_id(organizer_id, record, loaded=loaded):
            SYNCS.labels(outcome=after_failure(error.retryable)).inc()
