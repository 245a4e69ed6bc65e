"""The HTTP edge: a Starlette app built from a container (no module-level state)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from app.bootstrap import Container
from app.entrypoints.http import document
from app.entrypoints.http.middleware import ProblemCORSMiddleware, RequestId, SecurityHeaders
from app.entrypoints.http.problems import Problem
from app.entrypoints.http.routes import (
    audit,
    existing_subscription,
    group_changes,
    health,
    meta,
    ops,
    organizer_api,
    organizer_detail,
    organizers,
    renewals,
    spa,
    staff,
    webhooks,
)

log = logging.getLogger("ledger.web")


class LedgerApp(Starlette):
    """Starlette with the security headers and the request id outside everything, so that
    even the 500s that Starlette's outermost error middleware answers carry them."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(RequestId(super().build_middleware_stack()))


def create_app(container: Container) -> Starlette:
    """The ASGI application for ``ledger serve``."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        readiness = await run_in_threadpool(container.readiness)
        if not readiness.ready:
            log.warning("starting but not ready: %s", readiness.reason)
        try:
            yield
        finally:
            await run_in_threadpool(container.close)

    operations = document.operations()
    settings = container.settings
    return LedgerApp(
        routes=[
            *health.routes(container),
            *webhooks.routes(container),
            *group_changes.routes(container),
            *organizers.routes(container),
            *audit.routes(container),
            *ops.routes(container),
            *organizer_api.routes(container),
            *existing_subscription.routes(container),
            *organizer_detail.routes(container),
            *renewals.routes(container),
            *staff.routes(container),
            *meta.routes(container, operations),
            *spa.routes(),  # last: its fallback catches every other GET
        ],
        middleware=[
            Middleware(
                ProblemCORSMiddleware,
                allow_origins=list(settings.allowed_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            ),
        ],
        exception_handlers={
            Problem: on_problem,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        lifespan=lifespan,
    )


async def on_problem(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, Problem):
        raise exc
    return exc.to_response(instance=request.url.path)


async def on_http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    problem = Problem(exc.status_code, _title(exc.status_code), str(exc.detail))
    return problem.to_response(instance=request.url.path)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    problem = Problem(500, "Internal error", "the error was logged", slug="internal")
    return problem.to_response(instance=request.url.path)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
