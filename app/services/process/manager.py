"""The renewal process manager: decide at each renewal, record, then send — once.

Three duties, each restartable at any point without repeating a side effect:

1. **React** to the log (tracked like a read model, so each event triggers once):
   ``RenewalUpcoming`` (Stripe's ``invoice.upcoming``) and ``DriftDetected`` lead to a
   renewal check; a renewal draft (``InvoiceRecorded``) is compared with the groups
   active when its period started.
2. **Schedule**: at ``current_period_end - LEDGER_SYNC_LEAD`` every live subscription is
   checked again, so changes after ``invoice.upcoming`` are caught.
3. **Send** pending syncs through the Stripe gateway (app/services/process/sync_sender.py).

Decisions are events (``RenewalQuantityChecked``, ``QuantitySyncRequested``) recorded
before anything is sent; replaying history or rebuilding read models sends nothing.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from app.services.ledger import ConcurrencyError, LedgerApplication
from app.services.process.policy import RenewalPolicy
from app.services.process.previews import RenewalPreviews
from app.services.process.sync_sender import QuantityPort, SyncSender
from domain.invoice_corrections import RENEWAL
from domain.organizer import Organizer
from domain.renewal import ProrationPolicy, SyncTrigger
from projections.base import TRANSIENT_STORE_ERRORS, Positioned, ReadModel
from projections.events import (
    CORRECTION_EVENTS,
    CUSTOMER_EVENTS,
    DUPLICATE_EVENTS,
    NEVER_RECORDED,
    SYNC_EVENTS,
)
from projections.quarantine import quarantined, release
from projections.renewals import due_scheduled_checks
from projections.runner import LogReader
from projections.times import fmt_time
from projections.view import view_for

log = logging.getLogger("ledger.renewals")


# A store outage or a lost write race is nobody's fault: the worker's loop retries those.
RETRIED_REACTION_ERRORS = (*TRANSIENT_STORE_ERRORS, ConcurrencyError)
# Organizers reacted to side by side within a batch (``RenewalReactor._react_in_lanes``).
REACTION_LANES = 4


class RenewalReactor(ReadModel):
    """Reactions to the log. Tracked in ``read_model_tracking`` as ``process_manager``;
    the reactions are ledger commands (their own transactions), so the position is
    recorded after them: a crash in between repeats reactions, which are idempotent."""

    name = "process_manager"
    tables = ()
    quarantine_kind = "reaction"
    # What ``react`` passes over (what it handles is its registry: tests/unit/
    # test_event_dispatch.py). singledispatch follows subclasses: none of these is one.
    IGNORED = (
        NEVER_RECORDED
        | DUPLICATE_EVENTS
        | CUSTOMER_EVENTS
        | SYNC_EVENTS
        | (CORRECTION_EVENTS - {Organizer.CorrectionConfirmed})
        | {
            Organizer.Registered,
            Organizer.GroupChangeReaffirmed,
            Organizer.StaleSubscriptionSnapshotIgnored,
            Organizer.SubscriptionCanceled,
            Organizer.RenewalQuantityChecked,
            Organizer.PaymentSucceeded,
            Organizer.PaymentFailed,
        }
    )

    def __init__(
        self,
        database: SQLiteDatabase | PostgresDatabase,
        ledger: LedgerApplication,
        policy: RenewalPolicy,
        previews: RenewalPreviews | None = None,
        *,
        lanes: int = REACTION_LANES,
    ) -> None:
        super().__init__(view_for(database, self.name, ()))
        self.ledger = ledger
        self.policy = policy
        self.previews = previews  # tiered/volume prices: app/services/process/previews.py
        self.lanes = lanes

    def process_batch(self, events: Sequence[Positioned]) -> int:
        """React to the events after the position. An event whose reaction fails on its
        own (not a store outage or a write conflict: those are retried by the loop) is
        quarantined like a read model's, so one bad event never stops the renewals of
        every organizer behind it; ``ledger ops quarantine`` lists it."""
        position = self.view.max_tracking_id()
        fresh = [(e, n) for e, n in events if position is None or n > position]
        self._recheck: dict[UUID, int] = {}
        self._recheck_from: dict[UUID, datetime] = {}
        self._preview: dict[UUID, None] = {}  # organizers whose renewal preview may be stale
        lanes: dict[UUID, list[Positioned]] = {}
        for positioned in fresh:
            lanes.setdefault(positioned[0].originator_id, []).append(positioned)
        if self.lanes > 1 and len(lanes) > 1:
            self._react_in_lanes(fresh, list(lanes.values()))
        else:
            self._react_in_order(fresh)
        # Group changes re-check renewal invoices once per organizer and batch; the
        # organizer read for it also serves its preview below (a correction changes
        # neither its subscription nor its quantity).
        loaded: dict[UUID, Organizer] = {}
        for organizer_id, notification_id in self._recheck.items():
            try:
                organizer: Organizer = self.ledger.repository.get(organizer_id)
                loaded[organizer_id] = organizer
                if self.renews_since(organizer, self._recheck_from[organizer_id]):
                    self.correct(organizer_id, f"group change (event {notification_id})")
            except RETRIED_REACTION_ERRORS:
                raise
            except Exception:  # the scheduler and the next draft check cover it again
                log.exception("re-check of %s after event %d failed", organizer_id, notification_id)
            self._preview[organizer_id] = None
        # Group changes and subscription snapshots with discounts preview the renewal
        # again, once per organizer and batch, when its inputs changed.
        if self.previews is not None:
            for organizer_id in self._preview:
                # Logs a Stripe failure, raises none.
                self.previews.refresh(organizer_id, loaded.get(organizer_id))
        if fresh:
            self.view.insert_tracking(Tracking("RenewalLedger", fresh[-1][1]))
        return len(fresh)

    def _react_in_order(self, fresh: list[Positioned]) -> None:
        for done, (event, notification_id) in enumerate(fresh):
            try:
                self.react(event, notification_id)
            except RETRIED_REACTION_ERRORS:
                if done:  # keep what is done; the loop retries from this event
                    self.view.insert_tracking(Tracking("RenewalLedger", fresh[done - 1][1]))
                raise
            except Exception as error:  # any other failure is this event's own
                self.quarantine((event, notification_id), error)

    def _react_in_lanes(self, fresh: list[Positioned], lanes: list[list[Positioned]]) -> None:
        """Each organizer's events in order, organizers side by side (``lanes`` at a
        time): a reaction is mostly round trips to the store (load, claim, save), and on
        renewal day every organizer has its own ``RenewalUpcoming`` (issue 12).

        What ``_react_in_order`` records, in the same order: a lane's failing reaction is
        quarantined once every lane is done, in log order, so that a quarantine's position
        never passes an event another lane has yet to react to. A store outage or lost
        race stops every lane after its current event; the longest run of the batch's
        events, in log order, that all reacted is kept (its failures quarantined, its
        position tracked) and the loop retries from the first one that did not."""
        failures: dict[int, tuple[Positioned, Exception]] = {}
        done: set[int] = set()
        stopping = threading.Event()

        def run(lane: list[Positioned]) -> None:
            for positioned in lane:
                if stopping.is_set():
                    return
                try:
                    self.react(*positioned)
                except RETRIED_REACTION_ERRORS:
                    stopping.set()
                    raise
                except Exception as error:  # any other failure is this event's own
                    failures[positioned[1]] = (positioned, error)
                done.add(positioned[1])

        try:
            with ThreadPoolExecutor(min(self.lanes, len(lanes)), "reaction-lane") as pool:
                for future in [pool.submit(run, lane) for lane in lanes]:
                    future.result()
        except RETRIED_REACTION_ERRORS:
            kept = list(itertools.takewhile(lambda p: p[1] in done, fresh))
            self._quarantine_in_order(failures, upto=kept[-1][1] if kept else 0)
            if kept:
                self.view.insert_tracking(Tracking("RenewalLedger", kept[-1][1]))
            raise
        self._quarantine_in_order(failures, upto=fresh[-1][1])

    def _quarantine_in_order(
        self, failures: dict[int, tuple[Positioned, Exception]], *, upto: int
    ) -> None:
        for position in sorted(p for p in failures if p <= upto):
            self.quarantine(*failures[position])

    def retry_quarantined(self) -> tuple[int, int]:
        """React again to each quarantined event, in log order (after a fix); a reaction
        that now succeeds is released. Reactions are idempotent in the aggregate, so this
        is safe beside a running worker. Returns (released, still held)."""
        held = [q for q in quarantined(self.view.database) if q.projection == self.name]
        released = 0
        for entry in held:
            found = LogReader(self.ledger).after(entry.notification_id - 1, limit=1)
            if not found or found[0][1] != entry.notification_id:
                continue
            event, position = found[0]
            try:
                self.react(event, position)
            except RETRIED_REACTION_ERRORS:
                raise
            except Exception:
                log.exception("%s: event %d still fails", self.name, position)
                continue
            with self.view.transaction() as cursor:
                release(cursor, self.name, position)
            released += 1
        return released, len(held) - released

    def apply(self, cursor: Any, events: Sequence[Positioned]) -> None:  # pragma: no cover
        msg = "the reactor does not write rows"
        raise NotImplementedError(msg)

    @singledispatchmethod
    def react(self, event: Any, position: int) -> None:
        """Events that trigger nothing (most of them)."""

    @react.register
    def _upcoming(self, event: Organizer.RenewalUpcoming, position: int) -> None:
        if event.period_end > self.ledger.clock():
            self.check(
                event.originator_id,
                SyncTrigger.UPCOMING_INVOICE,
                f"event {position}",
                event.period_end,
                subscription_id=event.subscription_id,
            )

    @react.register
    def _drift(self, event: Organizer.DriftDetected, position: int) -> None:
        self.check_current_period(event.originator_id, SyncTrigger.DRIFT, f"event {position}")

    @react.register
    def _invoice(self, event: Organizer.InvoiceRecorded, position: int) -> None:
        """A renewal invoice (draft, or already finalised): correct it to the groups active
        at its period start; on the draft, also set the quantity for the next period."""
        if event.billing_reason != RENEWAL:
            return
        minimum = self.policy.minimum_quantity

        def review(org: Organizer, at: datetime) -> list[str]:
            org.supersede_syncs_renewed(event.invoice_id, at=at)
            return org.correct_renewal_invoices(
                minimum=minimum, at=at, cause=f"event {position}", invoice_id=event.invoice_id
            )

        decided = self.ledger.update_by_id(event.originator_id, review)
        if decided:
            log.info("renewal invoice %s: correction %s", event.invoice_id, ", ".join(decided))
        if event.status == "draft":
            # Proration none: the draft correction already bills this period; prorating
            # the same change again would charge it twice.
            self.check(
                event.originator_id,
                SyncTrigger.RENEWAL_INVOICE,
                f"invoice {event.invoice_id}",
                event.period_end,
                proration=ProrationPolicy.NONE,
                subscription_id=event.subscription_id,
            )

    @react.register(Organizer.GroupActivated)
    @react.register(Organizer.GroupDeactivated)
    @react.register(Organizer.StaleGroupChangeIgnored)
    def _group(self, event: Any, position: int) -> None:
        # Only a change that occurred by a renewal instant can change what it bills.
        earliest = self._recheck_from.get(event.originator_id)
        if earliest is None or event.occurred_at < earliest:
            self._recheck_from[event.originator_id] = event.occurred_at
        self._recheck[event.originator_id] = position

    @react.register
    def _observed(self, event: Organizer.SubscriptionObserved, position: int) -> None:
        # A discounted subscription's renewal is Stripe's preview (issue 13): a snapshot
        # with discounts may bring new ones, so RenewalPreviews decides whether to ask.
        # Without discounts a per-unit estimate needs none, and a renewal day's thousands
        # of undiscounted snapshots cost no organizer load here.
        if event.discount_ids:
            self._preview[event.originator_id] = None

    @react.register
    def _corrected(self, event: Organizer.CorrectionConfirmed, position: int) -> None:
        # A finalised invoice waits for its draft correction's outcome: now it is known.
        self.correct(event.originator_id, f"event {position}", event.invoice_id)

    def renews_since(self, organizer: Organizer, occurred_at: datetime) -> bool:
        """Whether a renewal invoice still open to correction renewed at or after
        ``occurred_at`` (a read, no write: most group changes concern none)."""
        now = self.ledger.clock()
        return any(
            invoice["period_end"] > now and invoice["period_start"] >= occurred_at
            for invoice in organizer.renewal_invoices.values()
        )

    def correct(self, organizer_id: UUID, cause: str, invoice_id: str | None = None) -> None:
        minimum = self.policy.minimum_quantity
        decided = self.ledger.update_by_id(
            organizer_id,
            lambda org, at: org.correct_renewal_invoices(
                minimum=minimum, at=at, cause=cause, invoice_id=invoice_id
            ),
        )
        if decided:
            log.info("renewal invoices of %s: correction %s", organizer_id, ", ".join(decided))

    def check(
        self,
        organizer_id: UUID,
        trigger: SyncTrigger,
        cause: str,
        period_end: datetime,
        *,
        proration: ProrationPolicy | None = None,
        subscription_id: str = "",
    ) -> None:
        """``subscription_id``: the subscription the trigger is about (a duplicate's
        triggers check nothing: syncs only ever target the primary)."""
        policy = self.policy
        outcome = self.ledger.update_by_id(
            organizer_id,
            lambda org, at: org.check_renewal_quantity(
                trigger=trigger,
                cause=cause,
                period_end=period_end,
                policy=policy.proration if proration is None else proration,
                minimum=policy.minimum_quantity,
                at=at,
                group_price_ids=policy.group_price_ids,
                subscription_id=subscription_id,
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


# What the reactor handles is what ``react`` has registered (its dispatch table).
RenewalReactor.handles = frozenset(
    cls for cls in RenewalReactor.__dict__["react"].dispatcher.registry if cls is not object
)


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
        due = due_scheduled_checks(self.database, now, horizon)
        for check in due:
            self.reactor.check(
                check.organizer_uuid,
                SyncTrigger.SCHEDULED,
                f"period {fmt_time(check.period_end)}",
                check.period_end,
            )
        return len(due)


__all__ = ["QuantityPort", "RenewalReactor", "RenewalScheduler", "SyncSender"]
