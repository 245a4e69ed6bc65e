"""Stripe keeps events for 30 days: older ones are neither listed nor retrieved.

"Older" is measured in the event's own time: a test clock's frozen time for objects
on a clock (their events are created at it), the double's clock for the rest. So a
test that moves a clock months ahead still lists that clock's recent events.
"""

from __future__ import annotations

from typing import Any

from stripe_double.errors import missing
from stripe_double.state import DoubleState

RETENTION_S = 30 * 86_400


def _clock_of(state: DoubleState, event: dict[str, Any]) -> str | None:
    obj = event.get("data", {}).get("object", {})
    if obj.get("object") == "test_helpers.test_clock":
        return str(obj["id"])
    clock = obj.get("test_clock")
    if isinstance(clock, str):
        return clock
    customer = obj.get("customer")
    if obj.get("object") == "customer":
        customer = obj.get("id")
    return state.clock_of_customer(customer if isinstance(customer, str) else None)


def retained(state: DoubleState, event: dict[str, Any]) -> bool:
    """Whether Stripe still keeps ``event`` (created within the last 30 days)."""
    return int(event["created"]) > state.scope_now(_clock_of(state, event)) - RETENTION_S


def retrieve_event(state: DoubleState, event_id: str) -> dict[str, Any]:
    """``GET /v1/events/{id}``: Stripe's 404 once the event is past retention."""
    event = state.get("event", event_id)
    if not retained(state, event):
        raise missing(event_id)
    return event
