"""SQLite for the ledger's own SQL: one file, a connection per thread, WAL."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adapters.persistence.sql import (
    Backend,
    Cursor,
    DatabaseUrl,
    DatabaseUrlError,
    StoreUnavailableError,
)

SQLITE_BUSY_TIMEOUT_S = 30.0


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
    backend: Backend = "sqlite"

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
