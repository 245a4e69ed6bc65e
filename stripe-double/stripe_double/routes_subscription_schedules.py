"""/v1/subscription_schedules: a schedule made from an existing subscription, and its
release (docs.stripe.com/api/subscription_schedules).

Enough to put a subscription under a schedule the way the Dashboard does: creating one
``from_subscription`` sets the subscription's ``schedule`` (and emits
``customer.subscription.updated``); releasing it clears it. Phases are rendered from the
subscription's items and period; the double never advances to a next phase.
"""

from __future__ import annotations

from typing import Any

from stripe_double.errors import invalid
from stripe_double.events import emit
from stripe_double.router import Ctx, Route, list_kind, retrieve, route
from stripe_double.state import DoubleState, new_id, snapshot

_RELEASABLE = ("not_started", "active")


def _phase(sub: dict[str, Any]) -> dict[str, Any]:
    item = sub["items"]["data"][0]
    start = item.get("current_period_start", sub.get("current_period_start"))
    end = item.get("current_period_end", sub.get("current_period_end"))
    return {
        "start_date": start,
        "end_date": end,
        "items": [
            {"price": i["price"]["id"], "quantity": i.get("quantity"), "metadata": {}}
            for i in sub["items"]["data"]
        ],
        "proration_behavior": "create_prorations",
        "metadata": {},
    }


def _create(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown("from_subscription customer metadata phases end_behavior start_date")
    sub_id = p.get_str("from_subscription")
    if sub_id is None:
        raise invalid(
            "The Stripe double only creates schedules from_subscription.",
            param="from_subscription",
        )
    if p.has("phases") or p.has("start_date") or p.has("customer"):
        raise invalid(
            "You cannot set `phases`, `start_date` or `customer` when using `from_subscription`.",
            param="from_subscription",
        )
    sub = state.get("subscription", sub_id, param="from_subscription")
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise invalid("You cannot migrate a canceled subscription.", param="from_subscription")
    if sub.get("schedule"):
        raise invalid(
            "You cannot migrate a subscription that is already attached to a schedule: "
            f"`{sub['schedule']}`.",
            param="from_subscription",
        )
    at = state.scope_now(sub.get("test_clock"))
    phase = _phase(sub)
    schedule = state.put(
        {
            "id": new_id("sub_sched"),
            "object": "subscription_schedule",
            "application": None,
            "canceled_at": None,
            "completed_at": None,
            "created": at,
            "current_phase": {"start_date": phase["start_date"], "end_date": phase["end_date"]},
            "customer": sub["customer"],
            "default_settings": {"collection_method": "charge_automatically"},
            "end_behavior": p.get_str("end_behavior") or "release",
            "livemode": False,
            "metadata": p.metadata() or {},
            "phases": [phase],
            "released_at": None,
            "released_subscription": None,
            "status": "active",
            "subscription": sub["id"],
            "test_clock": sub.get("test_clock"),
        }
    )
    _attach(state, sub, schedule["id"], at=at)
    emit(state, "subscription_schedule.created", schedule, at=at)
    return schedule


def _attach(state: DoubleState, sub: dict[str, Any], schedule_id: str | None, *, at: int) -> None:
    before = snapshot(sub)
    sub["schedule"] = schedule_id
    emit(state, "customer.subscription.updated", sub, at=at, previous=before)


def _release(ctx: Ctx) -> dict[str, Any]:
    ctx.params.reject_unknown("preserve_cancel_date")
    state = ctx.state
    schedule = state.get("subscription_schedule", ctx.arg())
    if schedule["status"] not in _RELEASABLE:
        raise invalid(
            "You cannot release a subscription schedule that is currently in the "
            f"`{schedule['status']}` status. It must be in one of the following statuses: "
            "`not_started`, `active`."
        )
    at = state.scope_now(schedule.get("test_clock"))
    sub = state.get("subscription", schedule["subscription"])
    schedule.update(
        status="released",
        released_at=at,
        released_subscription=sub["id"],
        subscription=None,
        current_phase=None,
    )
    _attach(state, sub, None, at=at)
    emit(state, "subscription_schedule.released", schedule, at=at)
    return schedule


def _list(ctx: Ctx) -> dict[str, Any]:
    return list_kind(ctx, "subscription_schedule", "/v1/subscription_schedules", "customer")


ROUTES: list[Route] = [
    route("POST", "/v1/subscription_schedules", _create),
    route("GET", "/v1/subscription_schedules", _list),
    route("GET", "/v1/subscription_schedules/{id}", retrieve("subscription_schedule")),
    route("POST", "/v1/subscription_schedules/{id}/release", _release),
]
