"""Real failed quantity syncs: organizers subscribed on the Stripe double, renewal
checks through the real process manager, and Stripe refusing the update (a fault rule).

Adapted from the fixture of tests/integration/test_renewal_process.py, for several
organizers at once. The ledger's clock is a test clock; the double runs on real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.stripe.gateway import StripeGateway
from app.bootstrap import Container
from app.services.process.manager import RenewalReactor, SyncSender
from app.services.process.policy import RenewalPolicy
from domain.billing import InvoiceFacts, SubscriptionSnapshot
from domain.groups import GroupAction
from domain.organizer import Organizer
from projections.runner import LogReader, build_read_models, catch_up
from stripe_double import running_double, sdk_client
from tests.support.clock import SteppingClock


@dataclass
class SyncStack:
    container: Container
    clock: SteppingClock
    admin: httpx.Client
    gateway: StripeGateway
    reactor: RenewalReactor
    sender: SyncSender
    base_url: str
    price: str
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def subscribe(self, organizer_id: str) -> dict[str, Any]:
        """A Stripe subscription at quantity 1, observed by the ledger."""
        with sdk_client(self.base_url) as client:
            customer = client.v1.customers.create(params={"email": f"{organizer_id}@example.com"})
            subscription: dict[str, Any] = client.v1.subscriptions.create(
                params={"customer": customer.id, "items": [{"price": self.price, "quantity": 1}]}
            ).to_dict()
        if not self.subscriptions:  # three days before the first renewal
            self.clock.now = datetime.fromtimestamp(
                subscription["items"]["data"][0]["current_period_end"], tz=UTC
            ) - timedelta(days=3)
        self.subscriptions[organizer_id] = subscription
        item = subscription["items"]["data"][0]
        snapshot = SubscriptionSnapshot(
            subscription_id=subscription["id"],
            item_id=item["id"],
            price_id=item["price"]["id"],
            status="active",
            quantity=1,
            current_period_start=datetime.fromtimestamp(item["current_period_start"], tz=UTC),
            current_period_end=self.period_end(organizer_id),
            observed_at=self.clock.now,
        )
        self.container.ledger.update(
            organizer_id,
            lambda org, at: org.observe_subscription(snapshot, source=f"evt_{organizer_id}", at=at),
            register=True,
        )
        return subscription

    def period_end(self, organizer_id: str) -> datetime:
        item = self.subscriptions[organizer_id]["items"]["data"][0]
        return datetime.fromtimestamp(item["current_period_end"], tz=UTC)

    def item_id(self, organizer_id: str) -> str:
        return str(self.subscriptions[organizer_id]["items"]["data"][0]["id"])

    def renewal_needs(self, organizer_id: str, groups: int) -> None:
        """``groups`` active groups and Stripe's ``invoice.upcoming`` for the renewal."""
        for i in range(groups):
            self.container.ledger.change_group(
                organizer_id,
                action=GroupAction.ACTIVATED,
                group_id=f"g{i}",
                change_id=f"{organizer_id}-c{i}",
                occurred_at=self.clock.now - timedelta(minutes=1),
            )
        subscription_id = self.subscriptions[organizer_id]["id"]
        period_end = self.period_end(organizer_id)
        self.container.ledger.update(
            organizer_id,
            lambda org, at: org.note_renewal_upcoming(
                subscription_id=subscription_id,
                period_end=period_end,
                expected_quantity=1,
                expected_amount=500,
                currency="eur",
                source=f"evt_upcoming_{organizer_id}",
                at=at,
            ),
        )

    def refuse_updates(self, count: int, *, status: int = 400) -> None:
        """Stripe refuses the next ``count`` quantity updates (400: not retryable)."""
        self.admin.post(
            "/_double/faults",
            json={
                "path": "^/v1/subscription_items/",
                "status": status,
                "error_code": "parameter_invalid" if status == 400 else "lock_timeout",
                "count": count,
            },
        ).raise_for_status()

    def react_and_project(self) -> None:
        reader = LogReader(self.container.ledger)
        catch_up(reader, [self.reactor])
        catch_up(reader, build_read_models(self.container.database, minimum_quantity=1))

    def react_and_project_read_models_only(self) -> None:
        """The read models catch up; the process manager does not react (it is down)."""
        catch_up(
            LogReader(self.container.ledger),
            build_read_models(self.container.database, minimum_quantity=1),
        )

    def send(self) -> int:
        """One pass of the worker's sender, then the read models catch up."""
        self.react_and_project()
        sent = self.sender.run_once()
        self.react_and_project()
        return sent

    def failed_syncs(self, *organizer_ids: str, groups: int = 2, status: int = 400) -> list[str]:
        """One sync per organizer, refused by Stripe; their ids, in request order."""
        for organizer_id in organizer_ids:
            self.subscribe(organizer_id)
            self.renewal_needs(organizer_id, groups)
            self.react_and_project()  # requested now: one second after the previous one
            self.clock.advance(timedelta(seconds=1))
        self.refuse_updates(len(organizer_ids), status=status)
        self.send()
        return [next(iter(self.organizer(o).syncs)) for o in organizer_ids]

    def draft_mismatch(self, organizer_id: str, *, billed: int, invoice_id: str) -> None:
        """A renewal draft at ``billed`` (the reactor compares it with the groups)."""
        facts = InvoiceFacts(
            invoice_id=invoice_id,
            subscription_id=self.subscriptions[organizer_id]["id"],
            billing_reason="subscription_cycle",
            period_start=self.clock.now,
            period_end=self.clock.now + timedelta(days=30),
            quantity=billed,
            subtotal=500 * billed,
            tax=0,
            total=500 * billed,
            amount_due=500 * billed,
            amount_paid=0,
            currency="eur",
            status="draft",
        )
        self.container.ledger.update(
            organizer_id,
            lambda org, at: org.record_invoice(facts, source=f"evt_{invoice_id}", at=at),
        )
        self.react_and_project()

    def quantity_updates(self) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = self.admin.get("/_double/requests").json()
        return [r for r in requests if r["path"].startswith("/v1/subscription_items/")]

    def stripe_quantity(self, organizer_id: str) -> int:
        subscription = self.gateway.subscription(self.subscriptions[organizer_id]["id"])
        return int(subscription["items"]["data"][0]["quantity"])

    def organizer(self, organizer_id: str) -> Organizer:
        return self.container.ledger.get(organizer_id)


@contextmanager
def sync_stack(container: Container, clock: SteppingClock) -> Iterator[SyncStack]:
    """A fresh Stripe double and the process manager's reactor and sender on ``container``.

    The ledger's clock is set three days before the first subscription's renewal, so
    every ``invoice.upcoming`` is in the future.
    """
    with running_double() as double, httpx.Client(base_url=double.base_url) as admin:
        admin.post("/_double/config", json={"quantity_updates_per_hour": None}).raise_for_status()
        seeded = admin.post("/_double/seed", json={"unit_amount": 500, "currency": "eur"}).json()
        gateway = StripeGateway(api_key="sk_test_double", api_base=double.base_url, max_rps=200)
        policy = RenewalPolicy(retry_base=timedelta(seconds=1))
        sender = SyncSender(
            container.database, container.ledger, gateway, policy, jitter=lambda: 0.0
        )
        try:
            yield SyncStack(
                container,
                clock,
                admin,
                gateway,
                RenewalReactor(container.database, container.ledger, policy),
                sender,
                double.base_url,
                str(seeded["price"]),
            )
        finally:
            sender.close()
            gateway.close()
