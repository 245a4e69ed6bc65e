"""The organizer API's explanations (issue 16): one invoice explained, and active groups
over time. Read-only, from read models; guarded like app/routes/organizer_api.py (the
organizer itself or staff; any other organizer, or an invoice of another, is a 404)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.bootstrap import Container
from app.entrypoints.http.auth import organizer_not_found, require_organizer_access
from app.entrypoints.http.openapi import INSTANT, Operation, path_param, query_param
from app.entrypoints.http.problems import Problem
from app.entrypoints.http.routes.organizer_api import ORGANIZER, ROLES, json_response
from app.entrypoints.http.routes.params import in_thread, invalid_parameter, query_instant
from app.services.organizers.billing import summary_document
from app.services.organizers.group_history import RangeError, group_history
from app.services.organizers.invoice_detail import invoice_detail
from app.services.organizers.models import GroupsHistory, InvoiceDetail

OPERATIONS = [
    Operation(
        "get",
        "/api/organizers/{organizer_id}/invoices/{invoice_id}",
        "getInvoiceDetail",
        "One invoice explained: the groups it counted, the changes since the previous "
        "invoice that moved the count, its corrections, tax apart",
        "organizers",
        InvoiceDetail,
        roles=ROLES,
        params=(ORGANIZER, path_param("invoice_id", "Stripe's invoice id (in_…)")),
    ),
    Operation(
        "get",
        "/api/organizers/{organizer_id}/groups/history",
        "getGroupsHistory",
        "Active groups over time (one point per change, or per day when long) and the "
        "quantity each invoice billed",
        "organizers",
        GroupsHistory,
        roles=ROLES,
        params=(
            ORGANIZER,
            query_param("from", INSTANT, "Start (default: the first change)"),
            query_param("to", INSTANT, "End (default: now); at most 3 years after `from`"),
        ),
    ),
]


def routes(container: Container) -> list[BaseRoute]:
    settings = container.settings

    async def get_invoice(request: Request) -> Response:
        organizer_id: str = request.path_params["organizer_id"]
        invoice_id: str = request.path_params["invoice_id"]
        require_organizer_access(request, settings, organizer_id)
        detail = await in_thread(invoice_detail, container.database, organizer_id, invoice_id)
        if detail is None:
            raise Problem(
                404,
                "Invoice not found",
                f"no invoice {invoice_id!r} for organizer {organizer_id!r}",
                slug="invoice-not-found",
            )
        return json_response(detail)

    async def get_history(request: Request) -> Response:
        organizer_id: str = request.path_params["organizer_id"]
        require_organizer_access(request, settings, organizer_id)
        start, end = query_instant(request, "from"), query_instant(request, "to")
        if await in_thread(summary_document, container.database, organizer_id) is None:
            raise organizer_not_found(organizer_id)
        try:
            history = await in_thread(
                group_history,
                container.database,
                organizer_id,
                start=start,
                end=end,
                now=container.clock(),
            )
        except RangeError as error:
            raise invalid_parameter(error.name, str(error)) from None
        return json_response(history)

    base = "/api/organizers/{organizer_id}"
    return [
        Route(f"{base}/invoices/{{invoice_id}}", get_invoice, methods=["GET"]),
        Route(f"{base}/groups/history", get_history, methods=["GET"]),
    ]
