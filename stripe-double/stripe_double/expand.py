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
    "di": "discount",
}
# Ids with no fixed prefix (a coupon's may be any string), known by the field naming them.
_EXPANDABLE_FIELDS = {"coupon": "coupon"}


def _lookup(state: DoubleState, object_id: str, key: str) -> Any:
    kind = _EXPANDABLE_FIELDS.get(key) or _EXPANDABLE.get(object_id.split("_", 1)[0])
    found = state.find(kind, object_id) if kind else None
    return snapshot(found) if found is not None else object_id


def _expand_at(state: DoubleState, node: Any, parts: list[str], key: str = "") -> Any:
    """Expand the id at `parts` below `node`; an id on the way is expanded too (as
    Stripe expands `discounts` for `discounts.source.coupon`)."""
    if isinstance(node, list):
        return [_expand_at(state, entry, parts, key) for entry in node]
    if isinstance(node, str):
        node = _lookup(state, node, key)
    if not parts or not isinstance(node, dict) or parts[0] not in node:
        return node
    node[parts[0]] = _expand_at(state, node[parts[0]], parts[1:], parts[0])
    return node


def expand(state: DoubleState, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Replace id strings at dotted `paths` (`latest_invoice`, `data.customer`) by objects."""
    for path in paths:
        _expand_at(state, obj, path.split("."))
    return obj
