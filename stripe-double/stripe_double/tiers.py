"""Tiered prices (`billing_scheme=tiered`): the tiers params, the amount for a quantity,
and `tiers` shown only when expanded, as Stripe does (`expand[]=tiers`).

Graduated: each unit is billed at the tier it falls in (plus each reached tier's flat
amount). Volume: every unit is billed at the tier the whole quantity falls in (plus that
tier's flat amount). A quantity of 0 is billed 0.
"""

from __future__ import annotations

from typing import Any

from stripe_double.errors import invalid
from stripe_double.params import Params

TIERS_MODES = ("graduated", "volume")


def parse_tiers(p: Params) -> list[dict[str, Any]]:
    """`tiers[N][up_to|unit_amount|flat_amount]`, validated as Stripe does."""
    tiers: list[dict[str, Any]] = []
    entries = p.get_list("tiers")
    if not entries:
        raise invalid("Tiers are required when billing_scheme is tiered.", param="tiers")
    previous = 0
    for index, entry in enumerate(entries):
        entry.reject_unknown("up_to unit_amount flat_amount")
        raw = entry.get_str("up_to", required=True)
        last = index == len(entries) - 1
        if raw == "inf":
            if not last:
                raise invalid("Only the last tier may have up_to: inf.", param=entry.name("up_to"))
            up_to = None
        else:
            up_to = entry.get_int("up_to", required=True, minimum=1)
            if last:
                raise invalid("The last tier must have up_to: inf.", param=entry.name("up_to"))
            if up_to is not None and up_to <= previous:
                raise invalid("Tiers must be in increasing up_to order.", param=entry.name("up_to"))
            previous = int(up_to or 0)
        unit = entry.get_int("unit_amount", minimum=0)
        flat = entry.get_int("flat_amount", minimum=0)
        if unit is None and flat is None:
            raise invalid(
                "Each tier needs a unit_amount or a flat_amount.", param=entry.name("unit_amount")
            )
        tiers.append(
            {
                "flat_amount": flat,
                "flat_amount_decimal": None if flat is None else str(flat),
                "unit_amount": unit,
                "unit_amount_decimal": None if unit is None else str(unit),
                "up_to": up_to,
            }
        )
    return tiers


def amount(price: dict[str, Any], quantity: int) -> int:
    """What `quantity` units of `price` cost for one period, in minor units."""
    if price.get("billing_scheme") != "tiered":
        return int(price["unit_amount"]) * quantity
    if quantity <= 0:
        return 0
    tiers = price["tiers"]
    if price["tiers_mode"] == "volume":
        tier = next(t for t in tiers if t["up_to"] is None or quantity <= t["up_to"])
        return int(tier["unit_amount"] or 0) * quantity + int(tier["flat_amount"] or 0)
    total, lower = 0, 0
    for tier in tiers:
        upper = quantity if tier["up_to"] is None else min(quantity, tier["up_to"])
        if upper <= lower:
            break
        total += int(tier["unit_amount"] or 0) * (upper - lower) + int(tier["flat_amount"] or 0)
        lower = upper
    return total


def hide_unexpanded(node: Any, paths: list[str]) -> None:
    """Drop `tiers` from prices in a response unless some `expand[]` path asks for it."""
    if any(path == "tiers" or path.endswith(".tiers") for path in paths):
        return
    if isinstance(node, list):
        for entry in node:
            hide_unexpanded(entry, paths)
    elif isinstance(node, dict):
        if node.get("object") == "price":
            node.pop("tiers", None)
        for value in node.values():
            if isinstance(value, dict | list):
                hide_unexpanded(value, paths)
