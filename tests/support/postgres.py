"""A PostgreSQL server for the test session.

``LEDGER_TEST_DATABASE_URL`` names one (CI points it at the machine's server; if it
cannot be reached the run fails, it does not skip). Without it, a throwaway server is
started with ``pgserver`` so a fresh machine runs the PostgreSQL tests too.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


class PostgresUnavailableError(RuntimeError):
    pass


@contextmanager
def postgres_server_url() -> Iterator[str]:
    configured = os.environ.get("LEDGER_TEST_DATABASE_URL")
    if configured:
        _check(configured)
        yield configured
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix="ledger-pg-") as folder:
        server = pgserver.get_server(Path(folder), cleanup_mode="stop")  # type: ignore[attr-defined]
        try:
            url = server.get_uri()
            _check(url)
            yield url
        finally:
            server.cleanup()


def _check(url: str) -> None:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        msg = f"PostgreSQL at {url!r} is unreachable: {error}"
        raise PostgresUnavailableError(msg) from error


def with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}schema={schema}"


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A new empty schema for one test (recorders commit, so rollback can't isolate)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(server_url, schema)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
