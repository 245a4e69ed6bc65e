"""The translator's direct entry (a Stripe object as listed or retrieved, no event around
it) reads the same facts as the webhook path reads from the same object in an envelope:
over every real delivery in tests/fixtures/stripe, and over objects varied from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.stripe.commands import DeleteCustomer, ObserveSubscription, RecordInvoice
from adapters.stripe.translate import (
    HANDLED_EVENT_TYPES,
    CustomerRead,
    InvoiceRead,
    StripeFacts,
    SubscriptionRead,
    TranslationError,
    read_customer,
    read_invoice,
    read_object,
    read_subscription,
    translate,
)
from tests.support.stripe_payloads import (
    API_VERSIONS,
    FIXTURES,
    PERIOD,
    SHAPES,
    T0,
    ShapeName,
    fixture,
    invoice_event,
    subscription_event,
    subscription_object,
    utc,
)

READ_OBJECTS = frozenset({"subscription", "invoice", "customer"})
# Handled events whose facts are the object's own (an upcoming invoice is a preview;
# prices and tax ids are read by adapters/stripe/prices.py and tax_ids.py).
DIRECTLY_READ = HANDLED_EVENT_TYPES - {
    "checkout.session.completed",
    "invoice.upcoming",
    "price.created",
    "price.updated",
    "price.deleted",
    "customer.tax_id.created",
    "customer.tax_id.updated",
    "customer.tax_id.deleted",
}


def _deliveries() -> list[str]:
    found = (str(path.relative_to(FIXTURES)) for path in FIXTURES.rglob("*.json"))
    return sorted(r for r in found if fixture(r).get("type") in DIRECTLY_READ)


DELIVERIES = _deliveries()


def through_envelope(event: dict[str, Any]) -> StripeFacts | None:
    """The facts the webhook path records for an event (None: it records none)."""
    translation = translate(event)
    for command in translation.commands:
        if isinstance(command, ObserveSubscription):
            customer = translation.customer_id or ""
            return SubscriptionRead(command.snapshot, customer, translation.organizer_hint)
        if isinstance(command, RecordInvoice):
            return InvoiceRead(command.invoice, translation.organizer_hint)
        if isinstance(command, DeleteCustomer):
            return CustomerRead(command.customer_id, translation.organizer_hint)
    return None


def direct(event: dict[str, Any]) -> StripeFacts | None:
    """The same object through the direct entry, as the gateway would have returned it."""
    found = read_object(
        event["data"]["object"],
        observed_at=utc(event["created"]),
        api_version=event.get("api_version"),
    )
    if isinstance(found, SubscriptionRead) and event["type"] == "customer.subscription.deleted":
        # The event type is the fact the object alone cannot tell.
        return replace(found, snapshot=replace(found.snapshot, status="canceled"))
    return found


def outcome(
    read: Callable[[dict[str, Any]], StripeFacts | None], event: dict[str, Any]
) -> StripeFacts | str | None:
    try:
        return read(event)
    except TranslationError as error:
        # The envelope path names fields from the event; the direct one from the object.
        return str(error).removeprefix("data.object.")


def assert_same_facts(event: dict[str, Any]) -> None:
    assert outcome(through_envelope, event) == outcome(direct, event)


class TestDirectEntryOnRealDeliveries:
    @pytest.mark.parametrize("relative", DELIVERIES)
    def test_reads_what_the_webhook_path_records(self, relative: str) -> None:
        assert_same_facts(fixture(relative))

    def test_the_fixture_set_holds_each_object_the_entry_reads(self) -> None:
        kinds = {fixture(r)["data"]["object"]["object"] for r in DELIVERIES}
        assert kinds == READ_OBJECTS


class TestDirectEntryOnVariedObjects:
    @settings(max_examples=60, deadline=None)
    @given(
        shape=st.sampled_from(SHAPES),
        event_type=st.sampled_from(["created", "updated", "deleted", "paused", "resumed"]),
        quantity=st.integers(min_value=0, max_value=10_000),
        status=st.sampled_from(["active", "trialing", "past_due", "canceled", "incomplete"]),
        created=st.integers(min_value=T0 - 86_400 * 400, max_value=T0 + 86_400 * 400),
        cancel_at_period_end=st.booleans(),
    )
    def test_a_subscription_reads_the_same_either_way(
        self,
        *,
        shape: ShapeName,
        event_type: str,
        quantity: int,
        status: str,
        created: int,
        cancel_at_period_end: bool,
    ) -> None:
        event = subscription_event(
            shape,
            f"customer.subscription.{event_type}",
            created=created,
            quantity=quantity,
            status=status,
            cancel_at_period_end=cancel_at_period_end,
        )
        assert_same_facts(event)

    @settings(max_examples=40, deadline=None)
    @given(
        shape=st.sampled_from(SHAPES),
        quantity=st.integers(min_value=1, max_value=500),
        amount=st.integers(min_value=0, max_value=10_000_000),
        tax=st.integers(min_value=0, max_value=100_000),
        status=st.sampled_from(["draft", "open", "paid", "void"]),
        subscribed=st.booleans(),
    )
    def test_an_invoice_reads_the_same_either_way(
        self,
        *,
        shape: ShapeName,
        quantity: int,
        amount: int,
        tax: int,
        status: str,
        subscribed: bool,
    ) -> None:
        event = invoice_event(
            shape,
            quantity=quantity,
            amount=amount,
            tax=tax,
            status=status,
            subscription_id="sub_Ledger0001" if subscribed else None,
        )
        assert_same_facts(event)


class TestDirectEntry:
    NOW = utc(T0)

    def test_a_listed_subscription_is_observed_at_the_given_second(self) -> None:
        at = datetime.fromtimestamp(T0 + 0.75, tz=self.NOW.tzinfo)
        read = read_subscription(subscription_object("basil", quantity=7), observed_at=at)
        assert read is not None
        assert (read.snapshot.quantity, read.snapshot.observed_at) == (7, self.NOW)
        assert (read.snapshot.current_period_start, read.customer_id) == (
            utc(PERIOD[0]),
            "cus_Ledger0001",
        )

    def test_a_malformed_field_is_named_by_its_path_in_the_object(self) -> None:
        broken = subscription_object("legacy")
        broken["items"]["data"][0]["quantity"] = "3"
        with pytest.raises(TranslationError, match=r"^items\.data\[0\]\.quantity must be"):
            read_subscription(broken, observed_at=self.NOW, api_version=API_VERSIONS["legacy"])

    def test_another_object_is_refused_where_one_kind_is_expected(self) -> None:
        with pytest.raises(TranslationError, match="object must be 'subscription'"):
            read_subscription(fixture("openapi_fixtures3__customer.json"), observed_at=self.NOW)

    def test_a_subscription_without_the_group_price_is_not_read(self) -> None:
        listed = subscription_object("basil")
        assert read_subscription(listed, observed_at=self.NOW, group_price_ids={"p"}) is None

    def test_a_one_off_invoice_is_not_read(self) -> None:
        invoice = invoice_event("basil", subscription_id=None)["data"]["object"]
        assert read_invoice(invoice) is None

    def test_a_customer_reads_its_id_and_metadata_organizer(self) -> None:
        customer = fixture("openapi_fixtures3__customer.json")
        customer["metadata"] = {"organizer_id": "org-9"}
        assert read_customer(customer) == CustomerRead(customer["id"], "org-9")

    def test_an_object_the_ledger_does_not_read_is_refused(self) -> None:
        with pytest.raises(TranslationError, match=r"'checkout\.session' is not one"):
            read_object(fixture("openapi_fixtures3__checkout_session.json"), observed_at=self.NOW)
