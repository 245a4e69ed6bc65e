"""Response and request models of the routes that predate the organizer API (health,
webhooks, platform intake, audit trail, time travel, the SPA's config), for the OpenAPI
document. Request bodies are the models that validate them (``GroupChangeBatch``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.entrypoints.http.openapi import (
    INSTANT,
    LOG_CURSOR,
    Operation,
    limit_param,
    path_param,
    query_param,
)
from app.services.audit.entries import DEFAULT_LIMIT, MAX_LIMIT
from app.services.intake.group_changes import GroupChangeBatch
from app.services.organizers.state import OrganizerState


class Health(BaseModel):
    status: Literal["ok", "ready"]


class WebhookAck(BaseModel):
    status: Literal["accepted", "duplicate"]
    event_id: str


class SpaConfig(BaseModel):
    """``GET /config.json``: what the SPA needs before it can call the API."""

    signInUrl: str = Field(description="Where the platform signs organizers in")
    apiBase: str = Field(description="The API's origin; empty for this one")


class GroupChangeResult(BaseModel):
    index: int
    change_id: str | None
    outcome: Literal["applied", "duplicate", "stale", "rejected"]
    reason: str | None = None
    effect: Literal["reaffirmed"] | None = None


class GroupChangeSummary(BaseModel):
    applied: int
    duplicate: int
    stale: int
    rejected: int


class GroupChangeResults(BaseModel):
    results: list[GroupChangeResult]
    summary: GroupChangeSummary


class AuditEntry(BaseModel):
    position: int
    seq: int
    organizer_uuid: str
    organizer_id: str
    occurred_at: str
    recorded_at: str
    kind: str
    group_id: str | None
    quantity: int | None
    amount: int | None
    currency: str | None
    subscription_id: str | None
    invoice_id: str | None
    stripe_event_id: str | None
    cause: str
    details: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    next_cursor: str | None


OPERATIONS = [
    Operation(
        "get",
        "/healthz",
        "healthz",
        "200 while the process is up",
        "health",
        Health,
        errors=(),
        security="none",
    ),
    Operation(
        "get",
        "/readyz",
        "readyz",
        "200 when the store answers and is migrated",
        "health",
        Health,
        errors=(503,),
        security="none",
    ),
    Operation(
        "post",
        "/webhooks/stripe",
        "stripeWebhook",
        "A Stripe event delivery, stored before answering",
        "intake",
        WebhookAck,
        errors=(400, 413, 503),
        security="stripe-signature",
    ),
    Operation(
        "post",
        "/internal/group-changes",
        "groupChanges",
        "Up to 1,000 platform group changes; one outcome per item",
        "intake",
        GroupChangeResults,
        body=GroupChangeBatch,
        errors=(400, 401, 413, 503),
        security="service",
    ),
    Operation(
        "get",
        "/api/audit/entries",
        "listAuditEntries",
        "Audit entries recorded in [from, to), in log order, cursor-paged",
        "finance",
        AuditPage,
        roles="finance, ops",
        errors=(400, 401, 403, 503),
        params=(
            query_param("organizer_id", {"type": "string"}),
            query_param("from", INSTANT, "recorded at or after"),
            query_param("to", INSTANT, "recorded before"),
            query_param("cursor", LOG_CURSOR, "next_cursor of the previous page"),
            limit_param(default=DEFAULT_LIMIT, maximum=MAX_LIMIT),
        ),
    ),
    Operation(
        "get",
        "/api/organizers/{organizer_id}/state",
        "getOrganizerState",
        "The organizer as the event store knew it, now or as of an instant",
        "finance",
        OrganizerState,
        roles="the organizer itself, finance, ops",
        errors=(400, 401, 403, 404, 503),
        params=(path_param("organizer_id"), query_param("as_of", INSTANT)),
    ),
    Operation(
        "get",
        "/config.json",
        "getSpaConfig",
        "Where the SPA signs in and calls the API",
        "spa",
        SpaConfig,
        errors=(),
        security="none",
    ),
]
