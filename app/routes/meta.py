"""The API's description of itself (``/openapi.json``, ``/docs``) and the SPA's config."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.api.openapi import Operation, openapi_document
from app.bootstrap import Container

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Renewal Ledger API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>
"""
DOCS_INIT = "window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui'});\n"


def _version() -> str:
    try:
        return version("renewal-ledger")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0"


def routes(container: Container, operations: Sequence[Operation]) -> list[BaseRoute]:
    document = openapi_document(operations, version=_version())

    async def openapi(_: Request) -> Response:
        return JSONResponse(document)

    async def docs(_: Request) -> Response:
        return HTMLResponse(DOCS_PAGE)

    async def docs_init(_: Request) -> Response:
        # Served as a file, not inline, so the CSP can forbid inline scripts.
        return Response(DOCS_INIT, media_type="text/javascript")

    async def spa_config(_: Request) -> Response:
        return JSONResponse({"signInUrl": container.settings.sign_in_url, "apiBase": ""})

    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/docs/init.js", docs_init, methods=["GET"]),
        Route("/config.json", spa_config, methods=["GET"]),
    ]
