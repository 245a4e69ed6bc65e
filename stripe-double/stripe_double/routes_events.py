"""/v1/webhook_endpoints, /v1/events and /v1/test_helpers/test_clocks."""

from __future__ import annotations

import fnmatch
import secrets
from typing import Any

from stripe_double import clock, objects, retention
from stripe_double.errors import invalid
from stripe_double.events import emit
from stripe_double.params import merge_metadata
from stripe_double.router import Ctx, Route, list_kind, paginate, retrieve, route


def _create_endpoint(ctx: Ctx) -> dict[str, Any]:
    p, state = ctx.params, ctx.state
    p.reject_unknown("url enabled_events api_version description metadata connect")
    enabled = p.get_str_list("enabled_events")
    if not enabled:
        raise invalid(
            "Missing required param: enabled_events.",
            param="enabled_events",
            code="parameter_missing",
        )
    endpoint = state.put(
        objects.webhook_endpoint(
            url=p.req_str("url"),
            enabled_events=enabled,
            api_version=p.get_str("api_version"),
            description=p.get_str("description"),
            metadata=p.metadata() or {},
            created=state.scope_now(None),
        )
    )
    secret = "whsec_" + secrets.token_hex(32)
    state.endpoint_secrets[endpoint["id"]] = secret
    # Only the create response shows the secret, as in Stripe.
    return {**endpoint, "secret": secret}


def _update_endpoint(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    p.reject_unknown("url enabled_events description metadata disabled")
    endpoint = ctx.state.get("webhook_endpoint", ctx.arg())
    if p.has("url"):
        endpoint["url"] = p.req_str("url")
    if p.has("enabled_events"):
        endpoint["enabled_events"] = p.get_str_list("enabled_events")
    if p.has("description"):
        endpoint["description"] = p.get_str("description") or None
    disabled = p.get_bool("disabled")
    if disabled is not None:
        endpoint["status"] = "disabled" if disabled else "enabled"
    endpoint["metadata"] = merge_metadata(endpoint["metadata"], p.metadata())
    return endpoint


def _list_endpoints(ctx: Ctx) -> dict[str, Any]:
    return list_kind(ctx, "webhook_endpoint", "/v1/webhook_endpoints")


def _delete_endpoint(ctx: Ctx) -> dict[str, Any]:
    endpoint = ctx.state.get("webhook_endpoint", ctx.arg())
    del ctx.state.objects["webhook_endpoint"][endpoint["id"]]
    ctx.state.endpoint_secrets.pop(endpoint["id"], None)
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


def _list_events(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    patterns = p.get_str_list("types")
    single = p.get_str("type")
    if single:
        patterns.append(single)
    created = p.get_obj("created")
    bounds = {op: created.get_int(op) for op in ("gt", "gte", "lt", "lte")}
    exact = p.get_int("created") if isinstance(p.data.get("created"), str) else None

    def wanted(event: dict[str, Any]) -> bool:
        at = int(event["created"])
        checks = (
            bounds["gt"] is None or at > bounds["gt"],
            bounds["gte"] is None or at >= bounds["gte"],
            bounds["lt"] is None or at < bounds["lt"],
            bounds["lte"] is None or at <= bounds["lte"],
            exact is None or at == exact,
            not patterns or any(fnmatch.fnmatchcase(event["type"], pat) for pat in patterns),
            retention.retained(ctx.state, event),
        )
        return all(checks)

    return paginate(ctx, [e for e in ctx.state.newest_first("event") if wanted(e)], "/v1/events")


def _create_clock(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    p.reject_unknown("frozen_time name")
    frozen = p.get_int("frozen_time", required=True)
    return ctx.state.put(
        objects.test_clock(
            frozen_time=int(frozen or 0), name=p.get_str("name"), created=ctx.state.scope_now(None)
        )
    )


def _list_clocks(ctx: Ctx) -> dict[str, Any]:
    return list_kind(ctx, "test_helpers.test_clock", "/v1/test_helpers/test_clocks")


def _advance_clock(ctx: Ctx) -> dict[str, Any]:
    """Advance synchronously: `advancing`, every due renewal step in order, then `ready`."""
    p, state = ctx.params, ctx.state
    p.reject_unknown("frozen_time")
    test_clock = state.get("test_helpers.test_clock", ctx.arg())
    target = int(p.get_int("frozen_time", required=True) or 0)
    if target <= int(test_clock["frozen_time"]):
        raise invalid(
            "The frozen_time must be after the test clock's current frozen time.",
            param="frozen_time",
        )
    start = int(test_clock["frozen_time"])
    test_clock.update(
        status="advancing", status_details={"advancing": {"target_frozen_time": target}}
    )
    emit(state, "test_helpers.test_clock.advancing", test_clock, at=start)
    clock.advance(state, test_clock["id"], target)
    test_clock.update(status="ready", status_details={})
    emit(state, "test_helpers.test_clock.ready", test_clock, at=target)
    return test_clock


def _delete_clock(ctx: Ctx) -> dict[str, Any]:
    """Deleting a clock deletes its customers and their subscriptions, as in Stripe."""
    state = ctx.state
    test_clock = state.get("test_helpers.test_clock", ctx.arg())
    clock_id = test_clock["id"]
    for kind in ("customer", "subscription", "invoice", "invoiceitem"):
        for obj_id, obj in list(state.objects[kind].items()):
            if obj.get("test_clock") == clock_id:
                del state.objects[kind][obj_id]
    del state.objects["test_helpers.test_clock"][clock_id]
    return {"id": clock_id, "object": "test_helpers.test_clock", "deleted": True}


ROUTES: list[Route] = [
    route("POST", "/v1/webhook_endpoints", _create_endpoint),
    route("GET", "/v1/webhook_endpoints", _list_endpoints),
    route("GET", "/v1/webhook_endpoints/{id}", retrieve("webhook_endpoint")),
    route("POST", "/v1/webhook_endpoints/{id}", _update_endpoint),
    route("DELETE", "/v1/webhook_endpoints/{id}", _delete_endpoint),
    route("GET", "/v1/events", _list_events),
    route("GET", "/v1/events/{id}", lambda ctx: retention.retrieve_event(ctx.state, ctx.arg())),
    route("POST", "/v1/test_helpers/test_clocks", _create_clock),
    route("GET", "/v1/test_helpers/test_clocks", _list_clocks),
    route("GET", "/v1/test_helpers/test_clocks/{id}", retrieve("test_helpers.test_clock")),
    route("POST", "/v1/test_helpers/test_clocks/{id}/advance", _advance_clock),
    route("DELETE", "/v1/test_helpers/test_clocks/{id}", _delete_clock),
]
