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


class TaxId(Model):
    type: str = Field(description="Stripe's tax id type, e.g. eu_vat")
    value: str


EstimateAbsence = Literal[
    "price_unknown", "price_not_per_unit", "price_deleted", "discount_not_previewed"
]


class ChargeEstimate(Model):
    quantity: int
    unit_amount: int | None = Field(
        description="The per-group price; null for an invoice preview of a tiered or volume"
        " price (it has no single unit amount: the subtotal is Stripe's)"
    )
    subtotal: int
    discount: int | None = Field(
        default=None,
        description="What the subscription's discounts (coupons) take off the subtotal, in"
        " minor units: 0 for a price estimate (no discounts), Stripe's for an invoice"
        " preview; null for a preview recorded before discounts were read",
    )
    tax: int | None = Field(description="null when tax is computed by Stripe at invoicing")
    total: int
    currency: str
    source: Literal["price", "invoice_preview"]


class LastSync(Model):
    status: str
    quantity: int | None
    at: datetime | None
    error: str | None


class OtherSubscription(Model):
    """A second live subscription (issue 13): never synced; cancel it in Stripe."""

    subscription_id: str
    primary_subscription_id: str = Field(description="The subscription the ledger bills")
    found_at: datetime


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
    duplicate_subscriptions: list[OtherSubscription] = Field(
        default_factory=list,
        description="Other live subscriptions of this organizer, never synced (issue 13)",
    )
    estimate_absent_reason: EstimateAbsence | None = Field(
        default=None,
        description="Why estimated_next_charge is null: the price is not recorded yet,"
        " not per unit (tiered/volume) or deleted, or the subscription has discounts and"
        " their renewal preview is not recorded yet. Null when there is an estimate.",
    )
    tax_ids: list[TaxId] = Field(
        default_factory=list, description="The customer's tax ids, as Stripe reported them"
    )


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
    group_id: str | None = Field(default=None, description="A group change's group")
    group_name: str | None = Field(
        default=None, description="Its name, when the platform sent one (issue 16)"
    )
    invoice_id: str | None = Field(
        default=None, description="An invoice's id: its entries are one invoice's story"
    )


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


# -- issue 16: each invoice explained (GET .../invoices/{invoice_id}, .../groups/history) --


class CountedGroup(Model):
    group_id: str
    group_name: str | None = Field(description="As the platform last sent it; null: none sent")


class GroupChangeMade(Model):
    """A change that moved the active count: a group opened or closed."""

    group_id: str
    group_name: str | None
    change: Literal["opened", "closed"]
    occurred_at: datetime = Field(description="The change's own time (the platform's)")
    change_id: str


class InvoiceCorrection(Model):
    """A correction the ledger decided for this invoice (issue 10)."""

    correction_id: str
    kind: Literal["draft_item", "one_off_invoice", "credit_note"] = Field(
        description="draft_item: added to the draft; one_off_invoice / credit_note: the "
        "late difference, charged or credited on its own document"
    )
    quantity: int = Field(description="Signed: groups added (> 0) or taken off (< 0)")
    amount: Money = Field(description="Signed, tax apart")
    status: str
    requested_at: datetime


class InvoiceDetail(Model):
    """One invoice explained: what it billed and why (the groups active at its period start)."""

    invoice: Invoice
    counted_at: datetime = Field(description="The instant the groups were counted")
    counted_groups: list[CountedGroup] = Field(description="Active at counted_at, by id")
    previous_invoice_id: str | None
    changes_since: datetime | None = Field(
        description="The previous invoice's counting instant (null: since the beginning)"
    )
    changes_since_previous: list[GroupChangeMade] = Field(
        description="Changes after changes_since up to counted_at that moved the count"
    )
    corrections: list[InvoiceCorrection]
    hosted_invoice_url: str | None = Field(description="Stripe's hosted page, when known")
    invoice_pdf: str | None = Field(description="Stripe's PDF, when known")


class GroupCountPoint(Model):
    at: datetime = Field(description="From this instant on (a change's time, or a UTC day)")
    active_groups: int


class BilledPeriod(Model):
    invoice_id: str
    period_start: datetime
    period_end: datetime
    quantity: int


class GroupsHistory(Model):
    """Active groups over time, with the quantity each invoice billed laid over it."""

    range_start: datetime = Field(description="The `from` asked for (default: first change)")
    range_end: datetime = Field(description="The `to` asked for (default: now)")
    granularity: Literal["change", "day"] = Field(
        description="change: one point per change that moved the count; day: the count at "
        "the end of each UTC day (long ranges)"
    )
    points: list[GroupCountPoint] = Field(description="The first is the count at range_start")
    billed: list[BilledPeriod] = Field(description="Invoices whose period meets the range")
