"""``enroll-existing``: bring a subscription created before the ledger under it.

The subscription is retrieved by id and read by the translator's direct entry (as the
webhook handler reads it); the organizer (registered if new) records the customer link
and the observation with source ``backfill:<sub>``, then the inbox links route its later
webhooks. See docs/reconciliation.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.gateway import StripeCallError
from adapters.stripe.translate import SubscriptionRead, TranslationError, read_subscription
from app.services.ledger import LedgerApplication
from app.services.process.reconcile import SubscriptionSource
from domain.organizer import Organizer


class EnrollmentError(Exception):
    """An existing subscription that cannot be enrolled; the message says why."""


@dataclass(frozen=True)
class Enrollment:
    organizer_id: str
    customer_id: str
    subscription_id: str
    status: str
    quantity: int
    recorded: int  # events recorded by this run (0: it was already enrolled)


def enroll_existing(
    ledger: LedgerApplication,
    inbox: StripeInbox,
    stripe: SubscriptionSource,
    *,
    organizer_id: str,
    subscription_id: str,
) -> Enrollment:
    """Link a subscription created before the ledger to an organizer (registered if new)
    and backfill its state from Stripe (source ``backfill:<sub>``); then write the links
    that route its later webhooks. Idempotent: a second run records nothing."""
    read = retrieve_existing(stripe, subscription_id, at=ledger.clock())
    refuse_other_owner(inbox, read, organizer_id, subscription_id)
    return record_link(ledger, inbox, read, organizer_id, source=f"backfill:{subscription_id}")


def record_link(
    ledger: LedgerApplication,
    inbox: StripeInbox,
    read: SubscriptionRead,
    organizer_id: str,
    *,
    source: str,
) -> Enrollment:
    """The one code path of both entrypoints (``ledger enroll-existing`` and the SPA's
    confirmation, docs/process-manager.md): the organizer (registered if new) records the
    customer link and the subscription as read, under ``source``; then the inbox links
    route the subscription's later webhooks to it. Idempotent per ``source``."""
    customer_id = read.customer_id
    subscription_id = read.snapshot.subscription_id
    existing = ledger.find(organizer_id)
    version_before = 0 if existing is None else existing.version

    def link(organizer: Organizer, at: datetime) -> None:
        if organizer.stripe_customer_id not in (None, customer_id):
            msg = f"organizer {organizer_id!r} already has customer {organizer.stripe_customer_id}"
            raise EnrollmentError(msg)
        organizer.link_stripe_customer(customer_id, source=source, at=at)
        organizer.observe_subscription(read.snapshot, source=source, at=at)

    ledger.update(organizer_id, link, register=True)
    inbox.link("customer", customer_id, organizer_id, source)
    inbox.link("subscription", subscription_id, organizer_id, source)
    snapshot = read.snapshot
    recorded = ledger.get(organizer_id).version - version_before
    return Enrollment(
        organizer_id, customer_id, subscription_id, snapshot.status, snapshot.quantity, recorded
    )


def retrieve_existing(
    stripe: SubscriptionSource, subscription_id: str, *, at: datetime
) -> SubscriptionRead:
    """The subscription as Stripe has it now, read by the translator's direct entry
    (its item: the earliest with a quantity, whatever its price)."""
    try:
        found = stripe.subscription(subscription_id)
    except StripeCallError as error:
        if error.status == 404:
            msg = f"no subscription {subscription_id!r} on Stripe"
            raise EnrollmentError(msg) from None
        raise
    return read_existing(found, subscription_id, at=at)


def read_existing(
    found: Mapping[str, Any],
    subscription_id: str,
    *,
    at: datetime,
    group_price_ids: AbstractSet[str] = frozenset(),
) -> SubscriptionRead:
    """A subscription object read as enrollment records it; :class:`EnrollmentError`
    when it cannot be (malformed, or no item billed per quantity)."""
    try:
        read = read_subscription(found, observed_at=at, group_price_ids=group_price_ids)
    except TranslationError as error:
        msg = f"subscription {subscription_id!r} cannot be read: {error}"
        raise EnrollmentError(msg) from None
    if read is None:
        msg = f"subscription {subscription_id!r} has no per-group item"
        raise EnrollmentError(msg)
    return read


def refuse_other_owner(
    inbox: StripeInbox, read: SubscriptionRead, organizer_id: str, subscription_id: str
) -> None:
    for stripe_id in (subscription_id, read.customer_id):
        owner = inbox.organizer_for([stripe_id])
        if owner not in (None, organizer_id):
            msg = f"{stripe_id} is already linked to organizer {owner!r}"
            raise EnrollmentError(msg)
    if read.organizer_hint not in (None, organizer_id):
        msg = f"{subscription_id}'s metadata names organizer {read.organizer_hint!r}"
        raise EnrollmentError(msg)
