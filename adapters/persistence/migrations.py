"""Ordered, versioned SQL migrations (``migrations/<backend>/NNNN_name.sql``).

Applied versions are recorded with a checksum in ``schema_migrations``. Running twice
is a no-op, and two processes may run at once: PostgreSQL serialises them on an
advisory lock, SQLite on its write lock (``BEGIN IMMEDIATE``). A migration edited
after it was applied is refused rather than silently skipped.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

import psycopg

from adapters.persistence.database import (
    Backend,
    PostgresDatabase,
    SQLiteDatabase,
    StoreUnavailableError,
)

# Arbitrary but fixed: every ledger process agrees on it.
MIGRATION_LOCK_KEY = 7_361_004_210
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " checksum TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)"
)


class MigrationError(RuntimeError):
    """The database's migrations cannot be reconciled with the code's."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class MigrationStatus:
    applied: tuple[int, ...]
    pending: tuple[Migration, ...]

    @property
    def current(self) -> bool:
        return not self.pending


def available_migrations(backend: Backend) -> list[Migration]:
    """The migrations shipped with the code for ``backend``, in version order."""
    folder = resources.files("migrations").joinpath(backend)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        msg = f"duplicate migration versions for {backend}: {versions}"
        raise MigrationError(msg)
    return found


_TABLE_IN_SQL = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)", re.IGNORECASE)


def shipped_tables(backend: Backend) -> list[str]:
    """Every table the shipped migrations create (what a migrated store must have)."""
    names = {
        m.lower() for mig in available_migrations(backend) for m in _TABLE_IN_SQL.findall(mig.sql)
    }
    return sorted(names)


def missing_tables(database: SQLiteDatabase | PostgresDatabase, names: list[str]) -> list[str]:
    """Those of ``names`` that do not exist (one query: cheap enough for ``/readyz``)."""
    if isinstance(database, SQLiteDatabase):
        rows = database.connect().execute("SELECT name FROM sqlite_master WHERE type='table'")
        present = {str(r[0]).lower() for r in rows.fetchall()}
        return [n for n in names if n not in present]
    with database.connection() as conn:
        absent = conn.execute(
            "SELECT n FROM unnest(%s::text[]) AS n WHERE to_regclass(n) IS NULL", (names,)
        ).fetchall()
    return sorted(str(r["n"]) for r in absent)


def _check_applied(applied: dict[int, str], available: list[Migration]) -> list[Migration]:
    known = {m.version: m for m in available}
    for version, checksum in applied.items():
        migration = known.get(version)
        if migration is None:
            msg = f"database has migration {version:04d}, unknown to this code (newer release?)"
            raise MigrationError(msg)
        if migration.checksum != checksum:
            msg = f"migration {version:04d}_{migration.name} was edited after it was applied"
            raise MigrationError(msg)
    return [m for m in available if m.version not in applied]


def migration_status(database: SQLiteDatabase | PostgresDatabase) -> MigrationStatus:
    """Which migrations are applied and which are pending, without changing anything."""
    available = available_migrations(database.url.backend)
    applied = _read_applied(database)
    pending = _check_applied(applied, available)
    return MigrationStatus(tuple(sorted(applied)), tuple(pending))


def _read_applied(database: SQLiteDatabase | PostgresDatabase) -> dict[int, str]:
    if isinstance(database, SQLiteDatabase):
        lite = database.connect()
        exists = lite.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ).fetchone()
        if not exists:
            return {}
        found = lite.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        return {int(r[0]): str(r[1]) for r in found}
    with database.connection() as conn:
        regclass = conn.execute("SELECT to_regclass('schema_migrations') AS t").fetchone()
        if regclass is None or regclass["t"] is None:
            return {}
        rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        return {int(r["version"]): str(r["checksum"]) for r in rows}


def migrate(database: SQLiteDatabase | PostgresDatabase) -> list[Migration]:
    """Apply every pending migration; returns those this call applied."""
    if isinstance(database, SQLiteDatabase):
        return _migrate_sqlite(database)
    return _migrate_postgres(database)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _migrate_sqlite(database: SQLiteDatabase) -> list[Migration]:
    conn = database.connect()
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        raise StoreUnavailableError(str(error)) from error
    try:
        conn.execute(_CREATE_TABLE)
        rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        pending = _check_applied(
            {int(r[0]): str(r[1]) for r in rows}, available_migrations("sqlite")
        )
        for migration in pending:
            for statement in _sqlite_statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                (migration.version, migration.name, migration.checksum, _now()),
            )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return pending


def _sqlite_statements(script: str) -> list[str]:
    """Split a script into complete statements (``executescript`` would commit)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") for part in buffer.strip().splitlines()
    ):
        msg = f"incomplete SQL statement at end of migration: {buffer.strip()[:80]!r}"
        raise MigrationError(msg)
    return statements


def _migrate_postgres(database: PostgresDatabase) -> list[Migration]:
    applied_now: list[Migration] = []
    with database.connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(_CREATE_TABLE)
            rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
            pending = _check_applied(
                {int(r["version"]): str(r["checksum"]) for r in rows},
                available_migrations("postgres"),
            )
            for migration in pending:
                with conn.transaction():
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations VALUES (%s, %s, %s, %s)",
                        (migration.version, migration.name, migration.checksum, _now()),
                    )
                applied_now.append(migration)
        except psycopg.Error as error:
            msg = f"migration failed: {error}"
            raise MigrationError(msg) from error
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return applied_now
