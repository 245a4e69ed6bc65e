"""Liveness and readiness for orchestrators."""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.bootstrap import NOT_MIGRATED_HINT, Container
from app.entrypoints.http.problems import Problem
from app.metrics import CONTENT_TYPE, exposition, store_registry

log = logging.getLogger("ledger.web")


def routes(container: Container) -> list[BaseRoute]:
    async def healthz(_: Request) -> Response:
        """200 while the process is up."""
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        """200 only when the store answers and is migrated; 503 problem+json otherwise."""
        readiness = await run_in_threadpool(container.readiness)
        if readiness.ready:
            return JSONResponse({"status": "ready"})
        if readiness.reason == NOT_MIGRATED_HINT:
            log.warning(NOT_MIGRATED_HINT)
        raise Problem(503, "Not ready", readiness.reason, slug="not-ready")

    store = store_registry(container)

    async def metrics(_: Request) -> Response:
        """Prometheus text: this process's counters and the store gauges (docs/deploy.md).
        Meant for the cluster's scraper: keep it off the public ingress."""
        return Response(await run_in_threadpool(exposition, store), media_type=CONTENT_TYPE)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
