"""What the organizer API answers, built from read models (and Stripe for prices and
Checkout). No HTTP here: routes call these in the thread pool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.account import StripeAccount
from adapters.stripe.gateway import StripeGateway
from app.bootstrap import Container
from app.services.organizers.models import (
    ActiveGroups,
    ChargeEstimate,
    CheckoutLink,
    EnrollmentRequest,
    EnrollmentStatus,
    LastSync,
    OrganizerBilling,
    PortalLink,
    Price,
    Subscription,
)
from app.services.stripe_account.portal import billing_url, portal_configuration
from domain.keys import checkout_key, customer_key
from domain.organizer import Organizer
from projections.summary import read_summary
from projections.times import optional_from_text

CHECKOUT_LIFETIME = timedelta(hours=23)  # Stripe's sessions last 24 h; reuse a bit less


class AlreadyEnrolledError(Exception):
    pass


class NotEnrolledError(Exception):
    pass


class StripeNotConfiguredError(Exception):
    pass


def summary_document(container: Container, organizer_id: str) -> dict[str, Any] | None:
    return read_summary(container.database, organizer_id)


def enrollment_status(doc: dict[str, Any], now: datetime) -> EnrollmentStatus:
    subscription = doc.get("subscription")
    if subscription is None:
        enrollment = doc.get("enrollment")
        open_session = (
            enrollment is not None and (optional_from_text(enrollment["expires_at"]) or now) > now
        )
        return "pending" if open_session else "not_enrolled"
    status = subscription["status"]
    if status in ("active", "trialing"):
        return "active"
    if status in ("past_due", "unpaid"):
        return "past_due"
    if status in ("incomplete", "paused"):
        return "pending"
    return "canceled"


def price_of(container: Container, price_id: str | None) -> Price | None:
    gateway = container.gateway
    if gateway is None or price_id is None:
        return None
    found = gateway.price(price_id)
    recurring = found.get("recurring") or {}
    return Price(
        price_id=price_id,
        unit_amount=int(found["unit_amount"]),
        currency=str(found["currency"]).lower(),
        interval=str(recurring.get("interval", "month")),
    )


def billing(container: Container, organizer_id: str) -> OrganizerBilling | None:
    doc = summary_document(container, organizer_id)
    if doc is None:
        return None
    now = container.clock()
    subscription = doc.get("subscription")
    price = price_of(
        container, (subscription or {}).get("price_id") or container.settings.stripe_price_id
    )
    quantity = int(doc["billable_quantity"])
    estimate = None
    if price is not None:
        subtotal = price.unit_amount * quantity
        tax = None if container.settings.stripe_automatic_tax else 0
        estimate = ChargeEstimate(
            quantity=quantity,
            unit_amount=price.unit_amount,
            subtotal=subtotal,
            tax=tax,
            total=subtotal + (tax or 0),
            currency=price.currency,
            source="price",
        )
    last_sync = doc.get("last_sync")
    return OrganizerBilling(
        organizer_id=organizer_id,
        enrollment_status=enrollment_status(doc, now),
        subscription=None
        if subscription is None
        else Subscription(
            subscription_id=subscription["subscription_id"],
            status=subscription["status"],
            billed_quantity=subscription["billed_quantity"],
            current_period_start=subscription["current_period_start"],
            current_period_end=subscription["current_period_end"],
        ),
        active_groups=ActiveGroups(count=len(doc["active_group_ids"]), ids=doc["active_group_ids"]),
        billable_quantity=quantity,
        billed_quantity=None if subscription is None else subscription["billed_quantity"],
        next_renewal_at=None if subscription is None else subscription["current_period_end"],
        price=price,
        estimated_next_charge=estimate,
        drift=bool(doc["drift"]),
        last_sync=None
        if last_sync is None
        else LastSync(
            status=last_sync["status"],
            quantity=last_sync.get("quantity"),
            at=last_sync.get("at"),
            error=last_sync.get("error"),
        ),
    )


def _gateway(container: Container) -> StripeGateway:
    gateway = container.gateway
    if gateway is None or container.settings.stripe_price_id is None:
        msg = "STRIPE_API_KEY and STRIPE_PRICE_ID must be set to enroll organizers"
        raise StripeNotConfiguredError(msg)
    return gateway


def enroll(container: Container, organizer_id: str, request: EnrollmentRequest) -> CheckoutLink:
    """A Checkout Session for the organizer: reused while open, 409 once enrolled."""
    gateway = _gateway(container)
    ledger = container.ledger
    organizer = ledger.find(organizer_id) or None
    now = container.clock()
    if organizer is not None:
        if organizer.is_enrolled:
            raise AlreadyEnrolledError(organizer_id)
        open_session = organizer.open_enrollment(now)
        quantity = organizer.billable_quantity(minimum=container.settings.minimum_quantity)
        if open_session is not None and open_session["quantity"] == quantity:
            return CheckoutLink(
                url=open_session["url"],
                session_id=open_session["session_id"],
                quantity=quantity,
                reused=True,
            )
    organizer_uuid_hex = ledger.register_organizer(organizer_id).hex
    customer_id = _customer(container, gateway, organizer_id, organizer_uuid_hex)
    organizer = ledger.get(organizer_id)
    quantity = organizer.billable_quantity(minimum=container.settings.minimum_quantity)
    public = container.settings.public_url.rstrip("/")
    params: dict[str, Any] = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": organizer_id,
        "line_items": [{"price": container.settings.stripe_price_id, "quantity": quantity}],
        "success_url": request.success_url
        or f"{public}/enroll/return?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": request.cancel_url or f"{public}/enroll",
        "metadata": {"organizer_id": organizer_id},
        "subscription_data": {"metadata": {"organizer_id": organizer_id}},
    }
    if container.settings.stripe_automatic_tax:
        params["automatic_tax"] = {"enabled": True}
    attempt = organizer.enrollments_started + 1
    session = gateway.create_checkout_session(
        params, idempotency_key=checkout_key(organizer_uuid_hex, attempt, quantity)
    )
    expires = session.get("expires_at")
    expires_at = datetime.fromtimestamp(expires, tz=UTC) if expires else now + CHECKOUT_LIFETIME
    ledger.update(
        organizer_id,
        lambda org, at: org.start_enrollment(
            session_id=session["id"],
            url=session["url"],
            expires_at=min(expires_at, now + CHECKOUT_LIFETIME),
            quantity=quantity,
            customer_id=customer_id,
            at=at,
        ),
    )
    return CheckoutLink(
        url=session["url"], session_id=session["id"], quantity=quantity, reused=False
    )


def _customer(container: Container, gateway: StripeGateway, organizer_id: str, key: str) -> str:
    """The organizer's Stripe customer, created once (the key makes retries reuse it)."""
    existing = container.ledger.get(organizer_id).stripe_customer_id
    if existing is not None:
        return existing
    customer_id = gateway.create_customer(
        organizer_id=organizer_id, idempotency_key=customer_key(key)
    )
    source = f"enrollment:{customer_id}"

    def link(org: Organizer, at: datetime) -> bool:
        return org.link_stripe_customer(customer_id, source=source, at=at)

    container.ledger.update(organizer_id, link)
    StripeInbox(container.database).link("customer", customer_id, organizer_id, source)
    return customer_id


def portal(container: Container, organizer_id: str) -> PortalLink:
    gateway = _gateway(container)
    organizer = container.ledger.find(organizer_id)
    if organizer is None or organizer.stripe_customer_id is None:
        raise NotEnrolledError(organizer_id)
    url = gateway.create_portal_session(
        customer_id=organizer.stripe_customer_id,
        return_url=billing_url(container.settings.public_url),
        configuration=portal_configuration(
            StripeAccount(gateway), container.settings.stripe_portal_configuration
        ),
    )
    return PortalLink(url=url)
