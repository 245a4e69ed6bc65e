"""Test PaymentMethods, Checkout Session expiry and the Checkout page's card fields on the
double, through the real SDK (what ``ledger smoke`` relies on)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import stripe

if TYPE_CHECKING:
    from tests.e2e.stripe_double_support import DoubleEnv

pytest_plugins = ["tests.e2e.stripe_double_support"]

SUCCESS = "https://ledger.example/enroll/return?session_id={CHECKOUT_SESSION_ID}"


def _customer(double: DoubleEnv) -> str:
    return str(double.stripe.v1.customers.create(params={"email": "pm@example.com"}).id)


def _session(double: DoubleEnv) -> stripe.checkout.Session:
    price_id = double.seed(unit_amount=500)
    return double.stripe.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": _customer(double),
            "line_items": [{"price": price_id, "quantity": 2}],
            "client_reference_id": "org-pm",
            "success_url": SUCCESS,
        }
    )


class TestAttachPaymentMethod:
    def test_a_test_card_token_becomes_a_new_card_attached_to_the_customer(
        self, double: DoubleEnv
    ) -> None:
        customer = _customer(double)
        card = double.stripe.v1.payment_methods.attach(
            "pm_card_visa", params={"customer": customer}
        )
        assert card.id.startswith("pm_")
        assert card.id != "pm_card_visa"
        assert card.card is not None
        assert (card.type, card.customer, card.card.brand, card.card.last4) == (
            "card",
            customer,
            "visa",
            "4242",
        )
        again = double.stripe.v1.payment_methods.retrieve(card.id)
        assert again.customer == customer
        assert "payment_method.attached" in double.event_types()

    def test_a_declined_test_card_is_refused_when_attached(self, double: DoubleEnv) -> None:
        with pytest.raises(stripe.CardError) as raised:
            double.stripe.v1.payment_methods.attach(
                "pm_card_chargeDeclined", params={"customer": _customer(double)}
            )
        assert raised.value.code == "card_declined"

    def test_a_card_attached_to_one_customer_cannot_move_to_another(
        self, double: DoubleEnv
    ) -> None:
        card = double.stripe.v1.payment_methods.attach(
            "pm_card_visa", params={"customer": _customer(double)}
        )
        with pytest.raises(stripe.InvalidRequestError, match="already been attached"):
            double.stripe.v1.payment_methods.attach(card.id, params={"customer": _customer(double)})

    def test_an_unknown_payment_method_is_a_404(self, double: DoubleEnv) -> None:
        with pytest.raises(stripe.InvalidRequestError) as raised:
            double.stripe.v1.payment_methods.retrieve("pm_nothere")
        assert raised.value.http_status == 404
        assert "No such PaymentMethod: 'pm_nothere'" in str(raised.value)

    def test_a_customer_fail_card_attaches_and_its_charges_fail(self, double: DoubleEnv) -> None:
        customer = _customer(double)
        card = double.stripe.v1.payment_methods.attach(
            "pm_card_chargeCustomerFail", params={"customer": customer}
        )
        price_id = double.seed()
        with pytest.raises(stripe.CardError):
            double.stripe.v1.subscriptions.create(
                params={
                    "customer": customer,
                    "items": [{"price": price_id, "quantity": 1}],
                    "default_payment_method": card.id,
                    "payment_behavior": "error_if_incomplete",
                }
            )


class TestExpireCheckoutSession:
    def test_an_open_session_expires_and_can_no_longer_be_paid(self, double: DoubleEnv) -> None:
        session = _session(double)
        expired = double.stripe.v1.checkout.sessions.expire(session.id)
        assert (expired.status, expired.url) == ("expired", None)
        assert "checkout.session.expired" in double.event_types()
        page = double.admin.post(str(session.url))
        assert (page.status_code, "has expired" in page.text) == (200, True)  # nothing paid
        assert double.stripe.v1.checkout.sessions.retrieve(session.id).status == "expired"

    def test_only_an_open_session_can_be_expired(self, double: DoubleEnv) -> None:
        session = _session(double)
        double.stripe.v1.checkout.sessions.expire(session.id)
        with pytest.raises(stripe.InvalidRequestError, match='status of "expired"'):
            double.stripe.v1.checkout.sessions.expire(session.id)


class TestCheckoutPageCard:
    def test_the_page_has_stripe_checkouts_card_field_ids(self, double: DoubleEnv) -> None:
        page = double.admin.get(str(_session(double).url)).text
        for field in ("cardNumber", "cardExpiry", "cardCvc", "billingName"):
            assert f"id='{field}'" in page

    def test_the_success_test_card_pays(self, double: DoubleEnv) -> None:
        session = _session(double)
        card = {"cardNumber": "4242 4242 4242 4242", "cardExpiry": "12 / 40", "cardCvc": "123"}
        paid = double.admin.post(str(session.url), data=card)
        assert paid.status_code == 303
        assert double.stripe.v1.checkout.sessions.retrieve(session.id).status == "complete"

    @pytest.mark.parametrize(
        ("card", "message"),
        [
            ({"cardNumber": "4000000000000002"}, "Your card was declined."),
            ({"cardNumber": "4111 1111 1111 1112"}, "Your card number is invalid."),
            (
                {"cardNumber": "4242424242424242", "cardExpiry": "01 / 20", "cardCvc": "123"},
                "expiration year is in the past",
            ),
            ({"cardNumber": "4242424242424242", "cardExpiry": "12 / 40"}, "security code"),
        ],
    )
    def test_a_card_that_cannot_pay_leaves_the_session_open(
        self, double: DoubleEnv, card: dict[str, str], message: str
    ) -> None:
        session = _session(double)
        refused = double.admin.post(str(session.url), data=card)
        assert refused.status_code == 402
        assert message in refused.text
        assert double.stripe.v1.checkout.sessions.retrieve(session.id).status == "open"
