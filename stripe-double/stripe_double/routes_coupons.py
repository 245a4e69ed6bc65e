"""/v1/coupons: create and retrieve (discounts.py)."""

from __future__ import annotations

from typing import Any

from stripe_double import discounts
from stripe_double.router import Ctx, Route, route


def _create(ctx: Ctx) -> dict[str, Any]:
    return discounts.create_coupon(ctx.state, ctx.params)


def _retrieve(ctx: Ctx) -> dict[str, Any]:
    return discounts.coupon(ctx.state, ctx.arg())


ROUTES: list[Route] = [
    route("POST", "/v1/coupons", _create),
    route("GET", "/v1/coupons/{id}", _retrieve),
]
