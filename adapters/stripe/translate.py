"""Anti-corruption layer: a Stripe webhook event (parsed JSON) → ledger commands.

Pure: no I/O, no clock, no SDK objects. An object listed or retrieved without an event
(reconciliation) is read by the direct entries ``read_subscription`` / ``read_invoice`` /
``read_customer`` / ``read_object`` (adapters/stripe/objects.py), which the handlers
here wrap in the event's id, type and ``created``. The application layer routes the result to an
organizer (by ``organizer_hint``, else by ``customer_id``) and applies ``commands`` in
order. Which event types map to which commands, and why, is in
docs/stripe-translation.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from adapters.stripe.commands import DeleteCustomer, LinkCustomer, ObserveSubscription
from adapters.stripe.delivery import Delivery, Translation, metadata_organizer
from adapters.stripe.invoices import (
    MoreLinesNeeded,
    invoice_changed,
    renewal_upcoming,
    with_all_lines,
)
from adapters.stripe.objects import (
    CustomerRead,
    InvoiceRead,
    StripeFacts,
    SubscriptionRead,
    customer_read,
    read_customer,
    read_invoice,
    read_object,
    read_subscription,
    subscription_read,
)
from adapters.stripe.payload import Node, TranslationError
from adapters.stripe.prices import PRICE_EVENT_TYPES, item_prices, price_changed
from adapters.stripe.shapes import shape_for_version, shape_from_fields
from adapters.stripe.tax_ids import TAX_ID_EVENT_TYPES, checkout_tax_ids, tax_id_changed

__all__ = [
    "HANDLED_EVENT_TYPES",
    "CustomerRead",
    "InvoiceRead",
    "MoreLinesNeeded",
    "StripeFacts",
    "SubscriptionRead",
    "Translation",
    "TranslationError",
    "read_customer",
    "read_invoice",
    "read_object",
    "read_subscription",
    "translate",
    "with_all_lines",
]


def translate(
    event: Mapping[str, Any], *, group_price_ids: AbstractSet[str] = frozenset()
) -> Translation:
    """Translate one webhook event into the commands to apply to its organizer.

    ``group_price_ids``, when given, are the per-group price ids: the subscription
    item (and invoice line) with one of them is the one billed per group, and a
    subscription without one is ignored. Without them, the item is chosen as
    docs/stripe-translation.md describes.

    Raises ``TranslationError`` when the payload is malformed for its type, and its
    ``MoreLinesNeeded`` when an invoice's per-group line is beyond its embedded lines.
    """
    if not isinstance(event, Mapping):
        msg = "the event must be a JSON object"
        raise TranslationError(msg)
    root = Node(event, "")
    event_type = root.text("type")
    handled = _HANDLERS.get(event_type)
    if handled is None:
        return Translation.ignored(f"event type {event_type} is not handled")
    expected_object, handler = handled
    obj = root.child("data").child("object")
    if obj.text("object") != expected_object:
        msg = f"data.object.object must be {expected_object!r} for {event_type}"
        raise TranslationError(msg)
    api_version = root.optional_text("api_version")
    delivery = Delivery(
        event_id=root.text("id"),
        type=event_type,
        created=root.instant("created"),
        obj=obj,
        shape=shape_from_fields(obj) if api_version is None else shape_for_version(api_version),
        group_price_ids=group_price_ids,
    )
    translation = handler(delivery)
    if expected_object == "subscription":  # its items' prices are facts too (prices.py)
        translation = translation.with_prices(item_prices(delivery))
    return translation


# -- checkout.session.completed ----------------------------------------------------


def _checkout_organizer(session: Node) -> str:
    reference = session.optional_text("client_reference_id")
    from_metadata = metadata_organizer(session)
    if reference and from_metadata and reference != from_metadata:
        msg = (
            f"data.object.client_reference_id {reference!r} and "
            f"data.object.metadata.organizer_id {from_metadata!r} name different organizers"
        )
        raise TranslationError(msg)
    organizer = reference or from_metadata
    if organizer is None:
        # Someone paid for a subscription we cannot attribute: fail loudly, never drop.
        msg = (
            "data.object.client_reference_id is missing (and so is "
            "data.object.metadata.organizer_id): the checkout names no organizer"
        )
        raise TranslationError(msg)
    return organizer


def _checkout_completed(d: Delivery) -> Translation:
    session = d.obj
    session_id = session.text("id")
    mode = session.optional_text("mode")
    if mode != "subscription":
        return Translation.ignored(f"checkout session {session_id} is not in subscription mode")
    customer_id = session.ref("customer")
    return d.translation(
        session_id,
        hint=_checkout_organizer(session),
        customer_id=customer_id,
        subscription_id=session.ref("subscription"),
        commands=[
            LinkCustomer(d.event_id, customer_id),
            *checkout_tax_ids(d, session, customer_id),
        ],
    )


# -- customer.subscription.* and customer.deleted: the object readers, enveloped ------


def _subscription_changed(d: Delivery) -> Translation:
    # A deleted subscription is canceled whatever status the rendering shows.
    deleted = d.type == "customer.subscription.deleted"
    read = subscription_read(
        d.obj, d.shape, d.group_price_ids, observed_at=d.created, canceled=deleted
    )
    if read is None:
        subscription_id = d.obj.text("id")
        return Translation.ignored(f"subscription {subscription_id} has no per-group item")
    subscription_id = read.snapshot.subscription_id
    return d.translation(
        subscription_id,
        hint=read.organizer_hint,
        customer_id=read.customer_id,
        subscription_id=subscription_id,
        commands=[ObserveSubscription(d.event_id, read.snapshot)],
    )


def _customer_deleted(d: Delivery) -> Translation:
    read = customer_read(d.obj)
    return d.translation(
        read.customer_id,
        hint=read.organizer_hint,
        customer_id=read.customer_id,
        subscription_id=None,
        commands=[DeleteCustomer(d.event_id, read.customer_id)],
    )


_Handler = Callable[[Delivery], Translation]
# Event type → (the `object` its data.object must be, handler).
_HANDLERS: dict[str, tuple[str, _Handler]] = {
    "checkout.session.completed": ("checkout.session", _checkout_completed),
    **{
        f"customer.subscription.{change}": ("subscription", _subscription_changed)
        for change in ("created", "updated", "deleted", "paused", "resumed")
    },
    "invoice.upcoming": ("invoice", renewal_upcoming),
    **{
        f"invoice.{change}": ("invoice", invoice_changed)
        for change in (
            "created",
            "finalized",
            "paid",
            "voided",
            "payment_succeeded",
            "payment_failed",
        )
    },
    "customer.deleted": ("customer", _customer_deleted),
    **dict.fromkeys(PRICE_EVENT_TYPES, ("price", price_changed)),
    **dict.fromkeys(TAX_ID_EVENT_TYPES, ("tax_id", tax_id_changed)),
}
# What a webhook endpoint needs to subscribe to (`enabled_events`); all else is ignored.
HANDLED_EVENT_TYPES = frozenset(_HANDLERS)
