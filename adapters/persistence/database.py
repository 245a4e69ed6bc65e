"""Database URLs and connections for the ledger's own SQL (inbox, read models, migrations).

The event store itself goes through eventsourcing's recorders; this module gives the
rest of the code one small interface over SQLite (embedded default) and PostgreSQL
(production). SQL is written once with ``:name`` placeholders and converted for
psycopg, so that each statement has one text for both backends unless the dialects
truly differ. The interface is in adapters/persistence/sql.py, the backends in
sqlite.py and postgres.py; this module opens one and is the import path for all.
"""

from __future__ import annotations

from adapters.persistence.postgres import PostgresDatabase
from adapters.persistence.sql import (
    DATABASE_ERRORS,
    Backend,
    Cursor,
    Database,
    DatabaseUrl,
    DatabaseUrlError,
    StoreUnavailableError,
    parse_database_url,
    to_pyformat,
)
from adapters.persistence.sqlite import SQLITE_BUSY_TIMEOUT_S, SQLiteDatabase

__all__ = [
    "DATABASE_ERRORS",
    "SQLITE_BUSY_TIMEOUT_S",
    "Backend",
    "Cursor",
    "Database",
    "DatabaseUrl",
    "DatabaseUrlError",
    "PostgresDatabase",
    "SQLiteDatabase",
    "StoreUnavailableError",
    "open_database",
    "parse_database_url",
    "to_pyformat",
]


def open_database(url: DatabaseUrl, *, pool_size: int = 4) -> SQLiteDatabase | PostgresDatabase:
    """The connection source for ``url``'s backend."""
    if url.backend == "sqlite":
        return SQLiteDatabase(url)
    return PostgresDatabase(url, max_size=pool_size)
