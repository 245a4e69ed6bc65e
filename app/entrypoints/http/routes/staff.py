"""The staff area's lists that the ops and renewals routes do not already answer
(finance, ops; the SPA's /staff pages, docs/spa.md):

- ``GET /api/staff/corrections[?status=]``: renewal invoice corrections, oldest request
  first (projections/corrections.py)
- ``GET /api/staff/organizers?q=``: organizers whose platform id starts with ``q``, or
  whose Stripe customer or subscription id is ``q``, by organizer id
  (projections/summary.py)

Both page like the ops lists (``limit``, ``cursor``; ``{"entries", "next_cursor"}``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.bootstrap import Container
from app.entrypoints.http.auth import is_platform_id, require_staff
from app.entrypoints.http.openapi import Operation, Param, query_param
from app.entrypoints.http.routes.audit import limit_of
from app.entrypoints.http.routes.ops import PAGING, cursor_of, json_response
from app.entrypoints.http.routes.params import in_thread, invalid_parameter, query_text
from app.services.ops.staff_lists import read_corrections, search_organizers
from app.services.organizers.models import Corrections, OrganizerHits
from domain.statuses import CorrectionStatus

# Some text, no control characters (PostgreSQL's text cannot even hold NUL).
_PLAIN = "[^\\u0000-\\u001f\\u007f]*"
SEARCH_TEXT = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": f"^{_PLAIN}[^\\s\\u0000-\\u001f\\u007f]{_PLAIN}$",
}
STATUSES = {status.value: status for status in CorrectionStatus}
OPERATIONS = [
    Operation(
        "get",
        "/api/staff/corrections",
        "listCorrections",
        "Renewal invoice corrections (draft items, one-off invoices, credit notes) and where"
        " each stands, oldest request first",
        "ops",
        Corrections,
        roles="finance, ops",
        errors=(400, 401, 403, 503),
        params=(
            query_param("status", {"type": "string", "enum": list(STATUSES)}, "only these"),
            *PAGING,
        ),
    ),
    Operation(
        "get",
        "/api/staff/organizers",
        "searchOrganizers",
        "Organizers whose platform id starts with q, or whose Stripe customer or"
        " subscription id is q, by organizer id",
        "ops",
        OrganizerHits,
        roles="finance, ops",
        errors=(400, 401, 403, 503),
        params=(
            Param("q", "query", SEARCH_TEXT, True, "an id prefix, a customer or subscription id"),
            *PAGING,
        ),
    ),
]


def status_of(request: Request) -> CorrectionStatus | None:
    text = query_text(request, "status")
    if text is None:
        return None
    if text not in STATUSES:
        raise invalid_parameter("status", f"must be one of {', '.join(STATUSES)}")
    return STATUSES[text]


def search_text_of(request: Request) -> str:
    text = (query_text(request, "q") or "").strip()
    if not is_platform_id(text) or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise invalid_parameter("q", "must be 1 to 200 characters, none a control character")
    return text


def routes(container: Container) -> list[BaseRoute]:
    settings = container.settings

    async def corrections(request: Request) -> Response:
        """One page of corrections, oldest request first."""
        require_staff(request, settings, "finance", "ops")
        status, after, limit = status_of(request), cursor_of(request), limit_of(request)
        page = await in_thread(
            read_corrections, container.database, status, after=after, limit=limit
        )
        return json_response(Corrections.model_validate(vars(page)))

    async def organizers(request: Request) -> Response:
        """One page of organizers matching ``q``, by organizer id."""
        require_staff(request, settings, "finance", "ops")
        text, after, limit = search_text_of(request), cursor_of(request), limit_of(request)
        page = await in_thread(
            search_organizers, container.database, text, after=after, limit=limit
        )
        return json_response(OrganizerHits.model_validate(vars(page)))

    return [
        Route("/api/staff/corrections", corrections, methods=["GET"]),
        Route("/api/staff/organizers", organizers, methods=["GET"]),
    ]
