"""The /v1 route table, handler context and Stripe-style list pagination."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from stripe_double.errors import invalid
from stripe_double.objects import list_object
from stripe_double.params import Params
from stripe_double.state import DoubleState, snapshot


@dataclass
class Ctx:
    """What a handler sees: state (already locked), params, path ids and the base URL."""

    state: DoubleState
    params: Params
    args: tuple[str, ...]
    base_url: str

    def arg(self, index: int = 0) -> str:
        """The `index`-th id captured from the URL path."""
        return self.args[index]


Handler = Callable[[Ctx], dict[str, Any]]


class Route(NamedTuple):
    """`method` + full-match regex on the path; groups become `Ctx.args`."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, path: str, handler: Handler) -> Route:
    """Declare a route; `{id}` in `path` captures one path segment."""
    return Route(method, re.compile(path.replace("{id}", "([^/]+)")), handler)


def retrieve(kind: str) -> Handler:
    """A handler answering `GET .../{id}` with the stored object of `kind`."""

    def handler(ctx: Ctx) -> dict[str, Any]:
        return ctx.state.get(kind, ctx.arg())

    return handler


def find_route(
    routes: list[Route], method: str, path: str
) -> tuple[Handler, tuple[str, ...]] | None:
    """The handler and captured ids for a request, if any route matches."""
    for candidate in routes:
        if candidate.method == method:
            match = candidate.pattern.fullmatch(path)
            if match:
                return candidate.handler, match.groups()
    return None


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def matching(objs: list[dict[str, Any]], params: Params, fields: str) -> list[dict[str, Any]]:
    """Keep objects whose fields equal each filter param sent (`fields`: space-separated)."""
    wanted = {f: params.get_str(f) for f in fields.split()}
    filters = {f: v for f, v in wanted.items() if v is not None}
    return [o for o in objs if all(_wire(o.get(f)) == v for f, v in filters.items())]


def list_kind(ctx: Ctx, kind: str, url: str, filters: str = "") -> dict[str, Any]:
    """A paginated list of `kind`, filtered by equality on the `filters` params."""
    return paginate(ctx, matching(ctx.state.newest_first(kind), ctx.params, filters), url)


def paginate(ctx: Ctx, objs: list[dict[str, Any]], url: str) -> dict[str, Any]:
    """Slice newest-first `objs` by `limit` (1..100, default 10), `starting_after`,
    `ending_before`, and wrap them in a list object with `has_more`."""
    params = ctx.params
    limit = params.get_int("limit")
    limit = 10 if limit is None else limit
    if not 1 <= limit <= 100:
        raise invalid(
            f"Invalid limit: must be between 1 and 100 (got {limit}).",
            param="limit",
            code="parameter_invalid_integer",
        )
    ids = [str(o["id"]) for o in objs]
    after = params.get_str("starting_after")
    before = params.get_str("ending_before")
    for cursor, name in ((after, "starting_after"), (before, "ending_before")):
        if cursor and cursor not in ids:
            raise invalid(f"No such object: '{cursor}'", param=name, code="resource_missing")
    if after:
        window = objs[ids.index(after) + 1 :]
        page, has_more = window[:limit], len(window) > limit
    elif before:
        window = objs[: ids.index(before)]
        page, has_more = window[-limit:], len(window) > limit
    else:
        page, has_more = objs[:limit], len(objs) > limit
    return list_object([snapshot(o) for o in page], url, has_more=has_more)
