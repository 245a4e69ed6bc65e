"""Tiered/volume prices: a group change records Stripe's renewal preview once, and the
billing page shows it with no Stripe call (issue 13), on both stores, through the real
SDK against the Stripe double."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from adapters.persistence.inbox import StripeInbox
from adapters.stripe.gateway import StripeGateway
from app.bootstrap import Container, bootstrap
from app.services.organizers.billing import billing
from app.services.prices import record_configured_price
from app.services.process.enroll import enroll_existing
from app.services.process.manager import RenewalReactor
from app.services.process.previews import RenewalPreviews
from app.settings import load_settings
from domain.groups import GroupAction
from domain.organizer import Organizer
from projections.runner import LogReader, build_read_models, catch_up
from stripe_double import running_double, sdk_client
from tests.integration.test_tiered_preview import VOLUME, tiered_price
from tests.support.clock import SteppingClock


@dataclass
class Stack:
    container: Container
    gateway: StripeGateway
    admin: httpx.Client
    clock: SteppingClock
    subscription_id: str
    groups: int = 0

    def add_groups(self, count: int) -> None:
        for _ in range(count):
            self.groups += 1
            self.container.ledger.change_group(
                "org-1",
                action=GroupAction.ACTIVATED,
                group_id=f"g{self.groups}",
                change_id=f"org-1-g{self.groups}",
                occurred_at=self.clock.now - timedelta(minutes=1),
            )

    def previewer(self) -> RenewalPreviews:
        container = self.container
        return RenewalPreviews(
            container.database,
            container.ledger,
            self.gateway,
            minimum_quantity=container.renewal_policy().minimum_quantity,
        )

    def react(self) -> None:
        container = self.container
        policy = container.renewal_policy()
        previews = self.previewer()
        reader = LogReader(container.ledger)
        catch_up(reader, build_read_models(container.database, minimum_quantity=1))
        catch_up(reader, [RenewalReactor(container.database, container.ledger, policy, previews)])
        catch_up(reader, build_read_models(container.database, minimum_quantity=1))

    def previews(self) -> list[Any]:
        organizer = self.container.ledger.get("org-1")
        events = self.container.ledger.repository.event_store.get(organizer.id)
        return [e for e in events if isinstance(e, Organizer.RenewalPreviewRecorded)]

    def preview_calls(self) -> int:
        logged: list[dict[str, Any]] = self.admin.get("/_double/requests").json()
        return sum(1 for r in logged if r["path"] == "/v1/invoices/create_preview")


def enrolled(
    database_url: str, clock: SteppingClock, base_url: str, price_id: str, subscription_id: str
) -> tuple[Container, StripeGateway]:
    """A migrated ledger on the double, its price recorded and ``org-1`` enrolled on the
    existing subscription."""
    container = bootstrap(
        load_settings(
            database_url=database_url,
            stripe_api_key="sk_test_double",
            stripe_api_base=base_url,
            stripe_price_id=price_id,
        ),
        clock=clock,
        embedded_migrate=False,
    )
    container.migrate()
    gateway = container.gateway
    assert gateway is not None
    assert record_configured_price(container.ledger, gateway, price_id)
    enroll_existing(
        container.ledger,
        StripeInbox(container.database),
        gateway,
        organizer_id="org-1",
        subscription_id=subscription_id,
    )
    return container, gateway


@pytest.fixture
def stack(database_url: str, clock: SteppingClock) -> Iterator[Stack]:
    clock.step = timedelta(seconds=1)
    with (
        running_double(webhook_delivery=False) as double,
        httpx.Client(base_url=double.base_url) as admin,
        sdk_client(double.base_url) as client,
    ):
        price_id = tiered_price(client, "volume")
        customer = client.v1.customers.create(params={"email": "org@example.com"})
        sub = client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price_id, "quantity": 1}]}
        )
        container, gateway = enrolled(database_url, clock, double.base_url, price_id, sub.id)
        yield Stack(container, gateway, admin, clock, sub.id)


class TestRenewalPreviews:
    def test_a_group_change_records_the_preview_and_the_page_shows_it(self, stack: Stack) -> None:
        stack.add_groups(7)
        stack.react()
        recorded = stack.previews()
        assert [(p.quantity, p.subtotal, p.total) for p in recorded] == [(7, VOLUME[7], VOLUME[7])]
        calls = stack.preview_calls()
        page = billing(stack.container, "org-1")
        assert page is not None
        assert page.estimate_absent_reason is None
        estimate = page.estimated_next_charge
        assert estimate is not None
        assert (estimate.source, estimate.quantity, estimate.total) == (
            "invoice_preview",
            7,
            VOLUME[7],
        )
        assert estimate.subtotal == VOLUME[7]
        assert estimate.unit_amount is None  # tiers have no single unit amount, no average
        assert stack.preview_calls() == calls  # a page view calls no Stripe

    def test_the_same_inputs_preview_once(self, stack: Stack) -> None:
        stack.add_groups(5)
        stack.react()
        calls = stack.preview_calls()
        organizer = stack.container.ledger.get("org-1")
        assert not stack.previewer().refresh(organizer.id)  # a replayed reaction
        stack.add_groups(1)
        stack.container.ledger.change_group(
            "org-1",
            action=GroupAction.DEACTIVATED,
            group_id=f"g{stack.groups}",
            change_id="org-1-back-to-5",
            occurred_at=stack.clock.now,
        )
        stack.react()  # 6 previewed, then back to 5: already previewed, not asked again
        assert [p.quantity for p in stack.previews()] == [5]
        assert stack.preview_calls() == calls

    def test_a_quantity_without_a_preview_has_no_estimate(self, stack: Stack) -> None:
        stack.add_groups(3)
        stack.react()
        stack.add_groups(1)  # recorded, the reactor has not run yet
        catch_up(
            LogReader(stack.container.ledger),
            build_read_models(stack.container.database, minimum_quantity=1),
        )
        page = billing(stack.container, "org-1")
        assert page is not None
        assert page.estimated_next_charge is None
        assert page.estimate_absent_reason == "price_not_per_unit"

    def test_stripe_failing_records_nothing_and_the_next_change_tries_again(
        self, stack: Stack
    ) -> None:
        stack.add_groups(2)
        rule = {"path": "/v1/invoices/create_preview", "status": 500, "count": 1}
        assert stack.admin.post("/_double/faults", json=rule).status_code < 300
        stack.react()
        assert stack.previews() == []
        stack.add_groups(1)
        stack.react()
        assert [p.quantity for p in stack.previews()] == [3]
