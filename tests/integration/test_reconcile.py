"""Reconciliation and enrollment against the Stripe double over loopback, on both stores.

Subscriptions are created on the double with the SDK and enrolled with
``enroll_existing`` (the command's own code path); ``reconcile`` is the function the
``ledger reconcile`` command runs, so ``outcome.unresolved`` is its exit code's reason.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import stripe

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.gateway import StripeGateway
from app.bootstrap import Container
from app.services.process.enroll import EnrollmentError, enroll_existing
from app.services.process.reconcile import Difference, DifferenceKind
from app.services.process.reconcile_fixes import record_fixes, settle
from app.services.process.reconcile_run import Outcome, reconcile
from domain.billing import SubscriptionSnapshot
from domain.groups import GroupAction
from projections.runner import LogReader, build_read_models, catch_up
from stripe_double import running_double, sdk_client
from tests.support.clock import SteppingClock


@dataclass
class Stack:
    container: Container
    clock: SteppingClock
    admin: httpx.Client
    client: stripe.StripeClient
    gateway: StripeGateway
    price: str

    def subscribe(self, quantity: int) -> dict[str, Any]:
        customer = self.client.v1.customers.create(params={"email": "org@example.com"})
        created: dict[str, Any] = self.client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": self.price, "quantity": quantity}]}
        ).to_dict()
        return created

    def enroll(self, organizer_id: str, subscription: dict[str, Any], groups: int = 0) -> None:
        enroll_existing(
            self.container.ledger,
            StripeInbox(self.container.database),
            self.gateway,
            organizer_id=organizer_id,
            subscription_id=subscription["id"],
        )
        for i in range(groups):
            self.container.ledger.change_group(
                organizer_id,
                action=GroupAction.ACTIVATED,
                group_id=f"g{i}",
                change_id=f"{organizer_id}-c{i}",
                occurred_at=self.clock.now - timedelta(minutes=1),
            )

    def set_quantity(self, subscription: dict[str, Any], quantity: int) -> None:
        """A change made behind the ledger's back (the dashboard, a support agent)."""
        item = subscription["items"]["data"][0]["id"]
        self.client.v1.subscription_items.update(item, params={"quantity": quantity})

    def stripe_quantity(self, subscription: dict[str, Any]) -> int:
        found = self.gateway.subscription(subscription["id"])
        return int(found["items"]["data"][0]["quantity"])

    def reconcile(self, *, fix: bool = False, organizer_id: str | None = None) -> Outcome:
        self.project()
        return reconcile(self.container, self.gateway, organizer_id=organizer_id, fix=fix)

    def project(self) -> None:
        models = build_read_models(self.container.database, minimum_quantity=1)
        catch_up(LogReader(self.container.ledger), models)

    def requests(self, method: str, prefix: str) -> list[dict[str, Any]]:
        logged: list[dict[str, Any]] = self.admin.get("/_double/requests").json()
        return [r for r in logged if r["method"] == method and r["path"].startswith(prefix)]

    def syncs_sent(self) -> list[dict[str, Any]]:
        """Quantity updates the ledger sent (not the ones made behind its back)."""
        return [
            r
            for r in self.requests("POST", "/v1/subscription_items/")
            if "ledger_sync_id" in r["params"].get("metadata", {})
        ]

    def audit_kinds(self, organizer_id: str) -> list[str]:
        self.project()
        with self.container.database.transaction() as cursor:
            rows = cursor.execute(
                "SELECT kind FROM rm_audit_entries WHERE organizer_id = :o ORDER BY position, seq",
                {"o": organizer_id},
            ).fetchall()
        return [str(row["kind"]) for row in rows]


@pytest.fixture
def stack(container: Container, clock: SteppingClock) -> Iterator[Stack]:
    clock.step = timedelta(seconds=1)  # each fact a second after the last: observations order
    with (
        running_double(webhook_delivery=False) as double,
        httpx.Client(base_url=double.base_url) as admin,
        sdk_client(double.base_url) as client,
    ):
        admin.post("/_double/config", json={"quantity_updates_per_hour": None}).raise_for_status()
        seeded = admin.post("/_double/seed", json={"unit_amount": 500, "currency": "eur"}).json()
        gateway = StripeGateway(api_key="sk_test_double", api_base=double.base_url, max_rps=500)
        try:
            yield Stack(container, clock, admin, client, gateway, seeded["price"])
        finally:
            gateway.close()


def kinds(differences: list[Difference]) -> list[tuple[str, str | None]]:
    return sorted((d.kind.value, d.organizer_id) for d in differences)


class TestReport:
    def test_a_ledger_in_step_with_stripe_reports_no_drift(self, stack: Stack) -> None:
        stack.enroll("org-1", stack.subscribe(quantity=3), groups=3)
        outcome = stack.reconcile()
        assert (outcome.compared, outcome.differences, outcome.unresolved) == (1, [], [])

    def test_a_quantity_changed_behind_the_ledgers_back_is_drift(self, stack: Stack) -> None:
        subscription = stack.subscribe(quantity=3)
        stack.enroll("org-1", subscription, groups=3)
        stack.set_quantity(subscription, 7)
        outcome = stack.reconcile()
        (difference,) = outcome.unresolved
        assert difference.as_dict() == {
            "kind": "quantity",
            "organizer_id": "org-1",
            "subscription_id": subscription["id"],
            "stripe_value": 7,
            "ledger_value": 3,
            "correctable": True,
        }

    def test_a_subscription_linked_to_no_organizer_is_reported_never_linked(
        self, stack: Stack
    ) -> None:
        stack.enroll("org-1", stack.subscribe(quantity=1))
        stranger = stack.subscribe(quantity=2)
        outcome = stack.reconcile(fix=True)
        (difference,) = outcome.unresolved
        assert (difference.kind, difference.subscription_id) == (
            DifferenceKind.UNKNOWN_TO_LEDGER,
            stranger["id"],
        )
        assert not difference.correctable
        assert StripeInbox(stack.container.database).organizer_for([stranger["id"]]) is None

    def test_a_live_subscription_stripe_does_not_list_is_missing_on_stripe(
        self, stack: Stack
    ) -> None:
        stack.enroll("org-1", stack.subscribe(quantity=1))
        gone = SubscriptionSnapshot(
            "sub_gone",
            "si_gone",
            stack.price,
            "active",
            1,
            stack.clock.now,
            stack.clock.now,
            stack.clock.now,
        )
        stack.container.ledger.update(
            "org-2",
            lambda org, at: org.observe_subscription(gone, source="evt_gone", at=at),
            register=True,
        )
        StripeInbox(stack.container.database).link("subscription", "sub_gone", "org-2", "test")
        (difference,) = stack.reconcile().unresolved
        assert difference.as_dict() == {
            "kind": "missing_on_stripe",
            "organizer_id": "org-2",
            "subscription_id": "sub_gone",
            "stripe_value": None,
            "ledger_value": "active",
            "correctable": False,
        }

    def test_a_status_and_period_the_ledger_missed_are_re_observed_by_fix(
        self, stack: Stack
    ) -> None:
        subscription = stack.subscribe(quantity=1)
        stack.enroll("org-1", subscription)
        listed = stack.container.ledger.get("org-1").subscription_snapshot
        assert listed is not None
        stale = SubscriptionSnapshot(
            **{
                **listed.as_state(),
                "status": "past_due",
                "current_period_end": listed.current_period_end + timedelta(days=1),
                "observed_at": stack.clock.now,
            }
        )
        stack.container.ledger.update(
            "org-1", lambda org, at: org.observe_subscription(stale, source="evt_odd", at=at)
        )
        assert kinds(stack.reconcile().differences) == [("period", "org-1"), ("status", "org-1")]
        fixed = stack.reconcile(fix=True)
        assert {r.text for r in fixed.results.values()} == {"re-observed"}
        assert fixed.unresolved == []
        assert stack.reconcile().differences == []

    def test_one_organizer_costs_one_retrieval(self, stack: Stack) -> None:
        mine = stack.subscribe(quantity=4)
        stack.enroll("org-1", mine, groups=1)
        stack.enroll("org-2", stack.subscribe(quantity=9), groups=1)
        stack.admin.delete("/_double/requests").raise_for_status()
        outcome = stack.reconcile(organizer_id="org-1")
        assert kinds(outcome.differences) == [("quantity", "org-1")]
        calls = stack.requests("GET", "/v1/")
        assert [c["path"] for c in calls] == [f"/v1/subscriptions/{mine['id']}"]

    def test_a_full_run_lists_a_hundred_subscriptions_per_call(self, stack: Stack) -> None:
        organizers = 250
        for i in range(organizers):
            stack.enroll(f"org-{i}", stack.subscribe(quantity=1))
        stack.admin.delete("/_double/requests").raise_for_status()
        outcome = stack.reconcile()
        assert (outcome.compared, outcome.differences) == (organizers, [])
        calls = stack.requests("GET", "/v1/")
        assert all(c["path"] == "/v1/subscriptions" for c in calls)
        assert len(calls) / organizers <= 0.02
        assert len(calls) == 3


class TestFix:
    def test_drift_is_recorded_then_synced_through_the_process_manager(self, stack: Stack) -> None:
        subscription = stack.subscribe(quantity=3)
        stack.enroll("org-1", subscription, groups=3)
        stack.set_quantity(subscription, 7)
        outcome = stack.reconcile(fix=True)
        assert outcome.unresolved == []
        assert [r.text for r in outcome.results.values()] == ["synced to 3"]
        assert stack.stripe_quantity(subscription) == 3
        (update,) = stack.syncs_sent()
        (sync,) = stack.container.ledger.get("org-1").syncs.values()
        assert update["idempotency_key"] == sync["idempotency_key"]
        audit = stack.audit_kinds("org-1")
        assert "reconciliation_drift" in audit
        assert audit.index("reconciliation_drift") < audit.index("quantity_sync_confirmed")
        assert stack.reconcile().differences == []

    def test_fixing_beside_a_running_worker_sends_each_sync_once(self, stack: Stack) -> None:
        subscription = stack.subscribe(quantity=2)
        stack.enroll("org-1", subscription, groups=5)
        stack.set_quantity(subscription, 9)
        stack.project()
        differences = reconcile(stack.container, stack.gateway, organizer_id=None, fix=False)
        record_fixes(
            stack.container.ledger, differences.differences, run_id="reconcile:test", minimum=1
        )
        # The CLI's settle and the worker's loops, at the same time.
        policy = stack.container.renewal_policy()
        runs = [
            threading.Thread(
                target=settle,
                args=(stack.container.database, stack.container.ledger, stack.gateway, policy),
            )
            for _ in range(2)
        ]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        updates = stack.syncs_sent()
        assert len({u["idempotency_key"] for u in updates}) == 1
        assert [u["replayed"] for u in updates].count(False) == 1
        organizer = stack.container.ledger.get("org-1")
        assert [s["status"] for s in organizer.syncs.values()] == ["confirmed"]
        assert stack.stripe_quantity(subscription) == 5

    def test_a_change_after_a_confirmed_sync_in_the_same_period_is_corrected(
        self, stack: Stack
    ) -> None:
        subscription = stack.subscribe(quantity=1)
        stack.enroll("org-1", subscription, groups=2)
        assert stack.reconcile(fix=True).unresolved == []
        stack.set_quantity(subscription, 5)
        assert stack.reconcile(fix=True).unresolved == []
        assert stack.stripe_quantity(subscription) == 2


class TestEnrollExisting:
    def test_links_and_backfills_once(self, stack: Stack) -> None:
        subscription = stack.subscribe(quantity=4)
        stack.enroll("org-1", subscription)
        organizer = stack.container.ledger.get("org-1")
        snapshot = organizer.subscription_snapshot
        assert snapshot is not None
        assert (snapshot.subscription_id, snapshot.quantity) == (subscription["id"], 4)
        assert organizer.stripe_customer_id == subscription["customer"]
        inbox = StripeInbox(stack.container.database)
        assert inbox.organizer_for([subscription["id"]]) == "org-1"
        assert inbox.organizer_for([subscription["customer"]]) == "org-1"
        stack.enroll("org-1", subscription)
        assert stack.container.ledger.get("org-1").version == organizer.version

    def test_an_unknown_subscription_is_refused(self, stack: Stack) -> None:
        with pytest.raises(EnrollmentError, match="no subscription 'sub_nope' on Stripe"):
            stack.enroll("org-1", {"id": "sub_nope"})
        assert stack.container.ledger.find("org-1") is None

    def test_a_subscription_of_another_organizer_is_refused(self, stack: Stack) -> None:
        subscription = stack.subscribe(quantity=1)
        stack.enroll("org-1", subscription)
        with pytest.raises(EnrollmentError, match="already linked to organizer 'org-1'"):
            stack.enroll("org-2", subscription)
        assert stack.container.ledger.find("org-2") is None
