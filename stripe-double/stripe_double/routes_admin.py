"""Double-only control endpoints under /_double/ (JSON in, JSON out)."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stripe_double import clock
from stripe_double.errors import StripeError, missing
from stripe_double.routes_core import create_price, create_product
from stripe_double.runtime import Double


def _double(request: Request) -> Double:
    double: Double = request.app.state.double
    return double


def _bad(message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": "invalid_request_error", "message": message}}, status_code=400
    )


def _stripe_error(err: StripeError) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


async def config(request: Request) -> Response:
    """GET shows the config; POST changes the given keys."""
    double = _double(request)
    if request.method == "GET":
        return JSONResponse(double.config_json())
    try:
        return JSONResponse(double.configure(await _json(request)))
    except ValueError as exc:
        return _bad(str(exc))


async def faults(request: Request) -> Response:
    """POST adds a rule (returns its id), GET lists rules, DELETE clears them."""
    double = _double(request)
    if request.method == "GET":
        return JSONResponse(double.faults.rules())
    if request.method == "DELETE":
        double.faults.clear()
        return JSONResponse({"deleted": True})
    try:
        rule = double.faults.add(await _json(request))
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    return JSONResponse(rule.to_json())


async def requests_log(request: Request) -> Response:
    """GET lists /v1 requests (oldest first), DELETE clears the log."""
    double = _double(request)
    if request.method == "DELETE":
        double.clear_requests()
        return JSONResponse({"deleted": True})
    return JSONResponse(double.requests())


async def reset(request: Request) -> Response:
    """Forget all objects, config, rules, keys and logs."""
    _double(request).reset()
    return JSONResponse({"reset": True})


async def seed(request: Request) -> Response:
    """Create a product and a recurring per-unit price; returns their ids."""
    double = _double(request)
    try:
        body = await _json(request)
        unit_amount = int(body.get("unit_amount", 500))
        currency = str(body.get("currency", "eur"))
        interval = str(body.get("interval", "month"))
        name = str(body.get("product_name", "Group seat"))
        with double.state.lock:
            prod = create_product(double.state, name=name, metadata={"seeded_by": "double"})
            price = create_price(
                double.state,
                product_id=prod["id"],
                unit_amount=unit_amount,
                currency=currency,
                interval=interval,
                interval_count=int(body.get("interval_count", 1)),
            )
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    except StripeError as err:
        return _stripe_error(err)
    return JSONResponse({"product": prod["id"], "price": price["id"]})


async def global_clock(request: Request) -> Response:
    """GET shows the global time; POST {"now": unix} moves it (running due renewals of
    subscriptions without a test clock); {"now": null} returns to real time."""
    double = _double(request)
    state = double.state
    steps = 0
    if request.method == "POST":
        try:
            body = await _json(request)
        except ValueError as exc:
            return _bad(str(exc))
        if "now" not in body:
            return _bad("expected {'now': <unix seconds> | null}")
        target = body["now"]
        with state.lock:
            if target is None:
                state.global_now = None
            elif isinstance(target, int) and not isinstance(target, bool):
                if target > state.scope_now(None):
                    steps = clock.advance(state, None, target)
                else:
                    state.global_now = target
            else:
                return _bad("now must be an integer (unix seconds) or null")
    with state.lock:
        return JSONResponse(
            {"now": state.scope_now(None), "frozen": state.global_now is not None, "steps": steps}
        )


async def fail_payments(request: Request) -> Response:
    """{"fail": true} makes every payment of this customer fail (card declined)."""
    double = _double(request)
    customer_id = request.path_params["customer_id"]
    try:
        fail = bool((await _json(request)).get("fail", True))
    except ValueError as exc:
        return _bad(str(exc))
    with double.state.lock:
        if double.state.find("customer", customer_id) is None:
            return _stripe_error(missing(customer_id))
        if fail:
            double.state.failing_customers.add(customer_id)
        else:
            double.state.failing_customers.discard(customer_id)
    return JSONResponse({"customer": customer_id, "fail": fail})


async def flush_webhooks(request: Request) -> Response:
    """Block until every queued delivery was delivered or given up (`timeout` seconds)."""
    double = _double(request)
    try:
        timeout = float((await _json(request)).get("timeout", 30))
    except ValueError as exc:
        return _bad(str(exc))
    # Off the event loop: a receiver served by this same loop must keep answering.
    done = await run_in_threadpool(double.webhooks.flush, timeout)
    return JSONResponse({"flushed": done, "pending": double.webhooks.pending()})


async def deliveries(request: Request) -> Response:
    """Every delivery attempt: event id, type, endpoint, attempt, status, outcome."""
    return JSONResponse(_double(request).webhooks.deliveries())


ADMIN_ROUTES = [
    Route("/_double/config", config, methods=["GET", "POST"]),
    Route("/_double/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_double/requests", requests_log, methods=["GET", "DELETE"]),
    Route("/_double/reset", reset, methods=["POST"]),
    Route("/_double/seed", seed, methods=["POST"]),
    Route("/_double/clock", global_clock, methods=["GET", "POST"]),
    Route("/_double/customers/{customer_id}/fail_payments", fail_payments, methods=["POST"]),
    Route("/_double/webhooks/flush", flush_webhooks, methods=["POST"]),
    Route("/_double/webhooks/deliveries", deliveries, methods=["GET"]),
]
