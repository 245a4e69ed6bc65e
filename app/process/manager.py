"""The renewal process manager: decide at each renewal, record, then send — once.

Three duties, each restartable at any point without repeating a side effect:

1. **React** to the log (tracked like a read model, so each event triggers once):
   ``RenewalUpcoming`` (Stripe's ``invoice.upcoming``) and ``DriftDetected`` lead to a
   renewal check; a renewal draft (``InvoiceRecorded``) is compared with the groups
   active when its period started.
2. **Schedule**: at ``current_period_end - LEDGER_SYNC_LEAD`` every live subscription is
   checked again, so changes after ``invoice.upcoming`` are caught.
3. **Send** pending syncs through the Stripe gateway with their recorded idempotency
   key, and record the outcome. A crash after Stripe answered but before the outcome
   was recorded only means the same key is sent again, and Stripe replays its answer.

Decisions are events (``RenewalQuantityChecked``, ``QuantitySyncRequested``) recorded
before anything is sent; replaying history or rebuilding read models sends nothing.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Tracking

from adapters.observability.logs import log_context
from adapters.observability.metrics import SYNCS
from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.stripe.gateway import SentUpdate, StripeCallError
from app.ledger import LedgerApplication
from app.process.policy import RenewalPolicy
from domain.billing import InvoiceFacts
from domain.organizer import Organizer
from domain.renewal import SyncTrigger, gives_up, retry_delay_s
from projections.base import Positioned, ReadModel
from projections.view import fmt_time, view_for

log = logging.getLogger("ledger.renewals")
MAX_RETRY_DELAY = timedelta(minutes=15)


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


class RenewalReactor(ReadModel):
    """Reactions to the log. Tracked in ``read_model_tracking`` as ``process_manager``;
    the reactions are ledger commands (their own transactions), so the position is
    recorded after them: a crash in between repeats reactions, which are idempotent."""

    name = "process_manager"
    tables = ()

    def __init__(
        self,
        database: SQLiteDatabase | PostgresDatabase,
        ledger: LedgerApplication,
        policy: RenewalPolicy,
    ) -> None:
        super().__init__(view_for(database, self.name, ()))
        self.ledger = ledger
        self.policy = policy

    def process_batch(self, events: Sequence[Positioned]) -> int:
        position = self.view.max_tracking_id()
        fresh = [(e, n) for e, n in events if position is None or n > position]
        for event, notification_id in fresh:
            self.react(event, notification_id)
        if fresh:
            self.view.insert_tracking(Tracking("RenewalLedger", fresh[-1][1]))
        return len(fresh)

    def apply(self, cursor: Any, events: Sequence[Positioned]) -> None:  # pragma: no cover
        msg = "the reactor does not write rows"
        raise NotImplementedError(msg)

    def react(self, event: Any, position: int) -> None:
        name = type(event).__name__
        now = self.ledger.clock()
        if name == "RenewalUpcoming" and event.period_end > now:
            self.check(
                event.originator_id,
                SyncTrigger.UPCOMING_INVOICE,
                f"event {position}",
                event.period_end,
            )
        elif name == "DriftDetected":
            self.check_current_period(event.originator_id, SyncTrigger.DRIFT, f"event {position}")
        elif (
            name == "InvoiceRecorded"
            and event.billing_reason == "subscription_cycle"
            and event.status == "draft"
        ):
            facts = InvoiceFacts(
                **{k: getattr(event, k) for k in InvoiceFacts.__dataclass_fields__}
            )
            minimum = self.policy.minimum_quantity
            self.ledger.update_by_id(
                event.originator_id,
                lambda org, at: org.report_draft_quantity(
                    facts, source=event.source, minimum=minimum, at=at
                ),
            )

    def check(
        self, organizer_id: UUID, trigger: SyncTrigger, cause: str, period_end: datetime
    ) -> None:
        policy = self.policy
        outcome = self.ledger.update_by_id(
            organizer_id,
            lambda org, at: org.check_renewal_quantity(
                trigger=trigger,
                cause=cause,
                period_end=period_end,
                policy=policy.proration,
                minimum=policy.minimum_quantity,
                at=at,
                group_price_ids=policy.group_price_ids,
            ),
        )
        if outcome is not None:
            log.info("renewal check %s for %s: %s", trigger.value, organizer_id, outcome.value)

    def check_current_period(self, organizer_id: UUID, trigger: SyncTrigger, cause: str) -> None:
        def period_of(org: Organizer, _: datetime) -> datetime | None:
            snapshot = org.subscription_snapshot
            return None if snapshot is None else snapshot.current_period_end

        period_end = self.ledger.update_by_id(organizer_id, period_of)
        if period_end is not None:
            self.check(organizer_id, trigger, cause, period_end)


class RenewalScheduler:
    """Checks each live subscription again ``lead`` before its period ends."""

    def __init__(
        self, database: SQLiteDatabase | PostgresDatabase, reactor: RenewalReactor
    ) -> None:
        self.database = database
        self.reactor = reactor

    def run_once(self) -> int:
        now = self.reactor.ledger.clock()
        horizon = now + self.reactor.policy.lead
        with self.database.transaction() as cursor:
            due = cursor.execute(
                "SELECT organizer_uuid, current_period_end FROM rm_renewals"
                " WHERE subscription_status IN ('active', 'trialing', 'past_due')"
                " AND current_period_end > :now AND current_period_end <= :horizon"
                " AND (scheduled_check_period_end IS NULL"
                "      OR scheduled_check_period_end < current_period_end)",
                {"now": fmt_time(now), "horizon": fmt_time(horizon)},
            ).fetchall()
        for row in due:
            period_end = datetime.fromisoformat(
                str(row["current_period_end"]).replace("Z", "+00:00")
            )
            organizer_id = UUID(str(row["organizer_uuid"]))
            self.reactor.check(
                organizer_id, SyncTrigger.SCHEDULED, f"period {fmt_time(period_end)}", period_end
            )
        return len(due)


class SyncSender:
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
        self.database = database
        self.ledger = ledger
        self.port = port
        self.policy = policy
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="stripe-sync")
        self.jitter = jitter

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def run_once(self, limit: int = 500) -> int:
        """Send every sync due now; returns how many were attempted."""
        now = self.ledger.clock()
        with self.database.transaction() as cursor:
            rows = cursor.execute(
                "SELECT sync_id, organizer_uuid FROM rm_quantity_syncs"
                " WHERE status IN ('pending', 'retrying')"
                " AND (next_attempt_at IS NULL OR next_attempt_at <= :now)"
                " ORDER BY requested_at, sync_id LIMIT :limit",
                {"now": fmt_time(now), "limit": limit},
            ).fetchall()
        by_organizer: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_organizer[str(row["organizer_uuid"])].append(str(row["sync_id"]))
        futures = [
            self.pool.submit(self._send_all, UUID(organizer), sync_ids)
            for organizer, sync_ids in by_organizer.items()
        ]
        return sum(f.result() for f in futures)

    def _send_all(self, organizer_id: UUID, sync_ids: list[str]) -> int:
        sent = 0
        for sync_id in sync_ids:
            with log_context(organizer_id=str(organizer_id), sync_id=sync_id):
                sent += self.send(organizer_id, sync_id)
        return sent

    def send(self, organizer_id: UUID, sync_id: str) -> bool:
        """Send one sync if the ledger still says it is due; record what Stripe said."""
        organizer: Organizer = self.ledger.repository.get(organizer_id)
        sync = organizer.syncs.get(sync_id)
        now = self.ledger.clock()
        if sync is None or sync["status"] not in ("pending", "retrying"):
            return False  # the read model lags the ledger: already done or superseded
        if sync.get("next_attempt_at") is not None and now < sync["next_attempt_at"]:
            return False  # the read model lags the ledger: the backoff is not over
        if gives_up(
            requested_at=sync["requested_at"],
            window_closes=datetime.fromisoformat(sync["period_end"]),
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
        SYNCS.labels(outcome="confirmed").inc()
        return True

    def _attempt(self, sync_id: str, sync: dict[str, Any]) -> SentUpdate:
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
            delay = retry_delay_s(
                attempt,
                base_s=self.policy.retry_base.total_seconds(),
                cap_s=MAX_RETRY_DELAY.total_seconds(),
                jitter=self.jitter(),
            )
            return org.fail_quantity_sync(
                sync_id=sync_id,
                error_code=error.code,
                message=error.message,
                retryable=error.retryable,
                next_attempt_at=at + timedelta(seconds=delay),
                outcome_unknown=error.outcome_unknown,
                at=at,
            )

        if self.ledger.update_by_id(organizer_id, record, loaded=loaded):
            SYNCS.labels(outcome="retrying" if error.retryable else "failed").inc()
