"""Tax ids in webhook payloads (``customer.tax_id.*``, a completed Checkout's
``customer_details.tax_ids``), read into ``RecordTaxIds`` (domain/tax_id_events.py)."""

from __future__ import annotations

from adapters.stripe.commands import RecordTaxIds
from adapters.stripe.delivery import Delivery, Translation
from adapters.stripe.payload import Node

TAX_ID_EVENT_TYPES = (
    "customer.tax_id.created",
    "customer.tax_id.updated",
    "customer.tax_id.deleted",
)


def tax_id_changed(d: Delivery) -> Translation:
    """One tax id of a customer added, updated (verified) or deleted. A tax id of the
    account itself (no ``customer``) is not an organizer's: ignored."""
    tax_id = d.obj
    tax_id_id = tax_id.text("id")
    customer_id = tax_id.optional_ref("customer")
    if customer_id is None:
        return Translation.ignored(f"tax id {tax_id_id} belongs to no customer")
    command = RecordTaxIds(
        d.event_id,
        customer_id,
        ((tax_id.text("type"), tax_id.text("value")),),
        removed=d.type == "customer.tax_id.deleted",
        observed_at=d.created,
    )
    return d.translation(
        tax_id_id, hint=None, customer_id=customer_id, subscription_id=None, commands=[command]
    )


def checkout_tax_ids(d: Delivery, session: Node, customer_id: str) -> list[RecordTaxIds]:
    """The tax ids a completed Checkout collected (none: no command)."""
    details = session.optional_child("customer_details")
    found = details.entries("tax_ids") if details else []
    pairs = tuple((entry.text("type"), entry.text("value")) for entry in found)
    if not pairs:
        return []
    return [RecordTaxIds(d.event_id, customer_id, pairs, removed=False, observed_at=d.created)]
