"""Enrolling an organizer: the Stripe customer (once) and a Checkout Session for the
quantity the ledger bills, reused while it is open. No HTTP here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from adapters.persistence.database import PostgresDatabase, SQLiteDatabase
from adapters.persistence.inbox import StripeInbox
from adapters.stripe.gateway import StripeGateway
from app.services.ledger import LedgerApplication
from app.services.organizers.errors import AlreadyEnrolledError, StripeNotConfiguredError
from app.services.organizers.models import CheckoutLink, EnrollmentRequest
from app.settings import Settings
from domain.keys import checkout_key, customer_key
from domain.organizer import Organizer

CHECKOUT_LIFETIME = timedelta(hours=23)  # Stripe's sessions last 24 h; reuse a bit less


class StripeDeps(Protocol):
    """What :func:`configured_gateway` reads."""

    @property
    def gateway(self) -> StripeGateway | None: ...
    @property
    def settings(self) -> Settings: ...


class EnrollmentDeps(StripeDeps, Protocol):
    """What :func:`enroll` uses (the container satisfies it)."""

    @property
    def ledger(self) -> LedgerApplication: ...
    @property
    def database(self) -> SQLiteDatabase | PostgresDatabase: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


def configured_gateway(deps: StripeDeps) -> StripeGateway:
    """The gateway, or :class:`StripeNotConfiguredError` without a key and a price."""
    gateway = deps.gateway
    if gateway is None or deps.settings.stripe_price_id is None:
        msg = "STRIPE_API_KEY and STRIPE_PRICE_ID must be set to enroll organizers"
        raise StripeNotConfiguredError(msg)
    return gateway


def enroll(deps: EnrollmentDeps, organizer_id: str, request: EnrollmentRequest) -> CheckoutLink:
    """A Checkout Session for the organizer: reused while open, 409 once enrolled. Every
    other open session of the customer is expired first (see :func:`_expire_others`)."""
    gateway = configured_gateway(deps)
    ledger = deps.ledger
    organizer = ledger.find(organizer_id) or None
    now = deps.clock()
    recorded: str | None = None
    if organizer is not None:
        if organizer.is_enrolled:
            raise AlreadyEnrolledError(organizer_id)
        recorded = organizer.enrollment["session_id"] if organizer.enrollment else None
        open_session = organizer.open_enrollment(now)
        quantity = organizer.billable_quantity(minimum=deps.settings.minimum_quantity)
        if open_session is not None and open_session["quantity"] == quantity:
            session_id = open_session["session_id"]
            customer_id = organizer.stripe_customer_id
            found = _expire_others(gateway, organizer_id, customer_id, keep=session_id)
            if customer_id is None or session_id in found:
                return CheckoutLink(
                    url=open_session["url"], session_id=session_id, quantity=quantity, reused=True
                )
            # No longer open in Stripe (expired from the Dashboard, or paid: refused).
            _expire(gateway, organizer_id, session_id)
    organizer_uuid_hex = ledger.register_organizer(organizer_id).hex
    customer_id = _customer(deps, gateway, organizer_id, organizer_uuid_hex)
    # The ledger's own older session is among them, and any the ledger never recorded
    # (``stray``): one an attempt opened before its response was lost, say.
    stray = [
        s for s in _expire_others(gateway, organizer_id, customer_id, keep=None) if s != recorded
    ]
    organizer = ledger.get(organizer_id)
    quantity = organizer.billable_quantity(minimum=deps.settings.minimum_quantity)
    public = deps.settings.public_url.rstrip("/")
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": organizer_id,
        "line_items": [{"price": deps.settings.stripe_price_id, "quantity": quantity}],
        "success_url": request.success_url
        or f"{public}/enroll/return?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": request.cancel_url or f"{public}/enroll",
        "metadata": {"organizer_id": organizer_id},
        "subscription_data": {"metadata": {"organizer_id": organizer_id}},
    }
    if deps.settings.stripe_automatic_tax:
        params["automatic_tax"] = {"enabled": True}
    attempt = organizer.enrollments_started + 1
    session = gateway.create_checkout_session(
        params,
        idempotency_key=checkout_key(organizer_uuid_hex, attempt, quantity, replacing=stray),
    )
    expires_at = session.expires_at or now + CHECKOUT_LIFETIME
    ledger.update(
        organizer_id,
        lambda org, at: org.start_enrollment(
            session_id=session.session_id,
            url=session.url,
            expires_at=min(expires_at, now + CHECKOUT_LIFETIME),
            quantity=quantity,
            customer_id=customer_id,
            at=at,
        ),
    )
    return CheckoutLink(
        url=session.url, session_id=session.session_id, quantity=quantity, reused=False
    )


def _expire_others(
    gateway: StripeGateway, organizer_id: str, customer_id: str | None, *, keep: str | None
) -> list[str]:
    """Every open Checkout Session of the customer but ``keep`` is expired (issue 13),
    whoever opened it — the ledger, the Dashboard, an earlier deployment, an attempt
    whose response was lost: two open sessions could both be paid, giving the organizer
    two subscriptions. Returns the ids Stripe listed as open (``keep`` among them while
    it is); none without a customer (no session can be its)."""
    if customer_id is None:
        return []
    found = gateway.open_checkout_sessions(customer_id)
    for session_id in found:
        if session_id != keep:
            _expire(gateway, organizer_id, session_id)
    return found


def _expire(gateway: StripeGateway, organizer_id: str, session_id: str) -> None:
    """An older open session is expired before a new one is opened. One paid in the
    meantime means a subscription is on its way: enrolling again is refused."""
    if gateway.expire_checkout_session(session_id) == "complete":
        raise AlreadyEnrolledError(organizer_id)


def _customer(deps: EnrollmentDeps, gateway: StripeGateway, organizer_id: str, key: str) -> str:
    """The organizer's Stripe customer, created once (the key makes retries reuse it)."""
    existing = deps.ledger.get(organizer_id).stripe_customer_id
    if existing is not None:
        return existing
    customer_id = gateway.create_customer(
        organizer_id=organizer_id, idempotency_key=customer_key(key)
    )
    source = f"enrollment:{customer_id}"

    def link(org: Organizer, at: datetime) -> bool:
        return org.link_stripe_customer(customer_id, source=source, at=at)

    deps.ledger.update(organizer_id, link)
    StripeInbox(deps.database).link("customer", customer_id, organizer_id, source)
    return customer_id
