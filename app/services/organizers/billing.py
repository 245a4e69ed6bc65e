"""What the organizer's billing page shows: the summary read model, told as the API's
``OrganizerBilling``, with the price the ledger recorded for the estimate
(projections/prices.py). Neither HTTP nor Stripe here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from adapters.persistence.database import Database
from app.services.organizers.models import (
    ActiveGroups,
    ChargeEstimate,
    EnrollmentStatus,
    EstimateAbsence,
    LastSync,
    OrganizerBilling,
    OtherSubscription,
    Price,
    Subscription,
    TaxId,
)
from app.settings import Settings
from projections.duplicates import open_duplicates_of
from projections.prices import read_price
from projections.summary import preview_of, read_summary, tax_ids_of
from projections.times import optional_from_text


class BillingDeps(Protocol):
    """What :func:`billing` reads (the container satisfies it)."""

    @property
    def database(self) -> Database: ...
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


def price_of(
    database: Database, price_id: str | None
) -> tuple[Price | None, EstimateAbsence | None]:
    """The per-group price for the estimate, from the prices read model (never Stripe),
    or why there is none: not recorded yet, not per unit (its amount depends on the
    quantity) or deleted."""
    recorded = None if price_id is None else read_price(database, price_id)
    if recorded is None:
        return None, "price_unknown"
    facts = recorded.facts
    if facts.deleted:
        return None, "price_deleted"
    if not facts.is_per_unit or facts.unit_amount is None:
        return None, "price_not_per_unit"
    price = Price(
        price_id=facts.price_id,
        unit_amount=facts.unit_amount,
        currency=facts.currency,
        interval=facts.interval,
    )
    return price, None


def billing(deps: BillingDeps, organizer_id: str) -> OrganizerBilling | None:
    """What the organizer is billed, will be billed next and why, from the summary and
    prices read models: a page view never calls Stripe."""
    doc = summary_document(deps.database, organizer_id)
    if doc is None:
        return None
    now = deps.clock()
    subscription = doc.get("subscription")
    price_id = (subscription or {}).get("price_id") or deps.settings.stripe_price_id
    price, absent = price_of(deps.database, price_id)
    quantity = int(doc["billable_quantity"])
    discount_ids = list((subscription or {}).get("discount_ids") or [])
    estimate = None
    if absent == "price_not_per_unit" or (price is not None and discount_ids):
        # Tiered/volume, or discounted: only Stripe's recorded preview knows the charge.
        estimate = previewed_charge(doc, price_id, quantity, discount_ids, price)
        if estimate is not None:
            absent = None
        elif price is not None:
            absent = "discount_not_previewed"
    elif price is not None:
        subtotal = price.unit_amount * quantity
        tax = None if deps.settings.stripe_automatic_tax else 0
        estimate = ChargeEstimate(
            quantity=quantity,
            unit_amount=price.unit_amount,
            subtotal=subtotal,
            discount=0,
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
        estimate_absent_reason=absent,
        tax_ids=[TaxId(type=kind, value=value) for kind, value in tax_ids_of(doc)],
        last_sync=None
        if last_sync is None
        else LastSync(
            status=last_sync["status"],
            quantity=last_sync.get("quantity"),
            at=last_sync.get("at"),
            error=last_sync.get("error"),
        ),
        duplicate_subscriptions=duplicate_subscriptions(deps.database, organizer_id),
    )


def previewed_charge(
    doc: dict[str, Any],
    price_id: str | None,
    quantity: int,
    discount_ids: list[str],
    price: Price | None = None,
) -> ChargeEstimate | None:
    """The estimate of a tiered or volume price, or of a discounted subscription: the
    renewal preview Stripe answered when the quantity or the discounts changed (recorded,
    domain/preview_events.py), if it is for this price, quantity and discounts."""
    preview = preview_of(doc)
    if preview is None or (
        preview["price_id"],
        preview["quantity"],
        list(preview.get("discount_ids") or []),
    ) != (price_id, quantity, discount_ids):
        return None
    return ChargeEstimate(
        quantity=quantity,
        # tiered/volume: no single unit amount (never an average); per unit: the price's
        unit_amount=None if price is None else price.unit_amount,
        subtotal=preview["subtotal"],
        discount=preview.get("discount"),
        tax=preview["tax"],
        total=preview["total"],
        currency=preview["currency"],
        source="invoice_preview",
    )


def duplicate_subscriptions(database: Database, organizer_id: str) -> list[OtherSubscription]:
    """The organizer's second live subscriptions (issue 13), from their read model."""
    return [
        OtherSubscription(
            subscription_id=row["subscription_id"],
            primary_subscription_id=row["primary_subscription_id"],
            found_at=row["found_at"],
        )
        for row in open_duplicates_of(database, organizer_id)
    ]
