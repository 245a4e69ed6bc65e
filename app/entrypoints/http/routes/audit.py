"""``GET /api/audit/entries``: the audit trail, filtered and paged by cursor.

``from``/``to`` select entries by ``recorded_at`` in the half-open range [from, to);
``cursor`` continues after the last entry of the previous page (log order).
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.bootstrap import Container
from app.entrypoints.http.auth import require_staff
from app.entrypoints.http.routes.params import (
    in_thread,
    invalid_parameter,
    query_cursor,
    query_instant,
    query_limit,
    query_text,
)
from app.services.audit.entries import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    AuditFilter,
    InvalidFilterError,
    Key,
    decode_cursor,
    read_page,
)


def limit_of(request: Request) -> int:
    return query_limit(request, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def cursor_of(request: Request) -> Key | None:
    return query_cursor(request, decode_cursor)


def filter_of(request: Request) -> AuditFilter:
    try:
        return AuditFilter(
            organizer_id=query_text(request, "organizer_id"),
            start=query_instant(request, "from"),
            end=query_instant(request, "to"),
        )
    except InvalidFilterError as error:
        raise invalid_parameter(error.parameter, error.reason) from None


def routes(container: Container) -> list[BaseRoute]:
    async def audit_entries(request: Request) -> Response:
        """One page of entries in log order: ``{"entries": [...], "next_cursor": ...}``."""
        require_staff(request, container.settings, "finance", "ops")
        audit_filter, after, limit = filter_of(request), cursor_of(request), limit_of(request)
        page = await in_thread(
            read_page, container.database, audit_filter, after=after, limit=limit
        )
        body = {"entries": page.entries, "next_cursor": page.next_cursor}
        return Response(orjson.dumps(body), media_type="application/json")

    return [Route("/api/audit/entries", audit_entries, methods=["GET"])]
