"""Running read models over the notification log: catch up, rebuild (following: follower.py).

One reader decodes each event once and hands the batch to every read model; each
model applies it in its own transaction with its own position (models may be at
different positions, e.g. after one was rebuilt). On PostgreSQL new events arrive
through the library's LISTEN/NOTIFY subscription; SQLite has none, so it polls.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from projections import quarantine
from projections.audit import AuditProjection
from projections.base import TRANSIENT_STORE_ERRORS, Positioned, ReadModel
from projections.batch_writer import BatchWriter, DeferredCursor
from projections.duplicates import DuplicatesProjection
from projections.events import decided_classes, decided_topics
from projections.group_history import GroupHistoryProjection
from projections.invoices import InvoicesProjection
from projections.prices import PricesProjection
from projections.renewal_risks import RenewalRisksProjection
from projections.renewals import RenewalsProjection
from projections.summary import SummaryProjection
from projections.syncs import SyncsProjection
from projections.view import REBUILD_SUFFIX, TableChecksum, view_for

log = logging.getLogger("ledger.projections")
READ_MODELS: dict[str, type[ReadModel]] = {
    model.name: model
    for model in (
        RenewalsProjection,
        AuditProjection,
        SummaryProjection,
        SyncsProjection,
        InvoicesProjection,
        RenewalRisksProjection,
        GroupHistoryProjection,
        DuplicatesProjection,
        PricesProjection,
    )
}
Progress = Callable[[int, int], None]  # (events applied so far, last position)
# Events per replay batch. Every batch reloads and rewrites each organizer's state rows
# in several models, so bigger batches do less; the decoded batches in memory (the one
# applied, the one read ahead) cost RSS: at 60k events the replay's peak was 97 MB at
# 5,000, 123 MB at 10,000, 168 MB at 20,000 (issue 12: < 300 MB).
REPLAY_BATCH = 10_000


def build_read_models(
    database: SQLiteDatabase | PostgresDatabase,
    *,
    minimum_quantity: int,
    names: Sequence[str] | None = None,
    suffix: str = "",
) -> list[ReadModel]:
    """Read models (all, or ``names``) over live tables, or rebuild tables by suffix."""
    models = []
    for name in names or list(READ_MODELS):
        cls = READ_MODELS[name]
        view = view_for(database, cls.name, cls.tables, suffix=suffix)
        models.append(cls(view, minimum_quantity=minimum_quantity))  # type: ignore[call-arg]
    return models


def ensure_tables(database: SQLiteDatabase | PostgresDatabase) -> None:
    """Create every live read-model table that does not exist yet (``ledger migrate``)."""
    for model in build_read_models(database, minimum_quantity=1):
        model.view.create_tables()
    view_for(database, "quarantine", (quarantine.QUARANTINE,)).create_tables()


def read_model_tables() -> list[str]:
    """The live tables of every read model (``ledger migrate`` creates them)."""
    models = [spec.name for cls in READ_MODELS.values() for spec in cls.tables]
    return [*models, quarantine.QUARANTINE.name]


class LogReader:
    """Decoded events from an application's notification log, in batches."""

    def __init__(self, app: Application[Any], batch_size: int = 1000) -> None:
        self.app = app
        self.batch_size = batch_size

    def decode(self, notifications: Sequence[Notification]) -> list[Positioned]:
        to_event = self.app.mapper.to_domain_event
        return [(to_event(n), n.id) for n in notifications]

    def after(self, position: int | None, limit: int | None = None) -> list[Positioned]:
        notifications = self.app.recorder.select_notifications(
            start=position or 0, limit=limit or self.batch_size, inclusive_of_start=False
        )
        return self.decode(notifications)

    def batches(
        self, position: int | None, stop: threading.Event | None = None
    ) -> Iterator[list[Positioned]]:
        """Every batch after ``position`` up to the current end of the log."""
        while stop is None or not stop.is_set():
            batch = self.after(position)
            if not batch:
                return
            yield batch
            position = batch[-1][1]

    def scan(
        self, position: int, stop: int, topics: Sequence[str]
    ) -> Iterator[tuple[list[Positioned], int]]:
        """The events after ``position`` up to ``stop`` whose stored topic is one of
        ``topics``, in batches, each with how far it reaches in the log: its last event if
        the batch is full, else ``stop`` (every event between was looked at and left out).
        ``stop`` must be a position the log had when ``topics`` were read: no event at
        or before it may commit afterwards."""
        select = self.app.recorder.select_notifications
        while position < stop:
            notifications = select(
                start=position,
                limit=self.batch_size,
                stop=stop,
                topics=list(topics),
                inclusive_of_start=False,
            )
            full = len(notifications) == self.batch_size
            position = notifications[-1].id if full else stop
            yield self.decode(notifications), position

    def stored_topics(self, database: SQLiteDatabase | PostgresDatabase) -> list[str]:
        """Every topic stored in the log (once each): one scan of the events table."""
        table = self.app.recorder.events_table_name  # type: ignore[attr-defined]
        with database.transaction() as cursor:
            rows = cursor.execute(f"SELECT DISTINCT topic FROM {table}").fetchall()
        return sorted(str(row["topic"]) for row in rows)


def lowest_position(models: Sequence[ReadModel]) -> int:
    return min((m.view.max_tracking_id() or 0) for m in models)


def apply_batch(models: Sequence[ReadModel], batch: list[Positioned]) -> int:
    return max(model.process_batch(batch) for model in models)


def catch_up(
    reader: LogReader,
    models: Sequence[ReadModel],
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> int:
    """Apply everything after the models' positions; returns how many events were read."""
    total = 0
    for batch in reader.batches(lowest_position(models), stop):
        apply_batch(models, batch)
        total += len(batch)
        if progress is not None:
            progress(total, batch[-1][1])
    return total


def rebuild(
    reader: LogReader, models: Sequence[ReadModel], *, progress: Progress | None = None
) -> int:
    """``catch_up`` for a replay's private rebuild tables, with fewer waits: every model
    applies a batch in ONE shared transaction (one commit per batch, not one per model),
    and on PostgreSQL the next batch is read and decoded while the server writes this one,
    and the writes go to a thread of their own (``BatchWriter``) while the next model
    computes.

    Up to the end of the log as it was when the rebuild began, only the events of a topic
    some model decides about are read (``LogReader.scan``): the input claims, about half
    of the log, no model looks at. The positions still move to that end, as an unfiltered
    read would move them; what was committed after it is then read whole.
    Returns how many events were read."""
    database = models[0].view.database
    start = lowest_position(models)
    # Read before the topics: every event up to ``stop`` has committed, so its topic is
    # among them. (PostgreSQL commits events in notification order: the recorder locks
    # the table while it inserts.)
    stop = reader.app.recorder.max_notification_id() or 0
    topics = decided_topics(reader.stored_topics(database), decided_classes(models))
    batches: Iterator[tuple[list[Positioned], int]] = chain(
        reader.scan(start, stop, topics),
        ((batch, batch[-1][1]) for batch in reader.batches(max(start, stop))),
    )
    writer = None
    if isinstance(database, PostgresDatabase):
        batches = _read_ahead(batches)
        writer = BatchWriter(database)
    total = 0
    try:
        for batch, through in batches:
            apply_together(models, batch, through, writer)
            total += len(batch)
            if progress is not None:
                progress(total, through)
    finally:
        if writer is not None:
            writer.close()
    return total


def apply_together(
    models: Sequence[ReadModel],
    batch: list[Positioned],
    through: int | None = None,
    writer: BatchWriter | None = None,
) -> None:
    """One transaction for every model's rows and positions (``through``: see
    ``ReadModel.process_in``), sent through ``writer`` when given (PostgreSQL: see
    projections/batch_writer.py). Should it fail for a reason other than the store being
    down, it rolls back whole and each model applies the batch on its own, as live (a
    failing event is then quarantined in that model only)."""
    try:
        if writer is not None:
            _apply_deferred(models, batch, through, writer)
        else:
            with models[0].view.transaction() as cursor:
                if cursor.backend == "postgres":
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                for model in models:
                    model.view.lock(cursor)
                for model in models:
                    model.process_in(cursor, batch, through)
    except TRANSIENT_STORE_ERRORS:
        raise
    except Exception:
        log.warning("a batch failed across the rebuilt models; applying it model by model")
        for model in models:
            model.process_batch(batch)
            if through is not None:
                model.advance(through)


def _apply_deferred(
    models: Sequence[ReadModel], batch: list[Positioned], through: int | None, writer: BatchWriter
) -> None:
    """``apply_together`` with the reads here and the writes in ``writer``'s transaction
    (a rebuild's commits need not wait for the disk: should the server stop, the last
    ones are lost together with their positions, never rows without them, in tables no
    reader sees; ``replay`` starts them afresh, and its swap commits synchronously)."""
    # The server writes a model's rows while the next one computes: the bulk first.
    models = sorted(models, key=lambda model: not model.bulk_writes)
    with models[0].view.transaction() as reads:
        committed = False
        try:
            locks = DeferredCursor(writer)
            for model in models:
                model.view.lock(locks)
            cursor = DeferredCursor(writer, reads)
            for model in models:
                model.process_in(cursor, batch, through)
            committed = True
            writer.finish(commit=True)
        except BaseException:
            if not committed:
                writer.finish(commit=False)
            raise


_END = object()


T = TypeVar("T")


def _read_ahead(batches: Iterator[T]) -> Iterator[T]:
    """The batches, read and decoded one ahead in a thread: psycopg releases the GIL
    while it waits for the server, so decoding overlaps the writes."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=1)
    done = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if not _offer(ready, batch, done):
                    return
            _offer(ready, _END, done)
        except BaseException as error:  # surfaced to the applying thread
            _offer(ready, error, done)

    thread = threading.Thread(target=produce, name="replay-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        done.set()
        thread.join(timeout=5)


def _offer(into: queue.Queue[Any], item: object, done: threading.Event) -> bool:
    """Put ``item``, waiting while the consumer is there; False once it has gone."""
    while not done.is_set():
        try:
            into.put(item, timeout=0.2)
        except queue.Full:
            continue
        return True
    return False


@dataclass(frozen=True)
class VerifyResult:
    name: str
    live: list[TableChecksum]
    rebuilt: list[TableChecksum]

    @property
    def identical(self) -> bool:
        return self.live == self.rebuilt


def replay(
    app: Application[Any],
    database: SQLiteDatabase | PostgresDatabase,
    names: Sequence[str],
    *,
    minimum_quantity: int,
    verify: bool = False,
    batch_size: int = REPLAY_BATCH,
    progress: Progress | None = None,
) -> list[VerifyResult]:
    """Rebuild read models from position 0 into fresh tables beside the live ones, in
    ONE pass over the log (each event is read and decoded once for all of them).

    Without ``verify`` the rebuilt tables then replace the live ones atomically: the
    final catch-up and the swap happen in ONE transaction holding every live view's
    lock, so the live runner cannot commit in between and no event is skipped.
    With ``verify`` nothing is swapped; both sets are checksummed and the rebuilds
    dropped (one result per read model).
    """
    live = build_read_models(database, minimum_quantity=minimum_quantity, names=names)
    rebuilt = build_read_models(
        database, minimum_quantity=minimum_quantity, names=names, suffix=REBUILD_SUFFIX
    )
    for model in rebuilt:
        model.view.drop_tables()
        model.view.create_tables(indexes=False)
        with model.view.transaction() as cursor:
            quarantine.forget(cursor, model.view.tracking_key)
    for model in live:
        model.view.create_tables()
    reader = LogReader(app, batch_size)
    rebuild(reader, rebuilt, progress=progress)
    for model in rebuilt:
        model.view.create_indexes()
    if verify:
        try:
            return [
                VerifyResult(old.name, old.view.checksums(), new.view.checksums())
                for old, new in zip(live, rebuilt, strict=True)
            ]
        finally:
            for model in rebuilt:
                model.view.drop_tables()
    with live[0].view.transaction() as cursor:
        for model in live:
            model.view.lock(cursor)
        position = min(model.view.position(cursor) or 0 for model in rebuilt)
        for batch in reader.batches(position):
            for model in rebuilt:
                model.process_in(cursor, batch)
        for old, new in zip(live, rebuilt, strict=True):
            new.view.swap_into(cursor, old.view)
            quarantine.hand_over(cursor, new.view.tracking_key, old.view.tracking_key)
    log.info("replayed %s and swapped them in", ", ".join(names))
    return []
