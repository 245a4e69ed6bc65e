"""Checkout, the billing portal, tax, invoice previews and prorations on the double."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

SUCCESS = "https://ledger.example/checkout/done?session={CHECKOUT_SESSION_ID}"


def _session(double: DoubleEnv, *, quantity: int = 3, tax: bool = False) -> stripe.checkout.Session:
    price_id = double.seed(unit_amount=500)
    return double.stripe.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "line_items": [{"price": price_id, "quantity": quantity}],
            "client_reference_id": "group-17",
            "customer_email": "buyer@example.com",
            "success_url": SUCCESS,
            "cancel_url": "https://ledger.example/checkout/cancel",
            "metadata": {"group": "17"},
            "subscription_data": {"metadata": {"group": "17"}},
            "automatic_tax": {"enabled": tax},
        }
    )


def test_checkout_page_pay_button_completes_the_session(double: DoubleEnv) -> None:
    session = _session(double, quantity=3)
    assert session.id.startswith("cs_test_")
    assert (session.status, session.payment_status, session.amount_total) == (
        "open",
        "unpaid",
        1500,
    )
    assert session.url == f"{double.base_url}/_double/checkout/{session.id}"

    page = double.admin.get(session.url)
    assert page.status_code == 200
    assert "<form method='post'" in page.text
    assert "Pay" in page.text
    paid = double.admin.post(session.url)

    assert paid.status_code == 303
    assert paid.headers["location"] == SUCCESS.replace("{CHECKOUT_SESSION_ID}", session.id)
    done = double.stripe.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription"]}
    )
    assert (done.status, done.payment_status, done.client_reference_id) == (
        "complete",
        "paid",
        "group-17",
    )
    assert isinstance(done.subscription, stripe.Subscription)
    sub = done.subscription
    assert (sub.status, sub.customer, sub["items"].data[0].quantity) == ("active", done.customer, 3)
    assert sub.metadata.to_dict() == {"group": "17"}
    invoice = double.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == (
        "subscription_create",
        "paid",
        1500,
    )
    assert double.event_types() == [
        "product.created",
        "price.created",
        "customer.created",
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]
    completed = double.stripe.v1.events.list(params={"type": "checkout.session.completed"})
    assert completed.data[0].data.object["subscription"] == sub.id


def test_paying_twice_does_not_create_a_second_subscription(double: DoubleEnv) -> None:
    session = _session(double)
    assert session.url is not None
    double.admin.post(session.url)
    again = double.admin.post(session.url)
    assert again.status_code == 303
    assert len(double.stripe.v1.subscriptions.list().data) == 1


def test_declined_card_keeps_the_session_open(double: DoubleEnv) -> None:
    customer = double.stripe.v1.customers.create(params={"email": "broke@example.com"})
    double.fail_payments(customer.id)
    price_id = double.seed()
    session = double.stripe.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": SUCCESS,
        }
    )
    assert session.url is not None
    declined = double.admin.post(session.url)
    assert declined.status_code == 402
    assert "declined" in declined.text
    assert double.stripe.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_checkout_with_automatic_tax_charges_the_configured_rate(double: DoubleEnv) -> None:
    session = _session(double, quantity=3, tax=True)
    assert session.total_details is not None
    assert (session.amount_subtotal, session.total_details.amount_tax, session.amount_total) == (
        1500,
        285,
        1785,
    )
    assert session.url is not None
    double.admin.post(session.url)
    sub_id = double.stripe.v1.checkout.sessions.retrieve(session.id).subscription
    invoice = double.stripe.v1.invoices.list(params={"subscription": str(sub_id)}).data[0]
    assert (invoice.subtotal, invoice.total, invoice.amount_due) == (1500, 1785, 1785)
    assert invoice.total_excluding_tax == 1500
    assert invoice.total_taxes is not None
    assert [t.amount for t in invoice.total_taxes] == [285]
    assert invoice.automatic_tax.enabled is True


@pytest.mark.parametrize(("bps", "tax"), [(700, 105), (1950, 293), (0, 0)])
def test_tax_rate_is_configurable_and_rounds_half_up(double: DoubleEnv, bps: int, tax: int) -> None:
    double.config(tax_rate_bps=bps)
    price_id = double.seed(unit_amount=500)
    _, sub = double.subscribe(price=price_id, quantity=3, tax=True)
    invoice = double.stripe.v1.invoices.retrieve(str(sub.latest_invoice))
    assert invoice.total_taxes is not None
    assert (invoice.subtotal, sum(t.amount for t in invoice.total_taxes), invoice.total) == (
        1500,
        tax,
        1500 + tax,
    )


def test_create_preview_prices_the_next_invoice(double: DoubleEnv) -> None:
    price_id = double.seed(unit_amount=500)
    customer_id, sub = double.subscribe(price=price_id, quantity=4, tax=True)
    item_id = sub["items"].data[0].id

    renewal = double.stripe.v1.invoices.create_preview(params={"subscription": sub.id})
    bigger = double.stripe.v1.invoices.create_preview(
        params={
            "subscription": sub.id,
            "subscription_details": {
                "items": [{"id": item_id, "quantity": 10}],
                "proration_behavior": "none",
            },
        }
    )
    new = double.stripe.v1.invoices.create_preview(
        params={
            "customer": customer_id,
            "subscription_details": {"items": [{"price": price_id, "quantity": 2}]},
        }
    )

    assert "id" not in renewal
    assert (renewal.subtotal, renewal.total) == (2000, 2380)
    assert (bigger.lines.data[0].quantity, bigger.subtotal, bigger.total) == (10, 5000, 5950)
    assert (new.subtotal, new.total) == (1000, 1000)
    assert double.stripe.v1.invoices.list(params={"customer": customer_id}).data[0].id == (
        sub.latest_invoice
    )


def test_always_invoice_on_an_increase_bills_the_proration_now(double: DoubleEnv) -> None:
    double.post("/_double/clock", {"now": 1_767_225_600})  # 2026-01-01, a 31-day period
    price_id = double.seed(unit_amount=3100)
    _, sub = double.subscribe(price=price_id, quantity=1)
    double.post("/_double/clock", {"now": 1_767_225_600 + 10 * 86_400})

    double.stripe.v1.subscription_items.update(
        sub["items"].data[0].id, params={"quantity": 3, "proration_behavior": "always_invoice"}
    )

    latest = double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0]
    amounts = sorted(line.amount for line in latest.lines.data)
    # 21 of 31 days left: credit 1 seat, charge 3 seats for the rest of the period.
    assert (latest.billing_reason, latest.status) == ("subscription_update", "paid")
    assert amounts == [-2100, 6300]
    assert latest.amount_paid == 4200
    assert double.event_types()[-5:] == [
        "customer.subscription.updated",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]


def test_create_prorations_are_billed_on_the_next_renewal(double: DoubleEnv) -> None:
    start = 1_767_225_600
    double.post("/_double/clock", {"now": start})
    price_id = double.seed(unit_amount=3100)
    _, sub = double.subscribe(price=price_id, quantity=1)
    double.post("/_double/clock", {"now": start + 10 * 86_400})
    double.stripe.v1.subscription_items.update(sub["items"].data[0].id, params={"quantity": 2})
    assert double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0].id == (
        sub.latest_invoice
    )

    double.post("/_double/clock", {"now": start + 32 * 86_400})

    renewal = double.stripe.v1.invoices.list(params={"subscription": sub.id}).data[0]
    assert renewal.billing_reason == "subscription_cycle"
    assert renewal.amount_paid == -2100 + 4200 + 6200


def test_billing_portal_session_links_to_a_page_on_the_double(double: DoubleEnv) -> None:
    price_id = double.seed()
    customer_id, sub = double.subscribe(price=price_id, quantity=2)
    portal = double.stripe.v1.billing_portal.sessions.create(
        params={"customer": customer_id, "return_url": "https://ledger.example/account"}
    )
    assert portal.id.startswith("bps_")
    assert portal.url.startswith(f"{double.base_url}/_double/portal/")
    page = double.admin.get(portal.url)
    assert page.status_code == 200
    assert sub.id in page.text
    assert "https://ledger.example/account" in page.text


def test_sessions_list_by_customer_and_status_pages_newest_first(double: DoubleEnv) -> None:
    price_id = double.seed()
    customer = double.stripe.v1.customers.create(params={"email": "list@example.com"}).id
    other = double.stripe.v1.customers.create(params={"email": "other@example.com"}).id

    def opened(for_customer: str) -> str:
        return double.stripe.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": for_customer,
                "line_items": [{"price": price_id, "quantity": 1}],
                "success_url": SUCCESS,
            }
        ).id

    created = [opened(customer) for _ in range(5)]
    opened(other)
    double.stripe.v1.checkout.sessions.expire(created[0])

    sessions = double.stripe.v1.checkout.sessions
    page = sessions.list(params={"customer": customer, "status": "open", "limit": 2})
    assert (page.url, page.has_more) == ("/v1/checkout/sessions", True)
    assert page.to_dict()["object"] == "list"
    assert [s.id for s in page.data] == [created[4], created[3]]
    walked = [s.id for s in page.auto_paging_iter()]
    assert walked == list(reversed(created[1:]))
    after = sessions.list(
        params={"customer": customer, "status": "open", "limit": 2, "starting_after": created[2]}
    )
    assert ([s.id for s in after.data], after.has_more) == ([created[1]], False)
    expired = sessions.list(params={"customer": customer, "status": "expired"})
    assert [s.id for s in expired.data] == [created[0]]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"status": "paid"}, "status"),
        ({"colour": "blue"}, "colour"),
        ({"payment_link": "plink_1"}, "payment_link"),
        ({"limit": 101}, "limit"),
        ({"starting_after": "cs_test_missing"}, "starting_after"),
    ],
)
def test_sessions_list_refuses_what_it_does_not_know(
    double: DoubleEnv, params: dict[str, object], named: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        double.stripe.v1.checkout.sessions.list(params=params)  # type: ignore[arg-type]  # wrong on purpose
    assert (refused.value.http_status, refused.value.param) == (400, named)
