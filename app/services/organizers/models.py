"""The organizer-facing JSON API's models: the contract the OpenAPI document is generated
from, and through it the SPA's types (web/src/lib/api.gen.ts, ``make contract``). Money is
integer minor units with an ISO currency; times are UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EnrollmentStatus = Literal["not_enrolled", "pending", "active", "past_due", "canceled"]


class Model(BaseModel):
    # Responses are dumped whole (``model_dump_json``), defaults included: the schema says
    # so, and the SPA's generated types (web/src/lib/api.gen.ts) need not test for absence.
    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )


class Money(Model):
    amount: int = Field(description="Integer minor units (cents)")
    currency: str = Field(pattern="^[a-z]{3}$", description="ISO 4217, lower case")


class ActiveGroups(Model):
    count: int
    ids: list[str]


class Subscription(Model):
    subscription_id: str
    status: str
    billed_quantity: int
    current_period_start: datetime
    current_period_end: datetime


class Price(Model):
    price_id: str
    unit_amount: int = Field(description="Per group and period, minor units")
    currency: str
    interval: str = Field(description="month, year, …")


class ChargeEstimate(Model):
    quantity: int
    unit_amount: int
    subtotal: int
    tax: int | None = Field(description="null when tax is computed by Stripe at invoicing")
    total: int
    currency: str
    source: Literal["price", "invoice_preview"]


class LastSync(Model):
    status: str
    quantity: int | None
    at: datetime | None
    error: str | None


class OrganizerBilling(Model):
    """Everything an organizer's billing page shows (GET /api/organizers/{id})."""

    organizer_id: str
    enrollment_status: EnrollmentStatus
    subscription: Subscription | None
    active_groups: ActiveGroups
    billable_quantity: int
    billed_quantity: int | None
    next_renewal_at: datetime | None
    price: Price | None
    estimated_next_charge: ChargeEstimate | None
    drift: bool
    last_sync: LastSync | None


class TimelineEntry(Model):
    position: int = Field(description="Position in the ledger's log (stable order)")
    seq: int
    at: datetime = Field(
        description="When it happened (the change's own time, Stripe's for its facts): the order"
    )
    recorded_at: datetime
    kind: str
    title: str = Field(description="One line, in plain words (no amounts or dates)")
    description: str
    quantity: int | None
    amount: Money | None = Field(description="The charge or payment; the SPA formats it")
    subtotal: Money | None = Field(default=None, description="An invoice's amount before tax")
    tax: Money | None = Field(default=None, description="An invoice's tax")
    period_start: datetime | None = Field(default=None, description="The period it bills")
    period_end: datetime | None = None


class Timeline(Model):
    entries: list[TimelineEntry]
    next_cursor: str | None


class Invoice(Model):
    invoice_id: str
    status: str
    billing_reason: str
    period_start: datetime
    period_end: datetime
    quantity: int
    subtotal: int
    tax: int
    total: int
    currency: str


class Invoices(Model):
    invoices: list[Invoice]
    next_cursor: str | None


_RETURN_URL = (
    "Where Checkout sends the organizer back: an absolute http(s) URL on this service's "
    "origin (LEDGER_PUBLIC_URL) or one of LEDGER_REDIRECT_ORIGINS; others are a 400"
)


class EnrollmentRequest(Model):
    success_url: str | None = Field(default=None, max_length=2000, description=_RETURN_URL)
    cancel_url: str | None = Field(default=None, max_length=2000, description=_RETURN_URL)


class CheckoutLink(Model):
    url: str
    session_id: str
    quantity: int
    reused: bool = Field(description="true when an open session was returned again")


class PortalLink(Model):
    url: str


# -- the staff area's lists (app/entrypoints/http/routes/staff.py), times as stored --


class Correction(Model):
    """A renewal invoice correction the ledger decided, and where it stands."""

    correction_id: str
    organizer_id: str
    kind: str = Field(description="draft item, one-off invoice or credit note")
    invoice_id: str
    quantity: int
    amount: int = Field(description="Integer minor units")
    currency: str
    status: str = Field(description="pending, retrying, confirmed, failed or missed")
    attempts: int
    last_error: str | None
    stripe_object_id: str | None
    requested_at: str
    updated_at: str


class Corrections(Model):
    entries: list[Correction]
    next_cursor: str | None


class OrganizerHit(Model):
    """An organizer a staff search found."""

    organizer_id: str
    customer_id: str | None = Field(description="The Stripe customer, once linked")
    subscription_id: str | None
    subscription_status: str | None
    current_period_end: str | None
    drift: bool


class OrganizerHits(Model):
    entries: list[OrganizerHit]
    next_cursor: str | None
