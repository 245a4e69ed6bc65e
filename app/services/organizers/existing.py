"""Existing customers enroll in the SPA (issue 13): a subscription made before the ledger,
found for the organizer, and its confirmed move to the per-group price. No HTTP here.

Found two ways, and Stripe is asked at most when the organizer opens the enroll page
(``GET …/existing-subscription``; never by the billing page), each call paced by the
gateway's limiter:

- linked by ops (``ledger enroll-existing``): the organizer's recorded subscription is on
  another price than ``STRIPE_PRICE_ID``; only that price is read (cached by the gateway);
- otherwise Stripe's search by ``metadata.organizer_id`` on subscriptions and customers
  (:func:`adapters.stripe.existing.subscriptions_of_organizer`).

Confirming moves the item to the per-group price with ``proration_behavior=none`` (the
current period stays as paid; the next renewal bills per group) and records it through
``enroll-existing``'s own code path (:func:`app.services.process.enroll.record_link`),
under the source ``move:<sub>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.existing import MOVED_FROM_KEY, move_item_to_price, subscriptions_of_organizer
from adapters.stripe.gateway import StripeGateway
from adapters.stripe.translate import SubscriptionRead
from adapters.stripe.values import PriceRead, read_price
from app.services.organizers.enrollment import EnrollmentDeps, StripeDeps, configured_gateway
from app.services.organizers.errors import AlreadyEnrolledError
from app.services.organizers.models import Model
from app.services.process.enroll import (
    EnrollmentError,
    read_existing,
    record_link,
    refuse_other_owner,
)
from domain.claims import fact_key
from domain.keys import move_key
from domain.organizer import Organizer

# What can move: a subscription that bills. Incomplete or ended ones cannot.
MOVABLE_STATUSES = frozenset({"active", "trialing", "past_due"})


class NoExistingSubscriptionError(Exception):
    """Nothing to move for this organizer."""


class MoveRefusedError(Exception):
    """A subscription that cannot move without charging twice; the message says why."""


class ExistingPrice(Model):
    price_id: str
    unit_amount: int | None = Field(description="Per unit and period, minor units; null: tiered")
    currency: str
    interval: str = Field(description="month, year, …")


class ExistingSubscription(Model):
    """A subscription made before the ledger and what moves when, once confirmed."""

    subscription_id: str
    status: str
    found_by: Literal["metadata", "ops_link"] = Field(
        description="metadata.organizer_id on Stripe, or linked by `ledger enroll-existing`"
    )
    price: ExistingPrice
    quantity: int
    current_period_end: datetime
    moves_to: ExistingPrice = Field(description="the per-group price billed after the move")
    moves_at: datetime = Field(description="the next renewal: the first invoice per group")
    groups_now: int = Field(description="groups the ledger would bill today (at least minimum)")
    moved: bool = Field(description="true once confirmed: the item is on the per-group price")


# What finding and moving use: what enrolling through Checkout uses (the container).
ExistingDeps = EnrollmentDeps


def move_source(subscription_id: str) -> str:
    return f"move:{subscription_id}"


def find_existing(deps: ExistingDeps, organizer_id: str) -> ExistingSubscription:
    """What the enroll page shows; :class:`NoExistingSubscriptionError` when nothing."""
    gateway = configured_gateway(deps)
    organizer = deps.ledger.find(organizer_id)
    moved = _moved(deps, organizer)
    if moved is not None:
        return moved
    found_by, read, raw = _locate(deps, gateway, organizer, organizer_id)
    return _view(deps, gateway, organizer, read, found_by, raw=raw, moved=False)


def confirm_existing(deps: ExistingDeps, organizer_id: str) -> ExistingSubscription:
    """Move the found subscription's item to the per-group price at the next renewal, and
    record it. Idempotent: a confirmed move answers as it did. ``AlreadyEnrolledError``
    when the organizer's subscription is per group already (Checkout)."""
    gateway = configured_gateway(deps)
    group_price = _group_price(deps)
    organizer = deps.ledger.find(organizer_id)
    moved = _moved(deps, organizer)
    if moved is not None:
        return moved
    _, read, raw = _locate(deps, gateway, organizer, organizer_id)
    fresh = raw if raw is not None else gateway.subscription(read.snapshot.subscription_id)
    read = read_existing(fresh, read.snapshot.subscription_id, at=deps.clock())
    inbox = StripeInbox(deps.database)
    refuse_other_owner(inbox, read, organizer_id, read.snapshot.subscription_id)
    snapshot = read.snapshot
    if snapshot.status not in MOVABLE_STATUSES:
        msg = f"subscription {snapshot.subscription_id} is {snapshot.status}: it cannot move"
        raise MoveRefusedError(msg)
    if snapshot.price_id != group_price:
        _refuse_incompatible(gateway.price(snapshot.price_id), gateway.price(group_price))
        quantity = _groups_now(deps, organizer)
        fresh = move_item_to_price(
            gateway,
            subscription_id=snapshot.subscription_id,
            item_id=snapshot.item_id,
            from_price_id=snapshot.price_id,
            to_price_id=group_price,
            quantity=quantity,
            organizer_id=organizer_id,
            idempotency_key=move_key(organizer_id, snapshot.item_id, group_price, quantity),
        )
    moved_read = read_existing(
        fresh, snapshot.subscription_id, at=deps.clock(), group_price_ids={group_price}
    )
    source = move_source(snapshot.subscription_id)
    record_link(deps.ledger, inbox, moved_read, organizer_id, source=source)
    recorded = _moved(deps, deps.ledger.get(organizer_id))
    if recorded is None:  # the webhook of the move was recorded first: it is enrolled
        raise AlreadyEnrolledError(organizer_id)
    return recorded


def _group_price(deps: StripeDeps) -> str:
    price = deps.settings.stripe_price_id
    if price is None:  # configured_gateway refused it already; this keeps mypy exact
        msg = "STRIPE_PRICE_ID is not set"
        raise MoveRefusedError(msg)
    return price


def _moved(deps: ExistingDeps, organizer: Organizer | None) -> ExistingSubscription | None:
    """The organizer's recorded move as it stands (the price it bills now), else None;
    ``AlreadyEnrolledError`` when its live subscription is per group already and was not
    moved by this flow (Checkout)."""
    snapshot = None if organizer is None else organizer.subscription_snapshot
    if organizer is None or snapshot is None or not organizer.is_enrolled:
        return None
    if snapshot.price_id != _group_price(deps):
        return None  # linked by ops, not moved yet
    if not _recorded(deps, organizer, move_source(snapshot.subscription_id)):
        raise AlreadyEnrolledError(str(organizer.id))
    linked = _recorded(deps, organizer, f"backfill:{snapshot.subscription_id}")
    group = _price(configured_gateway(deps).price(snapshot.price_id))
    return ExistingSubscription(
        subscription_id=snapshot.subscription_id,
        status=snapshot.status,
        found_by="ops_link" if linked else "metadata",
        price=group,
        quantity=snapshot.quantity,
        current_period_end=snapshot.current_period_end,
        moves_to=group,
        moves_at=snapshot.current_period_end,
        groups_now=_groups_now(deps, organizer),
        moved=True,
    )


def _recorded(deps: ExistingDeps, organizer: Organizer, source: str) -> bool:
    """Whether the organizer took a subscription observation from ``source``."""
    return deps.ledger.claimed(organizer.id, fact_key(Organizer.SubscriptionObserved, source))


def _locate(
    deps: ExistingDeps, gateway: StripeGateway, organizer: Organizer | None, organizer_id: str
) -> tuple[Literal["metadata", "ops_link"], SubscriptionRead, dict[str, Any] | None]:
    """The subscription to move: the one ops linked (no search), else the oldest live one
    Stripe's search finds for the organizer that is not per group yet (or that this flow
    moved and did not record: a crash in between)."""
    snapshot = None if organizer is None else organizer.subscription_snapshot
    if organizer is not None and snapshot is not None and organizer.is_enrolled:
        linked = SubscriptionRead(snapshot, organizer.stripe_customer_id or "", organizer_id)
        return "ops_link", linked, None
    group_price = _group_price(deps)
    inbox = StripeInbox(deps.database)
    for found in subscriptions_of_organizer(gateway, organizer_id):
        try:
            read = read_existing(found, str(found.get("id")), at=deps.clock())
            refuse_other_owner(inbox, read, organizer_id, read.snapshot.subscription_id)
        except EnrollmentError:
            continue  # not ours to offer (another organizer's, or nothing per quantity)
        metadata = found.get("metadata") or {}
        on_group = read.snapshot.price_id == group_price
        if read.snapshot.status in MOVABLE_STATUSES and (
            not on_group or MOVED_FROM_KEY in metadata
        ):
            return "metadata", read, found
    raise NoExistingSubscriptionError(organizer_id)


def _refuse_incompatible(current: PriceRead, group: PriceRead) -> None:
    """Stripe resets the billing cycle and invoices at once when the interval changes, and
    a subscription keeps one currency: either would charge now, not at the renewal."""
    if (current.currency, current.interval) != (group.currency, group.interval):
        msg = (
            f"the subscription bills {current.currency.upper()} per {current.interval}, the "
            f"per-group price {group.currency.upper()} per {group.interval}: moving would "
            "charge at once; ops must move it by hand"
        )
        raise MoveRefusedError(msg)


def _groups_now(deps: ExistingDeps, organizer: Organizer | None) -> int:
    minimum = deps.settings.minimum_quantity
    return minimum if organizer is None else organizer.billable_quantity(minimum=minimum)


def _price(read: PriceRead) -> ExistingPrice:
    return ExistingPrice(
        price_id=read.price_id,
        unit_amount=read.unit_amount,
        currency=read.currency,
        interval=read.interval,
    )


def _view(
    deps: ExistingDeps,
    gateway: StripeGateway,
    organizer: Organizer | None,
    read: SubscriptionRead,
    found_by: Literal["metadata", "ops_link"],
    *,
    raw: dict[str, Any] | None,
    moved: bool,
) -> ExistingSubscription:
    snapshot = read.snapshot
    current = _embedded_price(raw, snapshot.item_id) or gateway.price(snapshot.price_id)
    return ExistingSubscription(
        subscription_id=snapshot.subscription_id,
        status=snapshot.status,
        found_by=found_by,
        price=_price(current),
        quantity=snapshot.quantity,
        current_period_end=snapshot.current_period_end,
        moves_to=_price(gateway.price(_group_price(deps))),
        moves_at=snapshot.current_period_end,
        groups_now=_groups_now(deps, organizer),
        moved=moved,
    )


def _embedded_price(raw: dict[str, Any] | None, item_id: str) -> PriceRead | None:
    """The item's price as the listed subscription embeds it (saves a call)."""
    if raw is None:
        return None
    for item in (raw.get("items") or {}).get("data") or []:
        if item.get("id") == item_id and isinstance(item.get("price"), dict):
            return read_price(item["price"])
    return None
