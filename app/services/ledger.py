"""The ledger application service: commands and queries on ``Organizer`` streams.

Every command loads the organizer, lets it decide, and saves. Two writers on one
organizer race on the store's (originator_id, version) key; the loser gets an
``IntegrityError``, reloads and decides again, a bounded number of times.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording, Transcoder

from adapters.persistence.database import DatabaseUrl
from adapters.persistence.es_postgres import LedgerApplicationRecorder
from adapters.persistence.repository import LedgerRepository
from adapters.persistence.transcoder import ledger_transcoder
from app.services.claims import Claims, claim_recorded, take_group_change
from domain.claims import claim_id
from domain.group_events import group_entry
from domain.groups import ChangeOutcome, GroupAction, GroupHistoryNeeded, history_of
from domain.organizer import Organizer, organizer_uuid

T = TypeVar("T")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class UnknownOrganizerError(LookupError):
    """No organizer with this platform id has been registered."""


class ConcurrencyError(RuntimeError):
    """A command kept losing the race for an organizer's next version."""


def eventsourcing_env(
    url: DatabaseUrl, *, snapshot_interval: int, extra_connections: int = 4
) -> dict[str, str]:
    """The eventsourcing library's environment for a ledger store.

    Tables come from ``ledger migrate`` (``CREATE_TABLE=no``); pools are kept small
    because every Application and projection opens its own.
    """
    env = {"CREATE_TABLE": "no", "IS_SNAPSHOTTING_ENABLED": "y"}
    if url.backend == "sqlite":
        if url.sqlite_path is None:
            msg = "SQLite URL without a path"
            raise ValueError(msg)
        url.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(url.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    else:
        info = url.conninfo
        env |= {
            # eventsourcing.postgres's recorders with their SQL rendered once (issue 12).
            "PERSISTENCE_MODULE": "adapters.persistence.es_postgres",
            "POSTGRES_DBNAME": info["dbname"],
            "POSTGRES_HOST": info.get("host", ""),
            "POSTGRES_PORT": info.get("port", "5432"),
            "POSTGRES_USER": info.get("user", ""),
            "POSTGRES_PASSWORD": info.get("password", ""),
            "POSTGRES_SCHEMA": url.schema,
            "POSTGRES_POOL_SIZE": "2",
            # Bursts: every Stripe sender thread may hold one while it records an outcome.
            "POSTGRES_MAX_OVERFLOW": str(extra_connections),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            # No pre-ping (a ``SELECT 1`` per checkout: ~22% of the worker's inbox time,
            # issue 12): every eventsourcing recorder method retries OperationalError and
            # InterfaceError (10 x 0.2 s), and psycopg_pool discards a broken connection
            # when it comes back, so a cut connection costs one retried attempt.
            "POSTGRES_PRE_PING": "n",
            "POSTGRES_LOCK_TIMEOUT": "10",
        }
    env["LEDGER_SNAPSHOT_INTERVAL"] = str(snapshot_interval)
    return env


Decide = Callable[[Organizer, datetime, Claims], T]


class LedgerApplication(Application[UUID]):
    """Commands and queries on organizers. ``name`` is stored in table names: keep it."""

    name = "RenewalLedger"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Organizer: 100}
    max_attempts = 8

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Clock = utc_now,
        minimum_quantity: int = 1,
    ) -> None:
        self.clock = clock
        self.minimum_quantity = minimum_quantity
        super().__init__(dict(env or {}))
        interval = int(self.env.get("LEDGER_SNAPSHOT_INTERVAL") or 100)
        # Per instance, so one process can run stores with different intervals.
        vars(self)["snapshotting_intervals"] = {Organizer: interval}

    def construct_transcoder(self) -> Transcoder:
        return ledger_transcoder()

    def construct_repository(self) -> Repository[UUID]:
        return LedgerRepository.like(super().construct_repository())

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's ``save``, collecting the aggregates' events without its runtime
        Protocol checks: ``ProcessingEvent.collect_events`` asks ``isinstance(obj,
        DomainEventProtocol)`` of every object, a check that walks the protocol's
        members (~5% of the worker's CPU per Stripe delivery, issue 12). The ledger saves
        only aggregates (organizers, input claims, prices), which this takes nominally;
        anything else goes the library's way."""
        if not all(isinstance(obj, Aggregate) for obj in objs):
            return super().save(*objs, **kwargs)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in objs:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, as it does
        return recordings

    # -- commands ------------------------------------------------------------------

    def register_organizer(self, platform_organizer_id: str) -> UUID:
        """Register an organizer; registering it again changes nothing."""
        return self.update(platform_organizer_id, lambda org, at: org.id, register=True)

    def change_group(
        self,
        platform_organizer_id: str,
        *,
        action: GroupAction,
        group_id: str,
        change_id: str,
        occurred_at: datetime,
        register: bool = True,
    ) -> ChangeOutcome:
        """Apply one platform group change (registering the organizer on first sight)."""
        return self.update_claiming(
            platform_organizer_id,
            lambda org, at, claims: take_group_change(
                org,
                claims,
                action=action,
                group_id=group_id,
                change_id=change_id,
                occurred_at=occurred_at,
                at=at,
            ),
            register=register,
        )

    def update(
        self,
        platform_organizer_id: str,
        decide: Callable[[Organizer, datetime], T],
        *,
        register: bool = False,
    ) -> T:
        """Load, decide, save; on a lost race reload and decide again."""
        return self.update_claiming(
            platform_organizer_id, lambda org, at, _claims: decide(org, at), register=register
        )

    def update_claiming(
        self, platform_organizer_id: str, decide: Decide[T], *, register: bool = False
    ) -> T:
        """``update`` for a decision that takes inputs (``Claims``), saved with it."""

        def load() -> Organizer | None:
            organizer = self.find(platform_organizer_id)
            if organizer is None and register:
                organizer = Organizer.register(platform_organizer_id, at=self.clock())
            return organizer

        return self._update(platform_organizer_id, load, decide)

    def update_by_id(
        self,
        organizer_id: UUID,
        decide: Callable[[Organizer, datetime], T],
        *,
        loaded: Organizer | None = None,
    ) -> T:
        """``update`` for a caller that knows the stream id (a reaction to an event).

        ``loaded``: an organizer the caller already read; it is tried first (a conflict
        reloads it), saving a read on hot paths like the Stripe sender.
        """
        first = [loaded] if loaded is not None else []

        def load() -> Organizer | None:
            if first:
                return first.pop()
            try:
                found: object = self.repository.get(organizer_id)
            except AggregateNotFoundError:
                return None
            return found if isinstance(found, Organizer) else None

        return self._update(str(organizer_id), load, lambda org, at, _claims: decide(org, at))

    def _update(
        self,
        name: str,
        load: Callable[[], Organizer | None],
        decide: Decide[T],
    ) -> T:
        for attempt in range(self.max_attempts):
            organizer = load()
            if organizer is None:
                raise UnknownOrganizerError(name)
            # Recorded times never go backwards within a stream (wall clocks can), so
            # that "as of" lookups can bisect an organizer's versions by time.
            at = max(self.clock(), organizer.modified_on)
            claims = Claims(self, organizer.id, verify=attempt > 0)
            try:
                result = self._decide(organizer, at, claims, decide)
            except GroupHistoryNeeded:
                organizer = self._with_group_history(load, name)
                claims = Claims(self, organizer.id, verify=attempt > 0)
                try:
                    result = self._decide(organizer, max(at, organizer.modified_on), claims, decide)
                finally:
                    organizer.recall_group_history(None)
            try:
                # One transaction: a claim already stored fails the save like a lost race.
                self.save(organizer, *claims.new.values())
            except IntegrityError:
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
                continue
            return result
        msg = f"organizer {name!r}: gave up after {self.max_attempts} conflicts"
        raise ConcurrencyError(msg)

    def open_unit(self, organizer: Organizer) -> Claims:
        """The claims of a unit of work: several decisions on one organizer, saved together
        (``decide_in_unit``, then ``save(organizer, *claims.new.values())``; a refused
        save means deciding them all again, as ``update`` would: the inbox does)."""
        return Claims(self, organizer.id, verify=False)

    def decide_in_unit(self, organizer: Organizer, claims: Claims, decide: Decide[T]) -> T:
        """One decision of a unit: ``update``'s decision, without its save."""
        return self._decide(organizer, max(self.clock(), organizer.modified_on), claims, decide)

    @staticmethod
    def _decide(organizer: Organizer, at: datetime, claims: Claims, decide: Decide[T]) -> T:
        """One decision, the claims lent for its questions; then each Stripe fact it
        recorded takes its claim (saved with it)."""
        organizer.lend_claims(claims)
        try:
            result = decide(organizer, at, claims)
        finally:
            organizer.lend_claims(None)
        claim_recorded(organizer, claims, at=at)
        return result

    def _with_group_history(self, load: Callable[[], Organizer | None], name: str) -> Organizer:
        """The organizer again (the failed decision may have left events), lent its full
        group history from the stream: the rare question about a folded instant."""
        organizer = load()
        if organizer is None:
            raise UnknownOrganizerError(name)
        changes = (group_entry(e) for e in self.events.get(organizer.id, lte=organizer.version))
        organizer.recall_group_history(history_of(c for c in changes if c is not None))
        return organizer

    # -- queries -------------------------------------------------------------------

    def claimed(self, organizer_id: UUID, key: str) -> bool:
        """Whether this organizer took this input (one indexed read of its claim)."""
        return bool(self.recorder.select_events(claim_id(organizer_id, key), limit=1))

    def claimed_any(self, organizer_id: UUID, keys: Sequence[str]) -> bool:
        """Whether this organizer took any of these inputs: on PostgreSQL one round trip
        for all of them; embedded stores (no round trips) read each claim."""
        streams = [claim_id(organizer_id, key) for key in keys]
        if isinstance(self.recorder, LedgerApplicationRecorder):
            return bool(self.recorder.any_stream(streams))
        return any(self.recorder.select_events(stream, limit=1) for stream in streams)

    def find(self, platform_organizer_id: str, *, version: int | None = None) -> Organizer | None:
        try:
            organizer: object = self.repository.get(
                organizer_uuid(platform_organizer_id), version=version
            )
        except AggregateNotFoundError:
            return None
        if not isinstance(organizer, Organizer):
            msg = f"stream for {platform_organizer_id!r} is not an Organizer"
            raise TypeError(msg)
        return organizer

    def get(self, platform_organizer_id: str) -> Organizer:
        organizer = self.find(platform_organizer_id)
        if organizer is None:
            raise UnknownOrganizerError(platform_organizer_id)
        return organizer

    def get_as_of(self, platform_organizer_id: str, as_of: datetime) -> Organizer | None:
        """The organizer as the ledger knew it at ``as_of`` (None if not yet registered).

        Recorded times are monotonic per stream, so the version in force at ``as_of`` is
        searched on them (``_version_at``: a few indexed single-event reads, starting from
        the stream's last event, never the whole current state); the repository then
        rebuilds only that version, from the nearest snapshot.
        """
        stream = organizer_uuid(platform_organizer_id)
        last = list(self.events.get(stream, desc=True, limit=1))
        if not last:
            return None
        newest = last[0]
        if _recorded(newest) <= as_of:
            return self.find(platform_organizer_id)
        version = self._version_at(stream, as_of, newest.originator_version, _recorded(newest))
        return None if version == 0 else self.find(platform_organizer_id, version=version)

    # A bracket this narrow is read whole, in one query, rather than probed further.
    AS_OF_WINDOW: ClassVar[int] = 16

    def _version_at(self, stream: UUID, as_of: datetime, high: int, high_at: datetime) -> int:
        """The last version recorded at or before ``as_of`` (0: none), given that version
        ``high`` was recorded after it.

        Interpolation on the recorded times (histories grow roughly with time, so a probe
        usually lands near the answer), with a bisection step after any probe that did not
        halve the bracket: a few reads typically, never more than ~2 log2(versions).
        """
        low_at = self._recorded_at(stream, 1)
        if low_at > as_of:
            return 0
        low, bisect = 1, False  # invariant: time(low) <= as_of < time(high)
        while high - low > 1:
            if high - low <= self.AS_OF_WINDOW:
                window = self.events.get(stream, gt=low, lte=high - 1)
                found = [e.originator_version for e in window if _recorded(e) <= as_of]
                return max(found, default=low)
            before = high - low
            if bisect:
                probe = (low + high) // 2
            else:  # integer microseconds: no float in the arithmetic
                elapsed = (as_of - low_at) // _MICROSECOND
                span = max((high_at - low_at) // _MICROSECOND, 1)
                probe = min(max(low + (high - low) * elapsed // span, low + 1), high - 1)
            probe_at = self._recorded_at(stream, probe)
            if probe_at <= as_of:
                low, low_at = probe, probe_at
            else:
                high, high_at = probe, probe_at
            bisect = not bisect and (high - low) * 2 > before
        return low

    def _recorded_at(self, organizer_id: UUID, version: int) -> datetime:
        events = list(self.events.get(organizer_id, gt=version - 1, lte=version))
        if len(events) != 1:
            msg = f"organizer {organizer_id} has no version {version}"
            raise LookupError(msg)
        return _recorded(events[0])


_MICROSECOND = timedelta(microseconds=1)


def _recorded(event: object) -> datetime:
    """When the ledger recorded an organizer event (its ``timestamp``)."""
    if not isinstance(event, Organizer.Event):
        msg = f"{event!r} is not an organizer event"
        raise TypeError(msg)
    return event.timestamp
