"""Request helpers shared by routes: bounded bodies, JSON, service-token auth."""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from starlette.requests import Request

from app.entrypoints.http.problems import Problem


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body, refusing (413) anything over ``limit`` bytes without buffering it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            raise Problem(400, "Bad request", "Content-Length is not a number") from None
        if declared_size > limit:
            raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> Problem:
    return Problem(
        413, "Payload too large", f"the body exceeds {limit} bytes", slug="payload-too-large"
    )


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Problem(
            400, "Malformed JSON", f"the body is not JSON: {error}", slug="malformed-json"
        ) from None


def require_service_token(request: Request, expected: str | None) -> None:
    """Bearer service token, compared in constant time; 401 otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if (
        expected is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(token.strip().encode(), expected.encode())
    ):
        raise Problem(
            401,
            "Unauthorized",
            "a valid service token is required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": 'Bearer realm="ledger-internal"'},
        )
