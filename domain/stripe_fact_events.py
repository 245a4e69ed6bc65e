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


class SubscriptionObserved(StripeFact):
    subscription_id: str
    item_id: str
    price_id: str
    status: str
    quantity: int
    current_period_start: datetime
    current_period_end: datetime
    observed_at: datetime
    cancel_at_period_end: bool = False  # recorded since issue 10 (older: False)

    def take(self, org: Organizer) -> None:
        org.subscription_recorded_at = self.timestamp
        org.subscription = SubscriptionSnapshot(
            subscription_id=self.subscription_id,
            item_id=self.item_id,
            price_id=self.price_id,
            status=self.status,
            quantity=self.quantity,
            current_period_start=self.current_period_start,
            current_period_end=self.current_period_end,
            observed_at=self.observed_at,
            cancel_at_period_end=self.cancel_at_period_end,
        ).as_state()


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
        if org.subscription is not None:
            org.subscription["status"] = "canceled"
        org.canceled_at = self.canceled_at


class RenewalUpcoming(StripeFact):
    subscription_id: str
    period_end: datetime
    expected_quantity: int
    expected_amount: int
    currency: str

    def take(self, org: Organizer) -> None:
        org.upcoming_renewals[self.period_end.isoformat()] = self.expected_quantity


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
