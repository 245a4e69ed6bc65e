"""Database URLs and connections for the ledger's own SQL (inbox, read models, migrations).

The event store itself goes through eventsourcing's recorders; this module gives the
rest of the code one small interface over SQLite (embedded default) and PostgreSQL
(production). SQL is written once with ``:name`` placeholders and converted for
psycopg, so that each statement has one text for both backends unless the dialects
truly differ.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

Backend = Literal["sqlite", "postgres"]
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_NAMED_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
SQLITE_BUSY_TIMEOUT_S = 30.0


class DatabaseUrlError(ValueError):
    """``LEDGER_DATABASE_URL`` is not a URL this service can use."""


class StoreUnavailableError(RuntimeError):
    """The database could not be reached (network, server down, file not writable)."""


# Anything a store can raise on a statement: for paths that must answer "not stored,
# retry" (a webhook) whatever went wrong down there, e.g. a table dropped by hand.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    StoreUnavailableError,
    psycopg.Error,
    sqlite3.Error,
)


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed ``LEDGER_DATABASE_URL``."""

    raw: str
    backend: Backend
    sqlite_path: Path | None = None
    conninfo: Mapping[str, str] = field(default_factory=dict)
    schema: str = "public"

    @property
    def redacted(self) -> str:
        """The URL with any password hidden, fit for logs."""
        if self.backend == "sqlite":
            return self.raw
        parts = urlsplit(self.raw)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return self.raw

    def libpq_conninfo(self) -> str:
        """A libpq connection string with the schema on the search path."""
        params = dict(self.conninfo)
        params["options"] = f"-c search_path={self.schema}"
        return psycopg.conninfo.make_conninfo(**params)


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse ``sqlite:///relative/path``, ``sqlite:////absolute/path`` or
    ``postgresql://user:pass@host:port/db[?schema=name]``."""
    url = url.strip()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path or path.endswith("/"):
            msg = f"{url!r} names no database file (expected sqlite:///var/ledger.sqlite3)"
            raise DatabaseUrlError(msg)
        return DatabaseUrl(raw=url, backend="sqlite", sqlite_path=Path(path))
    if url.startswith(("postgresql://", "postgres://")):
        return _parse_postgres_url(url)
    msg = f"{url!r} is neither sqlite:///PATH nor postgresql://USER:PASS@HOST:PORT/DB"
    raise DatabaseUrlError(msg)


def _parse_postgres_url(url: str) -> DatabaseUrl:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    schema = query.pop("schema", "public")
    if not _SCHEMA_NAME.match(schema):
        msg = f"schema {schema!r} must be a lower-case SQL identifier"
        raise DatabaseUrlError(msg)
    libpq_url = urlunsplit(parts._replace(query=urlencode(query)))
    try:
        conninfo = {k: str(v) for k, v in conninfo_to_dict(libpq_url).items()}
    except psycopg.ProgrammingError as error:
        msg = f"cannot parse the PostgreSQL URL: {error}"
        raise DatabaseUrlError(msg) from None
    if not conninfo.get("dbname"):
        msg = "the PostgreSQL URL names no database (postgresql://USER@HOST:PORT/DB)"
        raise DatabaseUrlError(msg)
    return DatabaseUrl(raw=url, backend="postgres", conninfo=conninfo, schema=schema)


class Cursor(Protocol):
    """The part of a DB-API cursor the ledger uses; rows are mappings."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Cursor: ...

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None: ...

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...

    def fetchone(self) -> Mapping[str, Any] | None: ...

    def fetchall(self) -> list[Mapping[str, Any]]: ...

    @property
    def rowcount(self) -> int: ...


class Database(Protocol):
    """A connection source for the ledger's own tables."""

    url: DatabaseUrl

    def transaction(self) -> AbstractContextManager[Cursor]: ...

    def stream(
        self, sql: str, params: Mapping[str, Any] | None = None, *, size: int = 2000
    ) -> AbstractContextManager[Iterator[Mapping[str, Any]]]: ...

    def execute_once(self, sql: str, params: Mapping[str, Any]) -> int: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


@functools.lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """``:name`` placeholders to psycopg's ``%(name)s`` (``::`` casts are left alone)."""
    return _NAMED_PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


class _PgCursor:
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


def _os_problem(number: int) -> str:
    return f"{os.strerror(number)} ({errno.errorcode[number]})"


def _why_unopenable(path: Path) -> str | None:
    """The operating system's reason a SQLite file cannot be opened, found with stat and
    access only: sqlite3 says just "unable to open database file". Never open the file
    to find out: closing any descriptor of a database file drops every POSIX lock this
    process holds on it, under SQLite's feet ("disk I/O error" on the other connections).
    """
    try:
        if not stat.S_ISDIR(os.stat(path.parent).st_mode):
            return _os_problem(errno.ENOTDIR)
        if path.exists():
            if path.is_dir():
                return _os_problem(errno.EISDIR)
            readable = os.access(path, os.R_OK | os.W_OK)
        else:
            readable = os.access(path.parent, os.W_OK | os.X_OK)
    except OSError as error:
        return _os_problem(error.errno or errno.EIO)
    return None if readable else _os_problem(errno.EACCES)


class SQLiteDatabase:
    """One SQLite file; a connection per thread; ``BEGIN IMMEDIATE`` per transaction.

    Immediate transactions take the write lock up front, so two writers queue on the
    busy timeout instead of failing half-way with "database is locked".
    """

    def __init__(self, url: DatabaseUrl) -> None:
        if url.sqlite_path is None:
            msg = "not an SQLite URL"
            raise DatabaseUrlError(msg)
        self.url = url
        self.path = url.sqlite_path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=SQLITE_BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.row_factory = sqlite3.Row
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
        except FileExistsError as error:  # mkdir: a part of the path is a file
            problem = _os_problem(errno.ENOTDIR)
            raise StoreUnavailableError(f"cannot open {self.path}: {problem}") from error
        except OSError as error:
            problem = _os_problem(error.errno or errno.EIO)
            raise StoreUnavailableError(f"cannot open {self.path}: {problem}") from error
        except sqlite3.Error as error:
            problem = _why_unopenable(self.path) or str(error)
            raise StoreUnavailableError(f"cannot open {self.path}: {problem}") from error
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise StoreUnavailableError(str(error)) from error
        try:
            yield _SQLiteCursor(conn.cursor())
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def stream(
        self, sql: str, params: Mapping[str, Any] | None = None, *, size: int = 2000
    ) -> Iterator[Iterator[Mapping[str, Any]]]:
        """Rows of a large query in constant memory (SQLite cursors are lazy).

        A separate connection in a read transaction: a consistent snapshot that does
        not hold the write lock."""
        try:
            conn = sqlite3.connect(self.path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreUnavailableError(f"cannot open {self.path}: {error}") from error
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("BEGIN")
            cursor = conn.execute(sql, params or {})
            cursor.arraysize = size
            yield (dict(row) for row in cursor)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def execute_once(self, sql: str, params: Mapping[str, Any]) -> int:
        """One statement in autocommit (atomic on its own); the affected row count."""
        try:
            return self.connect().execute(sql, params).rowcount
        except sqlite3.OperationalError as error:
            raise StoreUnavailableError(str(error)) from error

    def ping(self) -> None:
        try:
            self.connect().execute("SELECT 1").fetchone()
        except sqlite3.Error as error:
            raise StoreUnavailableError(str(error)) from error

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch a file to WAL. Two processes creating the file at once can see "database
    is locked" here without the busy handler being consulted, so retry until the timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        else:
            return


class _SQLiteCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> _SQLiteCursor:
        self._cursor.execute(sql, params or {})
        return self

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        self._cursor.executemany(sql, params)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        marks = ", ".join("?" for _ in columns)
        self._cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    def fetchone(self) -> Mapping[str, Any] | None:
        row = self._cursor.fetchone()
        return dict(row) if row is not None else None

    def fetchall(self) -> list[Mapping[str, Any]]:
        return [dict(row) for row in self._cursor.fetchall()]

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


def open_database(url: DatabaseUrl, *, pool_size: int = 4) -> SQLiteDatabase | PostgresDatabase:
    """The connection source for ``url``'s backend."""
    if url.backend == "sqlite":
        return SQLiteDatabase(url)
    return PostgresDatabase(url, max_size=pool_size)
