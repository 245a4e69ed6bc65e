"""The read-model base: an eventsourcing ``Projection`` that applies events in batches.

Per-event commits make a rebuild crawl, so a read model receives a batch of
``(event, position)`` pairs and writes all its rows and its new position in ONE
transaction. Events at or before the view's recorded position are skipped inside that
same transaction, so a batch replayed after a crash changes nothing twice.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError, Tracking
from eventsourcing.projection import Projection

from adapters.observability.metrics import QUARANTINED_INPUTS
from adapters.persistence.database import Cursor, Database, StoreUnavailableError
from domain.statuses import OPEN_SYNC_STATUSES
from projections import quarantine
from projections.events import EventClass
from projections.view import ReadModelView, TableSpec, write_rows_unnest

log = logging.getLogger("ledger.projections")
TRANSIENT_STORE_ERRORS = (StoreUnavailableError, OperationalError, InterfaceError)
# (an Organizer event, its notification id). Handlers are looked up by the event's exact
# class (projections/events.py); a table keyed by class does not follow subclasses, which
# is what we want: ``DraftCorrectionRequested`` is not handled as its base.
Positioned = tuple[Any, int]
K = TypeVar("K")


class ReadModel(Projection[ReadModelView]):
    """One read model: its tables (``tables``) and how a batch of events changes them."""

    name: str = ""
    tables: ClassVar[tuple[TableSpec, ...]] = ()
    quarantine_kind: ClassVar[str] = "read_model"  # the ledger_quarantined_total label
    # Writes a row per event or so (not a row per organizer per batch): a rebuild applies
    # such models first, so that the server writes them while the others compute.
    bulk_writes: ClassVar[bool] = False
    # The event classes this model acts on, and those it passes over on purpose (no
    # handler of their own; a model may still note their position or time): every class
    # of the aggregate is in one of them (tests/unit/test_event_dispatch.py).
    handles: ClassVar[frozenset[EventClass]] = frozenset()
    IGNORED: ClassVar[frozenset[EventClass]] = frozenset()

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's single-event entry point: a batch of one."""
        self.process_batch([(domain_event, tracking.notification_id)])

    def process_batch(self, events: Sequence[Positioned]) -> int:
        """Apply the events after the view's position, in one transaction; returns how
        many were new. A batch that fails is retried event by event, and an event that
        fails alone is quarantined (projections/quarantine.py) instead of stopping the
        model for everyone. A store that is down still raises: that is no event's fault."""
        if not events:
            return 0
        try:
            with self.view.transaction() as cursor:
                self.view.lock(cursor)
                return self.process_in(cursor, events)
        except TRANSIENT_STORE_ERRORS:
            raise
        except Exception as error:
            if len(events) > 1:
                return sum(self.process_batch([one]) for one in events)
            return self.quarantine(events[0], error)

    def advance(self, through: int) -> None:
        """Move the position to ``through`` if it is behind (see ``process_in``)."""
        with self.view.transaction() as cursor:
            self.view.lock(cursor)
            self.view.track(cursor, through)  # never moves it back

    def quarantine(self, positioned: Positioned, error: Exception) -> int:
        event, position = positioned
        log.exception("%s: quarantined event %d", self.view.tracking_key, position)
        with self.view.transaction() as cursor:
            self.view.lock(cursor)
            current = self.view.position(cursor)
            if current is not None and position <= current:
                return 0
            quarantine.record(cursor, self.view.tracking_key, event, position, error)
            self.view.track(cursor, position)
        QUARANTINED_INPUTS.labels(kind=self.quarantine_kind).inc()
        return 1

    def process_in(
        self, cursor: Cursor, events: Sequence[Positioned], through: int | None = None
    ) -> int:
        """Apply inside the caller's (locked) transaction, rows and position together.

        Only events of a class the model has decided about (``handles`` or ``IGNORED``)
        reach ``apply``: another stream's events (an input claim, for an organizer model)
        change none of its rows, yet were half of a replay's work. The position still
        moves past them. ``through`` (at least the last event's position): the end of
        the stretch of log these events were selected from, when a reader left out
        events no model decides about (``LogReader.scan``); the position moves there,
        also for a stretch that held none of the events."""
        position = self.view.position(cursor)
        if not events or position is None or events[0][1] > position:  # all are new
            fresh = events
        else:
            fresh = [(e, n) for e, n in events if n > position]
        if fresh:
            decided = self.handles | self.IGNORED
            relevant = [pair for pair in fresh if type(pair[0]) in decided]
            if relevant:
                self.apply(cursor, relevant)
        end = fresh[-1][1] if fresh else None
        if through is not None:
            end = through if end is None else max(end, through)
        if end is not None and (position is None or end > position):
            self.view.track(cursor, end)
        return len(fresh)

    @abstractmethod
    def apply(self, cursor: Cursor, events: Sequence[Positioned]) -> None:
        """Write the rows these events imply (inside the batch's transaction)."""

    def t(self, table: str) -> str:
        """The physical name of one of this model's tables (live or rebuild)."""
        return self.view.table(table)


def organizer_keys(events: Sequence[Positioned]) -> list[str]:
    """Each event's organizer key (its stream id as hex), in order: computed once per
    event and model (``UUID.hex`` is Python, and a rebuild asks it ~10 times per event)."""
    return [event.originator_id.hex for event, _ in events]


def load_rows(
    cursor: Cursor, table: str, key: str, values: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Rows of ``table`` whose ``key`` is in ``values``, by key (one query per chunk)."""
    return load_rows_by(cursor, table, key, values, lambda row: str(row[key]))


def load_rows_by(
    cursor: Cursor,
    table: str,
    column: str,
    values: Sequence[str],
    key_of: Callable[[Mapping[str, Any]], K],
) -> dict[K, dict[str, Any]]:
    """Rows of ``table`` whose ``column`` is in ``values``, by ``key_of(row)``.

    PostgreSQL: one query with the keys as one array, so its text is the same for any
    number of keys (psycopg parses a long ``IN (...)`` list anew every time). SQLite,
    in process, keeps chunked ``IN`` lists (within its limit on parameters)."""
    found: dict[K, dict[str, Any]] = {}
    unique = list(dict.fromkeys(values))
    if not unique:
        return found
    if cursor.backend == "postgres":
        rows = cursor.execute(
            f"SELECT * FROM {table} WHERE {column} = ANY(:keys!b::text[])", {"keys": unique}
        ).fetchall()
        for row in rows:
            found[key_of(row)] = dict(row)
        return found
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        names = {f"k{i}": value for i, value in enumerate(chunk)}
        placeholders = ", ".join(f":{name}" for name in names)
        rows = cursor.execute(
            f"SELECT * FROM {table} WHERE {column} IN ({placeholders})", names
        ).fetchall()
        for row in rows:
            found[key_of(row)] = dict(row)
    return found


def upsert_rows(
    cursor: Cursor, table: str, spec: TableSpec, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert or replace whole rows by primary key; for a key given twice the last row
    wins. PostgreSQL: one ``unnest`` statement (projections/view.py); SQLite: executemany."""
    if not rows:
        return
    columns = spec.column_names
    if cursor.backend == "postgres":
        unique = {tuple(row.get(k) for k in spec.key): row for row in rows}
        write_rows_unnest(
            cursor, table, spec, [[r.get(c) for c in columns] for r in unique.values()]
        )
        return
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in spec.key)
    cursor.executemany(
        f"INSERT INTO {table} ({', '.join(columns)})"
        f" VALUES ({', '.join(':' + c for c in columns)})"
        f" ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {updates}",
        [{c: row.get(c) for c in columns} for row in rows],
    )


_OPEN_SQL = ", ".join(f"'{status}'" for status in sorted(OPEN_SYNC_STATUSES))  # SQL literals


def due_work(
    database: Database, table: str, key: str, now: str, limit: int
) -> list[tuple[str, str]]:
    """(organizer uuid, ``key``) of a work-queue table's rows due at ``now`` (pending or
    retrying, backoff over), oldest request first: what a Stripe sender sends next."""
    with database.transaction() as cursor:
        rows = cursor.execute(
            f"SELECT {key}, organizer_uuid FROM {table}"
            f" WHERE status IN ({_OPEN_SQL})"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= :now)"
            f" ORDER BY requested_at, {key} LIMIT :limit",
            {"now": now, "limit": limit},
        ).fetchall()
    return [(str(row["organizer_uuid"]), str(row[key])) for row in rows]
