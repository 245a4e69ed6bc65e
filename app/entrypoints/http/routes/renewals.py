"""``GET /api/renewals?due_before=&drift=true&limit=&cursor=``: who renews when, for
finance and ops, keyset-paged like every list of this API.

Ordered by the next period end (organizers without a subscription last), then the
organizer id. A period end moves at each renewal, so a client paging while a renewal is
recorded may see that organizer on a later page again (or not at all if it moved
backwards, which Stripe does not do): the key is the best one for what finance asks.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from app.bootstrap import Container
from app.entrypoints.http.auth import require_staff
from app.entrypoints.http.openapi import INSTANT, RENEWALS_CURSOR, Operation, query_param
from app.entrypoints.http.routes.params import (
    in_thread,
    invalid_parameter,
    query_cursor,
    query_instant,
    query_limit,
    query_text,
)
from app.services.audit.entries import InvalidCursorError
from app.services.ops.paging import TextKey, decode_cursor, encode_cursor
from app.services.organizers.timeline import INSTANT_TEXT
from projections.renewals import renewals_after
from projections.times import fmt_time

MAX_ROWS = 1000
NO_PERIOD = "-"  # the cursor's period end for an organizer without a subscription


class Renewal(BaseModel):
    model_config = ConfigDict(frozen=True)

    organizer_id: str
    subscription_id: str | None
    subscription_status: str | None
    current_period_end: str | None
    active_groups: int
    billable_quantity: int
    billed_quantity: int | None
    last_synced_quantity: int | None
    last_synced_at: str | None
    sync_status: str | None
    last_error: str | None
    drift: bool


class Renewals(BaseModel):
    renewals: list[Renewal]
    truncated: bool  # kept for existing clients: true exactly when next_cursor is set
    next_cursor: str | None


OPERATIONS = [
    Operation(
        "get",
        "/api/renewals",
        "listRenewals",
        "Renewals by next period end; filter by due date and drift",
        "finance",
        Renewals,
        roles="finance, ops",
        errors=(400, 401, 403),
        params=(
            query_param(
                "due_before",
                INSTANT,
                "only renewals whose period ends before this instant",
            ),
            query_param("drift", {"type": "boolean"}, "only organizers billed ≠ billable"),
            query_param("cursor", RENEWALS_CURSOR, "next_cursor of the previous page"),
            query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_ROWS}),
        ),
    ),
]


def decode_renewals_cursor(cursor: str) -> TextKey:
    """(period end text or "" for none, organizer id), or :class:`InvalidCursorError`."""
    period_end, organizer_id = decode_cursor(cursor)
    if period_end != NO_PERIOD and not INSTANT_TEXT.match(period_end):
        raise InvalidCursorError("not a cursor returned by this API")
    return period_end, organizer_id


def list_renewals(
    database: SQLiteDatabase | PostgresDatabase,
    *,
    due_before: str | None,
    drift: bool | None,
    after: TextKey | None = None,
    limit: int = MAX_ROWS,
) -> Renewals:
    key = None if after is None else (None if after[0] == NO_PERIOD else after[0], after[1])
    rows = renewals_after(database, due_before=due_before, drift=drift, after=key, limit=limit + 1)
    items: list[dict[str, Any]] = [dict(r) for r in rows[:limit]]
    more = len(rows) > limit
    last = items[-1] if more else None
    return Renewals(
        renewals=[
            Renewal(**{k: (bool(r[k]) if k == "drift" else r[k]) for k in Renewal.model_fields})
            for r in items
        ],
        truncated=more,
        next_cursor=None
        if last is None
        else encode_cursor((last["current_period_end"] or NO_PERIOD, str(last["organizer_id"]))),
    )


def routes(container: Container) -> list[BaseRoute]:
    async def renewals(request: Request) -> Response:
        require_staff(request, container.settings, "finance", "ops")
        due = query_instant(request, "due_before")
        drift_text = query_text(request, "drift")
        if drift_text not in (None, "true", "false"):
            raise invalid_parameter("drift", "must be true or false")
        after = query_cursor(request, decode_renewals_cursor)
        limit = query_limit(request, default=MAX_ROWS, maximum=MAX_ROWS)
        result = await in_thread(
            list_renewals,
            container.database,
            due_before=fmt_time(due),
            drift=None if drift_text is None else drift_text == "true",
            after=after,
            limit=limit,
        )
        return Response(result.model_dump_json(), media_type="application/json")

    return [Route("/api/renewals", renewals, methods=["GET"])]
