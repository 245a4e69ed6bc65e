"""The renewal engine: replays what Stripe does while a (test) clock moves forward."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from stripe_double import billing, changes, finalization
from stripe_double.events import emit
from stripe_double.periods import current_period, period_bounds
from stripe_double.state import DoubleState, snapshot

DAY = 86_400
# A step always moves a subscription or invoice forward, so this only trips on a bug;
# failing loudly beats hanging the server.
MAX_STEPS = 100_000

# Order of simultaneous steps: an old draft is finalized before anything renews.
_FINALIZE, _UPCOMING, _RENEW = 0, 1, 2


@dataclass(order=True, frozen=True)
class Step:
    """One dated step of the timeline; steps run in (`at`, `rank`) order."""

    at: int
    rank: int
    object_id: str = field(compare=False)


def _in_scope(obj: dict[str, Any], clock_id: str | None) -> bool:
    return obj.get("test_clock") == clock_id


def _subscription_steps(state: DoubleState, sub: dict[str, Any], now: int) -> Iterator[Step]:
    if sub["status"] not in billing.LIVE_STATUSES:
        return
    start, end = current_period(sub)
    yield Step(end, _RENEW, sub["id"])
    days = state.config.upcoming_days
    notice = end - days * DAY
    extra = state.sub_extra[sub["id"]]
    # Stripe skips the notice for periods shorter than the notice window, and for
    # subscriptions that end instead of renewing.
    wanted = days > 0 and notice >= start and not sub["cancel_at_period_end"]
    if wanted and extra.upcoming_sent_for != end:
        yield Step(max(notice, now), _UPCOMING, sub["id"])


def timeline(state: DoubleState, clock_id: str | None) -> list[Step]:
    """Every step due in a scope (a test clock, or None for the global clock), in order."""
    now = state.scope_now(clock_id)
    steps: list[Step] = []
    for inv in state.objects["invoice"].values():
        due = inv.get("automatically_finalizes_at")
        if inv["status"] == "draft" and due is not None and _in_scope(inv, clock_id):
            steps.append(Step(int(due), _FINALIZE, inv["id"]))
    for sub in state.objects["subscription"].values():
        if _in_scope(sub, clock_id):
            steps.extend(_subscription_steps(state, sub, now))
    return sorted(steps)


@contextmanager
def _automatic(state: DoubleState) -> Iterator[None]:
    """Events caused by time passing are not attributed to the API request that moved it."""
    saved = state.request
    state.request = None
    try:
        yield
    finally:
        state.request = saved


def _object_steps(state: DoubleState, step: Step, now: int) -> list[Step]:
    """The current steps of the object `step` is about (a subscription: its own steps and
    its latest invoice's finalization; an invoice: its finalization)."""
    if step.rank == _FINALIZE:
        inv = state.find("invoice", step.object_id)
        due = None if inv is None else inv.get("automatically_finalizes_at")
        if inv is None or inv["status"] != "draft" or due is None:
            return []
        return [Step(int(due), _FINALIZE, inv["id"])]
    sub = state.find("subscription", step.object_id)
    if sub is None:
        return []
    steps = list(_subscription_steps(state, sub, now))
    latest = state.find("invoice", sub.get("latest_invoice"))
    if latest is not None:
        steps += _object_steps(state, Step(0, _FINALIZE, latest["id"]), now)
    return steps


def advance(state: DoubleState, clock_id: str | None, target: int) -> int:
    """Move a scope's time to `target`, running each due step at its own instant.

    A step creates the next ones (a renewal schedules its finalization and the next
    period's renewal), so after each step the steps of its object are computed again and
    queued; a queued step that is no longer current is dropped when it comes up. (The
    whole timeline once, then one object per step: a clock with thousands of
    subscriptions advances in linear time.) Returns how many steps ran.
    """
    ran = 0
    order = itertools.count()
    queue = [(step.at, step.rank, next(order), step) for step in timeline(state, clock_id)]
    heapq.heapify(queue)
    queued = {(step.at, step.rank, step.object_id) for *_, step in queue}
    with _automatic(state):
        while queue and queue[0][0] <= target:
            step = heapq.heappop(queue)[3]
            now = state.scope_now(clock_id)
            if step not in _object_steps(state, step, now):
                continue  # superseded: its object's current steps are queued already
            if ran >= MAX_STEPS:
                raise RuntimeError(f"renewal timeline did not converge: {step}")
            state.set_scope_now(clock_id, max(step.at, now))
            _run(state, step)
            ran += 1
            for fresh in _object_steps(state, step, state.scope_now(clock_id)):
                key = (fresh.at, fresh.rank, fresh.object_id)
                if key not in queued:
                    queued.add(key)
                    heapq.heappush(queue, (fresh.at, fresh.rank, next(order), fresh))
        state.set_scope_now(clock_id, target)
    return ran


def _run(state: DoubleState, step: Step) -> None:
    if step.rank == _FINALIZE:
        _finalize_draft(state, state.get("invoice", step.object_id), step.at)
        return
    sub = state.get("subscription", step.object_id)
    if step.rank == _UPCOMING:
        state.sub_extra[sub["id"]].upcoming_sent_for = current_period(sub)[1]
        emit(state, "invoice.upcoming", changes.preview_invoice(state, sub), at=step.at)
    elif sub["cancel_at_period_end"]:
        billing.cancel_subscription(state, sub, at=step.at)
    else:
        renew(state, sub, step.at)


def renew(state: DoubleState, sub: dict[str, Any], at: int) -> dict[str, Any]:
    """Start the next period: a draft `subscription_cycle` invoice billed at the item
    quantities of this instant, then `customer.subscription.updated` with the new period.

    The draft is finalized `finalize_after_s` (1 h, like Stripe) after its
    `invoice.created` was acknowledged by the webhook endpoints (see finalization.py),
    when the clock passes that instant; quantity changes in between do not alter it,
    invoice items attached to it meanwhile do.
    """
    before = snapshot(sub)
    extra = state.sub_extra[sub["id"]]
    old_period = current_period(sub)
    extra.periods_elapsed += 1
    period = period_bounds(sub, extra.periods_elapsed)
    for item in sub["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = period
    lines = extra.pending_lines + [
        billing.item_line(state, item, period) for item in sub["items"]["data"]
    ]
    extra.pending_lines = []
    # Stripe dates a renewal invoice by the period just ended; its lines by the new one.
    inv = billing.open_invoice(
        state, sub, lines, reason="subscription_cycle", at=at, period=(old_period[0], at)
    )
    finalization.announce(state, inv, at=at)
    emit(state, "customer.subscription.updated", sub, at=at, previous=before)
    return inv


def _finalize_draft(state: DoubleState, inv: dict[str, Any], at: int) -> None:
    """The draft window closed: finalize, then collect as the invoice says."""
    finalization.finalize_and_collect(state, inv, at=at)
