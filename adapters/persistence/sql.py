"""The ledger's own SQL interface: database URLs, the ``Cursor`` / ``Database`` ports the
rest of the code types against, the store errors, and ``:name`` placeholders.

Backends: adapters/persistence/sqlite.py and postgres.py; adapters/persistence/database.py
opens one (and re-exports all of this, its public import path).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

Backend = Literal["sqlite", "postgres"]
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_NAMED_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)(!b(?!\w))?")


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

    @property
    def backend(self) -> Backend:
        """Which store this cursor talks to (for the few statements the dialects need
        written differently, e.g. PostgreSQL's one-array ``= ANY(...)``)."""
        ...

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
    """``:name`` placeholders to psycopg's ``%(name)s`` (``::`` casts are left alone).

    ``:name!b`` (PostgreSQL-only statements) sends that parameter in binary, ``%(name)b``:
    a long list goes as an array without psycopg quoting each element as text."""
    return _NAMED_PARAM.sub(_placeholder, sql.replace("%", "%%"))


def _placeholder(match: re.Match[str]) -> str:
    return f"%({match.group(1)}){'b' if match.group(2) else 's'}"
