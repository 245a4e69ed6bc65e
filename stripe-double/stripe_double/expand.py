"""`expand[]`: replacing id strings in a response by the objects they name."""

from __future__ import annotations

from typing import Any

from stripe_double.state import DoubleState, snapshot

_EXPANDABLE = {
    "cus": "customer",
    "prod": "product",
    "price": "price",
    "sub": "subscription",
    "in": "invoice",
    "ii": "invoiceitem",
    "cn": "credit_note",
    "cbtxn": "customer_balance_transaction",
    "clock": "test_helpers.test_clock",
}


def _expand_at(state: DoubleState, node: Any, parts: list[str]) -> Any:
    if isinstance(node, list):
        return [_expand_at(state, entry, parts) for entry in node]
    if not parts:
        if isinstance(node, str):
            kind = _EXPANDABLE.get(node.split("_", 1)[0])
            found = state.find(kind, node) if kind else None
            return snapshot(found) if found is not None else node
        return node
    if not isinstance(node, dict) or parts[0] not in node:
        return node
    node[parts[0]] = _expand_at(state, node[parts[0]], parts[1:])
    return node


def expand(state: DoubleState, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Replace id strings at dotted `paths` (`latest_invoice`, `data.customer`) by objects."""
    for path in paths:
        _expand_at(state, obj, path.split("."))
    return obj
