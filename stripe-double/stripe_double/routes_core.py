"""/v1/products and /v1/prices."""

from __future__ import annotations

from typing import Any

from stripe_double import objects, tiers
from stripe_double.errors import invalid, missing
from stripe_double.events import emit
from stripe_double.periods import INTERVALS
from stripe_double.router import Ctx, Route, list_kind, retrieve, route
from stripe_double.state import DoubleState


def create_product(
    state: DoubleState, *, name: str, metadata: dict[str, str], description: str | None = None
) -> dict[str, Any]:
    """Store a product and emit `product.created` (also used by `/_double/seed`)."""
    at = state.scope_now(None)
    prod = state.put(
        objects.product(
            name=name, created=at, metadata=metadata, description=description, active=True
        )
    )
    emit(state, "product.created", prod, at=at)
    return prod


def create_price(
    state: DoubleState,
    *,
    product_id: str,
    unit_amount: int,
    currency: str,
    interval: str | None,
    interval_count: int = 1,
    metadata: dict[str, str] | None = None,
    nickname: str | None = None,
    lookup_key: str | None = None,
    tax_behavior: str = "unspecified",
    tiers_mode: str | None = None,
    tiers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Store a price and emit `price.created` (also used by `/_double/seed`)."""
    if state.find("product", product_id) is None:
        raise missing(product_id, param="product")
    recurring = None
    if interval is not None:
        if interval not in INTERVALS:
            raise invalid(
                f"Invalid recurring[interval]: must be one of {', '.join(INTERVALS)}",
                param="recurring[interval]",
            )
        recurring = {
            "interval": interval,
            "interval_count": interval_count,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    at = state.scope_now(None)
    created = objects.price(
        product_id=product_id,
        unit_amount=unit_amount,
        currency=currency.lower(),
        recurring=recurring,
        created=at,
        metadata=metadata or {},
        nickname=nickname,
        lookup_key=lookup_key,
        tax_behavior=tax_behavior,
        tiers_mode=tiers_mode,
        tiers=tiers,
    )
    state.put(created)
    emit(state, "price.created", created, at=at)
    return created


def _create_product(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    p.reject_unknown("name metadata description active tax_code")
    return create_product(
        ctx.state,
        name=p.req_str("name"),
        metadata=p.metadata() or {},
        description=p.get_str("description"),
    )


def _list_products(ctx: Ctx) -> dict[str, Any]:
    return list_kind(ctx, "product", "/v1/products", "active")


def _create_price(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    p.reject_unknown(
        "unit_amount currency recurring product product_data metadata nickname lookup_key "
        "tax_behavior active billing_scheme tiers_mode tiers"
    )
    product_id = p.get_str("product")
    if not product_id:
        product_data = p.get_obj("product_data")
        product_id = create_product(ctx.state, name=product_data.req_str("name"), metadata={})["id"]
    recurring = p.get_obj("recurring")
    tiered = p.get_enum("billing_scheme", ("per_unit", "tiered")) == "tiered"
    if tiered and p.has("unit_amount"):
        raise invalid("unit_amount cannot be set for a tiered price.", param="unit_amount")
    tiers_mode = p.get_enum("tiers_mode", tiers.TIERS_MODES) if tiered else None
    if tiered and tiers_mode is None:
        raise invalid("tiers_mode is required when billing_scheme is tiered.", param="tiers_mode")
    amount = None if tiered else p.get_int("unit_amount", required=True, minimum=0)
    return create_price(
        ctx.state,
        product_id=product_id,
        unit_amount=int(amount or 0),
        currency=p.req_str("currency"),
        interval=recurring.get_str("interval", required=p.has("recurring")),
        interval_count=recurring.get_int("interval_count", minimum=1) or 1,
        metadata=p.metadata(),
        nickname=p.get_str("nickname"),
        lookup_key=p.get_str("lookup_key"),
        tax_behavior=p.get_enum(
            "tax_behavior", ("exclusive", "inclusive", "unspecified"), default="unspecified"
        )
        or "unspecified",
        tiers_mode=tiers_mode,
        tiers=tiers.parse_tiers(p) if tiered else None,
    )


def _list_prices(ctx: Ctx) -> dict[str, Any]:
    return list_kind(ctx, "price", "/v1/prices", "product active currency")


ROUTES: list[Route] = [
    route("POST", "/v1/products", _create_product),
    route("GET", "/v1/products", _list_products),
    route("GET", "/v1/products/{id}", retrieve("product")),
    route("POST", "/v1/prices", _create_price),
    route("GET", "/v1/prices", _list_prices),
    route("GET", "/v1/prices/{id}", retrieve("price")),
]
