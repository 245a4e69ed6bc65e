"""When a draft invoice finalizes by itself: Stripe's draft window.

Stripe creates a renewal invoice as a draft and finalizes it about an hour after the
endpoints' answer to its `invoice.created` webhook was successful; while deliveries fail
it keeps waiting (and retrying them), and finalizes anyway 72 hours after creation
(docs.stripe.com/invoicing/integration/workflow-transitions, "Finalize draft invoices").
An invoice given an explicit `automatically_finalizes_at` does not wait for webhooks
(docs.stripe.com/invoicing/scheduled-finalization). Everything here is in the clock time
of the invoice's scope (its test clock, or the global clock), so a test clock sees the
same rule at any speed.
"""

from __future__ import annotations

from typing import Any

from stripe_double import billing, invoices
from stripe_double.events import emit
from stripe_double.state import DoubleState, DraftSchedule


def due_at(state: DoubleState, schedule: DraftSchedule) -> int:
    """The instant the draft finalizes, as far as the double knows now."""
    if schedule.fixed_at is not None:
        return schedule.fixed_at
    horizon = schedule.created + state.config.finalize_max_wait_s
    if schedule.acknowledged_at is None:
        return horizon
    return min(schedule.acknowledged_at + state.config.finalize_after_s, horizon)


def refresh(state: DoubleState, inv: dict[str, Any]) -> None:
    """Show the schedule as `automatically_finalizes_at` (null when not auto-advancing)."""
    schedule = state.drafts.get(inv["id"])
    if inv["status"] != "draft" or schedule is None or not inv["auto_advance"]:
        inv["automatically_finalizes_at"] = None
        return
    inv["automatically_finalizes_at"] = due_at(state, schedule)


def announce(state: DoubleState, inv: dict[str, Any], *, at: int) -> dict[str, Any]:
    """Emit `invoice.created` for a draft and start its window.

    The event shows the finalization Stripe announces at creation (in an hour, or the
    time given); once the double knows whether anyone must acknowledge the delivery, the
    field shows the real plan. No endpoint to deliver to: the window starts now.
    """
    previous = state.drafts.get(inv["id"])
    schedule = DraftSchedule(created=at, fixed_at=previous.fixed_at if previous else None)
    state.drafts[inv["id"]] = schedule
    if inv["auto_advance"]:
        announced = schedule.fixed_at or at + state.config.finalize_after_s
        inv["automatically_finalizes_at"] = announced
    created = emit(state, "invoice.created", inv, at=at)
    if state.unacknowledged.get(created["id"]):
        schedule.created_event = created["id"]
        state.draft_events[created["id"]] = inv["id"]
    else:
        schedule.acknowledged_at = at
    refresh(state, inv)
    return created


def fix(state: DoubleState, inv: dict[str, Any], at: int | None) -> None:
    """An explicit `automatically_finalizes_at` (None: back to the webhook rule)."""
    schedule = state.drafts.setdefault(inv["id"], DraftSchedule(created=int(inv["created"])))
    schedule.fixed_at = at
    refresh(state, inv)


def acknowledge(state: DoubleState, event_id: str, endpoint_id: str) -> None:
    """An endpoint answered 2xx to `event_id`; once every endpoint did, a draft waiting
    for that `invoice.created` starts its window at its scope's current time."""
    pending = state.unacknowledged.get(event_id)
    if pending is None:
        return
    pending.discard(endpoint_id)
    if pending:
        return
    del state.unacknowledged[event_id]
    invoice_id = state.draft_events.pop(event_id, None)
    schedule = state.drafts.get(invoice_id or "")
    inv = state.find("invoice", invoice_id)
    if schedule is None or inv is None or schedule.acknowledged_at is not None:
        return
    schedule.acknowledged_at = state.scope_now(inv.get("test_clock"))
    refresh(state, inv)


def finalize_and_collect(state: DoubleState, inv: dict[str, Any], *, at: int) -> bool:
    """Finalize a draft; with automatic collection (`auto_advance`, charging the card),
    attempt payment right away, and so does a zero invoice (Stripe marks it paid).
    Answers whether the invoice is paid."""
    invoices.finalize(state, inv, at=at)
    charging = inv["collection_method"] == "charge_automatically" and inv["auto_advance"]
    if not charging and int(inv["amount_due"]) > 0:
        return False
    paid = invoices.attempt_payment(state, inv, at=at)
    billing.settle_invoice(state, inv, paid=paid, at=at)
    return paid
