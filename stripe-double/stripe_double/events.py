"""Event objects: creation, `previous_attributes` diffs and endpoint matching."""

from __future__ import annotations

from typing import Any

from stripe_double import tiers
from stripe_double.line_pages import first_page_of_lines
from stripe_double.state import API_VERSION, DoubleState, new_id, snapshot


def endpoint_matches(endpoint: dict[str, Any], event_type: str) -> bool:
    """Whether an enabled endpoint subscribes to `event_type` (`*` means all)."""
    if endpoint.get("status") != "enabled":
        return False
    enabled = endpoint.get("enabled_events") or []
    return "*" in enabled or event_type in enabled


def diff(old: Any, new: Any) -> Any:
    """Stripe's `previous_attributes`: old values of what changed; hashes diff per key."""
    if isinstance(old, dict) and isinstance(new, dict):
        changed: dict[str, Any] = {}
        for key in old.keys() | new.keys():
            if key not in new:
                changed[key] = old[key]
            elif key not in old:
                changed[key] = None
            elif old[key] != new[key]:
                changed[key] = diff(old[key], new[key])
        return changed
    return old


def emit(
    state: DoubleState,
    event_type: str,
    obj: dict[str, Any],
    *,
    at: int,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store an event about `obj` (snapshotted now) and hand it to webhook delivery."""
    data: dict[str, Any] = {"object": first_page_of_lines(snapshot(obj))}
    tiers.hide_unexpanded(data, [])
    if previous is not None:
        data["previous_attributes"] = diff(previous, obj)
    request = state.request
    endpoints = state.objects["webhook_endpoint"].values()
    event_id = new_id("evt")
    event: dict[str, Any] = {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": at,
        "data": data,
        "livemode": False,
        "pending_webhooks": sum(1 for e in endpoints if endpoint_matches(e, event_type)),
        "request": {
            # Automatic events (renewals, clock advances) carry no request, like Stripe's.
            "id": request.request_id if request else None,
            "idempotency_key": request.idempotency_key if request else None,
        },
        "type": event_type,
    }
    state.put(event)
    if state.event_sink is not None:
        targets = state.event_sink(event)
        if targets:
            state.unacknowledged[event_id] = set(targets)
    return event
