"""The built single-page app (``web/dist``), served at ``/`` with a history fallback."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

# API-ish prefixes never fall back to index.html: a typo there must be a 404.
MAX_PATH_LENGTH = 1024
NOT_SPA = ("api/", "internal/", "webhooks/", "openapi.json", "healthz", "readyz", "metrics")


def is_page_path(path: str) -> bool:
    """A path the SPA could have made: printable (no NUL or other control characters,
    which no file name or route holds) and of a sane length."""
    return len(path) <= MAX_PATH_LENGTH and path.isprintable()


def dist_folder() -> Path | None:
    """``LEDGER_WEB_DIST`` or the source tree's ``web/dist``, if built."""
    configured = os.environ.get("LEDGER_WEB_DIST")
    folder = (
        Path(configured) if configured else Path(__file__).resolve().parents[4] / "web" / "dist"
    )
    return folder if (folder / "index.html").is_file() else None


def routes() -> list[BaseRoute]:
    folder = dist_folder()
    if folder is None:
        return []
    index = folder / "index.html"

    async def spa(request: Request) -> Response:
        path: str = request.path_params["path"]
        if path.startswith(NOT_SPA) or not is_page_path(path):
            raise HTTPException(404, "no such page")
        try:
            candidate = (folder / path).resolve()
            is_file = bool(path) and candidate.is_file()
        except (OSError, ValueError):  # a name the file system cannot even look up
            raise HTTPException(404, "no such page") from None
        if is_file and folder.resolve() in candidate.parents:
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    mounted: list[BaseRoute] = []
    for name in ("assets", "docs"):
        if (folder / name).is_dir():
            mounted.append(Mount(f"/{name}", StaticFiles(directory=folder / name), name=name))
    return [*mounted, Route("/{path:path}", spa, methods=["GET"])]
