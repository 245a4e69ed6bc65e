"""The OpenAPI 3.1 document, generated from the same pydantic models the routes use.

Each route module declares its ``Operation``s next to its routes; pydantic writes every
JSON Schema (``models_json_schema``), this module only arranges them into paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

Security = Literal["bearer", "service", "stripe-signature", "none"]
# Opaque paging cursors: only values the API handed out are valid. The formats name them
# so clients (and the contract test) know a cursor is not just any string.
LOG_CURSOR = {"type": "string", "format": "log-cursor", "pattern": "^[A-Za-z0-9_-]+$"}
OPS_CURSOR = {"type": "string", "format": "ops-cursor", "pattern": "^[A-Za-z0-9_-]+$"}
TIMELINE_CURSOR = {"type": "string", "format": "timeline-cursor", "pattern": "^[A-Za-z0-9_-]+$"}
RENEWALS_CURSOR = {"type": "string", "format": "renewals-cursor", "pattern": "^[A-Za-z0-9_-]+$"}
INVOICES_CURSOR = {"type": "string", "format": "invoices-cursor", "pattern": "^[A-Za-z0-9_-]+$"}
# An instant query parameter: ISO 8601 with an offset, inside the ledger's range
# (domain/limits.py: 1970 to 9000 UTC; the years below stay inside it at any offset).
INSTANT = {
    "type": "string",
    "format": "date-time",
    "pattern": "^(197[1-9]|19[89][0-9]|[2-8][0-9]{3})-",
    "description": "ISO 8601 with Z or an offset, years 1971 to 8999",
}
ERROR_TITLES = {
    400: "Invalid request",
    401: "Missing, expired or invalid credentials",
    403: "Not allowed for this role",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Payload too large",
    503: "Store unavailable; retry later",
}


class InvalidParam(BaseModel):
    name: str
    reason: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: every error this service answers."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = Field(default=None, description="quote it to support")
    invalid_params: list[InvalidParam] | None = Field(default=None)


@dataclass(frozen=True)
class Param:
    name: str
    location: Literal["query", "path"]
    schema: Mapping[str, Any]
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Operation:
    method: Literal["get", "post"]
    path: str
    operation_id: str
    summary: str
    tag: str
    response: type[BaseModel] | None
    status: int = 200
    also: tuple[int, ...] = ()  # other success statuses, same body
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    errors: tuple[int, ...] = (400, 401, 403, 404)
    security: Security = "bearer"
    roles: str = ""
    # Non-JSON success bodies (e.g. CSV exports): media type → schema.
    raw_content: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def path_param(name: str, description: str = "") -> Param:
    return Param(name, "path", {"type": "string", "minLength": 1}, True, description)


def query_param(name: str, schema: Mapping[str, Any], description: str = "") -> Param:
    return Param(name, "query", schema, False, description)


def limit_param(*, default: int, maximum: int) -> Param:
    """A page size, documented from the numbers its route's parser enforces."""
    schema = {"type": "integer", "minimum": 1, "maximum": maximum, "default": default}
    return query_param("limit", schema)


def api_version() -> str:
    """The document's ``info.version``: the installed package's version."""
    try:
        return version("renewal-ledger")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0"


def openapi_document(operations: Iterable[Operation], *, version: str) -> dict[str, Any]:
    """The whole document for these operations."""
    operations = list(operations)
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (ProblemDetails, "serialization")
    ]
    for operation in operations:
        if operation.response is not None:
            models.append((operation.response, "serialization"))
        if operation.body is not None:
            models.append((operation.body, "validation"))
    refs, top = models_json_schema(
        list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method] = _operation(operation, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Renewal Ledger API",
            "version": version,
            "description": "Per-group Stripe renewals: organizers' billing, finance's audit "
            "trail and operators' tools. Errors are RFC 9457 problem+json.",
        },
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "service": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "LEDGER_SERVICE_TOKEN",
                },
                "stripe-signature": {"type": "apiKey", "in": "header", "name": "Stripe-Signature"},
            },
        },
    }


def _operation(operation: Operation, refs: Mapping[Any, Any]) -> dict[str, Any]:
    problem = refs[(ProblemDetails, "serialization")]
    success: dict[str, Any] = {"description": operation.summary}
    if operation.response is not None:
        success["content"] = {
            "application/json": {"schema": refs[(operation.response, "serialization")]}
        }
    elif operation.raw_content:
        success["content"] = {
            media: {"schema": dict(schema)} for media, schema in operation.raw_content.items()
        }
    responses: dict[str, Any] = {
        str(status): success for status in (operation.status, *operation.also)
    }
    for status in operation.errors:
        responses[str(status)] = {
            "description": ERROR_TITLES.get(status, "Error"),
            "content": {"application/problem+json": {"schema": problem}},
        }
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required,
                "schema": dict(p.schema),
                **({"description": p.description} if p.description else {}),
            }
            for p in operation.params
        ],
        "responses": responses,
    }
    if operation.roles:
        document["description"] = f"Roles: {operation.roles}."
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(operation.body, "validation")]}},
        }
    if operation.security != "none":
        document["security"] = [{operation.security: []}]
    return document
