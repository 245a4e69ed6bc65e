"""/v1/invoices: list, retrieve, lines and create_preview."""

from __future__ import annotations

from typing import Any

from stripe_double import billing, changes, invoice_objects, invoices, objects
from stripe_double.errors import invalid
from stripe_double.periods import current_period
from stripe_double.router import Ctx, Route, matching, paginate, retrieve, route
from stripe_double.state import DoubleState

_INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")


def _subscription_of(inv: dict[str, Any]) -> str | None:
    details = (inv.get("parent") or {}).get("subscription_details") or {}
    sub_id = details.get("subscription")
    return str(sub_id) if sub_id else None


def _list(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    p.get_enum("status", _INVOICE_STATUSES)
    sub_id = p.get_str("subscription")
    found = matching(ctx.state.newest_first("invoice"), p, "customer status")
    if sub_id is not None:
        found = [inv for inv in found if _subscription_of(inv) == sub_id]
    return paginate(ctx, found, "/v1/invoices")


def _lines(ctx: Ctx) -> dict[str, Any]:
    inv = ctx.state.get("invoice", ctx.arg())
    return paginate(ctx, list(inv["lines"]["data"]), f"/v1/invoices/{inv['id']}/lines")


def _preview_new(
    state: DoubleState, customer_id: str, specs: list[billing.ItemSpec], tax: bool
) -> dict[str, Any]:
    """Preview the first invoice of a subscription that does not exist yet."""
    sub = billing.new_subscription(
        state, customer_id=customer_id, items=specs, metadata={}, tax_enabled=tax
    )
    period = current_period(sub)
    lines = [billing.item_line(state, item, period) for item in sub["items"]["data"]]
    for entry in lines:
        entry["parent"]["subscription_item_details"].update(subscription=None)
    at = int(sub["created"])
    inv = invoice_objects.preview(state, sub, lines, at=at, period=(at, at))
    inv["parent"]["subscription_details"]["subscription"] = None
    return inv


def _create_preview(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown("customer subscription subscription_details automatic_tax")
    details = p.get_obj("subscription_details")
    details.reject_unknown("items proration_behavior proration_date")
    specs = []
    for entry in details.get_list("items"):
        entry.reject_unknown("id price quantity deleted")
        price_id = entry.get_str("price")
        specs.append(
            billing.ItemSpec(
                item_id=entry.get_str("id"),
                price=billing.recurring_price(state, price_id, param=entry.name("price"))
                if price_id
                else None,
                quantity=entry.get_int("quantity", minimum=0),
            )
        )
    tax = p.get_obj("automatic_tax").get_bool("enabled")
    sub_id = p.get_str("subscription")
    if not sub_id:
        customer_id = p.req_str("customer")
        state.get("customer", customer_id, param="customer")
        return _preview_new(state, customer_id, specs, bool(tax))
    sub = state.get("subscription", sub_id, param="subscription")
    quantities: dict[str, int] = {}
    for spec in specs:
        if spec.item_id is None or spec.quantity is None:
            raise invalid(
                "The double previews quantity changes of existing items only "
                "(subscription_details[items][N][id] + [quantity]).",
                param="subscription_details[items]",
            )
        state.item(spec.item_id)
        quantities[spec.item_id] = spec.quantity
    behavior = details.get_enum("proration_behavior", billing.PRORATION_BEHAVIORS)
    inv = changes.preview_invoice(
        state, sub, quantities=quantities, prorate=(behavior or "create_prorations") != "none"
    )
    if tax is not None:
        inv["automatic_tax"] = objects.automatic_tax(tax, for_invoice=True)
        invoices.totals(state, inv)
    return inv


ROUTES: list[Route] = [
    route("POST", "/v1/invoices/create_preview", _create_preview),
    route("GET", "/v1/invoices", _list),
    route("GET", "/v1/invoices/{id}", retrieve("invoice")),
    route("GET", "/v1/invoices/{id}/lines", _lines),
]
