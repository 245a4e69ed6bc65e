"""``enroll-existing``: bring a subscription created before the ledger under it.

The subscription is retrieved by id and read by the translator's direct entry (as the
webhook handler reads it); the organizer (registered if new) records the customer link
and the observation with source ``backfill:<sub>``, then the inbox links route its later
webhooks. See docs/reconciliation.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    read = _retrieve(stripe, subscription_id, at=ledger.clock())
    _refuse_other_owner(inbox, read, organizer_id, subscription_id)
    customer_id = read.customer_id
    source = f"backfill:{subscription_id}"
    existing = ledger.find(organizer_id)
    version_before = 0 if existing is None else existing.version

    def backfill(organizer: Organizer, at: datetime) -> None:
        if organizer.stripe_customer_id not in (None, customer_id):
            msg = f"organizer {organizer_id!r} already has customer {organizer.stripe_customer_id}"
            raise EnrollmentError(msg)
        organizer.link_stripe_customer(customer_id, source=source, at=at)
        organizer.observe_subscription(read.snapshot, source=source, at=at)

    ledger.update(organizer_id, backfill, register=True)
    inbox.link("customer", customer_id, organizer_id, source)
    inbox.link("subscription", subscription_id, organizer_id, source)
    snapshot = read.snapshot
    recorded = ledger.get(organizer_id).version - version_before
    return Enrollment(
        organizer_id, customer_id, subscription_id, snapshot.status, snapshot.quantity, recorded
    )


def _retrieve(
    stripe: SubscriptionSource, subscription_id: str, *, at: datetime
) -> SubscriptionRead:
    """The subscription as Stripe has it now, read by the translator's direct entry."""
    try:
        found = stripe.subscription(subscription_id)
    except StripeCallError as error:
        if error.status == 404:
            msg = f"no subscription {subscription_id!r} on Stripe"
            raise EnrollmentError(msg) from None
        raise
    try:
        read = read_subscription(found, observed_at=at)
    except TranslationError as error:
        msg = f"subscription {subscription_id!r} cannot be read: {error}"
        raise EnrollmentError(msg) from None
    if read is None:
        msg = f"subscription {subscription_id!r} has no per-group item"
        raise EnrollmentError(msg)
    return read


def _refuse_other_owner(
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
