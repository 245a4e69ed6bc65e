"""The API's description of itself (``/openapi.json``, ``/docs``) and the SPA's config."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.bootstrap import Container
from app.entrypoints.http.contract import SpaConfig
from app.entrypoints.http.openapi import Operation, api_version, openapi_document

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


def routes(container: Container, operations: Sequence[Operation]) -> list[BaseRoute]:
    document = openapi_document(operations, version=api_version())

    async def openapi(_: Request) -> Response:
        return JSONResponse(document)

    async def docs(_: Request) -> Response:
        return HTMLResponse(DOCS_PAGE)

    async def docs_init(_: Request) -> Response:
        # Served as a file, not inline, so the CSP can forbid inline scripts.
        return Response(DOCS_INIT, media_type="text/javascript")

    async def spa_config(_: Request) -> Response:
        config = SpaConfig(signInUrl=container.settings.sign_in_url, apiBase="")
        return JSONResponse(config.model_dump())

    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Route("/docs/init.js", docs_init, methods=["GET"]),
        Route("/config.json", spa_config, methods=["GET"]),
    ]
