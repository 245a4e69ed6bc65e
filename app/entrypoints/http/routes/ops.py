"""Operators' API: failed quantity syncs, their retry, and mismatched renewal drafts.

- ``GET /api/ops/sync-failures[?include_retrying=true][&include_retried=true]``
  (finance, ops)
- ``POST /api/ops/sync-failures/{sync_id}/retry`` → 202 ``{"sync_id", "retry_of", "status"}``
  (ops)
- ``GET /api/ops/draft-mismatches`` (finance, ops)
- ``GET /api/ops/duplicate-subscriptions`` (finance, ops): organizers' second live
  subscriptions, never synced (issue 13, projections/duplicates.py)
- ``GET /api/ops/renewals-at-risk`` (finance, ops): renewals that may bill other than the
  groups active at their instant, each with its reason (projections/renewal_risks.py)

Lists page like ``/api/audit/entries`` (``limit``, ``cursor``; ``{"entries", "next_cursor"}``).
See docs/operations.md.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.bootstrap import Container
from app.entrypoints.http.auth import require_staff
from app.entrypoints.http.openapi import OPS_CURSOR, Operation, limit_param, path_param, query_param
from app.entrypoints.http.problems import Problem
from app.entrypoints.http.routes.audit import limit_of
from app.entrypoints.http.routes.params import (
    in_thread,
    invalid_parameter,
    query_cursor,
    query_text,
)
from app.services.audit.entries import DEFAULT_LIMIT, MAX_LIMIT, Page
from app.services.ops.at_risk import read_at_risk
from app.services.ops.drafts import read_drafts
from app.services.ops.duplicates import read_duplicates
from app.services.ops.failures import FailureFilter, read_failures
from app.services.ops.paging import TextKey, decode_cursor
from app.services.ops.retry import (
    RetryRequested,
    SyncNotRetryableError,
    UnknownSyncError,
    request_retry,
)

_BOOLEANS = {"true": True, "false": False}


class SyncFailure(BaseModel):
    """A quantity sync Stripe refused (or still refuses, when ``retrying``)."""

    model_config = ConfigDict(frozen=True)

    sync_id: str
    organizer_id: str
    subscription_id: str
    item_id: str
    quantity: int
    previous_quantity: int
    period_end: str
    trigger: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    requested_at: str
    updated_at: str
    later_sync_id: str | None
    later_sync_status: str | None


class SyncFailures(BaseModel):
    entries: list[SyncFailure]
    next_cursor: str | None


class DraftMismatch(BaseModel):
    """A renewal draft billed at another quantity than the groups active at its start."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    organizer_id: str
    subscription_id: str
    period_start: str
    billed_quantity: int
    expected_quantity: int
    reported_at: str


class DraftMismatches(BaseModel):
    entries: list[DraftMismatch]
    next_cursor: str | None


class DuplicateSubscription(BaseModel):
    """A second live subscription of an organizer: reported, never synced nor corrected."""

    model_config = ConfigDict(frozen=True)

    subscription_id: str
    organizer_id: str
    primary_subscription_id: str
    customer_id: str
    found_at: str


class DuplicateSubscriptions(BaseModel):
    entries: list[DuplicateSubscription]
    next_cursor: str | None


class RenewalAtRisk(BaseModel):
    """A renewal that may bill other than its groups, and why (issue 10)."""

    model_config = ConfigDict(frozen=True)

    organizer_id: str
    subscription_id: str | None
    kind: str
    subject: str
    renewal_at: str | None
    status: str | None
    reason: str
    since: str


class RenewalsAtRisk(BaseModel):
    entries: list[RenewalAtRisk]
    next_cursor: str | None


class RetryAccepted(BaseModel):
    sync_id: str
    retry_of: str
    status: str


PAGING = (
    query_param("cursor", OPS_CURSOR, "next_cursor of the previous page"),
    limit_param(default=DEFAULT_LIMIT, maximum=MAX_LIMIT),
)
OPERATIONS = [
    Operation(
        "get",
        "/api/ops/sync-failures",
        "listSyncFailures",
        "Failed quantity syncs that no newer sync follows, oldest request first",
        "ops",
        SyncFailures,
        roles="finance, ops",
        errors=(400, 401, 403, 503),
        params=(
            query_param("include_retrying", {"type": "boolean"}, "also syncs still retried"),
            query_param("include_retried", {"type": "boolean"}, "also failures followed since"),
            *PAGING,
        ),
    ),
    Operation(
        "post",
        "/api/ops/sync-failures/{sync_id}/retry",
        "retrySyncFailure",
        "Request a new sync (new idempotency key) for a failed one; the worker sends it",
        "ops",
        RetryAccepted,
        status=202,
        roles="ops",
        errors=(401, 403, 404, 409, 503),
        params=(path_param("sync_id", "a failed sync's id"),),
    ),
    Operation(
        "get",
        "/api/ops/draft-mismatches",
        "listDraftMismatches",
        "Renewal drafts billed at an unexpected quantity, oldest report first",
        "ops",
        DraftMismatches,
        roles="finance, ops",
        errors=(400, 401, 403, 503),
        params=PAGING,
    ),
    Operation(
        "get",
        "/api/ops/duplicate-subscriptions",
        "listDuplicateSubscriptions",
        "Organizers' second live subscriptions (never synced nor corrected), oldest first",
        "ops",
        DuplicateSubscriptions,
        roles="finance, ops",
        errors=(400, 401, 403, 503),
        params=PAGING,
    ),
    Operation(
        "get",
        "/api/ops/renewals-at-risk",
        "listRenewalsAtRisk",
        "Renewals that may bill other than the groups active at their instant, with the"
        " reason: a sync unconfirmed by period end - LEDGER_SYNC_LEAD, drift with no sync,"
        " a renewal invoice correction not confirmed, an invoice left uncorrected",
        "ops",
        RenewalsAtRisk,
        roles="finance, ops",
        errors=(400, 401, 403, 503),
        params=PAGING,
    ),
]


def flag_of(request: Request, name: str) -> bool:
    """``true``/``false`` (absent or empty: false); anything else is a 400 naming it."""
    text = query_text(request, name)
    if text is None:
        return False
    if text not in _BOOLEANS:
        raise invalid_parameter(name, "must be `true` or `false`")
    return _BOOLEANS[text]


def cursor_of(request: Request) -> TextKey | None:
    return query_cursor(request, decode_cursor)


def json_response(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def page_of(
    model: type[SyncFailures]
    | type[DraftMismatches]
    | type[RenewalsAtRisk]
    | type[DuplicateSubscriptions],
    page: Page,
) -> Response:
    """A page as its documented model (validated, so the OpenAPI schema cannot drift)."""
    return json_response(model.model_validate(vars(page)))


def routes(container: Container) -> list[BaseRoute]:
    settings = container.settings

    async def sync_failures(request: Request) -> Response:
        """One page of failed (and, if asked, retrying or retried) syncs, oldest first."""
        require_staff(request, settings, "finance", "ops")
        failure_filter = FailureFilter(
            include_retrying=flag_of(request, "include_retrying"),
            include_retried=flag_of(request, "include_retried"),
        )
        after, limit = cursor_of(request), limit_of(request)
        page = await in_thread(
            read_failures, container.database, failure_filter, after=after, limit=limit
        )
        return page_of(SyncFailures, page)

    async def retry_sync(request: Request) -> Response:
        """202 with the new sync; 404 unknown id; 409 when the sync is not an open failure."""
        require_staff(request, settings, "ops")
        sync_id: str = request.path_params["sync_id"]
        try:
            retry = await in_thread(_retry, container, sync_id)
        except UnknownSyncError:
            raise Problem(
                404, "Sync not found", f"no quantity sync {sync_id!r}", slug="sync-not-found"
            ) from None
        except SyncNotRetryableError as error:
            raise Problem(
                409,
                "Sync not retryable",
                str(error),
                slug="sync-not-retryable",
                sync_id=sync_id,
                sync_status=error.status,
                later_sync_id=error.later_sync_id,
            ) from None
        return json_response(RetryAccepted(**retry.as_json()), status=202)

    async def draft_mismatches(request: Request) -> Response:
        """One page of renewal drafts billed at an unexpected quantity, oldest first."""
        require_staff(request, settings, "finance", "ops")
        after, limit = cursor_of(request), limit_of(request)
        page = await in_thread(read_drafts, container.database, after=after, limit=limit)
        return page_of(DraftMismatches, page)

    async def duplicate_subscriptions(request: Request) -> Response:
        """One page of open duplicate subscriptions, oldest first."""
        require_staff(request, settings, "finance", "ops")
        after, limit = cursor_of(request), limit_of(request)
        page = await in_thread(read_duplicates, container.database, after=after, limit=limit)
        return page_of(DuplicateSubscriptions, page)

    async def renewals_at_risk(request: Request) -> Response:
        """One page of renewals at risk now, oldest renewal first."""
        require_staff(request, settings, "finance", "ops")
        after, limit = cursor_of(request), limit_of(request)
        page = await in_thread(
            read_at_risk,
            container.database,
            container.clock(),
            settings.sync_lead,
            after=after,
            limit=limit,
        )
        return page_of(RenewalsAtRisk, page)

    return [
        Route("/api/ops/renewals-at-risk", renewals_at_risk, methods=["GET"]),
        Route("/api/ops/sync-failures", sync_failures, methods=["GET"]),
        Route("/api/ops/sync-failures/{sync_id}/retry", retry_sync, methods=["POST"]),
        Route("/api/ops/draft-mismatches", draft_mismatches, methods=["GET"]),
        Route("/api/ops/duplicate-subscriptions", duplicate_subscriptions, methods=["GET"]),
    ]


def _retry(container: Container, sync_id: str) -> RetryRequested:
    # ``container.ledger`` may check readiness against the store on first use: in the
    # thread too.
    return request_retry(container.database, container.ledger, sync_id)
