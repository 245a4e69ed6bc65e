"""Discounted subscriptions (issue 13): the ledger reads a subscription's discounts, the
reactor records Stripe's renewal preview for them, and the billing page's estimate is
what Stripe then bills at the renewal, on both stores, through the real SDK against the
Stripe double."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import stripe
from stripe.params import SubscriptionUpdateParams

from adapters.stripe.gateway import StripeGateway
from adapters.stripe.objects import read_subscription
from app.bootstrap import Container
from app.services.organizers.billing import billing
from app.services.organizers.models import OrganizerBilling
from app.services.process.manager import RenewalReactor
from app.services.process.previews import RenewalPreviews
from domain.groups import GroupAction
from domain.organizer import Organizer
from projections.runner import LogReader, build_read_models, catch_up
from stripe_double import running_double, sdk_client
from tests.integration.test_renewal_previews import enrolled
from tests.support.clock import SteppingClock

QUANTITY = 3  # groups, and the subscription's quantity in Stripe
UNIT = 500  # EUR cents per group


@dataclass
class Stack:
    container: Container
    gateway: StripeGateway
    client: stripe.StripeClient
    clock: SteppingClock
    clock_id: str
    subscription_id: str
    observations: int = 0

    def react(self) -> None:
        container = self.container
        previews = RenewalPreviews(
            container.database,
            container.ledger,
            self.gateway,
            minimum_quantity=container.renewal_policy().minimum_quantity,
        )
        reactor = RenewalReactor(
            container.database, container.ledger, container.renewal_policy(), previews
        )
        reader = LogReader(container.ledger)
        catch_up(reader, build_read_models(container.database, minimum_quantity=1))
        catch_up(reader, [reactor])
        catch_up(reader, build_read_models(container.database, minimum_quantity=1))

    def set_discounts(self, discounts: Any) -> None:
        """Change the discounts in Stripe, and let the ledger observe the subscription."""
        params: SubscriptionUpdateParams = {"discounts": discounts, "proration_behavior": "none"}
        self.client.v1.subscriptions.update(self.subscription_id, params=params)
        self.observe()

    def observe(self) -> None:
        self.observations += 1
        self.clock.now += timedelta(seconds=5)
        read = read_subscription(
            self.gateway.subscription(self.subscription_id), observed_at=self.clock.now
        )
        assert read is not None
        source = f"evt_observed_{self.observations}"
        self.container.ledger.update(
            "org-1", lambda org, at: org.observe_subscription(read.snapshot, source=source, at=at)
        )

    def page(self) -> OrganizerBilling:
        found = billing(self.container, "org-1")
        assert found is not None
        return found

    def previews(self) -> list[Any]:
        organizer = self.container.ledger.get("org-1")
        events = self.container.ledger.repository.event_store.get(organizer.id)
        return [e for e in events if isinstance(e, Organizer.RenewalPreviewRecorded)]

    def renewal_total(self) -> int:
        """Advance Stripe's clock to the period end: the renewal invoice's total."""
        sub = self.client.v1.subscriptions.retrieve(self.subscription_id)
        period_end = sub["items"]["data"][0]["current_period_end"]
        self.client.v1.test_helpers.test_clocks.advance(
            self.clock_id, params={"frozen_time": period_end}
        )
        listed = self.client.v1.invoices.list(params={"subscription": self.subscription_id})
        [renewal] = [i for i in listed.data if i.billing_reason == "subscription_cycle"]
        return int(renewal.total)


@pytest.fixture
def stack(database_url: str, clock: SteppingClock) -> Iterator[Stack]:
    clock.step = timedelta(seconds=1)
    with running_double(webhook_delivery=False) as double, sdk_client(double.base_url) as client:
        product = client.v1.products.create(params={"name": "Groups"})
        price = client.v1.prices.create(
            params={
                "product": product.id,
                "currency": "eur",
                "unit_amount": UNIT,
                "recurring": {"interval": "month"},
            }
        )
        client.v1.coupons.create(params={"id": "QUARTER", "percent_off": 25, "duration": "forever"})
        client.v1.coupons.create(
            params={"id": "THREE", "amount_off": 300, "currency": "eur", "duration": "forever"}
        )
        test_clock = client.v1.test_helpers.test_clocks.create(
            params={"frozen_time": int(time.time())}
        )
        customer = client.v1.customers.create(
            params={"email": "org@example.com", "test_clock": test_clock.id}
        )
        sub = client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id, "quantity": QUANTITY}]}
        )
        container, gateway = enrolled(database_url, clock, double.base_url, price.id, sub.id)
        for n in range(QUANTITY):
            container.ledger.change_group(
                "org-1",
                action=GroupAction.ACTIVATED,
                group_id=f"g{n}",
                change_id=f"org-1-g{n}",
                occurred_at=clock.now - timedelta(minutes=1),
            )
        yield Stack(container, gateway, client, clock, test_clock.id, sub.id)


class TestDiscountedEstimate:
    @pytest.mark.parametrize(
        ("coupon", "discount"),
        [("QUARTER", QUANTITY * UNIT // 4), ("THREE", 300)],
    )
    def test_the_estimate_is_what_stripe_bills_at_the_renewal(
        self, stack: Stack, coupon: str, discount: int
    ) -> None:
        stack.react()
        assert stack.page().estimated_next_charge is not None
        assert stack.page().estimated_next_charge.source == "price"  # type: ignore[union-attr]
        stack.set_discounts([{"coupon": coupon}])
        stack.react()
        estimate = stack.page().estimated_next_charge
        assert estimate is not None
        assert (estimate.source, estimate.quantity, estimate.unit_amount) == (
            "invoice_preview",
            QUANTITY,
            UNIT,
        )
        assert (estimate.subtotal, estimate.discount) == (QUANTITY * UNIT, discount)
        assert estimate.total == QUANTITY * UNIT - discount
        assert estimate.total == stack.renewal_total()

    def test_a_removed_discount_estimates_per_unit_again(self, stack: Stack) -> None:
        stack.set_discounts([{"coupon": "QUARTER"}])
        stack.react()
        assert stack.page().estimated_next_charge.total == 1125  # type: ignore[union-attr]
        stack.set_discounts("")
        stack.react()
        page = stack.page()
        estimate = page.estimated_next_charge
        assert estimate is not None
        assert (estimate.source, estimate.total, estimate.discount) == ("price", 1500, 0)
        assert page.estimate_absent_reason is None
        assert estimate.total == stack.renewal_total()

    def test_a_changed_discount_previews_again_and_the_same_once(self, stack: Stack) -> None:
        stack.set_discounts([{"coupon": "QUARTER"}])
        stack.react()
        stack.observe()  # the same facts observed again: no new preview
        stack.react()
        stack.set_discounts([{"coupon": "THREE"}])
        stack.react()
        recorded = stack.previews()
        assert [(p.total, p.discount) for p in recorded] == [(1125, 375), (1200, 300)]
        assert len({p.source for p in recorded}) == 2
        assert all(p.discount_ids for p in recorded)

    def test_a_discount_not_previewed_yet_has_no_estimate(self, stack: Stack) -> None:
        stack.set_discounts([{"coupon": "QUARTER"}])
        catch_up(
            LogReader(stack.container.ledger),
            build_read_models(stack.container.database, minimum_quantity=1),
        )
        page = stack.page()
        assert page.estimated_next_charge is None  # never unit x quantity: it over-states
        assert page.estimate_absent_reason == "discount_not_previewed"
