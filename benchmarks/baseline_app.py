"""The baselines for ``webhook_ingest.py``: one raw ``INSERT`` per request, nothing else.

A Starlette app with two routes that read the body and insert ``(id, body)`` in the same
schema the ledger uses:

- ``POST /ingest``: one autocommit ``INSERT … ON CONFLICT DO NOTHING`` into
  ``baseline_ingest`` — a single round trip, exactly what the webhook's inbox insert does
  (``PostgresDatabase.execute_once``), so the ratio compares like with like;
- ``POST /ingest-transaction``: ``BEGIN``, ``INSERT``, ``COMMIT`` into
  ``baseline_ingest_tx`` — three round trips, the baseline this benchmark used before
  (issue 12: against it the webhook "beat the limit"). Reported beside the other.

It reads the
ledger's own settings (``LEDGER_DATABASE_URL``, ``LEDGER_DB_POOL_SIZE``,
``LEDGER_LOG_LEVEL``) and is served by uvicorn with the options ``ledger serve`` uses,
so that the only difference between the two servers is the work the webhook does
(signature check, JSON parse, validation, the inbox's wider row and indexes).

    LEDGER_DATABASE_URL=postgresql://...?schema=s python benchmarks/baseline_app.py --port 8001
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import uvicorn
from psycopg_pool import ConnectionPool
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.settings import load_settings

TABLE = "baseline_ingest"
TRANSACTION_TABLE = "baseline_ingest_tx"


def open_pool(conninfo: str, size: int) -> ConnectionPool[psycopg.Connection[tuple[object, ...]]]:
    """Sized and timed out like the ledger's ``PostgresDatabase`` pool."""
    return ConnectionPool(
        conninfo,
        min_size=1,
        max_size=size,
        kwargs={"connect_timeout": 3},
        open=False,
        timeout=3,
        name="baseline",
    )


def create_app(conninfo: str, pool_size: int) -> Starlette:
    pool = open_pool(conninfo, pool_size)

    def insert(body: bytes) -> None:
        # Autocommit: the INSERT is its own transaction, one round trip (as the inbox's).
        with pool.connection() as conn:
            conn.autocommit = True
            conn.execute(
                f"INSERT INTO {TABLE} (id, body) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING",
                (uuid.uuid4().hex, body),
            )

    def insert_in_transaction(body: bytes) -> None:
        # The pool's connection context commits on exit: BEGIN, INSERT, COMMIT.
        with pool.connection() as conn:
            conn.autocommit = False
            conn.execute(
                f"INSERT INTO {TRANSACTION_TABLE} (id, body) VALUES (%s, %s)",
                (uuid.uuid4().hex, body),
            )

    def ping() -> None:
        with pool.connection() as conn:
            conn.execute("SELECT 1")

    async def ingest(request: Request) -> Response:
        body = await request.body()
        await run_in_threadpool(insert, body)
        return JSONResponse({"status": "accepted"})

    async def ingest_in_transaction(request: Request) -> Response:
        body = await request.body()
        await run_in_threadpool(insert_in_transaction, body)
        return JSONResponse({"status": "accepted"})

    async def readyz(_: Request) -> Response:
        await run_in_threadpool(ping)
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        pool.open(wait=True)
        with pool.connection() as conn:
            for table in (TABLE, TRANSACTION_TABLE):
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, body bytea NOT NULL)"
                )
        try:
            yield
        finally:
            pool.close()

    return Starlette(
        routes=[
            Route("/ingest", ingest, methods=["POST"]),
            Route("/ingest-transaction", ingest_in_transaction, methods=["POST"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="baselines: one raw INSERT per request")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = load_settings()
    if settings.database.backend != "postgres":
        parser.error("LEDGER_DATABASE_URL must be a postgresql:// URL")
    app = create_app(settings.database.libpq_conninfo(), settings.db_pool_size)
    # The same options as `ledger serve` (app/entrypoints/cli/core.py run_serve).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
