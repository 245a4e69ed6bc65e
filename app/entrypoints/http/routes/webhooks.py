"""``POST /webhooks/stripe``: verify, store in the inbox, answer. Nothing else.

The handler never calls Stripe and never waits for domain processing: Stripe times
out slow endpoints and retries, so the answer must only mean "durably stored".
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import stripe
from eventsourcing.persistence import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.observability.metrics import WEBHOOKS_RECEIVED
from adapters.persistence.database import DATABASE_ERRORS
from adapters.persistence.inbox import InboxDelivery, StripeInbox
from app.bootstrap import Container
from app.entrypoints.http.problems import Problem
from app.entrypoints.http.requests import parse_json, read_body
from app.services.intake import deliveries

log = logging.getLogger("ledger.webhooks")
MAX_WEBHOOK_BYTES = 1024 * 1024
NOT_STORED: tuple[type[Exception], ...] = (*DATABASE_ERRORS, OperationalError, InterfaceError)


def verify_signature(
    body: bytes, header: str | None, secrets: tuple[str, ...], tolerance_s: int
) -> None:
    """Accept the body if any configured secret verifies any ``v1`` signature.

    Several secrets are configured during rotation; Stripe signs with each endpoint
    secret it knows, so one match is enough. ``tolerance_s == 0`` disables the age check.
    """
    if not header:
        raise Problem(
            400,
            "Missing signature",
            "the Stripe-Signature header is required",
            slug="invalid-signature",
        )
    if not secrets:
        raise Problem(
            503,
            "Webhooks not configured",
            "STRIPE_WEBHOOK_SECRET is not set",
            slug="not-configured",
        )
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "Malformed body", "the body is not UTF-8 text") from None
    if tolerance_s and _signed_at(header) > time.time() + tolerance_s:
        # The SDK refuses only old signatures; one from the future is no less a replay risk.
        raise Problem(
            400,
            "Invalid signature",
            "the signature's timestamp is in the future beyond the tolerance",
            slug="invalid-signature",
        )
    errors: list[str] = []
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance_s or None)
        except stripe.SignatureVerificationError as error:
            errors.append(str(error.user_message or error))
            continue
        return
    # A signature that matched but is too old says more than "no match" for other secrets.
    detail = next((e for e in errors if "tolerance" in e), errors[-1])
    raise Problem(400, "Invalid signature", detail, slug="invalid-signature")


def _signed_at(header: str) -> int:
    """The ``t=`` of a Stripe-Signature header (0 when absent or not a number: the SDK's
    own check then refuses the header)."""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            return int(value)
    return 0


def delivery_from_event(
    event: Any, *, received_at: datetime, payload: bytes = b""
) -> InboxDelivery:
    """The inbox row for a parsed body, or 400 when it is not a Stripe event."""
    try:
        return deliveries.delivery_from_event(event, received_at=received_at, payload=payload)
    except deliveries.NotAnEventError as error:
        raise Problem(400, "Not a Stripe event", error.detail, slug="not-a-stripe-event") from None


def routes(container: Container) -> list[BaseRoute]:
    inbox = StripeInbox(container.database)

    async def stripe_webhook(request: Request) -> Response:
        """Verify, store once, answer 200 (``accepted`` or ``duplicate``); counted."""
        try:
            response, outcome = await receive(request)
        except Problem as problem:
            outcome = "unavailable" if problem.status >= 500 else "rejected"
            WEBHOOKS_RECEIVED.labels(outcome=outcome).inc()
            raise
        WEBHOOKS_RECEIVED.labels(outcome=outcome).inc()
        return response

    async def receive(request: Request) -> tuple[Response, str]:
        settings = container.settings
        body = await read_body(request, limit=MAX_WEBHOOK_BYTES)
        verify_signature(
            body,
            request.headers.get("stripe-signature"),
            settings.webhook_secrets,
            settings.stripe_webhook_tolerance_s,
        )
        delivery = delivery_from_event(
            parse_json(body), received_at=container.clock(), payload=body
        )
        try:
            stored = await run_in_threadpool(inbox.insert, delivery)
        except NOT_STORED as error:
            log.warning(
                "inbox unavailable, asking Stripe to retry %s: %s", delivery.event_id, error
            )
            raise Problem(
                503,
                "Store unavailable",
                "the delivery was not stored; retry later",
                slug="store-unavailable",
                headers={"Retry-After": "5"},
            ) from None
        status = "accepted" if stored else "duplicate"
        return JSONResponse({"status": status, "event_id": delivery.event_id}), status

    return [Route("/webhooks/stripe", stripe_webhook, methods=["POST"])]
