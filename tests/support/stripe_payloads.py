"""Stripe webhook payloads for tests, varied from the real ones in tests/fixtures/stripe.

Each builder deep-copies a real delivery (or a Stripe-published object inside a real
envelope) and edits ids, times, quantities and statuses, so tests parse what Stripe
sends rather than what we remember it sends. Two shapes: ``legacy`` (2020-03-02, the
stripe_sync_engine deliveries) and ``basil`` (the realworld delivery and Stripe's
OpenAPI example objects).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

Payload = dict[str, Any]
ShapeName = Literal["legacy", "basil"]
SHAPES: tuple[ShapeName, ...] = ("legacy", "basil")
API_VERSIONS: dict[ShapeName, str] = {"legacy": "2020-03-02", "basil": "2025-03-31.basil"}

DAY = 86_400
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z: deliveries are "now"-ish, periods around it.
PERIOD = (T0 - 10 * DAY, T0 + 21 * DAY)


def repository_root() -> Path:
    """The folder holding pyproject.toml, wherever the repository is cloned."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file():
            return folder
    msg = f"no pyproject.toml above {__file__}"
    raise FileNotFoundError(msg)


FIXTURES = repository_root() / "tests" / "fixtures" / "stripe"


@cache
def _parsed(relative: str) -> Payload:
    loaded: Payload = json.loads((FIXTURES / relative).read_text())
    return loaded


def fixture(relative: str) -> Payload:
    """A private copy of a fixture file (an event, or a Stripe object)."""
    return copy.deepcopy(_parsed(relative))


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _envelope(
    shape: ShapeName, obj: Payload, event_type: str, event_id: str, created: int
) -> Payload:
    # The sync engine's envelope is a real one; only the rendering version differs.
    event = fixture("stripe_sync_engine/subscription_updated.json")
    event.update(id=event_id, type=event_type, created=created, api_version=API_VERSIONS[shape])
    event["data"] = {"object": obj}
    return event


# -- subscriptions -------------------------------------------------------------------


def subscription_object(
    shape: ShapeName,
    *,
    subscription_id: str = "sub_Ledger0001",
    item_id: str = "si_Ledger0001",
    customer: str = "cus_Ledger0001",
    quantity: int = 3,
    status: str = "active",
    period: tuple[int, int] = PERIOD,
    cancel_at_period_end: bool = False,
) -> Payload:
    """A subscription with one item: legacy keeps its period on the subscription,
    basil on the item (the OpenAPI example's own period values are random, and so is
    its ``cancel_at_period_end: true``)."""
    sub: Payload
    if shape == "legacy":
        sub = fixture("stripe_sync_engine/subscription_updated.json")["data"]["object"]
        sub["current_period_start"], sub["current_period_end"] = period
        sub["quantity"] = quantity
    else:
        sub = fixture("openapi_fixtures3__subscription.json")
        sub["items"]["data"][0]["current_period_start"] = period[0]
        sub["items"]["data"][0]["current_period_end"] = period[1]
    sub.update(
        id=subscription_id,
        customer=customer,
        status=status,
        cancel_at_period_end=cancel_at_period_end,
    )
    item = sub["items"]["data"][0]
    item.update(id=item_id, quantity=quantity, subscription=subscription_id)
    return sub


def subscription_event(
    shape: ShapeName,
    event_type: str = "customer.subscription.updated",
    *,
    event_id: str = "evt_Ledger0001",
    created: int = T0,
    **fields: Any,
) -> Payload:
    return _envelope(shape, subscription_object(shape, **fields), event_type, event_id, created)


def add_item(
    sub: Payload, *, item_id: str, quantity: int | None, created: int, price_id: str
) -> None:
    """A second item, copied from the first (same shape, other id/price/quantity)."""
    item = copy.deepcopy(sub["items"]["data"][0])
    item.update(id=item_id, quantity=quantity, created=created)
    item["price"]["id"] = price_id
    sub["items"]["data"].append(item)


# -- invoices ------------------------------------------------------------------------


def _set_line(
    line: Payload, *, quantity: int, amount: int, currency: str, period: tuple[int, int]
) -> None:
    line.update(quantity=quantity, amount=amount, currency=currency.lower())
    line["period"] = {"start": period[0], "end": period[1]}
    # The unit price the line states agrees with its amount (per-unit pricing).
    unit = str(amount // quantity) if quantity else "0"
    if isinstance(line.get("pricing"), dict):
        line["pricing"]["unit_amount_decimal"] = unit
    for key in ("price", "plan"):
        if isinstance(line.get(key), dict):
            line[key].update(unit_amount=int(unit), unit_amount_decimal=unit, amount=int(unit))


def invoice_event(
    shape: ShapeName,
    event_type: str = "invoice.paid",
    *,
    event_id: str = "evt_Ledger0002",
    created: int = T0,
    invoice_id: str = "in_Ledger0001",
    subscription_id: str | None = "sub_Ledger0001",
    customer: str = "cus_Ledger0001",
    quantity: int = 3,
    line_period: tuple[int, int] = PERIOD,
    amount: int = 4500,
    tax: int = 0,
    currency: str = "EUR",
    status: str = "paid",
    attempt_count: int = 1,
) -> Payload:
    """An invoice billing ``quantity`` for ``line_period``; ``amount`` excludes tax."""
    if shape == "legacy":
        event = fixture("stripe_sync_engine/invoice_paid.json")
    else:
        event = fixture("realworld/basil_invoice_payment_succeeded.payload.json")
    event.update(id=event_id, type=event_type, created=created)
    invoice = event["data"]["object"]
    set_invoice_subscription(shape, invoice, subscription_id)
    set_invoice_tax(shape, invoice, tax)
    total = amount + tax
    paid = total if status == "paid" else 0
    invoice.update(
        id=invoice_id,
        customer=customer,
        currency=currency,
        status=status,
        subtotal=amount,
        total=total,
        amount_due=total,
        amount_paid=paid,
        amount_remaining=total - paid,
        attempt_count=attempt_count,
    )
    if status == "draft":
        # Stripe sets an invoice's links when it finalizes it.
        invoice.update(hosted_invoice_url=None, invoice_pdf=None)
    line = invoice["lines"]["data"][0]
    _set_line(line, quantity=quantity, amount=amount, currency=currency, period=line_period)
    return event


def set_invoice_subscription(
    shape: ShapeName, invoice: Payload, subscription_id: str | None
) -> None:
    if shape == "legacy":
        invoice["subscription"] = subscription_id
        for line in invoice["lines"]["data"]:
            line["subscription"] = subscription_id
            if subscription_id is None:
                # A one-off invoice bills invoice items, not subscription items.
                line.update(type="invoiceitem", subscription_item=None)
        return
    if subscription_id is None:
        invoice["parent"] = None
        for line in invoice["lines"]["data"]:
            line["parent"] = {
                "type": "invoice_item_details",
                "subscription_item_details": None,
                "invoice_item_details": {
                    "invoice_item": "ii_Ledger0001",
                    "proration": False,
                    "subscription": None,
                },
            }
        return
    invoice["parent"]["subscription_details"]["subscription"] = subscription_id
    for line in invoice["lines"]["data"]:
        line["parent"]["subscription_item_details"]["subscription"] = subscription_id


def set_invoice_tax(shape: ShapeName, invoice: Payload, tax: int) -> None:
    if shape == "legacy":
        invoice["tax"] = tax or None
        return
    entry = {
        "amount": tax,
        "tax_behavior": "exclusive",
        "taxability_reason": "standard_rated",
        "taxable_amount": invoice["subtotal"],
        "type": "tax_rate_details",
    }
    invoice["total_taxes"] = [entry] if tax else []


def mark_proration(shape: ShapeName, invoice: Payload) -> None:
    """Turn every line into a proration (a mid-period quantity change invoice)."""
    for line in invoice["lines"]["data"]:
        if shape == "legacy":
            line.update(type="invoiceitem", proration=True)
        else:
            line["parent"]["subscription_item_details"]["proration"] = True


def upcoming_event(
    shape: ShapeName,
    *,
    event_id: str = "evt_Ledger0003",
    renewal: int = PERIOD[1],
    quantity: int = 4,
    amount: int = 6000,
    currency: str = "EUR",
    subscription_id: str | None = "sub_Ledger0001",
) -> Payload:
    """The renewal preview Stripe sends days before ``renewal``: no id, a draft, the
    invoice looking back at the current period, its line billing the next one."""
    if shape == "legacy":
        event = fixture("stripe_sync_engine/invoice_upcoming.json")
        invoice = event["data"]["object"]
        # The sync engine's upcoming delivery has no lines: give it its paid invoice's.
        paid = fixture("stripe_sync_engine/invoice_paid.json")["data"]["object"]
        invoice["lines"]["data"] = paid["lines"]["data"][:1]
    else:
        event = fixture("realworld/basil_invoice_payment_succeeded.payload.json")
        invoice = event["data"]["object"]
        del invoice["id"]
    event.update(id=event_id, type="invoice.upcoming", created=renewal - 3 * DAY)
    set_invoice_subscription(shape, invoice, subscription_id)
    invoice.update(
        billing_reason="upcoming",
        status="draft",
        period_start=PERIOD[0],
        period_end=renewal,
        next_payment_attempt=renewal + 3600,
        subtotal=amount,
        total=amount,
        amount_due=amount,
        amount_paid=0,
        currency=currency,
    )
    next_period = (renewal, renewal + 31 * DAY)
    line = invoice["lines"]["data"][0]
    _set_line(line, quantity=quantity, amount=amount, currency=currency, period=next_period)
    return event


# -- checkout sessions and customers -------------------------------------------------


def checkout_event(
    shape: ShapeName,
    *,
    event_id: str = "evt_Ledger0004",
    mode: str = "subscription",
    client_reference_id: str | None = "org-1",
    metadata: dict[str, str] | None = None,
    customer: str | Payload = "cus_Ledger0001",
    subscription: str | None = "sub_Ledger0001",
) -> Payload:
    if shape == "legacy":
        event = fixture("stripe_sync_engine/checkout_session_completed.json")
        session = event["data"]["object"]
    else:
        session = fixture("openapi_fixtures3__checkout_session.json")
        session["status"] = "complete"
        event = _envelope(shape, session, "checkout.session.completed", event_id, T0)
    event["id"] = event_id
    session.update(
        mode=mode,
        client_reference_id=client_reference_id,
        metadata=metadata or {},
        customer=customer,
        subscription=subscription,
    )
    return event


def customer_deleted_event(
    shape: ShapeName, *, event_id: str = "evt_Ledger0005", customer: str = "cus_Ledger0001"
) -> Payload:
    if shape == "legacy":
        event = fixture("stripe_sync_engine/customer_deleted.json")
        event["id"] = event_id
    else:
        event = _envelope(
            shape, fixture("openapi_fixtures3__customer.json"), "customer.deleted", event_id, T0
        )
    event["data"]["object"]["id"] = customer
    return event
