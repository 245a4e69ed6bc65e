"""Test clocks and the renewal timeline of the Stripe double."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

HOUR = 3600
DAY = 86_400


def ts(year: int, month: int, day: int) -> int:
    """Unix seconds of a UTC midnight."""
    return int(datetime(year, month, day, tzinfo=UTC).timestamp())


JAN_15 = ts(2026, 1, 15)
FEB_15 = ts(2026, 2, 15)
MAR_15 = ts(2026, 3, 15)


def _setup(double: DoubleEnv, *, start: int = JAN_15, quantity: int = 2) -> tuple[str, str, Any]:
    """A clock at `start`, a customer on it, a monthly €5/seat subscription: (clock, cus, sub)."""
    # Objects without a clock (the seeded price) live at the same time, so every event
    # of the test sorts in creation order.
    double.post("/_double/clock", {"now": start})
    price_id = double.seed(unit_amount=500)
    clock = double.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": start})
    customer_id, sub = double.subscribe(price=price_id, quantity=quantity, clock=clock.id)
    return clock.id, customer_id, sub


def _events_since(double: DoubleEnv, start: int) -> list[Any]:
    """Events created at or after `start`, oldest first."""
    listed = double.stripe.v1.events.list(params={"created": {"gte": start}, "limit": 100})
    return list(reversed(listed.data))


def _advance(double: DoubleEnv, clock_id: str, to: int) -> Any:
    return double.stripe.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": to})


def test_clock_basics(double: DoubleEnv) -> None:
    clock = double.stripe.v1.test_helpers.test_clocks.create(
        params={"frozen_time": JAN_15, "name": "renewals"}
    )
    assert clock.id.startswith("clock_")
    assert (clock.status, clock.frozen_time, clock.name) == ("ready", JAN_15, "renewals")
    advanced = _advance(double, clock.id, JAN_15 + DAY)
    assert (advanced.status, advanced.frozen_time) == ("ready", JAN_15 + DAY)
    with pytest.raises(stripe.InvalidRequestError) as backwards:
        _advance(double, clock.id, JAN_15)
    assert backwards.value.param == "frozen_time"
    assert double.stripe.v1.test_helpers.test_clocks.delete(clock.id).deleted is True


def test_subscription_follows_its_clock(double: DoubleEnv) -> None:
    _, _, sub = _setup(double, start=ts(2025, 6, 1))
    item = sub["items"].data[0]
    assert (sub.created, item.current_period_start, item.current_period_end) == (
        ts(2025, 6, 1),
        ts(2025, 6, 1),
        ts(2025, 7, 1),
    )
    assert str(sub.test_clock).startswith("clock_")


def test_renewal_emits_stripes_sequence_at_exact_times(double: DoubleEnv) -> None:
    clock_id, _, sub = _setup(double)

    _advance(double, clock_id, FEB_15 + DAY)

    events = _events_since(double, JAN_15 + 1)
    timeline = [(e.type, e.created) for e in events]
    assert timeline == [
        ("invoice.upcoming", FEB_15 - 3 * DAY),
        ("invoice.created", FEB_15),
        ("customer.subscription.updated", FEB_15),
        ("invoice.finalized", FEB_15 + HOUR),
        ("invoice.paid", FEB_15 + HOUR),
        ("invoice.payment_succeeded", FEB_15 + HOUR),
        ("test_helpers.test_clock.ready", FEB_15 + DAY),
    ]
    upcoming, created, updated = (e.data.object for e in events[:3])
    assert "id" not in upcoming
    assert (upcoming["amount_due"], upcoming["lines"]["data"][0]["quantity"]) == (1000, 2)
    assert (created["status"], created["billing_reason"]) == ("draft", "subscription_cycle")
    line = created["lines"]["data"][0]
    assert (line["quantity"], line["amount"]) == (2, 1000)
    # The renewal invoice's line covers the period that just started.
    assert (line["period"]["start"], line["period"]["end"]) == (FEB_15, MAR_15)
    assert created["parent"]["subscription_details"]["subscription"] == sub.id
    item = updated["items"]["data"][0]
    assert (item["current_period_start"], item["current_period_end"]) == (FEB_15, MAR_15)
    previous_item = events[2].data.previous_attributes["items"]["data"][0]
    assert previous_item["current_period_end"] == FEB_15
    assert updated["latest_invoice"] == created["id"]
    paid = double.stripe.v1.invoices.retrieve(created["id"])
    assert (paid.status, paid.amount_paid, paid.number is not None) == ("paid", 1000, True)


def test_invoice_bills_the_quantity_at_the_renewal_instant(double: DoubleEnv) -> None:
    clock_id, _, sub = _setup(double, quantity=2)
    item_id = sub["items"].data[0].id

    _advance(double, clock_id, FEB_15 - 5 * DAY)
    double.stripe.v1.subscription_items.update(
        item_id, params={"quantity": 3, "proration_behavior": "none"}
    )
    _advance(double, clock_id, FEB_15 + 30 * 60)
    draft = double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0]
    # Changed while the renewal invoice is still a draft: the draft keeps its quantity.
    double.stripe.v1.subscription_items.update(
        item_id, params={"quantity": 9, "proration_behavior": "none"}
    )
    _advance(double, clock_id, FEB_15 + 2 * HOUR)

    finalized = double.stripe.v1.invoices.retrieve(draft.id)
    assert draft.status == "draft"
    assert draft.automatically_finalizes_at == FEB_15 + HOUR
    assert (finalized.status, finalized.lines.data[0].quantity, finalized.amount_paid) == (
        "paid",
        3,
        1500,
    )
    _advance(double, clock_id, MAR_15 + 2 * HOUR)
    march = double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert (march.lines.data[0].quantity, march.amount_due) == (9, 4500)


def test_failed_renewal_payment_makes_the_subscription_past_due(double: DoubleEnv) -> None:
    clock_id, customer_id, sub = _setup(double)
    double.fail_payments(customer_id)

    _advance(double, clock_id, FEB_15 + DAY)

    tail = [(e.type, e.created) for e in _events_since(double, FEB_15 + HOUR)]
    assert tail[:3] == [
        ("invoice.finalized", FEB_15 + HOUR),
        ("invoice.payment_failed", FEB_15 + HOUR),
        ("customer.subscription.updated", FEB_15 + HOUR),
    ]
    latest = double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert (latest.status, latest.attempt_count, latest.amount_remaining) == ("open", 1, 1000)
    assert double.stripe.v1.subscriptions.retrieve(sub.id).status == "past_due"

    double.fail_payments(customer_id, fail=False)
    _advance(double, clock_id, MAR_15 + DAY)
    assert double.stripe.v1.subscriptions.retrieve(sub.id).status == "active"


def test_crossing_several_periods_renews_each_in_order(double: DoubleEnv) -> None:
    # Month-end anchors clamp to shorter months and come back (Jan 31 → Feb 28 → Mar 31).
    start = ts(2026, 1, 31)
    clock_id, _, sub = _setup(double, start=start)

    _advance(double, clock_id, ts(2026, 5, 1))

    invoices = double.stripe.v1.invoices.list(params={"subscription": sub.id}).data
    periods = [
        (i.lines.data[0].period.start, i.lines.data[0].period.end) for i in reversed(invoices)
    ]
    assert periods == [
        (start, ts(2026, 2, 28)),
        (ts(2026, 2, 28), ts(2026, 3, 31)),
        (ts(2026, 3, 31), ts(2026, 4, 30)),
        (ts(2026, 4, 30), ts(2026, 5, 31)),
    ]
    created_times = [e.created for e in _events_since(double, start + 1)]
    assert created_times == sorted(created_times)


def test_cancel_at_period_end_ends_instead_of_renewing(double: DoubleEnv) -> None:
    clock_id, _, sub = _setup(double)
    double.stripe.v1.subscriptions.update(sub.id, params={"cancel_at_period_end": True})

    _advance(double, clock_id, FEB_15 + DAY)

    # No upcoming notice, no renewal invoice: the subscription just ends.
    types = [e.type for e in _events_since(double, JAN_15 + 1)]
    assert types == ["customer.subscription.deleted", "test_helpers.test_clock.ready"]
    ended = double.stripe.v1.subscriptions.retrieve(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", FEB_15)


def test_upcoming_notice_lead_time_is_configurable(double: DoubleEnv) -> None:
    double.config(upcoming_days=7)
    clock_id, _, _ = _setup(double)
    _advance(double, clock_id, FEB_15 - DAY)
    upcoming = double.stripe.v1.events.list(params={"type": "invoice.upcoming"}).data
    assert [e.created for e in upcoming] == [FEB_15 - 7 * DAY]


def test_global_clock_renews_subscriptions_without_a_test_clock(double: DoubleEnv) -> None:
    double.post("/_double/clock", {"now": JAN_15})
    price_id = double.seed(unit_amount=500)
    _, sub = double.subscribe(price=price_id, quantity=4)

    moved = double.post("/_double/clock", {"now": FEB_15 + 2 * HOUR})

    assert moved["now"] == FEB_15 + 2 * HOUR
    latest = double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert (latest.billing_reason, latest.status, latest.amount_paid) == (
        "subscription_cycle",
        "paid",
        2000,
    )
    assert double.post("/_double/clock", {"now": None})["frozen"] is False


@pytest.mark.parametrize(
    ("interval", "end"),
    [("day", ts(2026, 1, 16)), ("week", ts(2026, 1, 22)), ("year", ts(2027, 1, 15))],
)
def test_other_intervals(double: DoubleEnv, interval: str, end: int) -> None:
    double.post("/_double/clock", {"now": JAN_15})
    price_id = double.seed(interval=interval)
    _, sub = double.subscribe(price=price_id)
    assert sub["items"].data[0].current_period_end == end
