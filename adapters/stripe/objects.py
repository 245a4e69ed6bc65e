"""Stripe objects (a subscription, an invoice, a customer) read into the ledger's facts.

One reader per object, used twice: by the webhook handlers on ``data.object`` of a
delivery, and directly on an object the gateway listed or retrieved (reconciliation,
``enroll-existing``), with no event envelope around it. The direct entries are
``read_subscription``, ``read_invoice``, ``read_customer`` and ``read_object``; they name a
malformed field by its path inside the object (``items.data[0].quantity``).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.stripe.delivery import metadata_organizer
from adapters.stripe.invoices import invoice_facts
from adapters.stripe.payload import Node, TranslationError
from adapters.stripe.shapes import (
    PINNED_API_VERSION,
    Shape,
    price_of,
    shape_for_version,
    shape_from_fields,
)
from domain.billing import InvoiceFacts, SubscriptionSnapshot


@dataclass(frozen=True, slots=True)
class SubscriptionRead:
    """A subscription's per-group item as the ledger records it, and where it belongs."""

    snapshot: SubscriptionSnapshot
    customer_id: str
    organizer_hint: str | None


@dataclass(frozen=True, slots=True)
class InvoiceRead:
    """A subscription invoice's facts, and the organizer its metadata names (if any)."""

    facts: InvoiceFacts
    organizer_hint: str | None


@dataclass(frozen=True, slots=True)
class CustomerRead:
    customer_id: str
    organizer_hint: str | None


StripeFacts = SubscriptionRead | InvoiceRead | CustomerRead


# -- subscriptions (Node level: shared with the webhook handler) ---------------------


def _group_item(subscription: Node, group_price_ids: AbstractSet[str]) -> Node | None:
    """The subscription item billed per group (None: the subscription has none).

    Items without a quantity (metered) never are. Among several, the earliest
    created: unlike "the largest quantity" it cannot change between two snapshots of
    the same subscription, so quantity syncs always target the same item.
    """
    items = [item for item in subscription.list_data("items") if item.has("quantity")]
    if group_price_ids:
        return next((item for item in items if price_of(item) in group_price_ids), None)
    if not items:
        msg = f"{subscription.where('items.data')} has no item with a quantity"
        raise TranslationError(msg)
    if len(items) == 1:
        return items[0]
    return min(items, key=lambda item: (item.integer("created"), item.text("id")))


def _item_price(item: Node) -> str:
    price = price_of(item)
    if price is None:
        msg = f"{item.where('price')} is missing (and so is {item.where('plan')})"
        raise TranslationError(msg)
    return price


def discount_ids(subscription: Node) -> tuple[str, ...]:
    """The subscription's discounts (issue 13), ids or expanded objects, in Stripe's
    order; also the single ``discount`` object of API versions before 2024-06-20."""
    ids = subscription.refs("discounts")
    legacy = subscription.optional_ref("discount")
    if legacy is not None and legacy not in ids:
        ids.append(legacy)
    return tuple(ids)


def subscription_read(
    subscription: Node,
    shape: Shape,
    group_price_ids: AbstractSet[str],
    *,
    observed_at: datetime,
    canceled: bool = False,
) -> SubscriptionRead | None:
    """The subscription's per-group item observed at ``observed_at`` (None: it has none).
    ``canceled``: the subscription is known deleted, whatever status it shows."""
    subscription_id = subscription.text("id")
    item = _group_item(subscription, group_price_ids)
    if item is None:
        return None
    period = shape.subscription_period(subscription, item)
    snapshot = SubscriptionSnapshot(
        subscription_id=subscription_id,
        item_id=item.text("id"),
        price_id=_item_price(item),
        status="canceled" if canceled else subscription.text("status"),
        quantity=item.quantity("quantity"),
        current_period_start=period.start,
        current_period_end=period.end,
        observed_at=observed_at,
        # Absent in every shape we read means false (Stripe always renders it).
        cancel_at_period_end=subscription.flag("cancel_at_period_end"),
        # Which of an organizer's subscriptions is the primary (domain/subscriptions.py),
        # and whether a subscription schedule owns it (its phases set the quantity).
        created=subscription.instant("created") if subscription.has("created") else None,
        schedule_id=subscription.optional_ref("schedule"),
        discount_ids=discount_ids(subscription),
    )
    hint = metadata_organizer(subscription)
    return SubscriptionRead(snapshot, customer_id=subscription.ref("customer"), organizer_hint=hint)


# -- the direct entries: an object as the gateway returned it -------------------------


def _to_second(at: datetime) -> datetime:
    """Stripe's resolution: an observation orders against webhook ``created`` times, which
    are whole seconds (and a listing is no more precise than the call that made it)."""
    return datetime.fromtimestamp(int(at.timestamp()), tz=UTC)


def _object(obj: object, expected: str | None, api_version: str | None) -> tuple[Node, Shape]:
    if not isinstance(obj, Mapping):
        msg = "the Stripe object must be a JSON object"
        raise TranslationError(msg)
    node = Node(obj, "")
    if expected is not None and node.text("object") != expected:
        msg = f"object must be {expected!r}"
        raise TranslationError(msg)
    shape = shape_from_fields(node) if api_version is None else shape_for_version(api_version)
    return node, shape


def read_subscription(
    subscription: Mapping[str, Any],
    *,
    observed_at: datetime,
    api_version: str | None = PINNED_API_VERSION,
    group_price_ids: AbstractSet[str] = frozenset(),
) -> SubscriptionRead | None:
    """A listed or retrieved subscription (rendered in ``api_version``, by default the
    gateway's pinned one; None: guess the shape from its fields), observed at
    ``observed_at`` (to the second). None: it has no per-group item. Raises
    ``TranslationError`` naming the field by its path in the object."""
    node, shape = _object(subscription, "subscription", api_version)
    return subscription_read(node, shape, group_price_ids, observed_at=_to_second(observed_at))


def read_invoice(
    invoice: Mapping[str, Any],
    *,
    api_version: str | None = PINNED_API_VERSION,
    group_price_ids: AbstractSet[str] = frozenset(),
) -> InvoiceRead | None:
    """A listed or retrieved invoice's facts (None: it is not for a subscription)."""
    node, shape = _object(invoice, "invoice", api_version)
    return _invoice_read(node, shape, group_price_ids)


def _invoice_read(
    invoice: Node, shape: Shape, group_price_ids: AbstractSet[str]
) -> InvoiceRead | None:
    invoice.text("id")  # an invoice without one is malformed (as a delivery's would be)
    subscription_id = shape.invoice_subscription(invoice)
    if subscription_id is None:
        return None
    facts = invoice_facts(invoice, shape, group_price_ids, subscription_id)
    return InvoiceRead(facts, metadata_organizer(invoice))


def read_customer(customer: Mapping[str, Any]) -> CustomerRead:
    """A listed or retrieved customer: its id and the organizer its metadata names."""
    node, _ = _object(customer, "customer", None)
    return customer_read(node)


def customer_read(customer: Node) -> CustomerRead:
    return CustomerRead(customer.text("id"), metadata_organizer(customer))


def read_object(
    obj: Mapping[str, Any],
    *,
    observed_at: datetime,
    api_version: str | None = PINNED_API_VERSION,
    group_price_ids: AbstractSet[str] = frozenset(),
) -> StripeFacts | None:
    """Any of the objects above, by its ``object`` field. None: nothing the ledger bills
    (no per-group item, not a subscription invoice). Other objects raise."""
    node, shape = _object(obj, None, api_version)
    kind = node.text("object")
    if kind == "subscription":
        return subscription_read(node, shape, group_price_ids, observed_at=_to_second(observed_at))
    if kind == "invoice":
        return _invoice_read(node, shape, group_price_ids)
    if kind == "customer":
        return customer_read(node)
    msg = f"object {kind!r} is not one the ledger reads (subscription, invoice, customer)"
    raise TranslationError(msg)
