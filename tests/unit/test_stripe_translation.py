"""Given a Stripe webhook payload (real, or varied from a real one), when translated,
then these ledger commands, or ignored, or a TranslationError naming the field."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.stripe.commands import (
    DeleteCustomer,
    LinkCustomer,
    NoteRenewalUpcoming,
    ObserveSubscription,
    RecordInvoice,
    RecordPaymentFailed,
    RecordPaymentSucceeded,
)
from adapters.stripe.shapes import (
    BASIL,
    LEGACY,
    PINNED_API_VERSION,
    TAX_AMOUNTS,
    shape_for_version,
)
from adapters.stripe.translate import (
    HANDLED_EVENT_TYPES,
    Translation,
    TranslationError,
    translate,
)
from domain.billing import InvoiceFacts, SubscriptionSnapshot
from domain.organizer import Organizer
from tests.support.stripe_payloads import (
    API_VERSIONS,
    DAY,
    PERIOD,
    SHAPES,
    T0,
    Payload,
    ShapeName,
    add_item,
    checkout_event,
    customer_deleted_event,
    fixture,
    invoice_event,
    mark_proration,
    subscription_event,
    upcoming_event,
    utc,
)

AT = datetime(2026, 1, 2, tzinfo=UTC)
shapes = pytest.mark.parametrize("shape", SHAPES)


def only_command(translation: Translation) -> Any:
    assert translation.outcome == "commands", translation.reason
    assert len(translation.commands) == 1
    return translation.commands[0]


def obj(event: Payload) -> Payload:
    data: Payload = event["data"]["object"]
    return data


class TestShapes:
    @pytest.mark.parametrize(
        ("version", "shape"),
        [
            ("2020-03-02", LEGACY),
            ("2020-08-27", TAX_AMOUNTS),
            ("2024-06-20", TAX_AMOUNTS),
            ("2025-02-24.acacia", TAX_AMOUNTS),
            ("2025-03-31.basil", BASIL),
            (PINNED_API_VERSION, BASIL),
        ],
    )
    def test_the_api_version_decides_the_shape(self, version: str, shape: object) -> None:
        assert shape_for_version(version) is shape

    @pytest.mark.parametrize(
        "name",
        [
            "djstripe/fake_event_customer_subscription_created.json",  # 2016-03-07
            "djstripe/fake_event_invoice_upcoming.json",  # 2017-02-14
        ],
    )
    def test_a_version_before_2020_03_02_is_refused(self, name: str) -> None:
        with pytest.raises(TranslationError, match=r"api_version .* older than"):
            translate(fixture(name))

    def test_a_version_newer_than_the_pinned_one_is_refused(self) -> None:
        event = subscription_event("basil")
        event["api_version"] = "2999-01-01.zucchini"
        with pytest.raises(TranslationError, match=r"api_version .* newer than the pinned"):
            translate(event)

    @pytest.mark.parametrize("version", ["basil", "2025-13-01", "2025-03-31-basil"])
    def test_a_malformed_version_is_refused(self, version: str) -> None:
        event = subscription_event("legacy")
        event["api_version"] = version
        with pytest.raises(TranslationError, match="not a Stripe API version"):
            translate(event)

    @shapes
    def test_without_api_version_a_subscription_is_read_by_its_fields(
        self, shape: ShapeName
    ) -> None:
        with_version = translate(subscription_event(shape))
        event = subscription_event(shape)
        del event["api_version"]
        assert translate(event) == with_version

    def test_without_api_version_an_invoice_with_a_parent_is_basil(self) -> None:
        # Stripe's OpenAPI example invoice, as Stripe's OpenAPI example event carries it
        # (api_version null); its stray `subscription: null` must not make it legacy.
        event = fixture("openapi_fixtures3__event.json")
        invoice = fixture("openapi_fixtures3__invoice.json")
        # The example is a quote's invoice (parent.type quote_details, never read as a
        # subscription's); made a subscription's, as the one this test needs.
        invoice["parent"].update(type="subscription_details", quote_details=None)
        event.update(type="invoice.finalized", data={"object": invoice})
        command = only_command(translate(event))
        assert command.invoice.subscription_id == "subscription"
        assert command.invoice.billing_reason == "manual"


class TestCheckoutSessionCompleted:
    @shapes
    def test_a_subscription_checkout_links_the_customer_of_the_named_organizer(
        self, shape: ShapeName
    ) -> None:
        translation = translate(checkout_event(shape, event_id="evt_co1"))
        assert translation.commands == (LinkCustomer("evt_co1", "cus_Ledger0001"),)
        assert translation.organizer_hint == "org-1"
        assert translation.customer_id == "cus_Ledger0001"
        assert translation.subscription_id == "sub_Ledger0001"

    def test_the_organizer_may_come_from_the_session_metadata(self) -> None:
        event = checkout_event(
            "legacy", client_reference_id=None, metadata={"organizer_id": "org-7"}
        )
        assert translate(event).organizer_hint == "org-7"

    def test_an_expanded_customer_is_read_by_its_id(self) -> None:
        customer = fixture("openapi_fixtures3__customer.json")
        translation = translate(checkout_event("basil", customer=customer))
        assert translation.commands == (LinkCustomer("evt_Ledger0004", "cus_QXg1o8vcGmoR32"),)

    def test_a_payment_mode_checkout_is_ignored(self) -> None:
        translation = translate(fixture("stripe_sync_engine/checkout_session_completed.json"))
        assert translation.outcome == "ignored"
        assert "not in subscription mode" in translation.reason
        assert translation.commands == ()

    def test_a_checkout_naming_no_organizer_is_refused(self) -> None:
        with pytest.raises(TranslationError, match=r"client_reference_id is missing"):
            translate(checkout_event("legacy", client_reference_id=None))

    def test_a_checkout_naming_two_organizers_is_refused(self) -> None:
        event = checkout_event("legacy", metadata={"organizer_id": "org-2"})
        with pytest.raises(TranslationError, match="name different organizers"):
            translate(event)

    def test_a_subscription_checkout_without_customer_is_refused(self) -> None:
        event = checkout_event("basil")
        obj(event)["customer"] = None
        with pytest.raises(TranslationError, match=r"data\.object\.customer is missing"):
            translate(event)


SUBSCRIPTION_TYPES = [
    f"customer.subscription.{change}"
    for change in ("created", "updated", "deleted", "paused", "resumed")
]


class TestSubscriptionEvents:
    @shapes
    @pytest.mark.parametrize("event_type", SUBSCRIPTION_TYPES)
    def test_each_subscription_event_observes_a_snapshot(
        self, shape: ShapeName, event_type: str
    ) -> None:
        status = {"customer.subscription.paused": "paused"}.get(event_type, "past_due")
        event = subscription_event(
            shape, event_type, event_id="evt_s1", created=T0 + 60, quantity=7, status=status
        )
        translation = translate(event)
        command = only_command(translation)
        assert isinstance(command, ObserveSubscription)
        assert command.source == "evt_s1"
        expected_status = "canceled" if event_type.endswith("deleted") else status
        assert command.snapshot == SubscriptionSnapshot(
            subscription_id="sub_Ledger0001",
            item_id="si_Ledger0001",
            price_id=obj(event)["items"]["data"][0]["price"]["id"],
            status=expected_status,
            quantity=7,
            current_period_start=utc(PERIOD[0]),
            current_period_end=utc(PERIOD[1]),
            observed_at=utc(T0 + 60),
            created=utc(obj(event)["created"]),
            schedule_id=None,
        )
        assert (translation.customer_id, translation.subscription_id) == (
            "cus_Ledger0001",
            "sub_Ledger0001",
        )

    def test_a_deleted_subscription_is_canceled_even_when_rendered_active(self) -> None:
        # A real dj-stripe delivery says "active"; only its version is brought in range.
        event = fixture("djstripe/fake_event_customer_subscription_deleted.json")
        event["api_version"] = "2020-03-02"
        assert only_command(translate(event)).snapshot.status == "canceled"

    def test_the_real_legacy_deletion_is_observed_as_canceled(self) -> None:
        event = fixture("stripe_sync_engine/subscription_deleted.json")
        assert only_command(translate(event)).snapshot.status == "canceled"

    @shapes
    def test_a_subscription_ending_at_its_period_close_says_so(self, shape: ShapeName) -> None:
        event = subscription_event(shape, cancel_at_period_end=True)
        assert only_command(translate(event)).snapshot.cancel_at_period_end is True
        obj(event).pop("cancel_at_period_end")
        assert only_command(translate(event)).snapshot.cancel_at_period_end is False

    def test_an_item_without_quantity_is_never_the_per_group_item(self) -> None:
        # The sync engine's real subscription has a second, quantity-less item.
        event = fixture("stripe_sync_engine/subscription_created.json")
        assert only_command(translate(event)).snapshot.item_id == "si_JdIzi4Tn5jV9PD"

    @shapes
    def test_among_several_items_the_earliest_created_is_chosen(self, shape: ShapeName) -> None:
        event = subscription_event(shape, quantity=2)
        first = obj(event)["items"]["data"][0]
        add_item(
            obj(event),
            item_id="si_AddOn",
            quantity=50,
            created=first["created"] + 1,
            price_id="price_AddOn",
        )
        add_item(
            obj(event),
            item_id="si_Older",
            quantity=1,
            created=first["created"] - 1,
            price_id="price_Older",
        )
        snapshot = only_command(translate(event)).snapshot
        assert (snapshot.item_id, snapshot.quantity, snapshot.price_id) == (
            "si_Older",
            1,
            "price_Older",
        )

    @shapes
    def test_with_per_group_prices_the_item_with_that_price_is_chosen(
        self, shape: ShapeName
    ) -> None:
        event = subscription_event(shape, quantity=2)
        add_item(obj(event), item_id="si_Groups", quantity=9, created=T0, price_id="price_Groups")
        snapshot = only_command(translate(event, group_price_ids={"price_Groups"})).snapshot
        assert (snapshot.item_id, snapshot.quantity) == ("si_Groups", 9)

    def test_with_per_group_prices_a_subscription_without_one_is_ignored(self) -> None:
        translation = translate(subscription_event("basil"), group_price_ids={"price_Groups"})
        assert translation.outcome == "ignored"
        assert "no per-group item" in translation.reason

    def test_an_item_rendered_before_prices_existed_reads_its_plan(self) -> None:
        event = subscription_event("legacy")
        item = obj(event)["items"]["data"][0]
        del item["price"]
        item["plan"]["id"] = "plan_Seats"
        assert only_command(translate(event)).snapshot.price_id == "plan_Seats"

    def test_an_expanded_customer_object_is_read_by_its_id(self) -> None:
        event = subscription_event("legacy")
        obj(event)["customer"] = fixture("openapi_fixtures3__customer.json")
        assert translate(event).customer_id == "cus_QXg1o8vcGmoR32"

    def test_the_organizer_hint_is_the_subscription_metadata(self) -> None:
        event = subscription_event("basil")
        obj(event)["metadata"] = {"organizer_id": "org-9"}
        assert translate(event).organizer_hint == "org-9"

    def test_applying_an_update_to_a_registered_organizer_takes_the_snapshot(self) -> None:
        organizer = Organizer.register("org-1", at=AT)
        translation = translate(subscription_event("basil", quantity=5, status="active"))
        assert [c.apply(organizer, AT) for c in translation.commands] == [True]
        snapshot = organizer.subscription_snapshot
        assert snapshot is not None
        assert (snapshot.subscription_id, snapshot.item_id, snapshot.quantity) == (
            "sub_Ledger0001",
            "si_Ledger0001",
            5,
        )
        assert (snapshot.current_period_end, snapshot.observed_at) == (utc(PERIOD[1]), utc(T0))
        # The same delivery again records nothing.
        assert [c.apply(organizer, AT) for c in translation.commands] == [False]


INVOICE_TYPES = [
    f"invoice.{change}"
    for change in ("created", "finalized", "paid", "voided", "payment_succeeded", "payment_failed")
]


def only_record(event: dict[str, Any]) -> InvoiceFacts:
    record = translate(event).commands[0]
    assert isinstance(record, RecordInvoice)
    return record.invoice


class TestInvoiceEvents:
    @shapes
    @pytest.mark.parametrize("event_type", INVOICE_TYPES)
    def test_each_invoice_event_records_the_invoice(
        self, shape: ShapeName, event_type: str
    ) -> None:
        status = {"invoice.created": "draft", "invoice.voided": "void"}.get(event_type, "open")
        if event_type in ("invoice.paid", "invoice.payment_succeeded"):
            status = "paid"
        period = (PERIOD[1], PERIOD[1] + 31 * DAY)
        event = invoice_event(
            shape,
            event_type,
            event_id="evt_i1",
            quantity=6,
            amount=9000,
            tax=1710,
            status=status,
            line_period=period,
        )
        translation = translate(event)
        assert translation.outcome == "commands"
        assert translation.subscription_id == "sub_Ledger0001"
        record = translation.commands[0]
        assert isinstance(record, RecordInvoice)
        assert record.invoice == InvoiceFacts(
            invoice_id="in_Ledger0001",
            subscription_id="sub_Ledger0001",
            billing_reason=obj(event)["billing_reason"],
            period_start=utc(period[0]),
            period_end=utc(period[1]),
            quantity=6,
            subtotal=9000,
            tax=1710,
            total=10710,
            amount_due=10710,
            amount_paid=10710 if status == "paid" else 0,
            currency="eur",
            status=status,
            customer_id="cus_Ledger0001",
            line_id=obj(event)["lines"]["data"][0]["id"],
            unit_amount=1500,
            hosted_invoice_url=obj(event)["hosted_invoice_url"],
            invoice_pdf=obj(event)["invoice_pdf"],
        )

    @shapes
    def test_the_unit_price_is_the_lines_own_else_its_amount_per_unit(
        self, shape: ShapeName
    ) -> None:
        event = invoice_event(shape, "invoice.created", quantity=4, amount=2000, status="draft")
        line = obj(event)["lines"]["data"][0]
        for key in ("pricing", "price", "plan"):
            if isinstance(line.get(key), dict):
                line[key].update(unit_amount_decimal="480.000", unit_amount=480, amount=480)
        assert only_record(event).unit_amount == 480
        for key in ("pricing", "price", "plan"):
            line.pop(key, None)
        assert only_record(event).unit_amount == 500

    @shapes
    def test_a_fractional_unit_price_is_left_unknown(self, shape: ShapeName) -> None:
        event = invoice_event(shape, "invoice.created", quantity=3, amount=1000, status="draft")
        line = obj(event)["lines"]["data"][0]
        for key in ("pricing", "price", "plan"):
            line.pop(key, None)
        assert only_record(event).unit_amount is None

    @shapes
    def test_a_succeeded_payment_is_recorded_after_the_invoice(self, shape: ShapeName) -> None:
        event = invoice_event(shape, "invoice.payment_succeeded", event_id="evt_p1", amount=4000)
        record, payment = translate(event).commands
        # Both carry Stripe's instant (the event's created), not the time we translate.
        assert payment == RecordPaymentSucceeded("evt_p1", "in_Ledger0001", 4000, "eur", utc(T0))
        assert isinstance(record, RecordInvoice)
        assert record.occurred_at == utc(T0)

    @shapes
    def test_a_failed_payment_is_recorded_with_its_attempt_count(self, shape: ShapeName) -> None:
        event = invoice_event(
            shape,
            "invoice.payment_failed",
            event_id="evt_p2",
            amount=4000,
            status="open",
            attempt_count=3,
        )
        _, payment = translate(event).commands
        assert payment == RecordPaymentFailed("evt_p2", "in_Ledger0001", 4000, "eur", 3, utc(T0))

    def test_the_real_basil_delivery_records_its_invoice_and_payment(self) -> None:
        event = fixture("realworld/basil_invoice_payment_succeeded.payload.json")
        record, payment = translate(event).commands
        assert isinstance(record, RecordInvoice)
        assert (record.invoice.quantity, record.invoice.currency) == (1, "cad")
        # The line's service period, not the invoice's (empty) look-back period.
        assert record.invoice.period_end == utc(1749435787)
        assert payment == RecordPaymentSucceeded(
            event["id"], "in_1RMgafCMHTTliF5ilpBkRLZf", 4999, "cad", utc(event["created"])
        )

    @shapes
    @pytest.mark.parametrize("event_type", [*INVOICE_TYPES, "invoice.upcoming"])
    def test_a_one_off_invoice_is_ignored(self, shape: ShapeName, event_type: str) -> None:
        if event_type == "invoice.upcoming":
            event = upcoming_event(shape, subscription_id=None)
        else:
            event = invoice_event(shape, event_type, subscription_id=None)
        translation = translate(event)
        assert translation.outcome == "ignored"
        assert "not for a subscription" in translation.reason

    def test_a_legacy_invoice_reads_its_tax_field(self) -> None:
        event = invoice_event("legacy", tax=19)
        obj(event)["total_tax_amounts"] = []  # only `tax` counts in 2020-03-02
        assert only_command(translate(event)).invoice.tax == 19

    def test_a_legacy_null_tax_is_zero(self) -> None:
        assert only_command(translate(invoice_event("legacy", tax=0))).invoice.tax == 0

    def test_an_in_between_invoice_sums_its_tax_amounts(self) -> None:
        event = invoice_event("legacy")
        event["api_version"] = "2024-06-20"
        invoice = obj(event)
        del invoice["tax"]
        invoice["total_tax_amounts"] = [
            {"amount": 150, "inclusive": False, "tax_rate": "txr_A"},
            {"amount": 25, "inclusive": False, "tax_rate": "txr_B"},
        ]
        assert only_command(translate(event)).invoice.tax == 175

    def test_a_basil_invoice_sums_its_total_taxes(self) -> None:
        event = invoice_event("basil", tax=300)
        obj(event)["total_taxes"].append(dict(obj(event)["total_taxes"][0], amount=45))
        assert only_command(translate(event)).invoice.tax == 345

    def test_an_expanded_subscription_is_read_by_its_id(self) -> None:
        event = invoice_event("legacy")
        sub = fixture("stripe_sync_engine/subscription_updated.json")["data"]["object"]
        obj(event)["subscription"] = sub
        assert only_command(translate(event)).invoice.subscription_id == sub["id"]

    @shapes
    def test_a_proration_only_invoice_has_no_quantity_and_its_own_period(
        self, shape: ShapeName
    ) -> None:
        event = invoice_event(shape, "invoice.finalized", status="open")
        mark_proration(shape, obj(event))
        obj(event).update(period_start=T0 - DAY, period_end=T0)
        facts = only_command(translate(event)).invoice
        assert (facts.quantity, facts.period_start, facts.period_end) == (0, utc(T0 - DAY), utc(T0))


class TestInvoiceUpcoming:
    @shapes
    def test_an_upcoming_renewal_is_noted_at_the_renewal_instant(self, shape: ShapeName) -> None:
        renewal = PERIOD[1]
        event = upcoming_event(shape, event_id="evt_u1", renewal=renewal, quantity=8, amount=12000)
        translation = translate(event)
        assert translation.commands == (
            NoteRenewalUpcoming("evt_u1", "sub_Ledger0001", utc(renewal), 8, 12000, "eur"),
        )
        # Not the charge attempt, which Stripe schedules after the draft window.
        assert obj(event)["next_payment_attempt"] > renewal

    def test_the_real_upcoming_delivery_without_lines_is_refused(self) -> None:
        with pytest.raises(
            TranslationError, match=r"data\.object\.lines\.data has no regular line"
        ):
            translate(fixture("stripe_sync_engine/invoice_upcoming.json"))


class TestCustomerDeleted:
    @shapes
    def test_a_deleted_customer_is_recorded(self, shape: ShapeName) -> None:
        translation = translate(customer_deleted_event(shape, event_id="evt_c1"))
        assert translation.commands == (DeleteCustomer("evt_c1", "cus_Ledger0001"),)
        assert translation.customer_id == "cus_Ledger0001"

    def test_the_real_legacy_deletion_is_recorded(self) -> None:
        event = fixture("stripe_sync_engine/customer_deleted.json")
        assert translate(event).commands == (DeleteCustomer(event["id"], "cus_IhGfebO16cMIGN"),)


class TestIgnoredTypes:
    @pytest.mark.parametrize(
        "name",
        [
            "stripe_sync_engine/customer_updated.json",
            "stripe_sync_engine/invoice_updated.json",
            "stripe_sync_engine/invoice_payment_paid.json",
            "stripe_sync_engine/subscription_schedule_created.json",
            "djstripe/fake_event_customer_created.json",
            "openapi_fixtures3__event.json",
        ],
    )
    def test_an_unhandled_type_is_ignored_with_its_name(self, name: str) -> None:
        event = fixture(name)
        translation = translate(event)
        assert translation == Translation.ignored(f"event type {event['type']} is not handled")

    def test_the_handled_types_are_the_ones_an_endpoint_must_enable(self) -> None:
        expected = {
            "checkout.session.completed",
            "invoice.upcoming",
            "customer.deleted",
            "price.created",
            "price.updated",
            "price.deleted",
            "customer.tax_id.created",
            "customer.tax_id.updated",
            "customer.tax_id.deleted",
            *SUBSCRIPTION_TYPES,
            *INVOICE_TYPES,
        }
        assert expected == HANDLED_EVENT_TYPES


_DELETE = object()


def _edit(path: str, value: object = _DELETE) -> Callable[[Payload], None]:
    """Set (or, given no value, delete) the field at a dotted path; digits index lists."""

    def edit(event: Payload) -> None:
        *parents, last = [int(key) if key.isdigit() else key for key in path.split(".")]
        node: Any = event
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return edit


MALFORMED: list[
    tuple[Callable[[ShapeName], Payload], ShapeName, Callable[[Payload], None], str]
] = [
    (subscription_event, "legacy", _edit("data.object.id"), r"data\.object\.id is missing"),
    (
        subscription_event,
        "basil",
        _edit("data.object.items.data.0.quantity", "3"),
        r"data\.object\.items\.data\[0\]\.quantity must be an integer, got str",
    ),
    (
        subscription_event,
        "legacy",
        _edit("data.object.items.data.0.quantity", True),
        r"quantity must be an integer, got bool",
    ),
    (
        subscription_event,
        "basil",
        _edit("data.object.items.data.0.quantity", -1),
        r"quantity must not be negative",
    ),
    (
        subscription_event,
        "basil",
        _edit("data.object.items.data.0.current_period_start"),
        r"data\.object\.items\.data\[0\]\.current_period_start is missing",
    ),
    (
        subscription_event,
        "legacy",
        _edit("data.object.current_period_end"),
        r"data\.object\.current_period_end is missing",
    ),
    (
        subscription_event,
        "legacy",
        _edit("data.object.current_period_end", PERIOD[0] - 1),
        r"current_period_end is before",
    ),
    (
        subscription_event,
        "basil",
        _edit("data.object.items.data", []),
        r"data\.object\.items\.data has no item with a quantity",
    ),
    (
        subscription_event,
        "legacy",
        _edit("data.object.items", "si_1"),
        r"data\.object\.items must be a JSON object, got str",
    ),
    (subscription_event, "legacy", _edit("created", "2026-01-01"), r"created must be an integer"),
    (subscription_event, "basil", _edit("id"), r"^id is missing"),
    (
        subscription_event,
        "basil",
        _edit("data.object.object", "invoice"),
        r"data\.object\.object must be 'subscription'",
    ),
    (subscription_event, "legacy", _edit("data", None), r"^data is missing"),
    (
        invoice_event,
        "legacy",
        _edit("data.object.currency", "euro"),
        r"data\.object\.currency must be a three-letter ISO currency code",
    ),
    (
        invoice_event,
        "basil",
        _edit("data.object.currency", "\u20acur"),
        r"data\.object\.currency must be a three-letter ISO currency code",
    ),
    (
        invoice_event,
        "basil",
        _edit("data.object.amount_paid"),
        r"data\.object\.amount_paid is missing",
    ),
    (
        invoice_event,
        "basil",
        _edit("data.object.total_taxes", [{"amount": "1"}]),
        r"data\.object\.total_taxes\[0\]\.amount must be an integer",
    ),
    (
        invoice_event,
        "basil",
        _edit("data.object.lines.data.0.period"),
        r"data\.object\.lines\.data\[0\]\.period is missing",
    ),
    (
        invoice_event,
        "legacy",
        _edit("data.object.tax", 1.5),
        r"data\.object\.tax must be an integer",
    ),
    (
        invoice_event,
        "legacy",
        _edit("data.object.subscription", {"object": "subscription"}),
        r"data\.object\.subscription\.id is missing",
    ),
    (
        invoice_event,
        "legacy",
        _edit("data.object.lines.data.0.proration", "no"),
        r"proration must be a boolean",
    ),
    (
        customer_deleted_event,
        "legacy",
        _edit("data.object.id", ""),
        r"data\.object\.id must be a non-empty string",
    ),
    # Values a store could not hold (issue: poison inputs must fail translation, not jam).
    (
        subscription_event,
        "basil",
        _edit("data.object.items.data.0.quantity", 2**70),
        r"quantity is out of range",
    ),
    (
        subscription_event,
        "legacy",
        _edit("data.object.items.data.0.quantity", 1_000_001),
        r"quantity must be at most 1,000,000",
    ),
    (
        subscription_event,
        "basil",
        _edit("data.object.id", "sub_\x00x"),
        r"data\.object\.id must not contain control characters",
    ),
    (
        subscription_event,
        "legacy",
        _edit("data.object.customer", "cus_" + "x" * 300),
        r"data\.object\.customer must be at most 255 characters",
    ),
    (
        invoice_event,
        "basil",
        _edit("data.object.amount_paid", 10**16),
        r"data\.object\.amount_paid is out of range",
    ),
    (
        invoice_event,
        "legacy",
        _edit("data.object.lines.data.0.quantity", -3),
        r"quantity must not be negative",
    ),
    (
        subscription_event,
        "legacy",
        _edit("data.object.current_period_end", 250_000_000_000),
        r"current_period_end must be between 1970-01-01 and 9000-01-01",
    ),
]


class TestMalformedPayloads:
    @pytest.mark.parametrize(("build", "shape", "edit", "message"), MALFORMED)
    def test_the_error_names_the_field(
        self,
        build: Callable[[ShapeName], Payload],
        shape: ShapeName,
        edit: Callable[[Payload], None],
        message: str,
    ) -> None:
        event = build(shape)
        edit(event)
        with pytest.raises(TranslationError, match=message):
            translate(event)

    def test_a_payload_that_is_not_an_object_is_refused(self) -> None:
        with pytest.raises(TranslationError, match="must be a JSON object"):
            translate([])  # type: ignore[arg-type]

    def test_an_event_without_type_is_refused(self) -> None:
        event = subscription_event("legacy")
        del event["type"]
        with pytest.raises(TranslationError, match=r"^type is missing"):
            translate(event)

    def test_translation_errors_are_value_errors(self) -> None:
        assert issubclass(TranslationError, ValueError)


# -- order and duplication never matter ------------------------------------------------

deliveries = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=4),  # few instants: equal `created` is common
        st.integers(min_value=0, max_value=6),
        st.sampled_from(["active", "past_due", "paused", "canceled"]),
    ),
    min_size=1,
    max_size=8,
)


def _updates(shape: ShapeName, facts: list[tuple[int, int, str]]) -> list[Payload]:
    return [
        subscription_event(
            shape,
            event_id=f"evt_prop{i}",
            created=T0 + 60 * minute,
            quantity=quantity,
            status=status,
        )
        for i, (minute, quantity, status) in enumerate(facts)
    ]


def _snapshot_after(events: list[Payload]) -> SubscriptionSnapshot | None:
    organizer = Organizer.register("org-1", at=AT)
    for event in events:
        for command in translate(event).commands:
            command.apply(organizer, AT)
    return organizer.subscription_snapshot


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(SHAPES),
    deliveries,
    st.randoms(use_true_random=False),
    st.data(),
)
def test_any_order_with_duplicates_gives_the_snapshot_of_the_in_order_deliveries(
    shape: ShapeName,
    facts: list[tuple[int, int, str]],
    rnd: random.Random,
    data: st.DataObject,
) -> None:
    events = _updates(shape, facts)
    in_order = sorted(events, key=lambda event: event["created"])
    shuffled = events + [copy.deepcopy(e) for e in data.draw(st.lists(st.sampled_from(events)))]
    rnd.shuffle(shuffled)
    assert _snapshot_after(shuffled) == _snapshot_after(in_order)


def test_the_payloads_vary_from_the_real_ones_in_both_shapes() -> None:
    # Guard for the builders themselves: the versions they stamp are the shapes' own.
    assert shape_for_version(API_VERSIONS["legacy"]) is LEGACY
    assert shape_for_version(API_VERSIONS["basil"]) is BASIL
