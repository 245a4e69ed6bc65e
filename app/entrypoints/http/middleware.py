"""Response headers every answer carries (security), no caching of API answers, and
CORS refusals answered like every other error (problem+json)."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.observability.logs import log_context
from app.entrypoints.http.problems import Problem, request_id_from

# The SPA and the docs page load only their own files; no inline scripts, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self' https:"
)


class SecurityHeaders:
    """Adds security headers to every HTTP response (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if path.startswith(("/api/", "/internal/")):
                    headers.setdefault("Cache-Control", "no-store")
                elif path.startswith("/assets/"):  # content-hashed file names
                    headers.setdefault("Cache-Control", "public, max-age=31536000, immutable")
                elif path == "/config.json":
                    headers.setdefault("Cache-Control", "no-cache")
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, with_headers)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, but a refused preflight is a problem document, not plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
        headers = {
            k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")
        }
        return Problem(
            response.status_code,
            "CORS request refused",
            f"this API does not allow the requested {refused}",
            slug="cors-refused",
            headers=headers,
        ).to_response()


class RequestId:
    """``X-Request-Id``: the caller's (if sane) or a new one, echoed on the response and
    named in problem bodies and log lines for the request's duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get("x-request-id"))

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        with log_context(request_id=request_id):
            await self.app(scope, receive, with_id)
