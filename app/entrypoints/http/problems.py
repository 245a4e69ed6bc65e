"""RFC 9457 problem details: every HTTP error this service returns has this shape."""

from __future__ import annotations

import re
import uuid
from typing import Any

import orjson
from starlette.responses import Response

from adapters.observability.logs import context_field

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://renewal-ledger.invalid/problems/"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str | None:
    """Set per request by app.entrypoints.http.middleware.RequestId (as a log context field):
    every problem body names it, so a caller can quote it and an operator find the request's
    log lines."""
    return context_field("request_id")


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-Id`` when it is a sane token, else a fresh one."""
    if header is not None and _CLIENT_REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extensions = extensions

    def to_response(self, instance: str | None = None) -> Response:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        request_id = current_request_id()
        if request_id is not None:
            body["request_id"] = request_id
        body.update(self.extensions)
        return Response(
            orjson.dumps(body),
            status_code=self.status,
            media_type=PROBLEM_MEDIA_TYPE,
            headers=self.headers,
        )
