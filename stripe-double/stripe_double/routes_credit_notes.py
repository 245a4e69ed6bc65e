"""/v1/credit_notes and /v1/customers/{id}/balance_transactions.

Parameters are the API reference's for the pinned version (the SDK's
`CreditNoteCreateParams`, `CustomerCreateBalanceTransactionParams`).
"""

from __future__ import annotations

from typing import Any

from stripe_double import balance, credit_notes
from stripe_double.credit_notes import Allocation, NoteLine
from stripe_double.errors import invalid, missing
from stripe_double.params import Params
from stripe_double.router import Ctx, Route, matching, paginate, retrieve, route
from stripe_double.state import DoubleState

_LINE_TYPES = ("custom_line_item", "invoice_line_item")


def _invoice_line(inv: dict[str, Any], line_id: str, param: str) -> dict[str, Any]:
    for entry in inv["lines"]["data"]:
        if entry["id"] == line_id:
            found: dict[str, Any] = entry
            return found
    raise missing(line_id, param=param, noun="invoice line item")


def _note_line(inv: dict[str, Any], entry: Params) -> NoteLine:
    entry.reject_unknown(
        "amount description invoice_line_item metadata quantity tax_amounts tax_rates type "
        "unit_amount unit_amount_decimal"
    )
    entry.refuse_unimplemented("tax_amounts tax_rates unit_amount_decimal")
    kind = entry.get_enum("type", _LINE_TYPES)
    if kind is None:
        raise invalid(f"Missing required param: {entry.name('type')}.", param=entry.name("type"))
    quantity = entry.get_int("quantity", minimum=0)
    metadata = entry.metadata() or {}
    if kind == "custom_line_item":
        unit = entry.get_int("unit_amount", required=True, minimum=0)
        count = 1 if quantity is None else quantity
        return NoteLine(
            kind, int(unit or 0) * count, count, unit, entry.req_str("description"), None, metadata
        )
    line_id = entry.req_str("invoice_line_item")
    line = _invoice_line(inv, line_id, entry.name("invoice_line_item"))
    amount = entry.get_int("amount", minimum=0)
    billed_quantity = int(line.get("quantity") or 1)
    unit = int(line["amount"]) // billed_quantity if billed_quantity else int(line["amount"])
    if amount is None:
        amount = int(line["amount"]) if quantity is None else unit * quantity
    return NoteLine(kind, amount, quantity, unit, line["description"], line_id, metadata)


def _create(ctx: Ctx) -> dict[str, Any]:
    return _issue(ctx, preview=False)


def _preview(ctx: Ctx) -> dict[str, Any]:
    """The credit note a create would make, changing nothing (same parameters)."""
    return _issue(ctx, preview=True)


def _issue(ctx: Ctx, *, preview: bool) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown(
        "amount credit_amount effective_at email_type invoice lines memo metadata "
        "out_of_band_amount reason refund_amount refunds shipping_cost"
    )
    p.refuse_unimplemented("refunds shipping_cost")
    p.get_enum("email_type", ("credit_note", "none"))
    inv = state.get("invoice", p.req_str("invoice"), param="invoice")
    lines = [_note_line(inv, entry) for entry in p.get_list("lines")]
    amount = p.get_int("amount", minimum=0)
    if not lines and amount is None:
        raise invalid(
            "One of amount, lines, or shipping_cost must be provided.",
            param="amount",
            code="parameter_missing",
        )
    allocation = Allocation(
        credit_amount=p.get_int("credit_amount", minimum=0) or 0,
        refund_amount=p.get_int("refund_amount", minimum=0) or 0,
        out_of_band_amount=p.get_int("out_of_band_amount", minimum=0) or 0,
    )
    return credit_notes.issue(
        state,
        inv,
        lines=lines,
        amount=amount,
        allocation=allocation,
        reason=p.get_enum("reason", credit_notes.REASONS),
        memo=p.get_str("memo"),
        metadata=p.metadata() or {},
        preview=preview,
    )


def _list(ctx: Ctx) -> dict[str, Any]:
    found = matching(ctx.state.newest_first("credit_note"), ctx.params, "customer invoice")
    return paginate(ctx, found, "/v1/credit_notes")


def _lines(ctx: Ctx) -> dict[str, Any]:
    note = ctx.state.get("credit_note", ctx.arg())
    return paginate(ctx, list(note["lines"]["data"]), f"/v1/credit_notes/{note['id']}/lines")


def _customer(state: DoubleState, customer_id: str) -> dict[str, Any]:
    return state.get("customer", customer_id)


def _create_transaction(ctx: Ctx) -> dict[str, Any]:
    """A manual adjustment: negative `amount` is credit, positive is debit."""
    p, state = ctx.params, ctx.state
    p.reject_unknown("amount currency description metadata")
    customer = _customer(state, ctx.arg())
    amount = int(p.get_int("amount", required=True) or 0)
    return balance.record(
        state,
        customer,
        amount,
        kind="adjustment",
        currency=p.req_str("currency").lower(),
        at=state.now_for(customer["id"]),
        description=p.get_str("description"),
        metadata=p.metadata() or {},
    )


def _list_transactions(ctx: Ctx) -> dict[str, Any]:
    customer = _customer(ctx.state, ctx.arg())
    found = [
        txn
        for txn in matching(
            ctx.state.newest_first("customer_balance_transaction"), ctx.params, "invoice"
        )
        if txn["customer"] == customer["id"]
    ]
    return paginate(ctx, found, f"/v1/customers/{customer['id']}/balance_transactions")


def _retrieve_transaction(ctx: Ctx) -> dict[str, Any]:
    customer = _customer(ctx.state, ctx.arg(0))
    txn = ctx.state.get("customer_balance_transaction", ctx.arg(1))
    if txn["customer"] != customer["id"]:
        raise missing(ctx.arg(1))
    return txn


ROUTES: list[Route] = [
    route("POST", "/v1/credit_notes", _create),
    route("GET", "/v1/credit_notes", _list),
    route("GET", "/v1/credit_notes/preview", _preview),
    route("GET", "/v1/credit_notes/{id}", retrieve("credit_note")),
    route("GET", "/v1/credit_notes/{id}/lines", _lines),
    route("POST", "/v1/customers/{id}/balance_transactions", _create_transaction),
    route("GET", "/v1/customers/{id}/balance_transactions", _list_transactions),
    route("GET", "/v1/customers/{id}/balance_transactions/{id}", _retrieve_transaction),
]
