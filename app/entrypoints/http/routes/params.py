"""What the read-only API routes share: query parameters that fail
as a 400 naming themselves, and blocking store work off the event loop (503 when the
store cannot answer)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from adapters.persistence.database import StoreUnavailableError
from app.entrypoints.http.problems import Problem
from app.services.audit.entries import InvalidCursorError
from app.services.errors import NotReadyError
from projections.times import InstantError, parse_instant

T = TypeVar("T")
log = logging.getLogger("ledger.web")
STORE_ERRORS = (StoreUnavailableError, NotReadyError, OperationalError, InterfaceError)


def invalid_parameter(name: str, reason: str) -> Problem:
    return Problem(
        400,
        "Invalid parameter",
        f"`{name}` {reason}",
        slug="invalid-parameter",
        invalid_params=[{"name": name, "reason": reason}],
    )


def query_text(request: Request, name: str) -> str | None:
    """A query parameter; absent and empty (``?organizer_id=``) both mean "not given"."""
    return request.query_params.get(name) or None


def query_limit(request: Request, *, default: int, maximum: int, name: str = "limit") -> int:
    """A page size from 1 to ``maximum``. Only ASCII digits, and few of them: ``int()``
    refuses thousands of digits, and ``"²".isdigit()`` is true but not a number."""
    text = query_text(request, name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not 1 <= int(text) <= maximum:
        raise invalid_parameter(name, f"must be an integer from 1 to {maximum}")
    return int(text)


def query_cursor(request: Request, decode: Callable[[str], T]) -> T | None:
    """The ``cursor`` parameter's key; one this API did not hand out is a 400 naming it."""
    text = query_text(request, "cursor")
    if text is None:
        return None
    try:
        return decode(text)
    except InvalidCursorError as error:
        raise invalid_parameter("cursor", str(error)) from None


def query_instant(request: Request, name: str) -> datetime | None:
    text = query_text(request, name)
    if text is None:
        return None
    try:
        return parse_instant(text)
    except InstantError as error:
        raise invalid_parameter(name, str(error)) from None


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking store work in the thread pool; 503 if the store is not there."""
    try:
        return await run_in_threadpool(function, *args, **kwargs)
    except STORE_ERRORS as error:
        # The reason may name hosts or files: it goes to the log, not to the client.
        log.warning("store unavailable: %s", error)
        raise Problem(
            503,
            "Store unavailable",
            "the ledger's store cannot answer; retry later",
            slug="store-unavailable",
            headers={"Retry-After": "5"},
        ) from error
