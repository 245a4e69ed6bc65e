"""``POST /internal/group-changes``: the platform's group changes, in batches.

Authenticated with the service token. The body is checked as a whole (size, JSON,
a ``changes`` array of at most 1,000: :class:`GroupChangeBatch`, the model /openapi.json
documents), then each item on its own in :mod:`app.services.intake.group_changes`, which reports
one outcome per item.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from app.bootstrap import Container
from app.entrypoints.http.contract import GroupChangeResults
from app.entrypoints.http.problems import Problem
from app.entrypoints.http.requests import parse_json, read_body, require_service_token
from app.services.intake.group_changes import (
    MAX_CHANGES_PER_REQUEST,
    RETRY_LATER_ERRORS,
    GroupChangeBatch,
    ItemResult,
    process_batch,
    summarize,
)

log = logging.getLogger("ledger.group_changes")
# 1,000 changes of four 200-character fields fit well below this.
MAX_BODY_BYTES = 2 * 1024 * 1024


def changes_of(payload: Any) -> list[Any]:
    """The ``changes`` array of a parsed body (checked by the model that documents it,
    :class:`GroupChangeBatch`), or a 400/413 problem."""
    try:
        return list(GroupChangeBatch.model_validate(payload).changes)
    except ValidationError as error:
        if any(e["type"] == "too_long" for e in error.errors()):
            raise Problem(
                413,
                "Too many changes",
                f"{len(payload['changes'])} changes; at most {MAX_CHANGES_PER_REQUEST} per request",
                slug="too-many-changes",
            ) from None
        raise Problem(
            400,
            "Invalid request",
            "the body must be a JSON object with a `changes` array",
            slug="invalid-request",
            invalid_params=[{"name": "changes", "reason": "must be an array"}],
        ) from None


def results_body(results: list[ItemResult]) -> bytes:
    """The 200 body, built as its documented model (``reason`` and ``effect`` only when set)."""
    body = GroupChangeResults.model_validate(
        {"results": [r.as_json() for r in results], "summary": summarize(results)}
    )
    return body.model_dump_json(exclude_unset=True).encode()


def routes(container: Container) -> list[BaseRoute]:
    async def receive_group_changes(request: Request) -> Response:
        """Apply a batch of group changes; 200 with one outcome per item, in order."""
        token = container.settings.service_token
        require_service_token(request, None if token is None else token.get_secret_value())
        changes = changes_of(parse_json(await read_body(request, limit=MAX_BODY_BYTES)))
        try:
            # eventsourcing is synchronous: keep its I/O off the event loop.
            results = await run_in_threadpool(_apply, container, changes)
        except RETRY_LATER_ERRORS as error:
            log.warning("group changes not applied: %s", error)
            # Organizers saved before the failure stay saved; the platform's retry of
            # the whole batch is harmless because change ids are idempotent.
            raise Problem(
                503,
                "Store unavailable",
                "the ledger could not record the changes; retry the batch",
                slug="store-unavailable",
                headers={"Retry-After": "5"},
            ) from error
        return Response(results_body(results), media_type="application/json")

    return [Route("/internal/group-changes", receive_group_changes, methods=["POST"])]


def _apply(container: Container, changes: list[Any]) -> list[ItemResult]:
    # ``container.ledger`` may check readiness against the store on first use: in the
    # thread too.
    return process_batch(container.ledger, changes)
