"""PostgreSQL for the ledger's own SQL: psycopg 3 and a small connection pool."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from adapters.persistence.sql import (
    Backend,
    Cursor,
    DatabaseUrl,
    StoreUnavailableError,
    to_pyformat,
)


class _PgCursor:
    backend: Backend = "postgres"

    def __init__(self, cursor: psycopg.Cursor[dict[str, Any]]) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> _PgCursor:
        self._cursor.execute(to_pyformat(sql), params)
        return self

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        self._cursor.executemany(to_pyformat(sql), params)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Append rows with COPY: far cheaper than one INSERT per row on a rebuild."""
        with self._cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def fetchone(self) -> Mapping[str, Any] | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Mapping[str, Any]]:
        return list(self._cursor.fetchall())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class PostgresDatabase:
    """psycopg 3 with a small pool; each ``transaction()`` commits on success."""

    def __init__(self, url: DatabaseUrl, *, max_size: int = 4) -> None:
        self.url = url
        self.pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            url.libpq_conninfo(),
            min_size=1,
            max_size=max_size,
            kwargs={"row_factory": dict_row, "connect_timeout": 3},
            open=False,
            timeout=3,
            name="ledger",
        )
        self._open_lock = threading.Lock()
        self._opened = False

    def _ensure_open(self) -> None:
        with self._open_lock:
            if not self._opened:
                self.pool.open(wait=False)
                self._opened = True

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """A pooled connection in autocommit mode (for locks and explicit transactions)."""
        self._ensure_open()
        try:
            with self.pool.connection() as conn:
                conn.autocommit = True
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            raise StoreUnavailableError(str(error)) from error
        except TimeoutError as error:
            raise StoreUnavailableError(f"no database connection: {error}") from error

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield _PgCursor(cursor)

    @contextmanager
    def savepoints(self) -> Iterator[Callable[[], AbstractContextManager[Cursor]]]:
        """One transaction held for a block of writes (committed when the block ends),
        each write in a savepoint of its own: a statement the store refuses undoes only
        that write, not the others. Losing the server (or a deadlock) inside one is
        ``StoreUnavailableError``: the whole block rolls back."""
        with self.connection() as conn, conn.transaction(), conn.cursor() as raw:
            cursor = _PgCursor(raw)

            @contextmanager
            def savepoint() -> Iterator[Cursor]:
                try:
                    with conn.transaction():
                        yield cursor
                except (psycopg.OperationalError, psycopg.InterfaceError) as error:
                    raise StoreUnavailableError(str(error)) from error

            yield savepoint

    def execute_once(self, sql: str, params: Mapping[str, Any]) -> int:
        """One statement in autocommit (atomic on its own: no BEGIN/COMMIT round trips);
        returns the affected row count."""
        with self.connection() as conn:
            return conn.execute(to_pyformat(sql), params).rowcount

    @contextmanager
    def stream(
        self, sql: str, params: Mapping[str, Any] | None = None, *, size: int = 2000
    ) -> Iterator[Iterator[Mapping[str, Any]]]:
        """Rows of a large query in constant memory (a server-side cursor)."""
        with (
            self.connection() as conn,
            conn.transaction(),
            conn.cursor(name="ledger_stream") as cursor,
        ):
            cursor.itersize = size
            cursor.execute(to_pyformat(sql), params)
            yield iter(cursor)

    def ping(self) -> None:
        with self.transaction() as cursor:
            cursor.execute("SELECT 1")

    def close(self) -> None:
        if self._opened:
            self.pool.close()
