"""Invoice events: the invoice's state, its payment, and the renewal preview."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any
from urllib.parse import urlsplit

from adapters.stripe.commands import (
    Command,
    NoteRenewalUpcoming,
    RecordInvoice,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
)
from adapters.stripe.delivery import Delivery, Translation, count, metadata_organizer
from adapters.stripe.payload import Node, TranslationError
from adapters.stripe.shapes import Shape, SubscriptionLine, read_period
from domain.billing import InvoiceFacts


class MoreLinesNeeded(TranslationError):
    """The invoice embeds only its first page of lines (``lines.has_more``) and none of
    them bills the per-group item: the rest must be fetched (``GET
    /v1/invoices/{id}/lines``) and the object translated again with all of them
    (``with_all_lines``). Translation stays pure; the caller does the fetching."""

    def __init__(self, invoice_id: str, where: str) -> None:
        super().__init__(
            f"{where} embeds only the first page of invoice {invoice_id}'s lines "
            "(has_more) and the per-group line is not on it: the rest must be fetched"
        )
        self.invoice_id = invoice_id


def with_all_lines(obj: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of an invoice (or of an event about one: its ``data.object``) whose
    ``lines`` are ``lines``, all of them (``has_more`` false)."""
    copied = dict(obj)
    if copied.get("object") == "event":
        data = dict(copied["data"])
        data["object"] = with_all_lines(data["object"], lines)
        copied["data"] = data
        return copied
    listed = dict(copied.get("lines") or {})
    listed.update(data=[dict(line) for line in lines], has_more=False)
    copied["lines"] = listed
    return copied


def _billed_line(
    invoice: Node, shape: Shape, group_price_ids: AbstractSet[str]
) -> SubscriptionLine | None:
    """The invoice's regular line for the per-group item (the first, without prices).

    Lines come in order, so one found on the embedded page is the first of all; none
    found while more exist is ``MoreLinesNeeded`` (an invoice without an id, a preview,
    cannot be completed: a plain ``TranslationError``)."""
    lines = shape.subscription_lines(invoice)
    if group_price_ids:
        lines = [line for line in lines if line.price_id in group_price_ids]
    if lines:
        return lines[0]
    if invoice.child("lines").flag("has_more"):
        where = invoice.where("lines")
        if not invoice.has("id"):
            msg = f"{where} has more lines than embedded and the invoice has no id to fetch them"
            raise TranslationError(msg)
        raise MoreLinesNeeded(invoice.text("id"), where)
    return None


# Stripe's links are about 150 characters; a bound keeps a row and a page sane.
MAX_LINK_LENGTH = 2_000


def stripe_link(invoice: Node, key: str) -> str | None:
    """A link Stripe gives once an invoice is finalized (``hosted_invoice_url``,
    ``invoice_pdf``): None while absent or null, else an https URL with a host."""
    if not invoice.has(key):
        return None
    value = invoice.data[key]
    where = invoice.where(key)
    if not isinstance(value, str):
        msg = f"{where} must be a string, got {type(value).__name__}"
        raise TranslationError(msg)
    if len(value) > MAX_LINK_LENGTH:
        msg = f"{where} must be at most {MAX_LINK_LENGTH} characters"
        raise TranslationError(msg)
    if not value.isprintable() or " " in value:
        msg = f"{where} must not contain spaces or control characters"
        raise TranslationError(msg)
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        msg = f"{where} must be an https URL"
        raise TranslationError(msg)
    return value


def invoice_facts(
    invoice: Node, shape: Shape, group_price_ids: AbstractSet[str], subscription_id: str
) -> InvoiceFacts:
    """What the ledger records of a subscription invoice (a delivery's or a listed one)."""
    line = _billed_line(invoice, shape, group_price_ids)
    # The line's period is the service period billed; the invoice's own period looks
    # back one period for a renewal, so it only stands in when no line bills the item.
    period = line.period if line else read_period(invoice, "period_start", "period_end")
    return InvoiceFacts(
        invoice_id=invoice.text("id"),
        subscription_id=subscription_id,
        billing_reason=invoice.text("billing_reason"),
        period_start=period.start,
        period_end=period.end,
        quantity=line.quantity if line else 0,
        subtotal=invoice.integer("subtotal"),
        tax=shape.invoice_tax(invoice),
        total=invoice.integer("total"),
        amount_due=count(invoice, "amount_due"),
        amount_paid=count(invoice, "amount_paid"),
        currency=invoice.currency("currency"),
        status=invoice.text("status"),
        customer_id=invoice.optional_ref("customer") or "",
        line_id=(line.line_id or "") if line else "",
        unit_amount=line.unit_amount if line else None,
        hosted_invoice_url=stripe_link(invoice, "hosted_invoice_url"),
        invoice_pdf=stripe_link(invoice, "invoice_pdf"),
    )


def invoice_changed(d: Delivery) -> Translation:
    """invoice.created|finalized|paid|voided|payment_succeeded|payment_failed."""
    invoice = d.obj
    invoice_id = invoice.text("id")
    subscription_id = d.shape.invoice_subscription(invoice)
    if subscription_id is None:
        return Translation.ignored(f"invoice {invoice_id} is not for a subscription")
    facts = invoice_facts(invoice, d.shape, d.group_price_ids, subscription_id)
    # The event's ``created`` is when Stripe moved the invoice: the instant the organizer's
    # timeline tells (the worker may translate it much later, e.g. after a parked wait).
    at = d.created
    commands: list[Command] = [RecordInvoice(d.event_id, facts, at)]
    if d.type == "invoice.payment_succeeded":
        commands.append(
            RecordPaymentSucceeded(d.event_id, invoice_id, facts.amount_paid, facts.currency, at)
        )
    elif d.type == "invoice.payment_failed":
        attempts = count(invoice, "attempt_count")
        commands.append(
            RecordPaymentFailed(
                d.event_id, invoice_id, facts.amount_due, facts.currency, attempts, at
            )
        )
    return d.translation(
        invoice_id,
        hint=metadata_organizer(invoice),
        # Accounts v2 bills an account (``customer_account``) with ``customer`` null: the
        # invoice is then routed by its subscription, as the ledger links no accounts.
        customer_id=invoice.optional_ref("customer"),
        subscription_id=subscription_id,
        commands=commands,
    )


def renewal_upcoming(d: Delivery) -> Translation:
    """invoice.upcoming: the preview of a renewal invoice (it has no id)."""
    invoice = d.obj
    subscription_id = d.shape.invoice_subscription(invoice)
    if subscription_id is None:
        return Translation.ignored("upcoming invoice is not for a subscription")
    line = _billed_line(invoice, d.shape, d.group_price_ids)
    if line is None:
        msg = "data.object.lines.data has no regular line for the subscription item"
        raise TranslationError(msg)
    command = NoteRenewalUpcoming(
        d.event_id,
        subscription_id,
        # The renewal instant: the billed line's period starts where the current one
        # ends (next_payment_attempt is later, after the draft's finalization window).
        period_end=line.period.start,
        expected_quantity=line.quantity,
        expected_amount=count(invoice, "amount_due"),
        currency=invoice.currency("currency"),
    )
    return d.translation(
        subscription_id,
        hint=metadata_organizer(invoice),
        customer_id=invoice.optional_ref("customer"),
        subscription_id=subscription_id,
        commands=[command],
    )
