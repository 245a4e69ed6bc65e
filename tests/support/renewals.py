"""One organizer renewing on the Stripe double's test clock, seen by the real process manager.

Stripe facts enter the ledger as the intake records them: the double's own objects,
wrapped in the event Stripe would send and read by the webhook translator. Tests choose
when each fact arrives (late, twice, never), advance the double's clock through the
renewal, and run the reactor and both senders by hand. The ledger's clock follows the
double's test clock.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.stripe.gateway import PINNED_API_VERSION, StripeGateway
from adapters.stripe.translate import translate
from app.bootstrap import Container
from app.services.process.corrections import CorrectionSender
from app.services.process.manager import RenewalReactor, RenewalScheduler, SyncSender
from app.services.process.policy import RenewalPolicy
from domain.groups import GroupAction
from domain.organizer import Organizer
from projections.runner import LogReader, build_read_models, catch_up
from stripe_double import running_double, sdk_client
from tests.support.clock import SteppingClock

START_AT = datetime(2026, 1, 1, tzinfo=UTC)
START = int(START_AT.timestamp())
UNIT = 1000
HOUR = timedelta(hours=1)


@dataclass
class RenewalStack:
    container: Container
    clock: SteppingClock
    admin: httpx.Client
    stripe: Any  # StripeClient
    gateway: StripeGateway
    reactor: RenewalReactor
    syncs: SyncSender
    corrections: CorrectionSender
    price: str
    clock_id: str = ""
    customer: str = ""
    subscription: str = ""
    period_end: datetime = START_AT

    def __post_init__(self) -> None:
        self._events = itertools.count(1)

    # -- Stripe side ---------------------------------------------------------------

    def subscribe(self, quantity: int, *, automatic_tax: bool = False) -> None:
        """A customer on a test clock, a monthly subscription at ``quantity``, observed."""
        clock = self.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": START})
        customer = self.stripe.v1.customers.create(
            params={"test_clock": clock.id, "metadata": {"organizer_id": "org-1"}}
        )
        subscription = self.stripe.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": self.price, "quantity": quantity}],
                "metadata": {"organizer_id": "org-1"},
                "automatic_tax": {"enabled": automatic_tax},
            }
        ).to_dict()
        self.clock_id, self.customer, self.subscription = clock.id, customer.id, subscription["id"]
        end = subscription["items"]["data"][0]["current_period_end"]
        self.period_end = datetime.fromtimestamp(end, tz=UTC)
        self.clock.now = datetime.fromtimestamp(START, tz=UTC)
        self.deliver("customer.subscription.created", subscription)

    def advance(self, to: datetime) -> None:
        """The double's test clock (and the ledger's clock) to ``to``."""
        self.stripe.v1.test_helpers.test_clocks.advance(
            self.clock_id, params={"frozen_time": int(to.timestamp())}
        )
        self.clock.now = to

    def renewal_invoice(self) -> dict[str, Any]:
        listed = self.stripe.v1.invoices.list(params={"subscription": self.subscription})
        renewals = [i for i in listed.data if i["billing_reason"] == "subscription_cycle"]
        invoice: dict[str, Any] = renewals[0].to_dict()
        return invoice

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.stripe.v1.invoices.retrieve(invoice_id).to_dict()
        return found

    def manual_invoices(self) -> list[dict[str, Any]]:
        listed = self.stripe.v1.invoices.list(params={"customer": self.customer})
        return [i.to_dict() for i in listed.data if i["billing_reason"] == "manual"]

    def credit_notes(self, invoice_id: str) -> list[dict[str, Any]]:
        listed = self.stripe.v1.credit_notes.list(params={"invoice": invoice_id})
        return [n.to_dict() for n in listed.data]

    def item_quantity(self) -> int:
        found = self.stripe.v1.subscriptions.retrieve(self.subscription)
        return int(found["items"]["data"][0]["quantity"])

    def fault(self, **spec: Any) -> None:
        self.admin.post("/_double/faults", json=spec).raise_for_status()

    def requests(self, prefix: str = "/v1/") -> list[dict[str, Any]]:
        logged: list[dict[str, Any]] = self.admin.get("/_double/requests").json()
        return [r for r in logged if str(r["path"]).startswith(prefix)]

    def posts(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.requests(prefix) if r["method"] == "POST"]

    def keys_with_several_parameter_sets(self) -> list[str]:
        """Idempotency keys the ledger sent with more than one set of parameters."""
        seen: dict[str, set[str]] = {}
        for request in self.requests():
            key = request["idempotency_key"]
            if key and str(key).startswith("renewal-ledger"):
                params = repr(sorted(request["params"].items()))
                seen.setdefault(key, set()).add(f"{request['method']} {request['path']} {params}")
        return [key for key, sets in seen.items() if len(sets) > 1]

    # -- ledger side ---------------------------------------------------------------

    def deliver(self, event_type: str, obj: dict[str, Any]) -> None:
        """The event Stripe would send about ``obj``, translated and applied."""
        self.deliver_event(
            {
                "id": f"evt_test_{next(self._events)}",
                "object": "event",
                "type": event_type,
                "api_version": PINNED_API_VERSION,
                "created": int(self.clock.now.timestamp()),
                "data": {"object": obj},
            }
        )

    def deliver_event(self, event: dict[str, Any]) -> None:
        """One Stripe event, as the intake records it: translated, applied to org-1."""
        translation = translate(event, group_price_ids=frozenset({self.price}))
        for command in translation.commands:
            self.container.ledger.update("org-1", command.apply, register=True)

    def groups(
        self,
        count: int,
        *,
        at: datetime,
        start: int = 0,
        action: GroupAction = GroupAction.ACTIVATED,
    ) -> None:
        """Groups ``g<start>``… activated (or deactivated) at ``at``."""
        for i in range(start, start + count):
            self.container.ledger.change_group(
                "org-1",
                action=action,
                group_id=f"g{i}",
                change_id=f"{action.value}-{i}",
                occurred_at=at,
            )

    def react(self) -> None:
        reader = LogReader(self.container.ledger)
        catch_up(reader, [self.reactor])
        catch_up(reader, build_read_models(self.container.database, minimum_quantity=1))

    def work(self, passes: int = 3) -> int:
        """What the worker does, a few times over: react, schedule, send."""
        sent = 0
        for _ in range(passes):
            self.react()
            RenewalScheduler(self.container.database, self.reactor).run_once()
            self.react()
            sent += self.syncs.run_once() + self.corrections.run_once()
        self.react()
        return sent

    def organizer(self) -> Organizer:
        return self.container.ledger.get("org-1")

    def corrections_made(self) -> list[dict[str, Any]]:
        return list(self.organizer().corrections.values())


@contextmanager
def renewal_stack(container: Container, clock: SteppingClock) -> Iterator[RenewalStack]:
    """A fresh double of its own and the process manager on ``container``."""
    with (
        running_double(webhook_delivery=False) as double,
        stack_on(double.base_url, container, clock) as stack,
    ):
        yield stack


@contextmanager
def stack_on(base_url: str, container: Container, clock: SteppingClock) -> Iterator[RenewalStack]:
    """The process manager on ``container`` against a running double, reset first."""
    with httpx.Client(base_url=base_url) as admin, sdk_client(base_url) as client:
        admin.post("/_double/reset").raise_for_status()
        admin.post("/_double/config", json={"quantity_updates_per_hour": None}).raise_for_status()
        admin.post("/_double/clock", json={"now": START}).raise_for_status()
        seeded = admin.post("/_double/seed", json={"unit_amount": UNIT, "currency": "eur"}).json()
        gateway = StripeGateway(api_key="sk_test_double", api_base=base_url, max_rps=500)
        price = str(seeded["price"])
        policy = RenewalPolicy(retry_base=timedelta(seconds=1), group_price_ids=frozenset({price}))
        db, ledger = container.database, container.ledger
        syncs = SyncSender(db, ledger, gateway, policy, jitter=lambda: 0.0)
        corrections = CorrectionSender(db, ledger, gateway, policy, jitter=lambda: 0.0)
        try:
            yield RenewalStack(
                container,
                clock,
                admin,
                client,
                gateway,
                RenewalReactor(db, ledger, policy),
                syncs,
                corrections,
                price,
            )
        finally:
            syncs.close()
            corrections.close()
            gateway.close()
