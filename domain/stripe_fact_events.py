"""Events of facts taken from Stripe deliveries (customer, subscription, renewal notice)
and of enrollment, assigned in ``Organizer``'s body.

``Organizer`` subclasses each as ``Organizer.<Name>``, so their stored topics read
``domain.organizer:Organizer.<Name>``. Trigger them through the aggregate, never from
this module.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from domain.billing import SubscriptionSnapshot
from domain.settled import forget_past_renewals

if TYPE_CHECKING:
    from domain.organizer import Organizer


def source_key(fact: type[object], source: str) -> str:
    """What remembering a delivery means: the kind of fact, and the delivery's id."""
    return f"{fact.__name__}:{source}"


class StripeFact(Aggregate.Event):
    """A fact taken from one Stripe delivery (``source`` is its event id).

    Remembering (kind, source) makes every Stripe-sourced command idempotent, so
    re-running translation over archived deliveries records nothing twice.
    """

    source: str

    # Facts stored before issue 12 (version 1) are remembered in the state
    # (``seen_sources``, which no longer grows); later ones by an InputClaim
    # (domain/claims.py), saved with them.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["remembered_in_state"] = True

    def apply(self, org: Organizer) -> None:
        if vars(self).get("remembered_in_state", False):
            org.seen_sources[source_key(type(self), self.source)] = None
        self.take(org)

    def take(self, org: Organizer) -> None:
        """The state change of this fact (none by default)."""


class StripeCustomerLinked(StripeFact):
    customer_id: str

    def take(self, org: Organizer) -> None:
        org.stripe_customer_id = self.customer_id


class StripeCustomerDeleted(StripeFact):
    customer_id: str

    def take(self, org: Organizer) -> None:
        org.stripe_customer_deleted = True


class SubscriptionSnapshotTaken(StripeFact):
    """The fields and state change of a subscription snapshot (a base: never recorded)."""

    subscription_id: str
    item_id: str
    price_id: str
    status: str
    quantity: int
    current_period_start: datetime
    current_period_end: datetime
    observed_at: datetime
    cancel_at_period_end: bool = False  # recorded since issue 10 (older: False)
    created: datetime | None = None  # recorded since issue 13 (older: unknown)
    schedule_id: str | None = None  # recorded since issue 13 (older: none)
    discount_ids: tuple[str, ...] = ()  # recorded since issue 13 (older: none)

    def take(self, org: Organizer) -> None:
        org.subscription_recorded_at = self.timestamp
        # One entry per subscription (issue 13): a second one never overwrites the first.
        org.subscriptions[self.subscription_id] = SubscriptionSnapshot(
            subscription_id=self.subscription_id,
            item_id=self.item_id,
            price_id=self.price_id,
            status=self.status,
            quantity=self.quantity,
            current_period_start=self.current_period_start,
            current_period_end=self.current_period_end,
            observed_at=self.observed_at,
            cancel_at_period_end=self.cancel_at_period_end,
            created=self.created,
            schedule_id=self.schedule_id,
            # Stored as a JSON array: read back as a list.
            discount_ids=tuple(self.discount_ids),
        ).as_state()


class SubscriptionObserved(SubscriptionSnapshotTaken):
    """A snapshot of the primary subscription (since issue 13; before, of the only one)."""


class OtherSubscriptionObserved(SubscriptionSnapshotTaken):
    """A snapshot of a subscription that neither was nor becomes the primary (issue 13):
    kept in its own entry, never the subscription read models show (they follow
    ``SubscriptionObserved``, which always names the primary)."""

    def take(self, org: Organizer) -> None:
        recorded_at = org.subscription_recorded_at
        super().take(org)
        org.subscription_recorded_at = recorded_at


class StaleSubscriptionSnapshotIgnored(StripeFact):
    subscription_id: str
    status: str
    quantity: int
    observed_at: datetime
    newest_observed_at: datetime


class SubscriptionCanceled(StripeFact):
    subscription_id: str
    canceled_at: datetime

    def take(self, org: Organizer) -> None:
        entry = org.subscriptions.get(self.subscription_id)
        if entry is not None:
            entry["status"] = "canceled"
        org.canceled_at = self.canceled_at


class RenewalUpcoming(StripeFact):
    subscription_id: str
    period_end: datetime
    expected_quantity: int
    expected_amount: int
    currency: str

    def take(self, org: Organizer) -> None:
        org.upcoming_renewals[self.period_end.isoformat()] = self.expected_quantity
        forget_past_renewals(org, self.timestamp)


class EnrollmentStarted(Aggregate.Event):
    """A Checkout Session was opened for this organizer (reused while it is open)."""

    session_id: str
    url: str
    expires_at: datetime
    quantity: int
    customer_id: str

    def apply(self, org: Organizer) -> None:
        org.enrollment = {
            "session_id": self.session_id,
            "url": self.url,
            "expires_at": self.expires_at,
            "quantity": self.quantity,
        }
        org.enrollments_started += 1
