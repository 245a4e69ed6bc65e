"""The renewal process manager against the Stripe double over loopback, on both stores.

The ledger's clock is a test clock; the double runs on real time. Stripe facts enter the
ledger the way the intake records them (organizer commands), so each test controls
exactly which triggers exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.stripe.gateway import StripeGateway
from app.bootstrap import Container
from app.services.process.manager import RenewalReactor, RenewalScheduler, SyncSender
from app.services.process.policy import RenewalPolicy
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from projections.runner import LogReader, build_read_models, catch_up
from stripe_double import running_double, sdk_client
from tests.support.clock import SteppingClock


@dataclass
class Stack:
    container: Container
    clock: SteppingClock
    admin: httpx.Client
    gateway: StripeGateway
    subscription: dict[str, Any]
    reactor: RenewalReactor
    sender: SyncSender

    @property
    def item_id(self) -> str:
        return str(self.subscription["items"]["data"][0]["id"])

    @property
    def period_end(self) -> datetime:
        end = self.subscription["items"]["data"][0]["current_period_end"]
        return datetime.fromtimestamp(end, tz=UTC)

    def observe(self, *, quantity: int, status: str = "active", source: str = "evt_sub") -> None:
        item = self.subscription["items"]["data"][0]
        snapshot = SubscriptionSnapshot(
            subscription_id=self.subscription["id"],
            item_id=item["id"],
            price_id=item["price"]["id"],
            status=status,
            quantity=quantity,
            current_period_start=datetime.fromtimestamp(item["current_period_start"], tz=UTC),
            current_period_end=self.period_end,
            observed_at=self.clock.now,
        )
        self.container.ledger.update(
            "org-1",
            lambda org, at: org.observe_subscription(snapshot, source=source, at=at),
            register=True,
        )

    def groups(self, count: int, *, start: int = 0) -> None:
        for i in range(start, start + count):
            self.container.ledger.change_group(
                "org-1",
                action=GroupAction.ACTIVATED,
                group_id=f"g{i}",
                change_id=f"c{i}",
                occurred_at=self.clock.now - timedelta(minutes=1),
            )

    def upcoming(self, source: str = "evt_upcoming") -> None:
        self.container.ledger.update(
            "org-1",
            lambda org, at: org.note_renewal_upcoming(
                subscription_id=self.subscription["id"],
                period_end=self.period_end,
                expected_quantity=1,
                expected_amount=500,
                currency="eur",
                source=source,
                at=at,
            ),
        )

    def react_and_project(self) -> None:
        reader = LogReader(self.container.ledger)
        catch_up(reader, [self.reactor])
        catch_up(reader, build_read_models(self.container.database, minimum_quantity=1))

    def quantity_updates(self) -> list[dict[str, Any]]:
        requests = self.admin.get("/_double/requests").json()
        return [
            r
            for r in requests
            if r["path"].startswith("/v1/subscription_items/") and r["method"] == "POST"
        ]

    def stripe_quantity(self) -> int:
        return int(
            self.gateway.subscription(self.subscription["id"])["items"]["data"][0]["quantity"]
        )

    def organizer(self) -> Organizer:
        return self.container.ledger.get("org-1")


def check_outcomes(stack: Stack) -> list[str]:
    """The renewal checks decided (remembered by claims, not the state, since issue 12)."""
    events = stack.container.ledger.events.get(stack.organizer().id)
    return [e.outcome for e in events if isinstance(e, Organizer.RenewalQuantityChecked)]


@pytest.fixture
def stack(container: Container, clock: SteppingClock) -> Iterator[Stack]:
    with running_double() as double, httpx.Client(base_url=double.base_url) as admin:
        admin.post("/_double/config", json={"quantity_updates_per_hour": None}).raise_for_status()
        seeded = admin.post("/_double/seed", json={"unit_amount": 500, "currency": "eur"}).json()
        with sdk_client(double.base_url) as client:
            customer = client.v1.customers.create(params={"email": "org1@example.com"})
            subscription = client.v1.subscriptions.create(
                params={
                    "customer": customer.id,
                    "items": [{"price": seeded["price"], "quantity": 1}],
                }
            ).to_dict()
        admin.delete("/_double/requests").raise_for_status()
        gateway = StripeGateway(api_key="sk_test_double", api_base=double.base_url, max_rps=200)
        policy = RenewalPolicy(retry_base=timedelta(seconds=1))
        clock.now = datetime.fromtimestamp(
            subscription["items"]["data"][0]["current_period_end"], tz=UTC
        ) - timedelta(days=3)
        sender = SyncSender(
            container.database, container.ledger, gateway, policy, jitter=lambda: 0.0
        )
        try:
            yield Stack(
                container,
                clock,
                admin,
                gateway,
                subscription,
                RenewalReactor(container.database, container.ledger, policy),
                sender,
            )
        finally:
            sender.close()
            gateway.close()


class TestUpcomingInvoiceTrigger:
    def test_sets_the_quantity_to_the_active_groups_once_with_a_recorded_key(
        self, stack: Stack
    ) -> None:
        stack.observe(quantity=1)
        stack.groups(3)
        stack.upcoming()
        stack.react_and_project()
        (sync,) = stack.organizer().syncs.values()
        assert (sync["quantity"], sync["status"]) == (3, "pending")
        assert stack.sender.run_once() == 1
        (request,) = stack.quantity_updates()
        assert request["idempotency_key"] == sync["idempotency_key"]
        assert request["params"]["quantity"] == "3"
        assert request["params"]["proration_behavior"] == "none"
        assert request["params"]["metadata"]["ledger_sync_id"] in stack.organizer().syncs
        assert stack.stripe_quantity() == 3
        stack.react_and_project()
        assert stack.sender.run_once() == 0
        assert len(stack.quantity_updates()) == 1
        assert [s["status"] for s in stack.organizer().syncs.values()] == ["confirmed"]

    def test_a_redelivered_or_replayed_trigger_sends_nothing_more(self, stack: Stack) -> None:
        stack.observe(quantity=1)
        stack.groups(2)
        stack.upcoming()
        stack.react_and_project()
        stack.sender.run_once()
        stack.upcoming(source="evt_upcoming")  # the same delivery again: not recorded
        with stack.container.database.transaction() as cursor:  # the reactor forgets
            cursor.execute("DELETE FROM read_model_tracking WHERE projection = 'process_manager'")
        stack.react_and_project()
        assert stack.sender.run_once() == 0
        assert len(stack.quantity_updates()) == 1

    def test_in_sync_subscriptions_get_no_request(self, stack: Stack) -> None:
        stack.observe(quantity=2)
        stack.groups(2)
        stack.upcoming()
        stack.react_and_project()
        assert stack.organizer().syncs == {}
        assert check_outcomes(stack) == ["in_sync"]

    @pytest.mark.parametrize("status", ["canceled", "unpaid", "paused"])
    def test_non_billable_subscriptions_are_skipped_with_a_reason(
        self, stack: Stack, status: str
    ) -> None:
        stack.observe(quantity=1, status=status)
        stack.groups(3)
        stack.upcoming()
        stack.react_and_project()
        assert stack.organizer().syncs == {}
        assert check_outcomes(stack) == ["skipped"]


class TestRetries:
    def test_a_rate_limit_is_retried_later_with_the_same_key(self, stack: Stack) -> None:
        stack.admin.post(
            "/_double/faults",
            json={
                "path": "^/v1/subscription_items/",
                "status": 429,
                "error_code": "lock_timeout",
                "count": 1,
            },
        ).raise_for_status()
        stack.observe(quantity=1)
        stack.groups(4)
        stack.upcoming()
        stack.react_and_project()
        stack.sender.run_once()
        (sync,) = stack.organizer().syncs.values()
        assert (sync["status"], sync["attempts"]) == ("retrying", 1)
        stack.react_and_project()
        assert stack.sender.run_once() == 0  # not due yet
        stack.clock.advance(timedelta(seconds=5))
        assert stack.sender.run_once() == 1
        keys = {r["idempotency_key"] for r in stack.quantity_updates()}
        assert keys == {sync["idempotency_key"]}
        assert [r["status"] for r in stack.quantity_updates()] == [429, 200]
        assert stack.stripe_quantity() == 4

    def test_a_stored_500_is_settled_by_asking_stripe_then_a_new_key(self, stack: Stack) -> None:
        stack.admin.post(
            "/_double/faults",
            json={"path": "^/v1/subscription_items/", "status": 500, "count": 1},
        ).raise_for_status()
        stack.observe(quantity=1)
        stack.groups(3)
        stack.upcoming()
        stack.react_and_project()
        stack.sender.run_once()
        (sync,) = stack.organizer().syncs.values()
        assert (sync["status"], sync["verify_first"]) == ("retrying", True)
        stack.react_and_project()
        stack.clock.advance(timedelta(seconds=5))
        stack.sender.run_once()
        keys = [u["idempotency_key"] for u in stack.quantity_updates()]
        assert keys == [sync["idempotency_key"], f"{sync['idempotency_key']}-r1"]
        assert stack.stripe_quantity() == 3
        assert [s["status"] for s in stack.organizer().syncs.values()] == ["confirmed"]

    def test_a_500_with_should_retry_false_is_still_retried_with_a_fresh_key(
        self, stack: Stack
    ) -> None:
        # Issue 10: Stripe sends Should-Retry: false on most 500s; it only means "not with
        # this key". The outcome is unknown: read back, then a new key (was: failed).
        stack.admin.post(
            "/_double/faults",
            json={
                "path": "^/v1/subscription_items/",
                "method": "POST",
                "status": 500,
                "should_retry": False,
                "count": 1,
            },
        ).raise_for_status()
        stack.observe(quantity=1)
        stack.groups(2)
        stack.upcoming()
        stack.react_and_project()
        stack.sender.run_once()
        (sync,) = stack.organizer().syncs.values()
        assert (sync["status"], sync["verify_first"]) == ("retrying", True)
        stack.react_and_project()
        stack.clock.advance(timedelta(seconds=5))
        stack.sender.run_once()
        keys = [u["idempotency_key"] for u in stack.quantity_updates()]
        assert keys == [sync["idempotency_key"], f"{sync['idempotency_key']}-r1"]
        assert stack.stripe_quantity() == 2
        assert [s["status"] for s in stack.organizer().syncs.values()] == ["confirmed"]

    def test_a_sync_never_gives_up_while_its_renewal_is_ahead(self, stack: Stack) -> None:
        stack.admin.post(
            "/_double/faults",
            json={"path": "^/v1/subscription_items/", "method": "POST", "status": 503},
        ).raise_for_status()
        stack.observe(quantity=1)
        stack.groups(2)
        stack.upcoming()
        stack.react_and_project()
        stack.sender.run_once()
        stack.clock.now = stack.period_end - timedelta(minutes=1)  # beyond the 24 h horizon
        stack.react_and_project()
        stack.sender.run_once()
        (sync,) = stack.organizer().syncs.values()
        assert sync["status"] == "retrying"
        stack.clock.now = stack.period_end + timedelta(seconds=1)
        stack.react_and_project()
        stack.sender.run_once()
        assert sync_status(stack) == "failed"

    def test_an_answer_lost_after_stripe_applied_it_is_replayed_not_reapplied(
        self, stack: Stack
    ) -> None:
        stack.admin.post(
            "/_double/faults",
            json={
                "path": "^/v1/subscription_items/",
                "drop_connection": True,
                "after_processing": True,
                "count": 1,
            },
        ).raise_for_status()
        stack.observe(quantity=1)
        stack.groups(5)
        stack.upcoming()
        stack.react_and_project()
        stack.sender.run_once()
        stack.react_and_project()
        stack.clock.advance(timedelta(seconds=5))
        stack.sender.run_once()
        updates = stack.quantity_updates()
        assert [u["replayed"] for u in updates] == [False, True]
        assert len({u["idempotency_key"] for u in updates}) == 1
        assert [s["status"] for s in stack.organizer().syncs.values()] == ["confirmed"]

    def test_an_operator_retry_of_a_failed_sync_uses_a_new_key(self, stack: Stack) -> None:
        stack.admin.post(
            "/_double/faults",
            json={
                "path": "^/v1/subscription_items/",
                "status": 400,
                "error_code": "parameter_invalid",
                "count": 1,
            },
        ).raise_for_status()
        stack.observe(quantity=1)
        stack.groups(2)
        stack.upcoming()
        stack.react_and_project()
        stack.sender.run_once()
        (failed_id,) = stack.organizer().syncs
        new_id = stack.container.ledger.update(
            "org-1", lambda org, at: org.retry_failed_sync(failed_id, at=at)
        )
        stack.react_and_project()
        stack.sender.run_once()
        keys = [u["idempotency_key"] for u in stack.quantity_updates()]
        assert len(set(keys)) == 2
        assert stack.organizer().syncs[new_id]["status"] == "confirmed"


def sync_status(stack: Stack) -> str:
    (sync,) = stack.organizer().syncs.values()
    return str(sync["status"])


class TestScheduledCheck:
    def test_a_change_after_invoice_upcoming_is_caught_before_the_renewal(
        self, stack: Stack
    ) -> None:
        stack.observe(quantity=1)
        stack.groups(2)
        stack.upcoming()
        stack.react_and_project()
        stack.sender.run_once()
        stack.groups(1, start=10)  # a third group, after invoice.upcoming
        scheduler = RenewalScheduler(stack.container.database, stack.reactor)
        assert scheduler.run_once() == 0  # not yet within the lead
        stack.clock.now = stack.period_end - timedelta(minutes=30)
        stack.react_and_project()
        assert scheduler.run_once() == 1
        stack.react_and_project()
        assert scheduler.run_once() == 0  # checked once per period
        stack.sender.run_once()
        assert [u["params"]["quantity"] for u in stack.quantity_updates()] == ["2", "3"]
        assert stack.stripe_quantity() == 3

    def test_a_newer_decision_supersedes_an_unsent_one(self, stack: Stack) -> None:
        stack.observe(quantity=1)
        stack.groups(2)
        stack.upcoming()
        stack.react_and_project()  # sync to 2 requested, not sent
        stack.groups(2, start=20)
        stack.clock.now = stack.period_end - timedelta(minutes=30)
        stack.react_and_project()
        RenewalScheduler(stack.container.database, stack.reactor).run_once()
        stack.react_and_project()
        stack.sender.run_once()
        assert [u["params"]["quantity"] for u in stack.quantity_updates()] == ["4"]
        statuses = sorted(s["status"] for s in stack.organizer().syncs.values())
        assert statuses == ["confirmed", "superseded"]
