"""The organizer's commands on renewal quantity syncs and drift (a mixin of ``Organizer``),
driven by the process manager and reconciliation."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime

from domain.billing import SubscriptionSnapshot
from domain.claims import check_key, drift_key
from domain.guards import OrganizerError
from domain.keys import fresh_key, sync_attempt_key, sync_identity
from domain.organizer_state import OrganizerState
from domain.renewal import (
    CheckOutcome,
    ProrationPolicy,
    SyncDecision,
    SyncTrigger,
    decide_sync,
    price_problem,
    schedule_problem,
)
from domain.syncs import SyncState


class SyncCommands(OrganizerState):
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
        subscription_id: str = "",
    ) -> CheckOutcome | None:
        """Decide (and record) whether this renewal needs a quantity update.

        The billable quantity is taken at ``at``, the sync instant. Each (trigger, cause)
        is decided once: replays and redeliveries of the trigger record nothing.
        Returns None when there is no subscription to check or it was already checked,
        or when the trigger names (``subscription_id``) another than the primary: a
        duplicate is reported, never synced.
        """
        snapshot = self.subscription_snapshot
        if snapshot is None or self._checked(trigger.value, cause):
            return None
        if subscription_id and subscription_id != snapshot.subscription_id:
            return None
        target = self.billable_quantity(at, minimum=minimum)
        latest = self._latest_sync(snapshot.item_id, period_end)
        decision = decide_sync(
            status=snapshot.status,
            billed_quantity=snapshot.quantity,
            target_quantity=target,
            latest_request=None if latest is None else (latest.quantity, latest.status),
            policy=policy,
            observed_since_latest=latest is not None
            and latest.confirmed_at is not None
            and self.subscription_recorded_at is not None
            and self.subscription_recorded_at > latest.confirmed_at,
            cancel_at_period_end=snapshot.cancel_at_period_end,
            price_problem=price_problem(snapshot.price_id, group_price_ids)
            or schedule_problem(snapshot.schedule_id),
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
            **self._claimed_field(),
        )
        if decision.outcome is CheckOutcome.REQUESTED:
            self._request_sync(snapshot, period_end, decision, trigger=trigger, at=at)
        return decision.outcome

    def _checked(self, trigger: str, cause: str) -> bool:
        """Decided before: in the state (before issue 12), in this decision, or by claim."""
        if f"{trigger}|{cause}" in self.renewal_checks:
            return True
        pending: list[object] = getattr(self, "pending_events", [])
        if any(
            isinstance(e, self.RenewalQuantityChecked) and (e.trigger, e.cause) == (trigger, cause)
            for e in pending
        ):
            return True
        # A check not decided before records its claim (``RenewalQuantityChecked`` with
        # ``claimed``): a claim already stored refuses that save.
        return self.took(check_key(trigger, cause))

    def _claimed_field(self) -> dict[str, bool]:
        """``claimed=True`` when the ledger saves this event's claim (claims lent)."""
        return {"claimed": True} if self.claims_lent else {}

    def _latest_sync(self, item_id: str, period_end: datetime) -> SyncState | None:
        candidates = [
            s
            for s in self.syncs.values()
            if s.item_id == item_id
            and s.period_end == period_end.isoformat()
            and s.status != "superseded"
        ]
        return max(candidates, key=lambda s: s.generation, default=None)

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
            if s.item_id == snapshot.item_id and s.period_end == period_end.isoformat()
        )
        sync_id, key = sync_identity(
            organizer_id=self.platform_organizer_id,
            item_id=snapshot.item_id,
            period_end=period_end,
            quantity=decision.target_quantity,
            generation=generation,
        )
        for older_id, older in list(self.syncs.items()):
            if older.item_id == snapshot.item_id and older.status in ("pending", "retrying"):
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
        if failed.status != "failed":
            msg = f"sync {sync_id} is {failed.status}, not failed"
            raise OrganizerError(msg)
        snapshot = self.subscription_snapshot
        if snapshot is None or snapshot.item_id != failed.item_id:
            msg = f"sync {sync_id} targets an item the organizer no longer has"
            raise OrganizerError(msg)
        decision = SyncDecision(
            CheckOutcome.REQUESTED,
            failed.quantity,
            f"operator retry of {sync_id}",
            failed.proration_behavior,
        )
        period_end = datetime.fromisoformat(failed.period_end)
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
        if sync.status in ("confirmed", "superseded"):
            return False
        self.trigger_event(
            self.QuantitySyncConfirmed,
            sync_id=sync_id,
            quantity=sync.quantity,
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
        if sync.status in ("confirmed", "failed", "superseded"):
            return False
        unknown = outcome_unknown and retryable
        self.trigger_event(
            self.QuantitySyncFailed,
            sync_id=sync_id,
            error_code=error_code,
            message=message[:500],
            retryable=retryable,
            attempt=sync.attempts + 1,
            next_attempt_at=next_attempt_at if retryable else None,
            outcome_unknown=unknown,
            next_idempotency_key=fresh_key(sync.idempotency_key, sync.key_generation + 1)
            if unknown
            else "",
            timestamp=at,
        )
        return True

    @staticmethod
    def sync_key(sync: SyncState) -> str:
        """The Idempotency-Key of a sync's next attempt: the recorded one, replaced after
        each attempt whose outcome Stripe left unknown (its key is spent)."""
        return sync_attempt_key(
            idempotency_key=sync.idempotency_key,
            key_generation=sync.key_generation,
            next_key=sync.next_key,
        )

    def _sync(self, sync_id: str) -> SyncState:
        try:
            return self.syncs[sync_id]
        except KeyError:
            msg = f"unknown quantity sync {sync_id!r}"
            raise OrganizerError(msg) from None

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
            if sync.status in ("pending", "retrying")
            and datetime.fromisoformat(sync.period_end) <= renewed
        ]
        for sync_id in stale:
            self.trigger_event(
                self.QuantitySyncSuperseded,
                sync_id=sync_id,
                superseded_by=f"invoice {invoice_id}",
                timestamp=at,
            )
        return bool(stale)

    def detect_drift(
        self, *, billed_quantity: int, source: str, minimum: int, at: datetime
    ) -> bool:
        """Record what reconciliation found (once per reconciliation run and organizer)."""
        snapshot = self.subscription_snapshot
        expected = self.billable_quantity(minimum=minimum)
        if snapshot is None or billed_quantity == expected or source in self.drift_reports:
            return False
        pending: list[object] = getattr(self, "pending_events", [])
        if self.claimed(drift_key(source)) or any(
            isinstance(e, self.DriftDetected) and e.source == source for e in pending
        ):
            return False
        self.trigger_event(
            self.DriftDetected,
            subscription_id=snapshot.subscription_id,
            billed_quantity=billed_quantity,
            expected_quantity=expected,
            source=source,
            timestamp=at,
            **self._claimed_field(),
        )
        return True
