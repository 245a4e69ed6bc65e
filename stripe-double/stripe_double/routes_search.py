"""``GET /v1/customers/search`` and ``GET /v1/subscriptions/search``: Stripe's search
over metadata, the one clause the ledger sends (``metadata['key']:'value'``).

Stripe's search answers ``{"object": "search_result", ...}`` pages with ``next_page``;
any other query clause is refused here (a 400, as Stripe refuses a malformed query)
rather than answered wrongly. Stripe's index lags writes by up to a minute; the double's
does not.
"""

from __future__ import annotations

import re
from typing import Any

from stripe_double.errors import invalid
from stripe_double.router import Ctx, Route, route

_METADATA_CLAUSE = re.compile(r"""\s*metadata\[(['"])([^'"]+)\1\]\s*:\s*(['"])([^'"]*)\3\s*""")


def _metadata_query(query: str | None) -> tuple[str, str]:
    match = _METADATA_CLAUSE.fullmatch(query or "")
    if match is None:
        raise invalid(
            "The double's search understands one clause: metadata['key']:'value'.",
            param="query",
        )
    return match.group(2), match.group(4)


def _search(kind: str, url: str) -> Any:
    def handler(ctx: Ctx) -> dict[str, Any]:
        ctx.params.reject_unknown("query limit page expand")
        key, value = _metadata_query(ctx.params.get_str("query"))
        limit = ctx.params.get_int("limit", minimum=1) or 10
        found = [
            obj
            for obj in ctx.state.newest_first(kind)
            if (obj.get("metadata") or {}).get(key) == value and not obj.get("deleted")
        ]
        return {
            "object": "search_result",
            "data": found[:limit],
            "has_more": len(found) > limit,
            "next_page": None,
            "url": url,
        }

    return handler


# Before the ``/{id}`` routes: ``search`` would otherwise be read as an id.
ROUTES: list[Route] = [
    route("GET", "/v1/customers/search", _search("customer", "/v1/customers/search")),
    route("GET", "/v1/subscriptions/search", _search("subscription", "/v1/subscriptions/search")),
]
