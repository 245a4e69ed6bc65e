"""The smoke's own Stripe calls (test mode only): check the Checkout Session the ledger
made, pay without a browser (api mode), cancel the subscription when cleaning up.

Where Stripe is follows from the Checkout URL the ledger answers: a page of the project's
Stripe double (``…/_double/checkout/cs_…``, as under ``make run``) means the double at
that origin, which takes any test key; otherwise Stripe itself (``STRIPE_API_BASE`` if
set), with ``STRIPE_API_KEY``. Only test-mode keys are accepted: the smoke pays with
test cards and must never touch live money.

No Stripe API completes a hosted Checkout page, so api mode pays the way test mode allows
without one: the test PaymentMethod ``pm_card_visa`` attached to the ledger's customer,
the subscription created with the session's price and quantity and the organizer in its
metadata, and the unpaid session expired. Browser mode pays on the page itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from adapters.stripe.gateway import StripeGateway
from app.settings import Settings
from app.smoke.report import StepFailedError

TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")
DOUBLE_CHECKOUT_PATH = "/_double/checkout/"
DOUBLE_KEY = "sk_test_smoke"
TEST_PAYMENT_METHOD = "pm_card_visa"
SMOKE_MAX_RPS = 5.0


@dataclass(frozen=True)
class CheckoutSession:
    """What the smoke checked of the ledger's session, and pays in api mode."""

    session_id: str
    customer_id: str
    price_id: str
    quantity: int
    automatic_tax: bool


def live_key_problem(settings: Settings) -> str | None:
    """Why ``STRIPE_API_KEY`` must not be used by the smoke (None: it may)."""
    if settings.stripe_api_key is None:
        return None
    if not settings.stripe_api_key.get_secret_value().startswith(TEST_KEY_PREFIXES):
        return "STRIPE_API_KEY: the smoke runs only with a test-mode key (sk_test_… or rk_test_…)"
    return None


def is_double_checkout(url: str) -> bool:
    return urlsplit(url).path.startswith(DOUBLE_CHECKOUT_PATH)


class StripeSide:
    """The Stripe account the ledger's Checkout Sessions live in, through the gateway."""

    def __init__(self, gateway: StripeGateway, *, double: bool) -> None:
        self.gateway = gateway
        self.double = double

    @classmethod
    def for_checkout(cls, checkout_url: str, settings: Settings) -> StripeSide:
        key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else None
        if is_double_checkout(checkout_url):
            parts = urlsplit(checkout_url)
            base = settings.stripe_api_base or f"{parts.scheme}://{parts.netloc}"
            gateway = StripeGateway(api_key=key or DOUBLE_KEY, api_base=base, max_rps=SMOKE_MAX_RPS)
            return cls(gateway, double=True)
        if key is None:
            msg = "STRIPE_API_KEY (test mode) must be set to pay for and cancel the subscription"
            raise StepFailedError(msg)
        gateway = StripeGateway(
            api_key=key, api_base=settings.stripe_api_base, max_rps=SMOKE_MAX_RPS
        )
        return cls(gateway, double=False)

    def close(self) -> None:
        self.gateway.close()

    def checked_session(
        self, session_id: str, *, organizer_id: str, quantity: int
    ) -> CheckoutSession:
        """The ledger's session as Stripe has it: open, for this organizer, ``quantity``."""
        v1, call = self.gateway.client.v1, self.gateway.call
        session: dict[str, Any] = call(v1.checkout.sessions.retrieve, session_id).to_dict()
        lines = call(v1.checkout.sessions.line_items.list, session_id).data
        problems = []
        if session.get("livemode"):
            problems.append("the session is in live mode")
        if session.get("status") != "open" or session.get("mode") != "subscription":
            problems.append(f"status {session.get('status')}, mode {session.get('mode')}")
        if session.get("client_reference_id") != organizer_id:
            problems.append(f"client_reference_id {session.get('client_reference_id')!r}")
        if [int(line["quantity"]) for line in lines] != [quantity]:
            problems.append(f"line quantities {[line['quantity'] for line in lines]}")
        if not isinstance(session.get("customer"), str):
            problems.append("no customer")
        if problems:
            detail = "; ".join(problems)
            msg = f"Checkout Session {session_id} is not what the ledger promised: {detail}"
            raise StepFailedError(msg)
        return CheckoutSession(
            session_id=session_id,
            customer_id=str(session["customer"]),
            price_id=str(lines[0]["price"]["id"]),
            quantity=quantity,
            automatic_tax=bool((session.get("automatic_tax") or {}).get("enabled")),
        )

    def pay_without_browser(self, session: CheckoutSession, *, organizer_id: str) -> str:
        """Subscribe the session's customer with a test card, then expire the session.
        Returns the subscription id."""
        v1, call = self.gateway.client.v1, self.gateway.call
        card = call(
            v1.payment_methods.attach,
            TEST_PAYMENT_METHOD,
            params={"customer": session.customer_id},
        )
        params: dict[str, Any] = {
            "customer": session.customer_id,
            "items": [{"price": session.price_id, "quantity": session.quantity}],
            "default_payment_method": card["id"],
            "metadata": {"organizer_id": organizer_id},
            "payment_behavior": "error_if_incomplete",
        }
        if session.automatic_tax:
            params["automatic_tax"] = {"enabled": True}
        subscription = call(
            v1.subscriptions.create,
            params=params,
            options={"idempotency_key": f"ledger-smoke-subscription-{session.session_id}"},
        )
        call(v1.checkout.sessions.expire, session.session_id)
        return str(subscription["id"])

    def cancel(self, subscription_id: str) -> str:
        canceled = self.gateway.call(self.gateway.client.v1.subscriptions.cancel, subscription_id)
        return str(canceled["status"])
