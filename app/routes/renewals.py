"""``GET /api/renewals?due_before=&drift=true``: who renews when, for finance and ops."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from app.api.auth import require_staff
from app.api.openapi import INSTANT, Operation, query_param
from app.bootstrap import Container
from app.routes.params import in_thread, invalid_parameter, query_instant, query_text
from projections.view import fmt_time

MAX_ROWS = 1000


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
    truncated: bool


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
        ),
    ),
]


def list_renewals(
    database: SQLiteDatabase | PostgresDatabase, *, due_before: str | None, drift: bool | None
) -> Renewals:
    clauses: list[str] = ["1 = 1"]
    params: dict[str, Any] = {"limit": MAX_ROWS + 1}
    if due_before is not None:
        clauses.append("current_period_end < :due_before")
        params["due_before"] = due_before
    if drift is not None:
        clauses.append("drift = :drift")
        params["drift"] = int(drift)
    with database.transaction() as cursor:
        rows = cursor.execute(
            f"SELECT * FROM rm_renewals WHERE {' AND '.join(clauses)}"
            " ORDER BY current_period_end, organizer_id LIMIT :limit",
            params,
        ).fetchall()
    items: list[dict[str, Any]] = [dict(r) for r in rows[:MAX_ROWS]]
    return Renewals(
        renewals=[
            Renewal(**{k: (bool(r[k]) if k == "drift" else r[k]) for k in Renewal.model_fields})
            for r in items
        ],
        truncated=len(rows) > MAX_ROWS,
    )


def routes(container: Container) -> list[BaseRoute]:
    async def renewals(request: Request) -> Response:
        require_staff(request, container.settings, "finance", "ops")
        due = query_instant(request, "due_before")
        drift_text = query_text(request, "drift")
        if drift_text not in (None, "true", "false"):
            raise invalid_parameter("drift", "must be true or false")
        result = await in_thread(
            list_renewals,
            container.database,
            due_before=fmt_time(due),
            drift=None if drift_text is None else drift_text == "true",
        )
        return Response(result.model_dump_json(), media_type="application/json")

    return [Route("/api/renewals", renewals, methods=["GET"])]
