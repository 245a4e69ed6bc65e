"""Translation of stored Stripe deliveries into organizer commands (the worker's job).

Each row is translated by the anti-corruption layer, routed to an organizer, applied
in one ``ledger.update`` and then marked. A crash between the save and the mark only
means the row is translated again: every Stripe-sourced command is idempotent per
(kind, event id), remembered by its claim (domain/claims.py), so nothing is recorded twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from threading import Event
from typing import Any, Protocol

import orjson
from eventsourcing.persistence import IntegrityError

from adapters.observability.logs import log_context
from adapters.observability.metrics import QUARANTINED_INPUTS
from adapters.persistence.inbox import InboxBatch, InboxRow, LinkKind, Outcome, StripeInbox
from adapters.stripe.prices import PRICE_EVENT_TYPES
from adapters.stripe.translate import (
    MoreLinesNeeded,
    Translation,
    TranslationError,
    translate,
    with_all_lines,
)
from app.services.intake.inbox_units import (
    TRANSIENT_ERRORS,
    Redo,
    Unit,
    apply_in_unit,
    prices_note,
    waiting_reason,
)
from app.services.ledger import LedgerApplication
from app.services.prices import record_prices
from domain.organizer import Organizer, OrganizerError

log = logging.getLogger("ledger.inbox")
MAX_ATTEMPTS = 3
# Rows per batch: large enough that renewal day's several facts per organizer often share
# a batch (one load for them, see ``_apply``: 1,000 rows for 100 organizers applied at
# ~220 rows/s in batches of 100, ~360 in batches of 500), small enough to hold in memory.
BATCH_SIZE = 500
# Organizers applied side by side within a batch: a row's time is mostly round trips to
# the store (load, claims, save), so lanes overlap them. Each holds one ledger connection.
CONCURRENCY = 4
QUARANTINED = "quarantined"


class InvoiceLines(Protocol):
    """Where an invoice's lines beyond its embedded first page come from (the gateway)."""

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]: ...


class InboxProcessor:
    """Turns pending inbox rows into domain events, marking each row with its outcome."""

    def __init__(
        self,
        ledger: LedgerApplication,
        inbox: StripeInbox,
        *,
        group_price_ids: AbstractSet[str] = frozenset(),
        lines: InvoiceLines | None = None,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.ledger = ledger
        self.inbox = inbox
        self.group_price_ids = group_price_ids
        # None (no Stripe key): an invoice needing more lines fails translation, named.
        self.lines = lines
        self.concurrency = max(1, concurrency)
        # Stripe id -> organizer, as stored: links are written once (first wins) and never
        # change or go away, so a link seen once needs no further read.
        self._owners: dict[str, str] = {}
        # Ids whose link this processor wrote (and whose parked rows it woke) itself:
        # writing them again changes nothing (see ``_woken``).
        self._linked: set[str] = set()
        self._loaded: dict[str, Organizer] = {}  # this batch's saved organizers (``_apply``)
        self._translations: dict[str, Translation] = {}  # this batch's, from ``_lanes``
        self._writes: InboxBatch | StripeInbox = inbox
        self._units = threading.local()  # each lane thread's ``Unit``, while it runs one

    def process_pending(self, batch_size: int = BATCH_SIZE, *, stop: Event | None = None) -> int:
        """Process up to ``batch_size`` pending rows; returns how many were handled.

        The rows are claimed (``StripeInbox.claim``), split into lanes by organizer and
        the lanes applied side by side, ``concurrency`` at a time, each lane in the rows'
        order: per organizer, facts apply in the order Stripe dated them, as one at a time
        would. The outcomes are marked together at the end of the batch; an error out of a
        lane (the store's) leaves every row pending, to be translated again, which records
        nothing twice. ``stop`` is checked between rows, so a shutdown never waits for a
        whole batch.
        """
        self._loaded.clear()  # a batch's copies only: memory bounded, rarely stale
        self._translations.clear()
        try:
            with self.inbox.claim(batch_size) as batch:
                handled = self._process_batch(batch, stop)
        except BaseException:
            # The batch's links may have been rolled back with it: read them again.
            self._owners.clear()
            self._linked.clear()
            raise
        finally:
            self._writes = self.inbox
            self._translations.clear()
        if handled == 0:
            # Idle: the next write of each link runs its wake again, which also frees a row
            # that another processor (``ledger inbox reprocess``) parked while we linked.
            self._linked.clear()
        return handled

    def _process_batch(self, batch: InboxBatch, stop: Event | None) -> int:
        self._writes = batch
        outcomes: dict[str, Outcome] = {}
        failed = Event()

        def stopping() -> bool:
            return failed.is_set() or (stop is not None and stop.is_set())

        def run(lane: tuple[str | None, list[InboxRow]]) -> None:
            organizer_id, rows = lane
            try:
                if organizer_id is not None and len(rows) > 1:
                    together = self._as_unit(organizer_id, rows, stopping)
                    if together is not None:
                        outcomes.update(together)
                        return
                for row in rows:
                    if stopping():
                        return
                    outcomes[row.delivery.event_id] = self.process_guarded(row)
            except BaseException:
                failed.set()  # the batch rolls back: the other lanes stop early
                raise

        lanes = list(self._lanes(batch.rows).items())
        if self.concurrency == 1 or len(lanes) <= 1:
            for lane in lanes:
                run(lane)
        else:
            workers = min(self.concurrency, len(lanes))
            with ThreadPoolExecutor(workers, thread_name_prefix="inbox-lane") as pool:
                for future in [pool.submit(run, lane) for lane in lanes]:
                    future.result()
        marks = [
            (row.delivery.event_id, self._woken(outcomes[row.delivery.event_id]))
            for row in batch.rows
            if row.delivery.event_id in outcomes
        ]
        batch.record_many(marks)
        return len(marks)

    def _as_unit(
        self, organizer_id: str, rows: list[InboxRow], stopping: Callable[[], bool]
    ) -> dict[str, Outcome] | None:
        """One organizer's rows of this batch decided in turn on one load of it and saved
        in ONE save (its events and every claim they take): renewal day's several facts
        per organizer cost one write, where each save waits for the event table's lock
        (issue 12). Outcomes as row by row would give; None when the rows must be decided
        again one at a time (a lost race, a refusal, an error: nothing was saved); {} when
        stopping (nothing saved, the rows stay pending)."""
        unit = Unit(organizer_id)
        self._units.current = unit
        outcomes: dict[str, Outcome] = {}
        try:
            for row in rows:
                if stopping():
                    return {}
                with log_context(event_id=row.delivery.event_id, organizer_id=row.organizer_id):
                    outcomes[row.delivery.event_id] = self._process_or_hold(row)
            if unit.organizer is not None and unit.claims is not None:
                claims = unit.claims.new.values()
                if unit.organizer.pending_events or claims:
                    self.ledger.save(unit.organizer, *claims)
        except (Redo, IntegrityError):
            return None
        finally:
            self._units.current = None
        if unit.organizer is not None:
            self._loaded[organizer_id] = unit.organizer
        failed = sum(outcome.status == "failed" for outcome in outcomes.values())
        if failed:
            QUARANTINED_INPUTS.labels(kind="inbox").inc(failed)
        return outcomes

    def _lanes(self, rows: list[InboxRow]) -> dict[str | None, list[InboxRow]]:
        """The rows by the organizer they will be applied to, each lane in the rows' order.
        A row no organizer is known for yet (it will be parked, ignored or failed) goes to
        the ``None`` lane; one whose customer a checkout earlier in the batch names goes to
        that checkout's organizer, behind it. The links not cached yet: one query."""
        translated = [(row, self._translated(row)) for row in rows]
        unknown = {
            stripe_id
            for _, translation in translated
            if translation is not None and translation.organizer_hint is None
            for stripe_id in (translation.customer_id, translation.subscription_id)
            if stripe_id and stripe_id not in self._owners
        }
        if unknown:
            self._owners |= self._writes.owners(unknown)
        lanes: dict[str | None, list[InboxRow]] = {}
        named: dict[str, str] = {}  # Stripe id -> organizer, named by this batch's checkouts
        for row, translation in translated:
            lanes.setdefault(self._lane(translation, named), []).append(row)
        return lanes

    def _translated(self, row: InboxRow) -> Translation | None:
        """The row's translation, kept for ``process``; None if it fails (``process``
        meets the error again and says why)."""
        try:
            translation = self._translate(orjson.loads(row.delivery.payload))
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            return None
        self._translations[row.delivery.event_id] = translation
        return translation

    def _lane(self, translation: Translation | None, named: dict[str, str]) -> str | None:
        if translation is None or translation.outcome == "ignored":
            return None
        ids = (translation.customer_id, translation.subscription_id)
        if translation.organizer_hint is not None:
            for stripe_id in ids:
                if stripe_id:
                    named.setdefault(stripe_id, translation.organizer_hint)
            return translation.organizer_hint
        known = (self._owners[i] for i in ids if i and i in self._owners)
        return next(known, None) or next((named[i] for i in ids if i and i in named), None)

    def _woken(self, outcome: Outcome) -> Outcome:
        """A row parked on an id linked meanwhile (by a later row of its batch or another
        lane) is pending again: the link's wake ran before this mark, so it would not
        have found the row parked."""
        ids = (outcome.customer_id, outcome.subscription_id)
        if outcome.status != "parked" or not any(i and i in self._owners for i in ids):
            return outcome
        return replace(outcome, status="pending", reason="woken: linked in the same batch")

    def process_guarded(self, row: InboxRow) -> Outcome:
        """``process``, except that an unexpected error (a bug, a value the store refuses)
        costs this row an attempt instead of stopping the inbox for every organizer: after
        ``MAX_ATTEMPTS`` it is quarantined as ``failed`` with the error, for ops to fix and
        ``ledger inbox reprocess --id``. A store that is down still stops the loop (the row
        stays pending and the worker backs off): that is not the row's fault."""
        with log_context(event_id=row.delivery.event_id, organizer_id=row.organizer_id):
            outcome = self._process_or_hold(row)
        if outcome.status == "failed":
            QUARANTINED_INPUTS.labels(kind="inbox").inc()
        return outcome

    def _process_or_hold(self, row: InboxRow) -> Outcome:
        try:
            return self.process(row)
        except TRANSIENT_ERRORS:
            raise
        except Redo:
            raise
        except Exception as error:
            attempt = row.attempts + 1
            what = f"{type(error).__name__}: {error}"[:500]
            log.exception("inbox %s: attempt %d failed", row.delivery.event_id, attempt)
            if attempt < MAX_ATTEMPTS:
                return Outcome("pending", f"attempt {attempt} failed: {what}")
            return Outcome("failed", f"{QUARANTINED} after {attempt} attempts: {what}")

    def reprocess(self, rows: list[InboxRow]) -> list[tuple[str, Outcome]]:
        """Translate archived rows again (after a fix); harmless for rows already applied."""
        results = []
        for row in rows:
            outcome = self.process_guarded(row)
            self.inbox.record(row.delivery.event_id, outcome)
            results.append((row.delivery.event_id, outcome))
        return results

    def process(self, row: InboxRow) -> Outcome:
        """What to do with one row. Store failures propagate (the row stays pending)."""
        event_id = row.delivery.event_id
        try:
            translation = self._translations.pop(event_id, None) or self._translate(
                orjson.loads(row.delivery.payload)
            )
        except (TranslationError, orjson.JSONDecodeError) as error:
            log.warning("inbox %s failed translation: %s", event_id, error)
            return Outcome("failed", f"translation: {error}")
        if translation.prices:  # nobody's facts: recorded before (and whatever) routing
            # A subscription's item prices are seen in passing: recorded when they change.
            price_event = row.delivery.type in PRICE_EVENT_TYPES
            recorded = record_prices(
                self.ledger, translation.prices, only_if_changed=not price_event
            )
            if price_event:
                return Outcome("processed", prices_note(translation.reason, recorded))
        if translation.outcome == "ignored":
            return Outcome("ignored", translation.reason)
        organizer_id = translation.organizer_hint or self._owner(
            translation.customer_id, translation.subscription_id
        )
        if organizer_id is None:
            return Outcome(
                "parked",
                waiting_reason(translation),
                customer_id=translation.customer_id,
                subscription_id=translation.subscription_id,
            )
        try:
            applied = self._apply(organizer_id, translation)
        except OrganizerError as error:
            return Outcome("failed", f"refused by the ledger: {error}", organizer_id=organizer_id)
        self._link(organizer_id, translation, source=event_id)
        return Outcome(
            "processed",
            f"recorded {applied} of {len(translation.commands)} facts"
            if applied
            else "nothing new: already recorded",
            organizer_id=organizer_id,
            customer_id=translation.customer_id,
            subscription_id=translation.subscription_id,
        )

    def _translate(self, event: Any) -> Translation:
        """The event translated; an invoice whose per-group line is beyond its embedded
        page is translated again with all its lines, fetched from Stripe."""
        try:
            return translate(event, group_price_ids=self.group_price_ids)
        except MoreLinesNeeded as needed:
            if self.lines is None:
                raise
            complete = with_all_lines(event, self.lines.invoice_lines(needed.invoice_id))
            return translate(complete, group_price_ids=self.group_price_ids)

    def _apply(self, organizer_id: str, translation: Translation) -> int:
        unit: Unit | None = getattr(self._units, "current", None)
        if unit is not None:
            return apply_in_unit(self.ledger, self._loaded, unit, organizer_id, translation)
        saved: list[Organizer] = []

        def decide(organizer: Organizer, at: datetime) -> int:
            applied = sum(command.apply(organizer, at) for command in translation.commands)
            saved[:] = [organizer]
            return applied

        # The organizer as this batch last saved it is tried first: renewal day brings
        # several facts per organizer close together, and a load is ~40% of a row's cost.
        # A write by anyone else since makes the save conflict, and the ledger reloads.
        # Popped before use: an organizer whose decision raised (possibly half-applied)
        # is never reused.
        loaded = self._loaded.pop(organizer_id, None)
        if loaded is not None:
            applied = self.ledger.update_by_id(loaded.id, decide, loaded=loaded)
        else:
            # An organizer named by the payload (checkout's client_reference_id) may be
            # new to the ledger; one reached through a link must already exist.
            applied = self.ledger.update(
                organizer_id, decide, register=translation.organizer_hint is not None
            )
        self._loaded[organizer_id] = saved[0]
        return applied

    def _owner(self, *stripe_ids: str | None) -> str | None:
        """The organizer linked to the first of these ids that has a link."""
        for stripe_id in stripe_ids:
            if stripe_id and stripe_id in self._owners:
                return self._owners[stripe_id]
        found = self._writes.owners(stripe_ids)
        self._owners |= found
        return next((found[i] for i in stripe_ids if i and i in found), None)

    def _link(self, organizer_id: str, translation: Translation, *, source: str) -> None:
        links: list[tuple[LinkKind, str | None]] = [
            ("customer", translation.customer_id),
            ("subscription", translation.subscription_id),
        ]
        for kind, stripe_id in links:
            if not stripe_id or stripe_id in self._linked:
                continue  # the write would change nothing (see __init__)
            # Rows parked earlier in this batch are not marked yet: ``_woken`` sees to them.
            self._writes.link(kind, stripe_id, organizer_id, source)
            self._linked.add(stripe_id)
            self._owners.setdefault(stripe_id, organizer_id)
