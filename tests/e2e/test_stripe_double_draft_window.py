"""The renewal draft window: a draft finalizes `finalize_after_s` after its
`invoice.created` delivery was acknowledged, in the clock's time, and at the latest 72 h
after creation while deliveries fail (Stripe's "Finalize draft invoices" rule)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv, WebhookReceiver

pytest_plugins = ["tests.e2e.stripe_double_support"]

HOUR = 3600
JAN_15 = int(datetime(2026, 1, 15, tzinfo=UTC).timestamp())
FEB_15 = int(datetime(2026, 2, 15, tzinfo=UTC).timestamp())


def _renewing(double: DoubleEnv, receiver: WebhookReceiver) -> tuple[str, Any]:
    """An endpoint for invoice.created, a clock at Jan 15 and a subscription: (clock, sub)."""
    double.stripe.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["invoice.created"]}
    )
    double.post("/_double/clock", {"now": JAN_15})
    price = double.seed(unit_amount=500)
    clock = double.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": JAN_15})
    _, sub = double.subscribe(price=price, quantity=2, clock=clock.id)
    double.flush()
    return clock.id, sub


def _advance(double: DoubleEnv, clock_id: str, to: int) -> None:
    double.stripe.v1.test_helpers.test_clocks.advance(clock_id, params={"frozen_time": to})


def _renewal(double: DoubleEnv, sub_id: str) -> Any:
    found = double.stripe.v1.invoices.list(params={"subscription": sub_id, "limit": 1}).data[0]
    assert found.billing_reason == "subscription_cycle"
    return found


def test_a_clock_jump_leaves_an_hour_after_the_acknowledgement(
    double: DoubleEnv, receiver: WebhookReceiver
) -> None:
    clock_id, sub = _renewing(double, receiver)

    # Straight past the period end and its usual hour: the endpoint has not answered yet.
    _advance(double, clock_id, FEB_15 + 2 * HOUR)
    double.flush()

    draft = _renewal(double, sub.id)
    assert draft.status == "draft"
    assert draft.automatically_finalizes_at == FEB_15 + 3 * HOUR
    created = [e for e in receiver.events() if e["type"] == "invoice.created"][-1]
    # The event announced Stripe's usual hour from creation.
    assert created["data"]["object"]["automatically_finalizes_at"] == FEB_15 + HOUR
    _advance(double, clock_id, FEB_15 + 3 * HOUR - 1)
    assert _renewal(double, sub.id).status == "draft"
    _advance(double, clock_id, FEB_15 + 3 * HOUR)
    assert _renewal(double, sub.id).status == "paid"


def test_the_window_length_is_configurable(double: DoubleEnv, receiver: WebhookReceiver) -> None:
    double.config(finalize_after_s=600)
    clock_id, sub = _renewing(double, receiver)
    _advance(double, clock_id, FEB_15 + 60)
    double.flush()
    assert _renewal(double, sub.id).automatically_finalizes_at == FEB_15 + 60 + 600


def test_failing_deliveries_hold_the_draft_until_72_hours(
    double: DoubleEnv, receiver: WebhookReceiver
) -> None:
    clock_id, sub = _renewing(double, receiver)
    double.config(webhooks={"max_attempts": 3, "retry_base_ms": 5})
    receiver.statuses = [500] * 3

    _advance(double, clock_id, FEB_15 + 2 * HOUR)
    double.flush()

    outcomes = [d["outcome"] for d in double.deliveries() if d["type"] == "invoice.created"]
    assert outcomes[-3:] == ["retrying", "retrying", "gave_up"]
    draft = _renewal(double, sub.id)
    assert (draft.status, draft.automatically_finalizes_at) == ("draft", FEB_15 + 72 * HOUR)
    _advance(double, clock_id, FEB_15 + 72 * HOUR - 1)
    assert _renewal(double, sub.id).status == "draft"
    _advance(double, clock_id, FEB_15 + 72 * HOUR)
    assert _renewal(double, sub.id).status == "paid"


def test_an_acknowledged_retry_starts_the_window(
    double: DoubleEnv, receiver: WebhookReceiver
) -> None:
    clock_id, sub = _renewing(double, receiver)
    double.config(webhooks={"max_attempts": 5, "retry_base_ms": 5})
    receiver.statuses = [503, 500]

    _advance(double, clock_id, FEB_15 + 30 * 60)
    double.flush()

    statuses = [d["status"] for d in double.deliveries() if d["type"] == "invoice.created"]
    assert statuses[-3:] == [503, 500, 200]
    assert _renewal(double, sub.id).automatically_finalizes_at == FEB_15 + 30 * 60 + HOUR


def test_without_an_endpoint_the_hour_runs_from_creation(double: DoubleEnv) -> None:
    double.post("/_double/clock", {"now": JAN_15})
    price = double.seed()
    clock = double.stripe.v1.test_helpers.test_clocks.create(params={"frozen_time": JAN_15})
    _, sub = double.subscribe(price=price, clock=clock.id)
    _advance(double, clock.id, FEB_15 + 2 * HOUR)
    assert _renewal(double, sub.id).status == "paid"
