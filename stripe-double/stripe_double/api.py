"""The /v1 request pipeline: auth, rate limit, faults, idempotency, dispatch, request log."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from stripe_double import (
    routes_checkout,
    routes_core,
    routes_coupons,
    routes_credit_notes,
    routes_customers,
    routes_events,
    routes_invoice_actions,
    routes_invoice_items,
    routes_invoices,
    routes_payment_methods,
    routes_portal_configurations,
    routes_search,
    routes_subscription_schedules,
    routes_subscriptions,
    tiers,
)
from stripe_double.errors import StripeError, rate_limited
from stripe_double.expand import expand
from stripe_double.faults import FaultRule
from stripe_double.idempotency import StoredResponse
from stripe_double.line_pages import first_page_of_lines
from stripe_double.params import Params, decode_form
from stripe_double.router import Ctx, Route, find_route
from stripe_double.runtime import Double
from stripe_double.state import API_VERSION, RequestContext, snapshot

logger = logging.getLogger(__name__)

REQUEST_ID_KEY = "stripe_double.request_id"
RAW_SEND_KEY = "stripe_double.raw_send"

ROUTES: list[Route] = [
    *routes_search.ROUTES,
    *routes_core.ROUTES,
    *routes_customers.ROUTES,
    *routes_subscriptions.ROUTES,
    *routes_coupons.ROUTES,
    *routes_subscription_schedules.ROUTES,
    *routes_invoices.ROUTES,
    *routes_invoice_actions.ROUTES,
    *routes_invoice_items.ROUTES,
    *routes_credit_notes.ROUTES,
    *routes_checkout.ROUTES,
    *routes_events.ROUTES,
    *routes_payment_methods.ROUTES,
    *routes_portal_configurations.ROUTES,
]

Outcome = tuple[int, bytes, bool | None]


def encode(body: dict[str, Any]) -> bytes:
    """Response JSON, pretty-printed like Stripe's."""
    return json.dumps(body, indent=2).encode()


def base_url_of(request: Request) -> str:
    """Where this double is reachable, without the trailing slash."""
    return str(request.base_url).rstrip("/")


def _error_outcome(err: StripeError) -> Outcome:
    return err.status, encode(err.body()), err.should_retry


def _execute(double: Double, request: Request, params: dict[str, Any], key: str | None) -> Outcome:
    """Run the handler under the state lock; its result (or error) as bytes."""
    method, path = request.method, request.url.path
    found = find_route(ROUTES, method, path)
    if found is None:
        return _error_outcome(
            StripeError(
                f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
                "or we can help at https://support.stripe.com/.",
                status=404,
            )
        )
    handler, args = found
    state = double.state
    base = base_url_of(request)
    with state.lock:
        state.request = RequestContext(request.scope[REQUEST_ID_KEY], key)
        try:
            wrapped = Params(params)
            body = first_page_of_lines(snapshot(handler(Ctx(state, wrapped, args, base))))
            expand(state, body, wrapped.get_str_list("expand"))
            tiers.hide_unexpanded(body, wrapped.get_str_list("expand"))
        except StripeError as err:
            return _error_outcome(err)
        except Exception as exc:
            logger.exception("stripe double handler failed")
            return _error_outcome(
                StripeError(
                    f"The Stripe double failed: {exc!r}",
                    type_="api_error",
                    status=500,
                    should_retry=False,
                )
            )
        finally:
            state.request = None
    return 200, encode(body), None


def _respond(
    entry: dict[str, Any],
    outcome: Outcome,
    *,
    key: str | None,
    replay_of: StoredResponse | None = None,
) -> Response:
    status, body, should_retry = outcome
    headers = {"Stripe-Version": API_VERSION}
    if key is not None:
        headers["Idempotency-Key"] = key
    if should_retry is not None:
        headers["Stripe-Should-Retry"] = "true" if should_retry else "false"
    if replay_of is not None:
        headers["Idempotent-Replayed"] = "true"
        headers["Original-Request"] = replay_of.request_id
    entry.update(status=status, stripe_should_retry=should_retry)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


async def _drop(request: Request, entry: dict[str, Any]) -> Response:
    """Close the socket with no response, so the client sees a connection error.

    Starlette answers exceptions with a 500, so the only way to send nothing is closing
    the transport of uvicorn's request cycle (the raw `send` the app received).
    """
    entry.update(dropped=True, status=None)
    cycle = getattr(request.scope.get(RAW_SEND_KEY), "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("drop_connection needs uvicorn's h11 or httptools protocol")
    transport.close()
    # Wait for uvicorn to notice, so the response below is discarded rather than written.
    for _ in range(200):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0.005)
    return Response(b"", status_code=500)


async def _pause(seconds: float) -> None:
    """A fault's `delay_ms` (no await at all without one, keeping handlers atomic)."""
    if seconds > 0:
        await asyncio.sleep(seconds)


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def api_endpoint(request: Request) -> Response:
    """Every /v1 request goes through here; see docs/stripe-double.md for the order."""
    double: Double = request.app.state.double
    method = request.method
    raw = (await request.body()).decode("utf-8", "replace") if method == "POST" else ""
    key = request.headers.get("idempotency-key") if method == "POST" else None
    entry: dict[str, Any] = {
        "request_id": request.scope[REQUEST_ID_KEY],
        "method": method,
        "path": request.url.path,
        "params": {},
        "idempotency_key": key,
        "status": None,
        "stripe_should_retry": None,
        "fault": None,
        "replayed": False,
        "dropped": False,
        "at": time.time(),
    }
    # Logged on arrival and completed in place: a dropped connection's client can move on
    # before this coroutine finishes, and must already find its request in the log.
    double.log_request(entry)
    return await _process(request, double, entry, raw or request.url.query, key)


async def _process(
    request: Request, double: Double, entry: dict[str, Any], raw: str, key: str | None
) -> Response:
    api_key = _bearer(request)
    if api_key is None:
        error = StripeError(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth.",
            type_="authentication_error",
        )
        return _respond(entry, _error_outcome(error), key=key)
    try:
        params = decode_form(raw)
        entry["params"] = params
        if not double.rate_limiter.allow(double.state.config.rate_limit_rps):
            raise rate_limited("Request rate limit exceeded (rate_limit_rps of the double).")
    except StripeError as err:
        return _respond(entry, _error_outcome(err), key=key)
    rule = double.faults.match(request.method, request.url.path)
    delay = 0.0
    if rule is not None:
        entry["fault"] = rule.id
        delay = rule.delay_ms / 1000
    early = rule if rule is not None and not rule.after_processing else None
    if early is not None and early.drop_connection:
        await _pause(delay)
        return await _drop(request, entry)
    early_error = early.error() if early is not None else None
    # Rejections (429, 4xx) happen before the idempotency layer, like Stripe's limiter.
    if early_error is not None and (key is None or not early_error.cacheable):
        await _pause(delay)
        return _respond(entry, _error_outcome(early_error), key=key)
    outcome = await _idempotent(
        request=request,
        double=double,
        entry=entry,
        params=params,
        api_key=api_key,
        key=key,
        early_error=early_error,
        delay=delay,
    )
    if isinstance(outcome, Response):
        return outcome
    late = rule if rule is not None and rule.after_processing else None
    return await _after(request, entry, outcome, late, key)


async def _idempotent(
    *,
    request: Request,
    double: Double,
    entry: dict[str, Any],
    params: dict[str, Any],
    api_key: str,
    key: str | None,
    early_error: StripeError | None,
    delay: float,
) -> Outcome | Response:
    if key is None:
        await _pause(delay)
        return _execute(double, request, params, None)
    method, path = request.method, request.url.path
    try:
        stored = double.idempotency.begin(api_key, key, method, path, params)
    except StripeError as err:
        return _respond(entry, _error_outcome(err), key=key)
    if stored is not None:
        entry["replayed"] = True
        return _respond(
            entry, (stored.status, stored.body, stored.should_retry), key=key, replay_of=stored
        )
    keep: StoredResponse | None = None
    try:
        # A slow request holds its key, so a concurrent retry with it gets Stripe's 409.
        await _pause(delay)
        outcome = (
            _error_outcome(early_error)
            if early_error is not None
            else _execute(double, request, params, key)
        )
        status = outcome[0]
        # Validation failures (4xx other than card errors) run no endpoint: nothing to save.
        if status < 400 or status >= 500 or status == 402:
            keep = StoredResponse(
                request.scope[REQUEST_ID_KEY], method, path, params, status, *outcome[1:]
            )
    finally:
        double.idempotency.finish(api_key, key, keep)
    return outcome


async def _after(
    request: Request,
    entry: dict[str, Any],
    outcome: Outcome,
    late: FaultRule | None,
    key: str | None,
) -> Response:
    """A fault with after_processing: the change happened (and was saved for replay),
    but the client sees the error or a dropped connection."""
    if late is not None:
        if late.drop_connection:
            return await _drop(request, entry)
        error = late.error()
        if error is not None:
            return _respond(entry, _error_outcome(error), key=key)
    return _respond(entry, outcome, key=key)
