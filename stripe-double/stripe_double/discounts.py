"""Coupons and the discounts they become on subscriptions (API 2026-10-28.endive).

A coupon (`POST /v1/coupons`) takes `percent_off` or `amount_off` + `currency`, and a
`duration`: `once` (the next invoice only), `repeating` (invoices created before
`duration_in_months` months have passed) or `forever`. `discounts[N][coupon]` on a
subscription redeems it into a `discount` object (`di_...`) whose `source.coupon` names
the coupon; the subscription's `discounts` lists the discount ids (`expand[]=discounts`
shows the objects). The invoices of the subscription (renewals, create_preview,
`invoice.upcoming`) list the discounts that apply under `discounts` and take them off
the discountable lines (prorations are not), before tax:

- percent off: each line loses `amount * percent_off / 100`, rounded half up to the minor
  unit (Decimal arithmetic, no float);
- amount off: at most the discountable amount, spread over the lines in proportion to
  their amounts (rounded half up, the last line takes the remainder).

Each line shows `discount_amounts`, the invoice `total_discount_amounts`; `subtotal`
stays before discounts, `total_excluding_tax` is after them.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from stripe_double.errors import StripeError, invalid, missing
from stripe_double.params import Params
from stripe_double.periods import add_interval
from stripe_double.state import DoubleState, new_id

DURATIONS = ("once", "repeating", "forever")
_ID_ALPHABET = string.ascii_letters + string.digits


def _coupon_id(state: DoubleState, p: Params) -> str:
    coupon_id = p.get_str("id")
    if coupon_id is None:
        return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
    if not coupon_id:
        raise invalid("Invalid string: id must not be empty.", param="id")
    if state.find("coupon", coupon_id) is not None:
        raise StripeError("Coupon already exists.", code="resource_already_exists", param="id")
    return coupon_id


def _percent(p: Params) -> Decimal | None:
    percent = p.get_decimal("percent_off")
    if percent is not None and not Decimal(0) < percent <= Decimal(100):
        raise invalid("percent_off must be greater than 0 and at most 100.", param="percent_off")
    return percent


def create_coupon(state: DoubleState, p: Params) -> dict[str, Any]:
    """`POST /v1/coupons`, validated as Stripe does; what it does not implement is refused."""
    p.reject_unknown(
        "id amount_off currency duration duration_in_months metadata name percent_off "
        "max_redemptions redeem_by applies_to currency_options"
    )
    p.refuse_unimplemented("max_redemptions redeem_by applies_to currency_options")
    percent = _percent(p)
    amount = p.get_int("amount_off", minimum=1)
    if (percent is None) == (amount is None):
        raise invalid(
            "You must pass exactly one of percent_off or amount_off.",
            param="amount_off" if amount is not None else "percent_off",
        )
    currency = p.get_str("currency")
    if amount is not None and not currency:
        raise invalid(
            "You must pass currency when passing amount_off.",
            param="currency",
            code="parameter_missing",
        )
    if percent is not None and currency:
        raise invalid("currency is only valid with amount_off.", param="currency")
    duration = p.get_enum("duration", DURATIONS, default="once") or "once"
    months = p.get_int("duration_in_months", minimum=1)
    if duration == "repeating" and months is None:
        raise invalid(
            "duration_in_months is required when duration is repeating.",
            param="duration_in_months",
            code="parameter_missing",
        )
    if duration != "repeating" and months is not None:
        raise invalid(
            "duration_in_months is only valid when duration is repeating.",
            param="duration_in_months",
        )
    coupon_id = _coupon_id(state, p)
    return state.put(
        {
            "id": coupon_id,
            "object": "coupon",
            # On the wire Stripe renders percent_off as a JSON number (25.5).
            "amount_off": amount,
            "created": state.scope_now(None),
            "currency": currency.lower() if currency else None,
            "duration": duration,
            "duration_in_months": months,
            "livemode": False,
            "max_redemptions": None,
            "metadata": p.metadata() or {},
            "name": p.get_str("name") or None,
            "percent_off": None if percent is None else float(percent),
            "redeem_by": None,
            "times_redeemed": 0,
            "valid": True,
        }
    )


def coupon(state: DoubleState, coupon_id: str, *, param: str = "id") -> dict[str, Any]:
    """The stored coupon, or Stripe's "No such coupon" (404 by URL, 400 by param)."""
    found = state.find("coupon", coupon_id)
    if found is None:
        raise missing(coupon_id, param=param, noun="coupon")
    return found


def requested_coupons(state: DoubleState, p: Params, currency: str) -> list[dict[str, Any]] | None:
    """The coupons of `discounts[N][coupon]` (None: `discounts` not sent; `[]`: cleared
    with `discounts=""`). Discount ids and promotion codes are refused (not implemented)."""
    if not p.has("discounts"):
        return None
    found: list[dict[str, Any]] = []
    for entry in p.get_list("discounts"):
        entry.reject_unknown("coupon discount promotion_code")
        entry.refuse_unimplemented("discount promotion_code")
        param = entry.name("coupon")
        chosen = coupon(state, entry.req_str("coupon"), param=param)
        if chosen["amount_off"] is not None and chosen["currency"] != currency:
            raise invalid(
                f"The coupon's currency ({chosen['currency']}) does not match the "
                f"subscription's ({currency}).",
                param=param,
            )
        if any(c["id"] == chosen["id"] for c in found):
            raise invalid("The same coupon cannot be applied twice.", param=param)
        found.append(chosen)
    return found


def redeem(
    state: DoubleState, sub: dict[str, Any], coupons: list[dict[str, Any]], *, at: int
) -> None:
    """Replace the subscription's discounts by ones of `coupons` (a coupon already
    applied keeps its discount, as Stripe keeps it)."""
    kept = {
        d["source"]["coupon"]: d for d in (state.find("discount", i) for i in sub["discounts"]) if d
    }
    ids: list[str] = []
    for chosen in coupons:
        existing = kept.get(chosen["id"])
        if existing is None:
            months = chosen["duration_in_months"]
            existing = state.put(
                {
                    "id": new_id("di"),
                    "object": "discount",
                    "checkout_session": None,
                    "customer": sub["customer"],
                    "customer_account": None,
                    "end": None if months is None else add_interval(at, "month", int(months)),
                    "invoice": None,
                    "invoice_item": None,
                    "promotion_code": None,
                    "source": {"coupon": chosen["id"], "type": "coupon"},
                    "start": at,
                    "subscription": sub["id"],
                    "subscription_item": None,
                }
            )
            chosen["times_redeemed"] = int(chosen["times_redeemed"]) + 1
        ids.append(existing["id"])
    sub["discounts"] = ids


def active_ids(state: DoubleState, sub: dict[str, Any], *, at: int) -> list[str]:
    """The subscription's discounts that apply to an invoice created at `at`."""
    out = []
    for discount_id in sub.get("discounts") or []:
        found = state.find("discount", discount_id)
        if found is not None and (found["end"] is None or at < int(found["end"])):
            out.append(discount_id)
    return out


def consume(state: DoubleState, sub: dict[str, Any], inv: dict[str, Any], *, at: int) -> None:
    """After an invoice of `sub`: a `once` discount it used is spent, a `repeating` one
    past its end is over; both leave the subscription."""
    used = set(inv["discounts"])

    def stays(discount_id: str) -> bool:
        found = state.find("discount", discount_id)
        if found is None:
            return False
        if found["end"] is not None and at >= int(found["end"]):
            return False
        spent = coupon(state, found["source"]["coupon"])["duration"] == "once"
        return not (spent and discount_id in used)

    sub["discounts"] = [d for d in sub["discounts"] if stays(d)]


def coupons_of(state: DoubleState, inv: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Discount id → its coupon, for the discounts an invoice lists."""
    out: dict[str, dict[str, Any]] = {}
    for discount_id in inv.get("discounts") or []:
        found = state.find("discount", discount_id)
        if found is not None:
            out[discount_id] = coupon(state, found["source"]["coupon"])
    return out


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _spread(total: int, amounts: list[int]) -> list[int]:
    """`total` over `amounts` in proportion (half up), the last one takes the rest."""
    whole = sum(amounts)
    shares = [_half_up(Decimal(total) * a / whole) for a in amounts[:-1]] if whole else []
    return [*shares, total - sum(shares)] if amounts else []


def apply(lines: list[dict[str, Any]], coupons: Mapping[str, dict[str, Any]]) -> dict[str, int]:
    """Set each line's `discount_amounts` (in the invoice's discount order); returns the
    total per discount id. Only positive, discountable lines are discounted."""
    for entry in lines:
        entry["discount_amounts"] = []
    targets = [e for e in lines if e.get("discountable") and int(e["amount"]) > 0]
    remaining = [int(e["amount"]) for e in targets]
    totals: dict[str, int] = {}
    for discount_id, chosen in coupons.items():
        if chosen["percent_off"] is not None:
            percent = Decimal(repr(chosen["percent_off"]))
            cuts = [_half_up(Decimal(r) * percent / 100) for r in remaining]
        else:
            cuts = _spread(min(int(chosen["amount_off"]), sum(remaining)), remaining)
        for index, (entry, cut) in enumerate(zip(targets, cuts, strict=True)):
            entry["discount_amounts"].append({"amount": cut, "discount": discount_id})
            remaining[index] -= cut
        totals[discount_id] = sum(cuts)
    return totals
