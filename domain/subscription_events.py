"""Events about an organizer having more than one live subscription (issue 13), assigned
in ``Organizer``'s body (topics ``domain.organizer:Organizer.<Name>``).

Decisions, not Stripe facts: they are recorded by ``observe_subscription`` in the same
save as the observation that made (or unmade) the duplicate, so a redelivery records
nothing twice. Which one is the primary: ``domain/subscriptions.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

if TYPE_CHECKING:
    from domain.organizer import Organizer


class DuplicateSubscriptionFound(Aggregate.Event):
    """A second live subscription: the ledger never syncs nor corrects it."""

    subscription_id: str
    primary_subscription_id: str
    customer_id: str
    organizer_id: str  # the platform's id, so a listing needs no other table

    def apply(self, org: Organizer) -> None:
        org.duplicate_subscriptions[self.subscription_id] = self.primary_subscription_id


class DuplicateSubscriptionResolved(Aggregate.Event):
    """A reported duplicate is no longer one (it ended, or it became the primary)."""

    subscription_id: str
    primary_subscription_id: str
    reason: str

    def apply(self, org: Organizer) -> None:
        org.duplicate_subscriptions.pop(self.subscription_id, None)
