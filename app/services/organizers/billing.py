"""What the organizer's billing page shows: the summary read model, told as the API's
``OrganizerBilling`` (with Stripe's price for the estimate). No HTTP here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from adapters.persistence.database import Database
from adapters.stripe.gateway import StripeGateway
from adapters.stripe.payload import TranslationError
from app.services.organizers.models import (
    ActiveGroups,
    ChargeEstimate,
    EnrollmentStatus,
    LastSync,
    OrganizerBilling,
    Price,
    Subscription,
)
from app.settings import Settings
from projections.summary import read_summary
from projections.times import optional_from_text

log = logging.getLogger("ledger")


class BillingDeps(Protocol):
    """What :func:`billing` reads (the container satisfies it)."""

    @property
    def database(self) -> Database: ...
    @property
    def gateway(self) -> StripeGateway | None: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


def summary_document(database: Database, organizer_id: str) -> dict[str, Any] | None:
    return read_summary(database, organizer_id)


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


def price_of(gateway: StripeGateway | None, price_id: str | None) -> Price | None:
    """The per-group price for the estimate; None without a gateway or price, for a tiered
    price (its amount depends on the quantity) and for a price Stripe answers unreadably
    (the page still answers, without an estimate)."""
    if gateway is None or price_id is None:
        return None
    try:
        found = gateway.price(price_id)
    except TranslationError as error:
        log.warning("price %s is unreadable: %s", price_id, error)
        return None
    if found.unit_amount is None:
        return None
    return Price(
        price_id=price_id,
        unit_amount=found.unit_amount,
        currency=found.currency,
        interval=found.interval,
    )


def billing(deps: BillingDeps, organizer_id: str) -> OrganizerBilling | None:
    """What the organizer is billed, will be billed next and why, from the summary read
    model (and Stripe for the price)."""
    doc = summary_document(deps.database, organizer_id)
    if doc is None:
        return None
    now = deps.clock()
    subscription = doc.get("subscription")
    price = price_of(
        deps.gateway, (subscription or {}).get("price_id") or deps.settings.stripe_price_id
    )
    quantity = int(doc["billable_quantity"])
    estimate = None
    if price is not None:
        subtotal = price.unit_amount * quantity
        tax = None if deps.settings.stripe_automatic_tax else 0
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
