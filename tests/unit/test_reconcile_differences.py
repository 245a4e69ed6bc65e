"""``find_differences`` without Stripe or a store: subscription dicts (built from the real
fixtures) and in-memory organizers in, differences out."""

from __future__ import annotations

from typing import Any

from adapters.stripe.translate import read_subscription
from app.services.process.reconcile import Difference, DifferenceKind, find_differences
from domain.organizer import Organizer
from tests.support.stripe_payloads import subscription_object, utc


class TestFindDifferences:
    NOW = utc(1_800_000_000)

    def organizer(self, *subscriptions: dict[str, Any]) -> Organizer:
        organizer = Organizer.register("org-1", at=self.NOW)
        for i, subscription in enumerate(subscriptions):
            read = read_subscription(subscription, observed_at=utc(1_700_000_000 + i))
            assert read is not None
            organizer.observe_subscription(read.snapshot, source=f"evt_{i}", at=self.NOW)
        return organizer

    def compare(
        self, listed: list[dict[str, Any]], owners: dict[str, str], organizer: Organizer
    ) -> list[Difference]:
        return find_differences(
            listed,
            owners=owners,
            load={"org-1": organizer}.get,
            minimum=1,
            observed_at=self.NOW,
        )

    def test_an_object_the_translator_refuses_is_unreadable(self) -> None:
        broken = subscription_object("basil", subscription_id="sub_broken")
        broken["items"]["data"] = []
        (difference,) = self.compare([broken], {}, self.organizer())
        assert (difference.kind, difference.correctable) == (DifferenceKind.UNREADABLE, False)
        assert "no item with a quantity" in str(difference.stripe_value)

    def test_ended_subscriptions_nobody_owns_are_not_reported(self) -> None:
        ended = subscription_object("basil", subscription_id="sub_old", status="canceled")
        assert self.compare([ended], {}, self.organizer()) == []

    def test_an_organizers_earlier_ended_subscription_is_not_drift(self) -> None:
        old = subscription_object("basil", subscription_id="sub_old", status="canceled")
        new = subscription_object("basil", subscription_id="sub_new", quantity=1)
        organizer = self.organizer(old, new)
        owners = {"sub_old": "org-1", "sub_new": "org-1"}
        assert self.compare([old, new], owners, organizer) == []

    def test_a_second_live_subscription_is_a_duplicate_reported_only(self) -> None:
        # Issue 13: observing it records it in its own entry (the status is correctable),
        # but its quantity is never compared, let alone synced: a person cancels it.
        first = subscription_object("basil", subscription_id="sub_a", quantity=1)
        second = subscription_object("basil", subscription_id="sub_b", item_id="si_b")
        organizer = self.organizer(first)
        owners = {"sub_a": "org-1", "sub_b": "org-1"}
        found = self.compare([first, second], owners, organizer)
        assert sorted((d.kind.value, d.subscription_id, d.correctable) for d in found) == [
            ("duplicate_subscription", "sub_b", False),
            ("status", "sub_b", True),
        ]
        [duplicate] = [d for d in found if d.kind is DifferenceKind.DUPLICATE_SUBSCRIPTION]
        assert duplicate.as_dict()["primary_subscription_id"] == "sub_a"
        assert "customer_id" in duplicate.as_dict()
