"""The organizer API: billing page, timeline, invoices, enrollment, billing portal.

Every route takes a bearer JWT: the organizer itself (any other id is a 404, so a token
never reveals that another organizer exists) or finance/ops staff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.stripe.gateway import StripeCallError
from app.bootstrap import Container
from app.entrypoints.http.auth import organizer_not_found, require_organizer_access
from app.entrypoints.http.openapi import (
    INVOICES_CURSOR,
    TIMELINE_CURSOR,
    Operation,
    limit_param,
    path_param,
    query_param,
)
from app.entrypoints.http.problems import Problem, current_request_id
from app.entrypoints.http.redirects import redirect_problem
from app.entrypoints.http.requests import parse_json, read_body
from app.entrypoints.http.routes.params import in_thread, query_cursor, query_limit
from app.services.organizers import invoices as invoice_pages
from app.services.organizers.billing import billing as billing_of
from app.services.organizers.billing import summary_document
from app.services.organizers.enrollment import enroll
from app.services.organizers.errors import (
    AlreadyEnrolledError,
    NotEnrolledError,
    StripeNotConfiguredError,
)
from app.services.organizers.models import (
    CheckoutLink,
    EnrollmentRequest,
    Invoices,
    OrganizerBilling,
    PortalLink,
    Timeline,
)
from app.services.organizers.portal import portal as portal_link
from app.services.organizers.timeline import decode_cursor, read_timeline
from domain.organizer import OrganizerError

log = logging.getLogger("ledger.api")
ORGANIZER = path_param("organizer_id", "the platform's organizer id")
# A page's size: documented here and enforced by ``_limit`` from the same numbers.
PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
LIMIT = limit_param(default=PAGE_SIZE, maximum=MAX_PAGE_SIZE)
ROLES = "the organizer itself, finance, ops"
OPERATIONS = [
    Operation(
        "get",
        "/api/organizers/{organizer_id}",
        "getOrganizer",
        "Enrollment, subscription, groups, next renewal and estimated charge",
        "organizers",
        OrganizerBilling,
        params=(ORGANIZER,),
        roles=ROLES,
    ),
    Operation(
        "get",
        "/api/organizers/{organizer_id}/timeline",
        "getTimeline",
        "What changed the quantity or the charge, in plain words (newest first)",
        "organizers",
        Timeline,
        roles=ROLES,
        params=(
            ORGANIZER,
            query_param("cursor", TIMELINE_CURSOR, "next_cursor of the previous page"),
            LIMIT,
        ),
    ),
    Operation(
        "get",
        "/api/organizers/{organizer_id}/invoices",
        "getInvoices",
        "Invoices with period, quantity, amounts (tax apart) and status (newest period first)",
        "organizers",
        Invoices,
        roles=ROLES,
        params=(
            ORGANIZER,
            query_param("cursor", INVOICES_CURSOR, "next_cursor of the previous page"),
            LIMIT,
        ),
    ),
    Operation(
        "post",
        "/api/organizers/{organizer_id}/enrollment",
        "startEnrollment",
        "A Stripe Checkout Session for the per-group plan (201; 200 when an open one is reused)",
        "organizers",
        CheckoutLink,
        status=201,
        also=(200,),
        params=(ORGANIZER,),
        body=EnrollmentRequest,
        errors=(400, 401, 403, 404, 409, 503),
        roles=ROLES,
    ),
    Operation(
        "post",
        "/api/organizers/{organizer_id}/portal-session",
        "createPortalSession",
        "A Stripe billing portal link",
        "organizers",
        PortalLink,
        params=(ORGANIZER,),
        errors=(401, 403, 404, 409, 503),
        roles=ROLES,
    ),
]


def json_response(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def routes(container: Container) -> list[BaseRoute]:
    settings = container.settings

    def guarded(handler: Callable[[Request, str], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            organizer_id: str = request.path_params["organizer_id"]
            require_organizer_access(request, settings, organizer_id)
            try:
                result: Response = await handler(request, organizer_id)
            except StripeCallError as error:
                raise stripe_unavailable(organizer_id, error) from None
            except OrganizerError as error:
                raise Problem(409, "Not possible now", str(error), slug="conflict") from None
            except StripeNotConfiguredError as error:
                raise Problem(
                    503, "Stripe not configured", str(error), slug="not-configured"
                ) from None
            return result

        return endpoint

    async def get_billing(request: Request, organizer_id: str) -> Response:
        billing = await in_thread(billing_of, container, organizer_id)
        if billing is None:
            raise organizer_not_found(organizer_id)
        return json_response(billing)

    async def get_timeline(request: Request, organizer_id: str) -> Response:
        limit = _limit(request)
        before = query_cursor(request, decode_cursor)
        if await in_thread(summary_document, container.database, organizer_id) is None:
            raise organizer_not_found(organizer_id)
        page = await in_thread(
            read_timeline, container.database, organizer_id, before=before, limit=limit
        )
        return json_response(page)

    async def get_invoices(request: Request, organizer_id: str) -> Response:
        limit = _limit(request)
        before = query_cursor(request, invoice_pages.decode_cursor)
        if await in_thread(summary_document, container.database, organizer_id) is None:
            raise organizer_not_found(organizer_id)
        page = await in_thread(
            invoice_pages.read_page, container.database, organizer_id, before=before, limit=limit
        )
        return json_response(page)

    async def post_enrollment(request: Request, organizer_id: str) -> Response:
        body = await read_body(request, limit=16 * 1024)
        try:
            enrollment = EnrollmentRequest.model_validate(parse_json(body) if body else {})
        except ValidationError as error:
            raise _invalid_body(error) from None
        check_return_urls(enrollment, settings.checkout_return_origins)
        try:
            link = await in_thread(enroll, container, organizer_id, enrollment)
        except AlreadyEnrolledError:
            raise Problem(
                409,
                "Already enrolled",
                "this organizer already has a subscription",
                slug="already-enrolled",
            ) from None
        return json_response(link, 200 if link.reused else 201)

    async def post_portal(request: Request, organizer_id: str) -> Response:
        try:
            link = await in_thread(portal_link, container, organizer_id)
        except NotEnrolledError:
            raise Problem(
                409,
                "Not enrolled",
                "there is no Stripe customer yet: enroll first",
                slug="not-enrolled",
            ) from None
        return json_response(link)

    base = "/api/organizers/{organizer_id}"
    return [
        Route(base, guarded(get_billing), methods=["GET"]),
        Route(f"{base}/timeline", guarded(get_timeline), methods=["GET"]),
        Route(f"{base}/invoices", guarded(get_invoices), methods=["GET"]),
        Route(f"{base}/enrollment", guarded(post_enrollment), methods=["POST"]),
        Route(f"{base}/portal-session", guarded(post_portal), methods=["POST"]),
    ]


def _limit(request: Request) -> int:
    return query_limit(request, default=PAGE_SIZE, maximum=MAX_PAGE_SIZE)


def stripe_unavailable(organizer_id: str, error: StripeCallError) -> Problem:
    """Stripe's text can name our hosts or end in the key's last characters: it goes to
    the log under the request id; the caller gets the id and a generic 503."""
    log.warning("Stripe failed for %s (request %s): %s", organizer_id, current_request_id(), error)
    return Problem(
        503,
        "Stripe unavailable",
        "the payment provider could not complete the request; retry later",
        slug="stripe-unavailable",
        headers={"Retry-After": "5"},
    )


def check_return_urls(enrollment: EnrollmentRequest, origins: tuple[str, ...]) -> None:
    """400 for a Checkout return URL off our origins (an open redirect otherwise)."""
    for name in ("success_url", "cancel_url"):
        url = getattr(enrollment, name)
        problem = None if url is None else redirect_problem(url, origins)
        if problem is not None:
            raise Problem(
                400,
                "Invalid request body",
                f"`{name}` {problem}",
                slug="invalid-body",
                invalid_params=[{"name": name, "reason": problem}],
            )


def _invalid_body(error: ValidationError) -> Problem:
    params = [
        {"name": ".".join(str(p) for p in item["loc"]) or "body", "reason": item["msg"]}
        for item in error.errors()
    ]
    detail = "; ".join(f"`{p['name']}` {p['reason']}" for p in params)
    return Problem(400, "Invalid request body", detail, slug="invalid-body", invalid_params=params)
