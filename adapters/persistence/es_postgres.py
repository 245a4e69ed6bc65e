"""The eventsourcing library's PostgreSQL recorders, with their SQL rendered once.

``eventsourcing.postgres`` composes each statement from ``psycopg.sql`` pieces on every
call (``select_events`` adds its clauses to a ``Composed``; every insert renders its lock
and NOTIFY statements again), and psycopg renders a ``Composed`` to bytes on every
execute. Per Stripe delivery that was ~15% of the worker's CPU (issue 12). These
subclasses run the same statements, rendered once per recorder (and per shape of the
optional clauses) to the bytes psycopg sends; what they read and write is unchanged.

``ledger`` selects this module as the eventsourcing ``PERSISTENCE_MODULE`` on PostgreSQL
(app/services/ledger.py). It must hold exactly one infrastructure factory class: the
library finds the factory of a persistence module by looking for one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing import postgres as es
from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.utils import retry
from psycopg.sql import SQL, Composable, Identifier


def _bytes(statement: Composable) -> bytes:
    """A statement as psycopg sends it (identifiers quoted without a connection)."""
    return statement.as_bytes(None)


def _rendered(statement: Any) -> Any:
    """A composed statement as one plain ``SQL``: executing it renders nothing more."""
    return SQL(statement.as_string(None)) if isinstance(statement, Composable) else statement


class _RenderedStatements:
    """What both recorders share: rendered statements and ``select_events`` by shape."""

    datastore: es.PostgresDatastore
    events_table_name: str
    select_events_statement: Any
    insert_events_statement: Any
    lock_table_statements: list[Any]

    def _render(self) -> None:
        self._table = _bytes(
            SQL("{}.{}").format(
                Identifier(self.datastore.schema), Identifier(self.events_table_name)
            )
        )
        self.insert_events_statement = _rendered(self.insert_events_statement)
        self.lock_table_statements = [_rendered(s) for s in self.lock_table_statements]
        self._select_events: dict[tuple[bool, bool, bool, bool], bytes] = {}

    def _select_events_sql(self, *, gt: bool, lte: bool, desc: bool, limit: bool) -> bytes:
        key = (gt, lte, desc, limit)
        found = self._select_events.get(key)
        if found is None:
            found = b"SELECT * FROM " + self._table + b" WHERE originator_id = %s"
            found += b" AND originator_version > %s" if gt else b""
            found += b" AND originator_version <= %s" if lte else b""
            found += b" ORDER BY originator_version" + (b" DESC" if desc else b" ASC")
            found += b" LIMIT %s" if limit else b""
            self._select_events[key] = found
        return found

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """As the library's: the same statement and rows, rendered once per shape."""
        statement = self._select_events_sql(
            gt=gt is not None, lte=lte is not None, desc=desc, limit=limit is not None
        )
        params = [originator_id, *(v for v in (gt, lte, limit) if v is not None)]
        return [
            StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in self._rows(statement, params)
        ]

    def _rows(self, statement: bytes, params: Sequence[Any]) -> list[Any]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return curs.fetchall()


class LedgerAggregateRecorder(_RenderedStatements, es.PostgresAggregateRecorder):
    """Snapshots (and any aggregate-only recorder)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._render()


class LedgerApplicationRecorder(_RenderedStatements, es.PostgresApplicationRecorder):
    """The event log: also its notification reads, NOTIFY and max id, rendered once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._render()
        self.max_notification_id_statement = _rendered(self.max_notification_id_statement)
        self._notify = _bytes(SQL("NOTIFY {0}").format(Identifier(self.channel_name)))
        self._select_notifications: dict[tuple[bool, bool, bool, bool], bytes] = {}
        self._any_stream = (
            b"SELECT 1 FROM " + self._table + b" WHERE originator_id = ANY(%s) LIMIT 1"
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def any_stream(self, originator_ids: Sequence[UUID]) -> bool:
        """Whether any of these streams has an event (one indexed round trip: the
        ledger asks it of the claims one decision may have taken)."""
        return bool(self._rows(self._any_stream, [list(originator_ids)]))

    def _notify_channel(self, curs: Any) -> None:
        curs.execute(self._notify)

    def _select_notifications_sql(
        self, *, start: bool, inclusive: bool, stop: bool, topics: bool
    ) -> bytes:
        key = (start, inclusive, stop, topics)
        found = self._select_notifications.get(key)
        if found is None:
            clauses = []
            if start:
                clauses.append(b"notification_id>=%s" if inclusive else b"notification_id>%s")
            if stop:
                clauses.append(b"notification_id <= %s")
            if topics:
                clauses.append(b"topic = ANY(%s)")
            found = b"SELECT * FROM " + self._table
            found += b" WHERE " + b" AND ".join(clauses) if clauses else b""
            found += b" ORDER BY notification_id LIMIT %s"
            self._select_notifications[key] = found
        return found

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """As the library's: the same statement and rows, rendered once per shape."""
        statement = self._select_notifications_sql(
            start=start is not None,
            inclusive=inclusive_of_start,
            stop=stop is not None,
            topics=bool(topics),
        )
        params: list[Any] = [v for v in (start, stop) if v is not None]
        if topics:
            params.append(list(topics))
        params.append(limit)
        return [
            Notification(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in self._rows(statement, params)
        ]


class LedgerPostgresFactory(es.PostgresFactory):
    """The library's factory, building the recorders above."""

    aggregate_recorder_class = LedgerAggregateRecorder
    application_recorder_class = LedgerApplicationRecorder
