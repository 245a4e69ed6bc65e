"""/v1/invoiceitems: create, list, retrieve, update and delete invoice items.

Parameters follow the API reference for the pinned version (the SDK's
`InvoiceItemCreateParams`): the unit price is exactly one of `amount`, `pricing[price]`
(a one-time price), `price_data` or `unit_amount_decimal`; `quantity` multiplies the
last three. Negative amounts are credits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stripe_double import invoice_items, objects
from stripe_double.errors import StripeError, invalid, missing
from stripe_double.events import emit
from stripe_double.invoice_items import Pricing
from stripe_double.params import Params, merge_metadata
from stripe_double.router import Ctx, Route, matching, paginate, retrieve, route
from stripe_double.state import DoubleState, snapshot

_CREATE = (
    "amount currency customer customer_account description discountable discounts invoice "
    "metadata period price_data pricing quantity quantity_decimal subscription tax_behavior "
    "tax_code tax_rates unit_amount_decimal"
)
_UPDATE = (
    "amount description discountable discounts invoicing_rules metadata period price_data "
    "pricing quantity quantity_decimal tax_behavior tax_code tax_rates unit_amount_decimal"
)
_PRICE_SOURCES = ("amount", "price_data", "pricing", "unit_amount_decimal")


def _one_time_price(state: DoubleState, price_id: str, param: str) -> dict[str, Any]:
    found = state.find("price", price_id)
    if found is None:
        raise missing(price_id, param=param)
    if found["recurring"]:
        raise invalid(
            "The price specified is set to `type=recurring` but this field only accepts "
            "prices with `type=one_time`.",
            param=param,
        )
    return found


def _inline_price(state: DoubleState, data: Params) -> dict[str, Any]:
    """`price_data`: a one-time price made for this item (stored inactive, no event)."""
    data.reject_unknown("currency product tax_behavior unit_amount unit_amount_decimal")
    product_id = data.req_str("product")
    if state.find("product", product_id) is None:
        raise missing(product_id, param=data.name("product"))
    unit = data.get_int("unit_amount", minimum=0)
    unit_decimal = data.get_decimal("unit_amount_decimal")
    if (unit is None) == (unit_decimal is None):
        raise invalid(
            "Exactly one of unit_amount and unit_amount_decimal must be set.",
            param=data.name("unit_amount"),
        )
    made = objects.price(
        product_id=product_id,
        unit_amount=int(unit if unit is not None else unit_decimal or 0),
        currency=data.req_str("currency").lower(),
        recurring=None,
        created=state.scope_now(None),
        metadata={},
        nickname=None,
        lookup_key=None,
        tax_behavior=data.get_str("tax_behavior") or "unspecified",
    )
    made["active"] = False
    if unit_decimal is not None:
        made["unit_amount_decimal"] = invoice_items.decimal_text(unit_decimal)
    return state.put(made)


def _pricing(state: DoubleState, p: Params) -> tuple[Pricing, str | None] | None:
    """The unit price the params give (None: none given) and its currency, if it has one."""
    given = [name for name in _PRICE_SOURCES if p.has(name)]
    if len(given) > 1:
        raise invalid(
            "You may only specify one of these parameters: " + ", ".join(_PRICE_SOURCES) + ".",
            param=given[1],
        )
    if not given:
        return None
    if p.has("amount"):
        amount = p.get_int("amount", required=True)
        return Pricing(Decimal(int(amount or 0))), None
    if p.has("unit_amount_decimal"):
        return Pricing(p.get_decimal("unit_amount_decimal") or Decimal(0)), None
    if p.has("pricing"):
        pricing = p.get_obj("pricing")
        pricing.reject_unknown("price")
        price = _one_time_price(state, pricing.req_str("price"), pricing.name("price"))
    else:
        price = _inline_price(state, p.get_obj("price_data"))
    return Pricing(Decimal(price["unit_amount_decimal"]), price), str(price["currency"])


def _quantity(p: Params, *, default: Decimal) -> Decimal:
    if p.has("quantity") and p.has("quantity_decimal"):
        raise invalid(
            "You may only specify one of these parameters: quantity, quantity_decimal.",
            param="quantity_decimal",
        )
    if p.has("quantity_decimal"):
        value = p.get_decimal("quantity_decimal") or Decimal(0)
        if value < 0:
            raise invalid("quantity_decimal must be non-negative.", param="quantity_decimal")
        return value
    quantity = p.get_int("quantity", minimum=0)
    return default if quantity is None else Decimal(quantity)


def _period(p: Params, at: int) -> tuple[int, int]:
    if not p.has("period"):
        return at, at
    period = p.get_obj("period")
    period.reject_unknown("start end")
    start = int(period.get_int("start", required=True) or 0)
    end = int(period.get_int("end", required=True) or 0)
    if end < start:
        raise invalid(
            "The period end must be greater than or equal to the start.", param="period[end]"
        )
    return start, end


def _draft_invoice(state: DoubleState, invoice_id: str, customer_id: str) -> dict[str, Any]:
    inv = state.get("invoice", invoice_id, param="invoice")
    if inv["status"] != "draft":
        raise invalid("Invalid invoice: This invoice is no longer editable", param="invoice")
    if inv["customer"] != customer_id:
        raise invalid(
            f"The invoice {invoice_id} belongs to another customer than {customer_id}.",
            param="invoice",
        )
    return inv


def _create(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown(_CREATE)
    p.refuse_unimplemented("customer_account discounts tax_rates")
    customer = state.get("customer", p.req_str("customer"), param="customer")
    invoice_id = p.get_str("invoice")
    inv = _draft_invoice(state, invoice_id, customer["id"]) if invoice_id else None
    sub_id = p.get_str("subscription")
    if sub_id:
        sub = state.get("subscription", sub_id, param="subscription")
        if sub["customer"] != customer["id"]:
            raise invalid(
                f"The subscription {sub_id} belongs to another customer.", param="subscription"
            )
    priced = _pricing(state, p)
    if priced is None:
        raise invalid(
            "Missing required param: one of " + ", ".join(_PRICE_SOURCES) + ".",
            param="amount",
            code="parameter_missing",
        )
    pricing, price_currency = priced
    if p.has("amount") and (p.has("quantity") or p.has("quantity_decimal")):
        # `amount` is the item's total; a quantity only multiplies a unit price.
        raise invalid("quantity cannot be used with amount.", param="quantity")
    quantity = _quantity(p, default=Decimal(1))
    currency = (
        price_currency
        or (p.get_str("currency") or "").lower()
        or (inv["currency"] if inv else None)
        or customer["currency"]
    )
    if not currency:
        raise invalid(
            "Missing required param: currency.", param="currency", code="parameter_missing"
        )
    at = state.now_for(customer["id"])
    product = pricing.price["product"] if pricing.price else None
    item = state.put(
        invoice_items.new_item(
            customer=customer,
            currency=currency,
            pricing=pricing,
            quantity=quantity,
            amount=pricing.amount(quantity),
            description=p.get_str("description") or _product_name(state, product),
            metadata=p.metadata() or {},
            period=_period(p, at),
            subscription_id=sub_id or None,
            discountable=bool(p.get_bool("discountable", default=True)),
            at=at,
        )
    )
    if inv is not None:
        before = snapshot(inv)
        try:
            invoice_items.attach(state, item, inv)
        except StripeError:
            del state.objects["invoiceitem"][item["id"]]
            raise
        emit(state, "invoiceitem.created", item, at=at)
        invoice_items.emit_invoice_updated(state, inv, before, at=at)
    else:
        emit(state, "invoiceitem.created", item, at=at)
    return item


def _product_name(state: DoubleState, product_id: str | None) -> str | None:
    product = state.find("product", product_id)
    return str(product["name"]) if product else None


def _editable_item(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any] | None]:
    item = ctx.state.get("invoiceitem", ctx.arg())
    if not invoice_items.editable(ctx.state, item):
        raise invalid(
            "Invalid invoice item: this invoice item is on an invoice that is no longer editable.",
            param="id",
        )
    return item, ctx.state.find("invoice", item["invoice"])


def _update(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown(_UPDATE)
    p.refuse_unimplemented("discounts tax_rates invoicing_rules")
    item, inv = _editable_item(ctx)
    before_inv = snapshot(inv) if inv is not None else None
    priced = _pricing(state, p)
    if priced is not None and priced[1] not in (None, item["currency"]):
        raise invalid("The price's currency must match the invoice item's.", param="pricing")
    pricing = priced[0] if priced else _current_pricing(state, item)
    quantity = _quantity(p, default=Decimal(item["quantity_decimal"]))
    if p.has("amount"):
        quantity = Decimal(1)
    item.update(
        amount=pricing.amount(quantity),
        net_amount=pricing.amount(quantity),
        pricing=pricing.wire(),
        quantity=int(quantity),
        quantity_decimal=invoice_items.decimal_text(quantity),
        metadata=merge_metadata(item["metadata"], p.metadata()),
    )
    if p.has("description"):
        item["description"] = p.get_str("description") or None
    discountable = p.get_bool("discountable")
    if discountable is not None:
        item["discountable"] = discountable
    if p.has("period"):
        start, end = _period(p, 0)
        item["period"] = {"end": end, "start": start}
    if inv is not None and before_inv is not None:
        invoice_items.refresh_line(state, item, inv)
        invoice_items.emit_invoice_updated(
            state, inv, before_inv, at=state.now_for(inv["customer"])
        )
    return item


def _current_pricing(state: DoubleState, item: dict[str, Any]) -> Pricing:
    details = item["pricing"]["price_details"]
    price = state.find("price", details["price"]) if details else None
    return Pricing(Decimal(item["pricing"]["unit_amount_decimal"]), price)


def _delete(ctx: Ctx) -> dict[str, Any]:
    """Only pending items and items on a draft can be deleted."""
    state = ctx.state
    item, inv = _editable_item(ctx)
    at = state.now_for(item["customer"])
    if inv is not None:
        before = snapshot(inv)
        invoice_items.detach(state, item, inv)
        invoice_items.emit_invoice_updated(state, inv, before, at=at)
    del state.objects["invoiceitem"][item["id"]]
    emit(state, "invoiceitem.deleted", item, at=at)
    return {"id": item["id"], "object": "invoiceitem", "deleted": True}


def _list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    found = matching(ctx.state.newest_first("invoiceitem"), p, "customer invoice")
    pending = p.get_bool("pending")
    if pending is not None:
        found = [item for item in found if (item["invoice"] is None) == pending]
    return paginate(ctx, found, "/v1/invoiceitems")


ROUTES: list[Route] = [
    route("POST", "/v1/invoiceitems", _create),
    route("GET", "/v1/invoiceitems", _list),
    route("GET", "/v1/invoiceitems/{id}", retrieve("invoiceitem")),
    route("POST", "/v1/invoiceitems/{id}", _update),
    route("DELETE", "/v1/invoiceitems/{id}", _delete),
]
